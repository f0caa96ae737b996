#include "runtime/spawn.h"

#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "base/syscalls.h"

namespace berth::runtime {

Result<pid_t> clone_child(unsigned long flags, const std::function<void()>& child, int cgroup_fd) {
    struct clone_args args;
    std::memset(&args, 0, sizeof(args));
    args.flags = flags;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<uint64_t>(cgroup_fd);
    }
    args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
    pid_t parent = ::getpid();
    long pid = sys::clone3(&args);
    if (pid < 0) return ErrnoError() << "clone3";
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        // The parent may have died before PDEATHSIG was armed.
        if (!(flags & CLONE_PARENT) && ::getppid() != parent && !(flags & CLONE_NEWPID)) _exit(1);
        child();
        _exit(1);
    }
    return static_cast<pid_t>(pid);
}

Result<pid_t> clone_via_intermediate(unsigned long flags, Channel& parent_end, Channel& child_end,
                                     const std::function<Result<void>()>& enter,
                                     const std::function<void()>& child, int cgroup_fd,
                                     bool* cloned_into) {
    auto mid = clone_child(0, [&]() {
        parent_end.close();
        auto r = enter();
        if (!r) {
            (void)child_end.send_error(r.error());
            _exit(1);
        }
        // In a joined user namespace the intermediate may lack the permission for the cgroup.
        auto pid = clone_child(flags | CLONE_PARENT, child, cgroup_fd);
        bool into = cgroup_fd >= 0 && pid.ok();
        if (!pid && cgroup_fd >= 0) pid = clone_child(flags | CLONE_PARENT, child);
        if (!pid) {
            (void)child_end.send_error(pid.error());
            _exit(1);
        }
        (void)child_end.send(Msg::Pid, *pid, into ? "cgroup" : "");
        _exit(0);
    });
    if (!mid) return std::move(mid).error();
    auto m = parent_end.expect(Msg::Pid);
    int status;
    while (::waitpid(*mid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!m) return std::move(m).error();
    if (cloned_into) *cloned_into = m->text == "cgroup";
    return static_cast<pid_t>(m->value);
}

Result<int> wait_exit_code(pid_t pid) {
    int status;
    for (;;) {
        pid_t w = ::waitpid(pid, &status, 0);
        if (w >= 0) break;
        if (errno != EINTR) return ErrnoError() << "waitpid " << pid;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

}  // namespace berth::runtime
