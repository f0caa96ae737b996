// The reaper and the run loop as a subreaper, each in a forked process: subreaper status,
// blocked signals and orphans never reach the test runner. PR_SET_CHILD_SUBREAPER needs no root.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "init/init.h"
#include "init/reaper.h"

namespace berth::init {
namespace {

// Runs body in a child process; body returns 0 or the failing line.
template <typename F>
void in_child(F body) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(body());
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "failed at line " << WEXITSTATUS(status);
}

char process_state(pid_t pid) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE* f = fopen(path, "r");
    if (f == nullptr) return '?';
    char buf[512] = {};
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    std::string stat(buf, n);
    auto paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
}

// A middle process forks `count` children that wait on a pipe, then exits: its children are
// orphaned to us. Closing the write end lets them all exit at once.
int make_orphans(int count, int* release_fd) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return -1;
    pid_t middle = fork();
    if (middle == 0) {
        close(pipefd[1]);
        for (int i = 0; i < count; i++) {
            if (fork() == 0) {
                char c;
                while (read(pipefd[0], &c, 1) > 0) {
                }
                _exit(i % 7);
            }
        }
        _exit(0);
    }
    close(pipefd[0]);
    int status = 0;
    waitpid(middle, &status, 0);  // the middle itself is our own child: reap it here
    *release_fd = pipefd[1];
    return 0;
}

TEST(InitReaper, ReapsEveryOrphanAsSubreaper) {
    in_child([]() -> int {
        if (become_subreaper() != 0) return __LINE__;
        constexpr int kOrphans = 200;
        int release = -1;
        if (make_orphans(kOrphans, &release) != 0) return __LINE__;
        close(release);
        int reaped = 0;
        int codes_seen[7] = {};
        auto count = [&](const ChildExit& e) {
            if (e.code != CLD_EXITED || e.status < 0 || e.status > 6) return;
            codes_seen[e.status]++;
        };
        for (int tries = 0; reaped < kOrphans && tries < 5000; tries++) {
            const int n = reap_zombies(count);
            if (n < 0) return __LINE__;
            reaped += n;
            if (reaped < kOrphans) usleep(1000);
        }
        if (reaped != kOrphans) return __LINE__;
        int total = 0;
        for (int c : codes_seen) total += c;
        if (total != kOrphans) return __LINE__;
        // Nothing left: no children at all.
        siginfo_t info = {};
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG) == 0 || errno != ECHILD) return __LINE__;
        return 0;
    });
}

TEST(InitReaper, HandlerSeesTheZombieBeforeItIsReaped) {
    in_child([]() -> int {
        pid_t pid = fork();
        if (pid == 0) _exit(9);
        // Wait until it is a zombie.
        siginfo_t peek = {};
        if (waitid(P_PID, static_cast<id_t>(pid), &peek, WEXITED | WNOWAIT) != 0) return __LINE__;
        bool seen = false;
        char state_in_handler = '?';
        auto handler = [&](const ChildExit& e) {
            seen = e.pid == pid && e.code == CLD_EXITED && e.status == 9;
            state_in_handler = process_state(e.pid);
        };
        if (reap_zombies(handler) != 1) return __LINE__;
        if (!seen) return __LINE__;
        if (state_in_handler != 'Z') return __LINE__;    // WNOWAIT: still ours while handled
        if (process_state(pid) != '?') return __LINE__;  // and gone afterwards
        if (reap_zombies(nullptr, nullptr) != 0) return __LINE__;
        return 0;
    });
}

TEST(InitReaper, NoBlockingWhenChildrenAreAlive) {
    in_child([]() -> int {
        int fds[2];
        if (pipe(fds) != 0) return __LINE__;
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            close(fds[1]);
            (void)!read(fds[0], &c, 1);
            _exit(0);
        }
        if (reap_zombies(nullptr, nullptr) != 0) return __LINE__;  // returns at once
        close(fds[1]);
        int status = 0;
        waitpid(pid, &status, 0);
        return 0;
    });
}

TEST(InitExit, ShellStatusAndMapping) {
    const ChildExit exited{1, CLD_EXITED, 3};
    const ChildExit killed{1, CLD_KILLED, SIGTERM};
    const ChildExit dumped{1, CLD_DUMPED, SIGSEGV};
    EXPECT_EQ(shell_status(exited), 3);
    EXPECT_EQ(shell_status(killed), 143);
    EXPECT_EQ(shell_status(dumped), 139);
    ExitCodeSet expected;
    expected.add(3);
    expected.add(143);
    EXPECT_EQ(exit_code_for(exited, expected), 0);
    EXPECT_EQ(exit_code_for(killed, expected), 0);
    EXPECT_EQ(exit_code_for(dumped, expected), 139);
    EXPECT_EQ(exit_code_for(ChildExit{1, CLD_EXITED, 0}, ExitCodeSet{}), 0);
    char buf[64];
    EXPECT_STREQ(describe_exit(exited, buf, sizeof(buf)), "exited with status 3");
    EXPECT_STREQ(describe_exit(killed, buf, sizeof(buf)), "was killed by SIGTERM");
    EXPECT_STREQ(describe_exit(dumped, buf, sizeof(buf)), "was killed by SIGSEGV (core dumped)");
    EXPECT_EQ(exec_failure_code(ENOENT), 127);
    EXPECT_EQ(exec_failure_code(EACCES), 126);
    EXPECT_EQ(exec_failure_code(ENOEXEC), 126);
}

// The whole loop: run() as a subreaper with a shell child.
int run_command(const char* script, ExitCodeSet expected = {}) {
    char sh[] = "/bin/sh", dash_c[] = "-c";
    std::string body = script;
    char* argv[] = {sh, dash_c, body.data(), nullptr};
    Options options;
    options.subreaper = true;
    options.verbosity = kFatal;
    options.expected_codes = expected;
    options.command = argv;
    return run(options);
}

TEST(InitRun, PassesExitCodesAndSignalDeaths) {
    in_child([]() -> int { return run_command("exit 7") == 7 ? 0 : __LINE__; });
    in_child([]() -> int { return run_command("kill -USR1 $$") == 128 + SIGUSR1 ? 0 : __LINE__; });
    in_child([]() -> int {
        ExitCodeSet expected;
        expected.add(7);
        return run_command("exit 7", expected) == 0 ? 0 : __LINE__;
    });
}

TEST(InitRun, ExecFailures) {
    in_child([]() -> int {
        char missing[] = "/nonexistent/berth-test";
        char* argv[] = {missing, nullptr};
        Options options;
        options.subreaper = true;
        options.verbosity = -1;  // not even the fatal line in test output
        options.command = argv;
        return run(options) == 127 ? 0 : __LINE__;
    });
    in_child([]() -> int {
        char not_executable[] = "/tmp/berth-init-test-XXXXXX";  // mode 0600: exec gives EACCES
        const int fd = mkstemp(not_executable);
        if (fd < 0) return __LINE__;
        close(fd);
        char* argv[] = {not_executable, nullptr};
        Options options;
        options.subreaper = true;
        options.verbosity = -1;
        options.command = argv;
        const int code = run(options);
        unlink(not_executable);
        return code == 126 ? 0 : __LINE__;
    });
}

TEST(InitRun, ChildGetsTheSignalStateBackAndItsOwnGroup) {
    in_child([]() -> int {
        // Field 5 of /proc/$$/stat is the process group; SigBlk must be empty again.
        // exec: a shell blocks signals of its own while it waits for a command.
        return run_command(
                   "set -- $(cat /proc/$$/stat); [ \"$5\" = \"$$\" ] || exit 1; "
                   "exec grep -q '^SigBlk:[[:space:]]*0*$' /proc/self/status") == 0
                   ? 0
                   : __LINE__;
    });
}

TEST(InitRun, ForwardsSignalsToTheChild) {
    in_child([]() -> int {
        // The child asks its parent (run()) to pass SIGUSR1 back, and dies of it.
        return run_command("kill -USR1 $PPID; sleep 5; exit 3") == 128 + SIGUSR1 ? 0 : __LINE__;
    });
}

}  // namespace
}  // namespace berth::init
