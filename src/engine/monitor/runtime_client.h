// Drives a runc-compatible runtime through its command line: `<runtime> [--root R] --log
// <task-dir>/runtime.log --log-format json <verb> ...`. Errors come back with the runtime's own
// message, taken from the JSON log (what containerd and conmon read too).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "init/signals.h"

namespace berth::monitor {

// Descriptors a runtime child gets as 0, 1, 2; -1 is /dev/null.
struct ChildStdio {
    int in = -1;
    int out = -1;
    int err = -1;
};

class RuntimeClient {
  public:
    // saved: the signal state to give children back (the monitor blocks everything).
    RuntimeClient(std::string runtime, std::string root, std::string log_path,
                  const init::SavedSignals* saved)
        : runtime_(std::move(runtime)),
          root_(std::move(root)),
          log_path_(std::move(log_path)),
          saved_(saved) {}

    // Forks and execs the runtime with args after the global flags. Returns the child's pid.
    Result<pid_t> spawn(const std::vector<std::string>& args, ChildStdio stdio) const;
    // Waits for that child (by pid: other children stay unreaped). A non-zero exit becomes an
    // error naming the verb with the runtime's message logged since log_offset.
    Result<void> wait(pid_t pid, const std::string& verb, size_t log_offset) const;
    // spawn + wait with stdio on /dev/null.
    Result<void> run(const std::vector<std::string>& args) const;

    // The log's size now: pass it to wait() to see only what the next command writes.
    size_t log_offset() const;
    // The "msg" of the last error-level line logged after offset; empty when none.
    std::string last_error(size_t offset) const;

  private:
    std::string runtime_;
    std::string root_;
    std::string log_path_;
    const init::SavedSignals* saved_;
};

// The value of "msg" in one JSON log line, unescaped; empty when the line has none.
std::string json_log_message(std::string_view line);

}  // namespace berth::monitor
