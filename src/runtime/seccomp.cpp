#include "runtime/seccomp.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include "base/log.h"
#include "base/unique_fd.h"

namespace berth::runtime {
namespace {

// Older kernel headers lack the newest flags; the values are ABI.
constexpr unsigned kFlagTsync = 1U << 0;
constexpr unsigned kFlagLog = 1U << 1;
constexpr unsigned kFlagSpecAllow = 1U << 2;
constexpr unsigned kFlagNewListener = 1U << 3;
constexpr unsigned kFlagTsyncEsrch = 1U << 4;
constexpr unsigned kFlagWaitKillableRecv = 1U << 5;

constexpr uint32_t kActErrno = 0x00050000U;
constexpr uint32_t kActTrace = 0x7ff00000U;
constexpr unsigned kMaxArgs = 6;
constexpr size_t kMaxInsns = 4096;  // BPF_MAXINSNS: the kernel refuses longer programs

template <typename V>
struct Named {
    const char* name;
    V value;
};

constexpr std::array<Named<uint32_t>, 9> kActions{{
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", kActErrno},
    {"SCMP_ACT_TRACE", kActTrace},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
}};

// Spec names to libseccomp's own; resolved at run time so an arch this libseccomp predates is
// recognised (and skipped) rather than rejected.
constexpr std::array<Named<const char*>, 23> kArches{{
    {"SCMP_ARCH_X86", "x86"},
    {"SCMP_ARCH_X86_64", "x86_64"},
    {"SCMP_ARCH_X32", "x32"},
    {"SCMP_ARCH_ARM", "arm"},
    {"SCMP_ARCH_AARCH64", "aarch64"},
    {"SCMP_ARCH_LOONGARCH64", "loongarch64"},
    {"SCMP_ARCH_M68K", "m68k"},
    {"SCMP_ARCH_MIPS", "mips"},
    {"SCMP_ARCH_MIPS64", "mips64"},
    {"SCMP_ARCH_MIPS64N32", "mips64n32"},
    {"SCMP_ARCH_MIPSEL", "mipsel"},
    {"SCMP_ARCH_MIPSEL64", "mipsel64"},
    {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"},
    {"SCMP_ARCH_PPC", "ppc"},
    {"SCMP_ARCH_PPC64", "ppc64"},
    {"SCMP_ARCH_PPC64LE", "ppc64le"},
    {"SCMP_ARCH_S390", "s390"},
    {"SCMP_ARCH_S390X", "s390x"},
    {"SCMP_ARCH_PARISC", "parisc"},
    {"SCMP_ARCH_PARISC64", "parisc64"},
    {"SCMP_ARCH_RISCV64", "riscv64"},
    {"SCMP_ARCH_SH", "sh"},
    {"SCMP_ARCH_SHEB", "sheb"},
}};

constexpr std::array<Named<unsigned>, 4> kFlags{{
    {"SECCOMP_FILTER_FLAG_TSYNC", kFlagTsync},
    {"SECCOMP_FILTER_FLAG_LOG", kFlagLog},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", kFlagSpecAllow},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", kFlagWaitKillableRecv},
}};

constexpr std::array<Named<int>, 7> kOps{{
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
}};

template <typename V, size_t N>
std::optional<V> lookup(const std::array<Named<V>, N>& table, std::string_view name) {
    for (const auto& e : table) {
        if (name == e.name) return e.value;
    }
    return std::nullopt;
}

template <typename V, size_t N>
std::vector<std::string> names_of(const std::array<Named<V>, N>& table) {
    std::vector<std::string> out;
    for (const auto& e : table) out.emplace_back(e.name);
    return out;
}

struct CtxDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

std::string quoted(std::string_view s) {
    std::string out = "\"";
    out += s;
    out += '"';
    return out;
}

// Full action value (with errno/trace data) for `action_name`; `field` prefixes errors.
Result<uint32_t> resolve_action(const std::string& field, const std::string& action_name,
                                const std::string& errno_field,
                                const std::optional<unsigned>& errno_ret) {
    auto action = seccomp_action_from_name(action_name);
    if (!action) {
        return Error(EINVAL) << field << ": unknown action " << quoted(action_name);
    }
    if (*action != kActErrno && *action != kActTrace) {
        if (errno_ret) {
            return Error(EINVAL) << errno_field << ": only valid with SCMP_ACT_ERRNO or "
                                 << "SCMP_ACT_TRACE, not " << action_name;
        }
        return *action;
    }
    unsigned data = errno_ret.value_or(EPERM);
    if (data > 0xffff) {
        return Error(EINVAL) << errno_field << ": " << data << " is out of range (0-65535)";
    }
    return *action | data;
}

// Reads the BPF program libseccomp generated; it only writes to an fd.
Result<std::vector<struct sock_filter>> export_bpf(void* ctx) {
    UniqueFd fd(memfd_create("berth-seccomp", MFD_CLOEXEC));
    if (!fd) return ErrnoError() << "memfd_create for the seccomp program";
    if (int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0) {
        return Error::from_errno(-rc) << "exporting the seccomp program";
    }
    off_t size = lseek(fd.get(), 0, SEEK_END);
    if (size < 0) return ErrnoError() << "seeking in the seccomp program";
    if (size % sizeof(struct sock_filter) != 0) {
        return Error(EINVAL) << "seccomp program of " << size << " bytes is not whole instructions";
    }
    std::vector<struct sock_filter> prog(static_cast<size_t>(size) / sizeof(struct sock_filter));
    auto* buf = reinterpret_cast<char*>(prog.data());
    size_t done = 0;
    while (done < static_cast<size_t>(size)) {
        ssize_t n =
            pread(fd.get(), buf + done, static_cast<size_t>(size) - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoError() << "reading the seccomp program";
        if (n == 0) return Error(EIO) << "seccomp program shrank while reading it";
        done += static_cast<size_t>(n);
    }
    return prog;
}

Result<void> add_rules(void* ctx, const oci::SeccompSyscall& call, size_t i, uint32_t action,
                       std::vector<std::string>& skipped) {
    const std::string field = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    std::vector<struct scmp_arg_cmp> conds;
    std::array<unsigned, kMaxArgs> per_index{};
    bool repeated_index = false;
    for (size_t j = 0; j < call.args.size(); ++j) {
        const auto& a = call.args[j];
        const std::string arg_field = field + ".args[" + std::to_string(j) + "]";
        if (a.index >= kMaxArgs) {
            return Error(EINVAL) << arg_field << ".index: " << a.index << " is out of range (0-5)";
        }
        auto op = seccomp_op_from_name(a.op);
        if (!op) return Error(EINVAL) << arg_field << ".op: unknown operator " << quoted(a.op);
        // For SCMP_CMP_MASKED_EQ datum_a is the mask and datum_b the value, which is the
        // order the spec's value/valueTwo come in.
        conds.push_back({a.index, static_cast<enum scmp_compare>(*op), a.value, a.value_two});
        if (++per_index[a.index] > 1) repeated_index = true;
    }

    for (const auto& name : call.names) {
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) {
            log::debug("seccomp: skipping unknown syscall \"" + name + "\"");
            skipped.push_back(name);
            continue;
        }
        if ((action & 0xffff0000U) == SCMP_ACT_NOTIFY && name == "write") {
            return Error(EINVAL) << field << ": SCMP_ACT_NOTIFY cannot be used for write "
                                 << "(the runtime needs it to hand over the listener)";
        }
        int rc;
        if (!repeated_index) {
            // One rule: the conditions are ANDed.
            rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conds.size()),
                                        conds.data());
        } else {
            // libseccomp refuses two comparisons of one argument in a rule; like runc, fall back
            // to one rule per condition, which makes them ORed.
            rc = 0;
            for (const auto& c : conds) {
                rc = seccomp_rule_add_array(ctx, action, nr, 1, &c);
                if (rc < 0) break;
            }
        }
        if (rc < 0) {
            return Error::from_errno(-rc) << field << ": adding the rule for " << quoted(name);
        }
    }
    return {};
}

}  // namespace

std::optional<uint32_t> seccomp_action_from_name(std::string_view name) {
    return lookup(kActions, name);
}

std::optional<uint32_t> seccomp_arch_from_name(std::string_view name) {
    auto libname = lookup(kArches, name);
    if (!libname) return std::nullopt;
    uint32_t token = seccomp_arch_resolve_name(*libname);
    if (token == 0) return std::nullopt;
    return token;
}

std::optional<unsigned> seccomp_flag_from_name(std::string_view name) {
    return lookup(kFlags, name);
}

std::optional<int> seccomp_op_from_name(std::string_view name) {
    return lookup(kOps, name);
}

std::vector<std::string> seccomp_action_names() {
    return names_of(kActions);
}
std::vector<std::string> seccomp_flag_names() {
    return names_of(kFlags);
}
std::vector<std::string> seccomp_op_names() {
    return names_of(kOps);
}

std::vector<std::string> seccomp_arch_names() {
    std::vector<std::string> out;
    for (const auto& e : kArches) {
        if (seccomp_arch_resolve_name(e.value) != 0) out.emplace_back(e.name);
    }
    return out;
}

Result<SeccompProgram> compile_seccomp(const oci::Seccomp& s) {
    SeccompProgram prog;

    if (s.default_action.empty()) {
        return Error(EINVAL) << "linux.seccomp.defaultAction: missing";
    }
    uint32_t default_action =
        BERTH_TRY(resolve_action("linux.seccomp.defaultAction", s.default_action,
                                 "linux.seccomp.defaultErrnoRet", s.default_errno_ret));
    if (default_action == SCMP_ACT_NOTIFY) {
        // Every syscall would wait for an agent that cannot have the fd yet.
        return Error(EINVAL) << "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
                             << "default action";
    }

    for (size_t k = 0; k < s.flags.size(); ++k) {
        auto flag = seccomp_flag_from_name(s.flags[k]);
        if (!flag) {
            return Error(EINVAL) << "linux.seccomp.flags[" << k << "]: unknown flag "
                                 << quoted(s.flags[k]);
        }
        prog.flags |= *flag;
    }

    Ctx ctx(seccomp_init(default_action));
    if (!ctx) {
        return Error(EINVAL) << "linux.seccomp.defaultAction: libseccomp rejected "
                             << s.default_action;
    }

    for (size_t k = 0; k < s.architectures.size(); ++k) {
        const auto& name = s.architectures[k];
        if (!lookup(kArches, name)) {
            return Error(EINVAL) << "linux.seccomp.architectures[" << k
                                 << "]: unknown architecture " << quoted(name);
        }
        auto token = seccomp_arch_from_name(name);
        if (!token) {
            log::warn("seccomp: architecture " + name + " is not supported by libseccomp " +
                      std::to_string(seccomp_version()->major) + "." +
                      std::to_string(seccomp_version()->minor) + "; skipping it");
            continue;
        }
        int rc = seccomp_arch_add(ctx.get(), *token);
        if (rc < 0 && rc != -EEXIST) {  // the native arch is always there already
            return Error::from_errno(-rc)
                   << "linux.seccomp.architectures[" << k << "]: adding " << name;
        }
    }

    for (size_t i = 0; i < s.syscalls.size(); ++i) {
        const auto& call = s.syscalls[i];
        const std::string field = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
        uint32_t action = BERTH_TRY(
            resolve_action(field + ".action", call.action, field + ".errnoRet", call.errno_ret));
        if (call.names.empty()) return Error(EINVAL) << field << ".names: empty";
        // libseccomp refuses a rule that repeats the default action; it would change nothing.
        if (action == default_action) continue;
        if (action == SCMP_ACT_NOTIFY) prog.has_notify = true;
        BERTH_TRY(add_rules(ctx.get(), call, i, action, prog.skipped_syscalls));
    }

    if (prog.has_notify) {
        prog.flags |= kFlagNewListener;
        // The kernel refuses TSYNC with a listener unless told to report failure as ESRCH.
        if (prog.flags & kFlagTsync) prog.flags |= kFlagTsyncEsrch;
    } else if (prog.flags & kFlagWaitKillableRecv) {
        // Only meaningful for (and accepted with) a listener; libseccomp drops it likewise.
        log::debug(
            "seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored without "
            "SCMP_ACT_NOTIFY rules");
        prog.flags &= ~kFlagWaitKillableRecv;
    }

    prog.filter = BERTH_TRY(export_bpf(ctx.get()));
    if (prog.filter.empty() || prog.filter.size() > kMaxInsns) {
        return Error(E2BIG) << "linux.seccomp: the compiled filter has " << prog.filter.size()
                            << " instructions; the kernel accepts 1 to " << kMaxInsns;
    }
    return prog;
}

int install_seccomp(const SeccompProgram& p, int* listener_fd) {
    if (listener_fd) *listener_fd = -1;
    struct sock_fprog fprog;
    fprog.len = static_cast<unsigned short>(p.filter.size());
    fprog.filter = const_cast<struct sock_filter*>(p.filter.data());
    long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p.flags, &fprog);
    if (rc < 0) return -errno;
    if (p.has_notify) {
        if (listener_fd) {
            *listener_fd = static_cast<int>(rc);
        } else {
            ::close(static_cast<int>(rc));
        }
    } else if (rc > 0) {
        return -ESRCH;  // TSYNC without a listener: rc is a thread that could not be synced
    }
    return 0;
}

}  // namespace berth::runtime
