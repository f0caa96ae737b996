// Starting a task: exec berth-monitor with a ready pipe (docs/engine-monitor.md) and wait for
// its one line, {"pid":N} or {"error":"..."}.
#pragma once

#include <sys/types.h>

#include <string>

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
};

// The container's init pid once the task runs. A failed create/start comes back as an error
// carrying the runtime's message.
Result<pid_t> launch_monitor(const MonitorArgs& args);

// A helper binary: a path is taken as it is; a bare name is looked for next to the running
// executable (build/bin), then in $PATH. ENOENT naming it otherwise.
Result<std::string> find_helper(const std::string& name);

}  // namespace berth::engine
