// Zombie reaping for a PID 1 or a subreaper, the Android way: look at an exited child with
// WNOWAIT, handle it while its pid cannot be reused, then reap it; until none is left.
// Shared with the per-container monitor.
#pragma once

#include <stddef.h>
#include <sys/types.h>

namespace berth::init {

// How a child ended, as waitid(2) reports it.
struct ChildExit {
    pid_t pid = 0;
    int code = 0;    // CLD_EXITED, CLD_KILLED or CLD_DUMPED
    int status = 0;  // the exit code for CLD_EXITED, else the signal number
};

// What a shell reports: the exit code, or 128 + the signal for a signal death.
int shell_status(const ChildExit& exit);

// "exited with status 3", "was killed by SIGTERM", "was killed by SIGSEGV (core dumped)".
const char* describe_exit(const ChildExit& exit, char* buf, size_t size);

using ExitHandler = void (*)(const ChildExit& exit, void* context);

// Reaps every child that has already exited, without blocking. on_exit (may be null) sees each
// one before it is reaped. Returns how many were reaped, or -errno on an unexpected waitid
// failure (ECHILD, no children at all, is not a failure).
int reap_zombies(ExitHandler on_exit, void* context);

// Same with a callable taking (const ChildExit&).
template <typename F>
int reap_zombies(F& on_exit) {
    return reap_zombies(
        [](const ChildExit& exit, void* context) { (*static_cast<F*>(context))(exit); }, &on_exit);
}

// PR_SET_CHILD_SUBREAPER: orphaned descendants are re-parented to us instead of to PID 1.
// Returns 0 or an errno value.
int become_subreaper();

}  // namespace berth::init
