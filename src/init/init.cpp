#include "init/init.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "init/message.h"

namespace berth::init {

int exit_code_for(const ChildExit& exit, const ExitCodeSet& expected) {
    const int status = shell_status(exit);
    return expected.contains(status) ? 0 : status;
}

int exec_failure_code(int exec_errno) {
    return exec_errno == ENOENT ? 127 : 126;
}

namespace {

// In the forked child: own process group, terminal foreground, old signal state, exec.
[[noreturn]] void exec_child(char** command, const SavedSignals& saved) {
    if (setpgid(0, 0) != 0) {
        message(kFatal, "setpgid in the child failed: %s", strerror(errno));
        _exit(1);
    }
    // SIGTTOU is still blocked here, so taking the foreground from the background cannot stop us.
    if (tcsetpgrp(STDIN_FILENO, getpgrp()) != 0 && errno != ENOTTY && errno != ENXIO &&
        errno != EBADF) {
        message(kFatal, "tcsetpgrp in the child failed: %s", strerror(errno));
        _exit(1);
    }
    restore_signals(saved);
    execvp(command[0], command);
    const int err = errno;
    message(kFatal, "exec `%s` failed: %s", command[0], strerror(err));
    _exit(exec_failure_code(err));
}

struct LoopState {
    const Options& options;
    pid_t child = 0;
    bool child_exited = false;
    ChildExit child_exit;
};

void on_reaped(const ChildExit& exit, void* context) {
    auto& state = *static_cast<LoopState*>(context);
    const bool is_child = state.child != 0 && exit.pid == state.child;
    if (is_child) {
        state.child_exited = true;
        state.child_exit = exit;
    }
    const int level = is_child ? kInfo : state.options.warn_on_reap ? kWarn : kDebug;
    if (level > verbosity()) return;  // a storm of zombies costs no formatting
    char how[64];
    describe_exit(exit, how, sizeof(how));
    if (is_child) {
        message(level, "child %d %s", exit.pid, how);
    } else {
        message(level, "reaped zombie %d, which %s", exit.pid, how);
    }
}

void handle_signal(LoopState& state, int sig) {
    char name[24];
    signal_name(sig, name, sizeof(name));
    if (state.child == 0 || state.child_exited) {
        message(kDebug, "received %s, no child to pass it to", name);
        return;
    }
    const int err = forward_signal(state.child, sig, state.options.process_group);
    if (err != 0) {
        message(kDebug, "passing %s to %s %d failed: %s", name,
                state.options.process_group ? "process group" : "child", state.child,
                strerror(err));
    } else {
        message(kDebug, "passed %s to %s %d", name,
                state.options.process_group ? "process group" : "child", state.child);
    }
}

// PID 1 reaps by nature; anywhere else orphans only come to us as a subreaper.
int setup_reaping(const Options& options) {
    if (getpid() == 1) return 0;
    if (options.subreaper) {
        if (int err = become_subreaper(); err != 0) {
            message(kFatal, "cannot register as a child subreaper: %s", strerror(err));
            return 1;
        }
        message(kTrace, "registered as a child subreaper");
        return 0;
    }
    message(kWarn,
            "berth-init is not PID 1 and not a child subreaper: orphaned processes will not "
            "be re-parented to it, so their zombies will not be reaped. Use -s or run it as "
            "PID 1.");
    return 0;
}

int setup_parent_death_signal(int sig) {
    if (sig == 0) return 0;
    const pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0) {
        message(kFatal, "cannot set the parent-death signal: %s", strerror(errno));
        return 1;
    }
    // The parent may have died before the prctl; then nobody will ever send the signal.
    if (parent != 0 && getppid() != parent) kill(getpid(), sig);
    return 0;
}

}  // namespace

pid_t spawn_child(char** command, const SavedSignals& saved) {
    const pid_t pid = fork();
    if (pid == 0) exec_child(command, saved);
    // Also here, so a signal forwarded to the group before the child runs reaches it.
    if (pid > 0) setpgid(pid, pid);
    return pid;
}

int run(const Options& options) {
    set_verbosity(options.verbosity);
    if (setup_reaping(options) != 0) return 1;
    if (setup_parent_death_signal(options.parent_death_signal) != 0) return 1;

    SavedSignals saved;
    if (int err = block_signals(saved); err != 0) {
        message(kFatal, "cannot block signals: %s", strerror(err));
        return 1;
    }
    const int signal_fd = open_signalfd();
    if (signal_fd < 0) {
        message(kFatal, "cannot open a signalfd: %s", strerror(errno));
        return 1;
    }

    LoopState state{options};
    if (!options.pause) {
        state.child = spawn_child(options.command, saved);
        if (state.child < 0) {
            message(kFatal, "cannot fork: %s", strerror(errno));
            return 1;
        }
        message(kInfo, "spawned `%s` as child %d", options.command[0], state.child);
    } else {
        message(kInfo, "pausing until SIGTERM or SIGINT");
    }

    signalfd_siginfo batch[16];
    for (;;) {
        // Reap first: zombies inherited at start, and those whose SIGCHLD was just read.
        const int reaped = reap_zombies(on_reaped, &state);
        if (reaped < 0) message(kWarn, "waitid failed: %s", strerror(-reaped));
        if (state.child_exited) return exit_code_for(state.child_exit, options.expected_codes);

        const int count = read_signals(signal_fd, batch, 16);
        if (count < 0) {
            message(kFatal, "reading the signalfd failed: %s", strerror(errno));
            return 1;
        }
        for (int i = 0; i < count; i++) {
            const int sig = static_cast<int>(batch[i].ssi_signo);
            if (!forwardable(sig)) continue;  // SIGCHLD: the reaping above handles it
            if (options.pause && (sig == SIGTERM || sig == SIGINT)) {
                message(kInfo, "pause ends on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                return 0;
            }
            handle_signal(state, sig);
        }
    }
}

}  // namespace berth::init
