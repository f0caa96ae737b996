#include "runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"

namespace berth::runtime {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

int64_t now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Result<void> run_hook(const oci::Hook& h, const std::string& state_json) {
    auto in = BERTH_TRY(make_pipe());
    std::vector<std::string> args = h.args;
    if (args.empty()) args.push_back(h.path);
    auto argv = c_strings(args);
    auto envp = c_strings(h.env);

    pid_t pid = ::fork();
    if (pid < 0) return ErrnoError() << "fork";
    if (pid == 0) {
        ::dup2(in.first.get(), 0);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, nullptr);
        sys::close_range(3, ~0U, 0);
        ::execve(h.path.c_str(), argv.data(), envp.data());
        _exit(127);
    }
    in.first.reset();
    // A hook that does not read stdin must not fail us: ignore EPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    (void)write_all(in.second, state_json);
    in.second.reset();

    UniqueFd pidfd(sys::pidfd_open(pid));
    int64_t deadline = h.timeout ? now_ms() + int64_t(*h.timeout) * 1000 : -1;
    int status = 0;
    for (;;) {
        if (pidfd.valid()) {
            int wait_ms = deadline < 0 ? -1 : int(std::max<int64_t>(0, deadline - now_ms()));
            struct pollfd p {
                pidfd.get(), POLLIN, 0
            };
            int r = ::poll(&p, 1, wait_ms);
            if (r < 0 && errno == EINTR) continue;
            if (r == 0) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
                return Error(ETIMEDOUT) << "killed at its timeout of " << *h.timeout << "s";
            }
        }
        pid_t w = ::waitpid(pid, &status, 0);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return ErrnoError() << "waitpid";
        break;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    if (WIFEXITED(status)) {
        if (WEXITSTATUS(status) == 127 && ::access(h.path.c_str(), X_OK) < 0)
            return ErrnoError() << "cannot execute";
        return Error(0) << "exited with status " << WEXITSTATUS(status);
    }
    return Error(0) << "killed by signal " << WTERMSIG(status);
}

}  // namespace

Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const char* kind,
                       const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i) {
        auto r = run_hook(hooks[i], state_json);
        if (!r)
            return std::move(r).error().wrap("hooks." + std::string(kind) + "[" +
                                             std::to_string(i) + "] (`" + hooks[i].path + "`)");
    }
    return {};
}

}  // namespace berth::runtime
