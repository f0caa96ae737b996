// Signal plumbing for a PID 1: every signal blocked and read from a signalfd, forwarded to the
// child, and the original state handed back to the child before exec. Shared with the monitor.
#pragma once

#include <signal.h>
#include <stddef.h>
#include <sys/signalfd.h>
#include <sys/types.h>

namespace berth::init {

// What block_signals() changed, for restore_signals() in the child.
struct SavedSignals {
    sigset_t mask;
    struct sigaction sigchld;
};

// Blocks every signal (the kernel still delivers SIGKILL/SIGSTOP and real faults) so that all
// arrive through a signalfd, and sets SA_NOCLDSTOP so stopped children do not wake us.
// Blocked rather than ignored SIGTTIN/SIGTTOU also keep tcsetpgrp() and writes to a terminal
// we no longer own in the foreground from stopping us. Returns 0 or an errno value.
int block_signals(SavedSignals& saved);

// Undoes block_signals(); async-signal-safe, for a forked child before exec.
void restore_signals(const SavedSignals& saved);

// A signalfd (O_CLOEXEC) for every signal; -1 with errno on failure.
int open_signalfd();

// Reads what is pending, blocking until at least one signal is there. Returns the count, or -1
// with errno (EINTR is retried).
int read_signals(int signal_fd, signalfd_siginfo* out, int max);

// Whether a PID 1 passes this signal on: everything catchable except SIGCHLD.
bool forwardable(int sig);

// kill(2) to pid, or to its process group; returns 0 or an errno value.
int forward_signal(pid_t pid, int sig, bool process_group);

// "SIGTERM", "term", "15", "SIGRTMIN+3", "RTMAX-1" to a number (any case); -1 when invalid.
int parse_signal(const char* text);

// "SIGTERM", "SIGRTMIN+3", or "signal 99" into buf.
const char* signal_name(int sig, char* buf, size_t size);

}  // namespace berth::init
