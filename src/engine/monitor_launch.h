// Starting a task: exec berth-monitor with a ready pipe (docs/engine-monitor.md) and wait for
// its one line, {"pid":N} or {"error":"..."}.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace berth::engine {

struct MonitorArgs {
    std::string monitor;       // berth-monitor's path
    std::string runtime;       // absolute path of the OCI runtime
    std::string runtime_root;  // its --root
    std::string bundle, id, task_dir, log_path;
    std::string restart = "no";
    std::string stop_signal = "SIGTERM";
    int stop_timeout = 10;
    // --terminal and --stdin (engine/spec_builder.h: process.terminal, kStdinAnnotation).
    bool terminal = false;
    bool stdin_open = false;
    // A connected SOCK_SEQPACKET socket the monitor gets as its first attach client (fd 4,
    // --attach-fd), and the pty's size before start (--console-size); -1 / 0: none.
    int attach_fd = -1;
    unsigned short console_rows = 0, console_cols = 0;
    // berth-monitor's --exit-command and its arguments; empty: none.
    std::vector<std::string> exit_command;
};

// The container's init pid once the task runs. A failed create/start comes back as an error
// carrying the runtime's message.
Result<pid_t> launch_monitor(const MonitorArgs& args);

// A helper binary: a path is taken as it is; a bare name is looked for next to the running
// executable (build/bin), then in $PATH. ENOENT naming it otherwise.
Result<std::string> find_helper(const std::string& name);

}  // namespace berth::engine
