#include "cli/berth/container_common.h"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/scope_guard.h"
#include "engine/cri_reader.h"
#include "engine/exec.h"

namespace berth::cli {

Result<engine::Engine> open_engine(const Context& ctx) {
    engine::Paths p;
    p.root = ctx.global.root;
    p.runroot = ctx.global.runroot;
    p.ns = ctx.global.ns;
    return engine::Engine::open(p);
}

Result<void> pause_containers(const Context& ctx, const std::vector<std::string>& names, bool pause,
                              bool echo_names) {
    auto eng = BERTH_TRY(open_engine(ctx));
    for (const auto& name : names) {
        auto v = BERTH_TRY(eng.find(name));
        if (pause) {
            BERTH_TRY(engine::pause_container(eng.paths(), v));
        } else {
            BERTH_TRY(engine::resume_container(eng.paths(), v));
        }
        if (echo_names) BERTH_TRY(print_out(name + "\n"));
    }
    return {};
}

Result<engine::ContainerView> follow_log(engine::Engine& engine, const engine::ContainerRecord& r,
                                         bool timestamps, bool forward_signals, size_t tail) {
    engine::LogFollower follower(r.log_path);
    engine::LogPrinter printer(timestamps);
    // Wake-ups: the monitor appending to the log, renaming task.json.
    UniqueFd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (in) {
        (void)mkdir_p(engine.paths().task_dir(r.id), 0700);
        ::inotify_add_watch(in.get(), engine.paths().state_dir(r.id).c_str(),
                            IN_MODIFY | IN_CREATE);
        ::inotify_add_watch(in.get(), engine.paths().task_dir(r.id).c_str(),
                            IN_MOVED_TO | IN_CREATE | IN_DELETE);
    }
    sigset_t mask, old;
    sigemptyset(&mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&mask, s);
    UniqueFd sfd;
    if (forward_signals) {
        sigprocmask(SIG_BLOCK, &mask, &old);
        sfd.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    }
    auto restore = make_scope_guard([&] {
        if (forward_signals) sigprocmask(SIG_SETMASK, &old, nullptr);
    });

    bool first = true;
    for (;;) {
        // Read the state first: once it says exited, one more read gets everything written.
        engine::ContainerView v = engine.view(r);
        auto records = follower.read_new();
        if (records.ok()) {
            if (first && tail != SIZE_MAX) *records = engine::tail_lines(*records, tail);
            first = false;
            auto p = printer.print(*records);
            (void)p;  // a closed stdout does not stop the wait
        }
        if (v.state == "exited" || v.state == "removed") return v;
        struct pollfd fds[2] = {{in.get(), POLLIN, 0}, {sfd.get(), POLLIN, 0}};
        int n = ::poll(fds, 2, 250);
        if (n > 0 && (fds[0].revents & POLLIN)) {
            char buf[4096];
            while (::read(in.get(), buf, sizeof(buf)) > 0) {
            }
        }
        if (n > 0 && (fds[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (::read(sfd.get(), &si, sizeof(si)) == sizeof(si)) {
                (void)engine.kill(v, int(si.ssi_signo));
            }
        }
    }
}

int exit_status(const engine::ContainerView& v) {
    if (!v.task) return 0;
    if (v.task->exit_code) return *v.task->exit_code;
    if (v.task->exit_reason == "start-failed") {
        return engine::start_failure_exit_code(v.task->error);
    }
    return 125;
}

std::string status_text(const engine::ContainerView& v) {
    auto since = [](const std::string& t) {
        std::string s = human_ago(t);
        if (s.ends_with(" ago")) s.resize(s.size() - 4);
        return s;
    };
    if (!v.task || v.state == "created") return "Created";
    if (v.state == "running") return "Up " + since(v.task->started_at);
    std::string code = std::to_string(exit_status(v));
    if (v.state == "restarting") {
        return "Restarting (" + code + ") " + human_ago(v.task->finished_at);
    }
    std::string s = "Exited (" + code + ") " + human_ago(v.task->finished_at);
    if (v.task->exit_reason == "monitor-lost" || v.task->exit_reason == "oom" ||
        v.task->exit_reason == "start-failed") {
        s += " (" + v.task->exit_reason + ")";
    }
    return s;
}

std::vector<std::string> container_command(const engine::ContainerRecord& r) {
    auto j = nlohmann::json::parse(r.spec, nullptr, false);
    std::vector<std::string> out;
    if (!j.is_object()) return out;
    auto p = j.find("process");
    if (p == j.end() || !p->is_object()) return out;
    auto a = p->find("args");
    if (a == p->end() || !a->is_array()) return out;
    for (const auto& x : *a) {
        if (x.is_string()) out.push_back(x.get<std::string>());
    }
    return out;
}

}  // namespace berth::cli
