// The PID 1 run loop: spawn the command (or pause), forward signals, reap until the child
// exits, and turn its end into berth-init's exit code.
#pragma once

#include "init/options.h"
#include "init/reaper.h"
#include "init/signals.h"

namespace berth::init {

// berth-init's exit code for the child's end: the shell status, or 0 for an -e code.
int exit_code_for(const ChildExit& exit, const ExitCodeSet& expected);

// Exit code for a failed exec, as a shell gives it: 127 not found, 126 found but not runnable.
int exec_failure_code(int exec_errno);

// Forks and execs command in its own process group (in the terminal's foreground when stdin
// is one), with the signal state of before block_signals(). Returns the pid or -1 with errno.
pid_t spawn_child(char** command, const SavedSignals& saved);

// Does the whole job; returns berth-init's exit code.
int run(const Options& options);

}  // namespace berth::init
