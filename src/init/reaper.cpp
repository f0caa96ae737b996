#include "init/reaper.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "init/signals.h"

namespace berth::init {

int shell_status(const ChildExit& exit) {
    return exit.code == CLD_EXITED ? exit.status : 128 + exit.status;
}

const char* describe_exit(const ChildExit& exit, char* buf, size_t size) {
    if (exit.code == CLD_EXITED) {
        snprintf(buf, size, "exited with status %d", exit.status);
    } else {
        char name[24];
        snprintf(buf, size, "was killed by %s%s", signal_name(exit.status, name, sizeof(name)),
                 exit.code == CLD_DUMPED ? " (core dumped)" : "");
    }
    return buf;
}

int reap_zombies(ExitHandler on_exit, void* context) {
    int reaped = 0;
    for (;;) {
        siginfo_t info = {};
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
            if (errno == EINTR) continue;
            return errno == ECHILD ? reaped : -errno;
        }
        if (info.si_pid == 0) return reaped;  // children left, none exited
        const ChildExit exit{info.si_pid, info.si_code, info.si_status};
        if (on_exit != nullptr) on_exit(exit, context);
        siginfo_t ignored = {};
        while (waitid(P_PID, static_cast<id_t>(exit.pid), &ignored, WEXITED | WNOHANG) != 0 &&
               errno == EINTR) {
        }
        reaped++;
    }
}

int become_subreaper() {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : errno;
}

}  // namespace berth::init
