#include "net/nft/nft.h"

#include <dlfcn.h>
#include <linux/membarrier.h>
#include <nftables/libnftables.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <optional>

#include "base/detached_holder.h"

namespace berth::net::nft {

namespace {

// libnftables is loaded on first use, not linked: a plugin's ADD and DEL talk to nf_tables
// directly (element_socket.h) and only making a table, listing, CHECK and GC need the parser.
// Not linking it spares every plugin run the loading of it and its five libraries (page faults
// and relocations, ~1.5 ms of CPU per run).
struct Libnftables {
    decltype(&::nft_ctx_new) ctx_new;
    decltype(&::nft_ctx_free) ctx_free;
    decltype(&::nft_ctx_buffer_output) buffer_output;
    decltype(&::nft_ctx_buffer_error) buffer_error;
    decltype(&::nft_ctx_output_set_flags) output_set_flags;
    decltype(&::nft_run_cmd_from_buffer) run_cmd_from_buffer;
    decltype(&::nft_ctx_get_output_buffer) get_output_buffer;
    decltype(&::nft_ctx_get_error_buffer) get_error_buffer;
};

template <typename F>
bool resolve(void* handle, const char* name, F& fn) {
    fn = reinterpret_cast<F>(::dlsym(handle, name));
    return fn != nullptr;
}

Result<const Libnftables*> libnftables() {
    // Loaded once per process and never unloaded; a thread-safe static.
    static const Result<Libnftables> lib = []() -> Result<Libnftables> {
        void* h = ::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char* why = ::dlerror();
            return Error(ENOENT) << "cannot load libnftables.so.1: " << (why ? why : "?");
        }
        Libnftables l{};
        if (!resolve(h, "nft_ctx_new", l.ctx_new) || !resolve(h, "nft_ctx_free", l.ctx_free) ||
            !resolve(h, "nft_ctx_buffer_output", l.buffer_output) ||
            !resolve(h, "nft_ctx_buffer_error", l.buffer_error) ||
            !resolve(h, "nft_ctx_output_set_flags", l.output_set_flags) ||
            !resolve(h, "nft_run_cmd_from_buffer", l.run_cmd_from_buffer) ||
            !resolve(h, "nft_ctx_get_output_buffer", l.get_output_buffer) ||
            !resolve(h, "nft_ctx_get_error_buffer", l.get_error_buffer))
            return Error(ENOENT) << "libnftables.so.1 lacks a function berth uses";
        return l;
    }();
    if (!lib) return lib.error();
    return &*lib;
}

}  // namespace

void Context::Free::operator()(nft_ctx* c) const {
    if (auto lib = libnftables()) (*lib)->ctx_free(c);  // loaded: the context exists
}

Result<Context> Context::create() {
    const Libnftables* lib = BERTH_TRY(libnftables());
    nft_ctx* c = lib->ctx_new(NFT_CTX_DEFAULT);
    if (!c) return Error(ENOMEM) << "nft_ctx_new failed";
    Context ctx(c);
    // Output and errors go to buffers, never to our stdout (a CNI plugin's stdout is its result).
    if (lib->buffer_output(c) != 0 || lib->buffer_error(c) != 0)
        return Error(ENOMEM) << "libnftables: cannot buffer output";
    return ctx;
}

int errno_of_message(std::string_view m) {
    if (m.find("No such file or directory") != std::string_view::npos) return ENOENT;
    if (m.find("File exists") != std::string_view::npos) return EEXIST;
    if (m.find("Device or resource busy") != std::string_view::npos) return EBUSY;
    if (m.find("Operation not permitted") != std::string_view::npos) return EPERM;
    if (m.find("Permission denied") != std::string_view::npos) return EACCES;
    return EINVAL;
}

Result<std::string> Context::run(std::string_view commands, bool json) {
    const Libnftables* lib = BERTH_TRY(libnftables());
    lib->output_set_flags(ctx_.get(), json ? unsigned{NFT_CTX_OUTPUT_JSON} : 0u);
    const std::string buf(commands);  // libnftables wants a NUL-terminated buffer
    const int rc = lib->run_cmd_from_buffer(ctx_.get(), buf.c_str());
    // Each get_*_buffer call hands back what was written since the last call and resets it.
    std::string out = lib->get_output_buffer(ctx_.get());
    std::string err = lib->get_error_buffer(ctx_.get());
    if (rc != 0) {
        while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
        if (err.empty()) err = "command failed";
        return Error(errno_of_message(err)) << "nftables: " << err;
    }
    return out;
}

Result<void> Context::apply(std::string_view script) {
    BERTH_TRY(run(script, /*json=*/false));
    return {};
}

Result<Json> Context::list(std::string_view command) {
    std::string out = BERTH_TRY(run(command, /*json=*/true));
    Json j = Json::parse(out, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
        return Error(EINVAL) << "nftables: unparsable JSON listing for `" << command << "`";
    return j;
}

Result<Context*> thread_context() {
    // Created on first use in this thread, so bound to the namespace the thread is in then.
    thread_local std::optional<Context> ctx;
    if (!ctx) ctx.emplace(BERTH_TRY(Context::create()));
    return &*ctx;
}

Result<void> apply(std::string_view script) {
    Context* ctx = BERTH_TRY(thread_context());
    return ctx->apply(script);
}

namespace {
std::atomic<bool> deletion_noted{false};
}  // namespace

void note_deletion() {
    deletion_noted.store(true, std::memory_order_relaxed);
}

Result<void> defer_socket_release() {
    if (!deletion_noted.load(std::memory_order_relaxed)) return {};
    // The holder first waits out a grace period, so that by the time it releases the sockets the
    // kernel's own work has usually freed the elements already. Otherwise the release would
    // flush that work while holding the nf_tables commit mutex, and the next plugin's
    // transaction (the next DEL in a teardown) would wait for it.
    BERTH_TRY(spawn_detached_holder([] {
        ::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
        const timespec settle{0, 2'000'000};
        ::nanosleep(&settle, nullptr);
        return 0;
    }));
    return {};
}

}  // namespace berth::net::nft
