#include "init/signals.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/strings.h"

namespace berth::init {

int block_signals(SavedSignals& saved) {
    sigset_t all;
    sigfillset(&all);
    if (sigprocmask(SIG_SETMASK, &all, &saved.mask) != 0) return errno;
    struct sigaction chld = {};
    chld.sa_handler = SIG_DFL;
    chld.sa_flags = SA_NOCLDSTOP;
    sigemptyset(&chld.sa_mask);
    if (sigaction(SIGCHLD, &chld, &saved.sigchld) != 0) {
        const int err = errno;
        sigprocmask(SIG_SETMASK, &saved.mask, nullptr);
        return err;
    }
    return 0;
}

void restore_signals(const SavedSignals& saved) {
    sigaction(SIGCHLD, &saved.sigchld, nullptr);
    sigprocmask(SIG_SETMASK, &saved.mask, nullptr);
}

int open_signalfd() {
    sigset_t all;
    sigfillset(&all);
    return signalfd(-1, &all, SFD_CLOEXEC);
}

int read_signals(int signal_fd, signalfd_siginfo* out, int max) {
    for (;;) {
        ssize_t n = read(signal_fd, out, sizeof(*out) * static_cast<size_t>(max));
        if (n >= 0) return static_cast<int>(static_cast<size_t>(n) / sizeof(*out));
        if (errno != EINTR) return -1;
    }
}

bool forwardable(int sig) {
    return sig > 0 && sig < NSIG && sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD;
}

int forward_signal(pid_t pid, int sig, bool process_group) {
    return kill(process_group ? -pid : pid, sig) == 0 ? 0 : errno;
}

namespace {

// ASCII-only and ours: glibc's strcasecmp drags ~24 KB of locale-aware variants into a static
// binary. Compares the first n characters, or all of them when n is 0.
bool iequal(const char* a, const char* b, size_t n = 0) {
    for (size_t i = 0; n == 0 || i < n; i++) {
        const char ca = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
        const char cb = b[i] >= 'a' && b[i] <= 'z' ? static_cast<char>(b[i] - 'a' + 'A') : b[i];
        if (ca != cb) return false;
        if (ca == '\0') return true;
    }
    return true;
}

// "RTMIN+3" / "RTMAX-1" / "RTMIN" to a number, or -1.
int parse_realtime(const char* name) {
    const bool from_min = iequal(name, "RTMIN", 5);
    if (!from_min && !iequal(name, "RTMAX", 5)) return -1;
    const char* rest = name + 5;
    int sig = from_min ? SIGRTMIN : SIGRTMAX;
    if (*rest != '\0') {
        if ((from_min && *rest != '+') || (!from_min && *rest != '-')) return -1;
        auto offset = parse_number<int>(rest + 1);
        if (!offset) return -1;
        sig += from_min ? *offset : -*offset;
    }
    return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
}

}  // namespace

int parse_signal(const char* text) {
    if (auto number = parse_number<int>(text)) {
        return *number > 0 && *number < NSIG ? *number : -1;
    }
    const char* name = iequal(text, "SIG", 3) ? text + 3 : text;
    for (int sig = 1; sig < SIGRTMIN; sig++) {
        const char* abbrev = sigabbrev_np(sig);
        if (abbrev != nullptr && iequal(abbrev, name)) return sig;
    }
    return parse_realtime(name);
}

const char* signal_name(int sig, char* buf, size_t size) {
    const char* abbrev = sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : nullptr;
    if (abbrev != nullptr) {
        snprintf(buf, size, "SIG%s", abbrev);
    } else if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        if (sig == SIGRTMIN) {
            snprintf(buf, size, "SIGRTMIN");
        } else {
            snprintf(buf, size, "SIGRTMIN+%d", sig - SIGRTMIN);
        }
    } else {
        snprintf(buf, size, "signal %d", sig);
    }
    return buf;
}

}  // namespace berth::init
