// Signal names, the forwarding set, and block/signalfd/restore (in a forked process, so the
// test runner's own mask is never touched).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init/signals.h"

namespace berth::init {
namespace {

TEST(InitSignals, ParseNamesAndNumbers) {
    EXPECT_EQ(parse_signal("SIGKILL"), SIGKILL);
    EXPECT_EQ(parse_signal("KILL"), SIGKILL);
    EXPECT_EQ(parse_signal("sigusr1"), SIGUSR1);
    EXPECT_EQ(parse_signal("9"), 9);
    EXPECT_EQ(parse_signal("SIGRTMIN"), SIGRTMIN);
    EXPECT_EQ(parse_signal("SIGRTMIN+3"), SIGRTMIN + 3);
    EXPECT_EQ(parse_signal("RTMAX-1"), SIGRTMAX - 1);
    EXPECT_EQ(parse_signal("SIGRTMAX"), SIGRTMAX);
    EXPECT_EQ(parse_signal("SIGRTMIN+99"), -1);
    EXPECT_EQ(parse_signal("SIGRTMAX+1"), -1);
    EXPECT_EQ(parse_signal("SIGFOO"), -1);
    EXPECT_EQ(parse_signal(""), -1);
    EXPECT_EQ(parse_signal("0"), -1);
    EXPECT_EQ(parse_signal("-9"), -1);
}

TEST(InitSignals, Names) {
    char buf[24];
    EXPECT_STREQ(signal_name(SIGTERM, buf, sizeof(buf)), "SIGTERM");
    EXPECT_STREQ(signal_name(SIGCHLD, buf, sizeof(buf)), "SIGCHLD");
    EXPECT_STREQ(signal_name(SIGRTMIN, buf, sizeof(buf)), "SIGRTMIN");
    EXPECT_STREQ(signal_name(SIGRTMIN + 2, buf, sizeof(buf)), "SIGRTMIN+2");
    EXPECT_STREQ(signal_name(99, buf, sizeof(buf)), "signal 99");
    // Every name we print parses back to its number.
    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        if (sig > 31 && sig < SIGRTMIN) continue;  // glibc's own two
        EXPECT_EQ(parse_signal(signal_name(sig, buf, sizeof(buf))), sig) << buf;
    }
}

TEST(InitSignals, ForwardableSet) {
    EXPECT_FALSE(forwardable(SIGKILL));
    EXPECT_FALSE(forwardable(SIGSTOP));
    EXPECT_FALSE(forwardable(SIGCHLD));
    EXPECT_FALSE(forwardable(0));
    for (int sig : {SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGWINCH,
                    SIGSEGV, SIGRTMIN, SIGRTMAX}) {
        EXPECT_TRUE(forwardable(sig)) << sig;
    }
}

// Runs body in a child process and expects it to exit 0; body returns a failure line or 0.
template <typename F>
void in_child(F body) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(body());
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "failed at line " << WEXITSTATUS(status);
}

TEST(InitSignals, BlockedSignalsArriveOnTheSignalfdAndRestoreUndoes) {
    in_child([]() -> int {
        sigset_t before;
        sigemptyset(&before);
        sigaddset(&before, SIGUSR2);
        sigprocmask(SIG_SETMASK, &before, nullptr);
        SavedSignals saved;
        if (block_signals(saved) != 0) return __LINE__;
        const int fd = open_signalfd();
        if (fd < 0) return __LINE__;
        // Even the signals a PID 1 must not lose to default actions are now queued.
        kill(getpid(), SIGTERM);
        kill(getpid(), SIGTTOU);
        kill(getpid(), SIGRTMIN + 1);
        signalfd_siginfo got[8];
        int seen = 0;
        while (seen < 3) {
            const int n = read_signals(fd, got + seen, 8 - seen);
            if (n <= 0) return __LINE__;
            seen += n;
        }
        if (got[0].ssi_signo != SIGTERM || got[1].ssi_signo != SIGTTOU ||
            static_cast<int>(got[2].ssi_signo) != SIGRTMIN + 1) {
            return __LINE__;
        }
        struct sigaction chld;
        sigaction(SIGCHLD, nullptr, &chld);
        if ((chld.sa_flags & SA_NOCLDSTOP) == 0) return __LINE__;
        restore_signals(saved);
        sigset_t now;
        sigprocmask(SIG_SETMASK, nullptr, &now);
        for (int sig = 1; sig < NSIG; sig++) {
            if (sig == SIGKILL || sig == SIGSTOP || (sig > 31 && sig < SIGRTMIN)) continue;
            if (sigismember(&now, sig) != sigismember(&before, sig)) return __LINE__;
        }
        sigaction(SIGCHLD, nullptr, &chld);
        if ((chld.sa_flags & SA_NOCLDSTOP) != 0) return __LINE__;
        return 0;
    });
}

}  // namespace
}  // namespace berth::init
