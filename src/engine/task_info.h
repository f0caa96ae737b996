// The engine's side of berth-monitor's task dir: task.json read back, checked against the
// kernel (a monitor or init pid is only trusted with its start time), and ctl.sock requests.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"

namespace berth::engine {

struct TaskInfo {
    std::string status;  // created | running | restarting | stopped
    pid_t pid = 0;
    uint64_t pid_start_time = 0;
    pid_t monitor_pid = 0;
    uint64_t monitor_start_time = 0;
    std::string started_at, finished_at;
    std::optional<int> exit_code;
    std::optional<int> exit_signal;
    std::string exit_reason;  // exited | signaled | oom | start-failed | monitor-lost
    bool oom_killed = false;  // any process of the cgroup OOM-killed in the last run
    std::string error;
    unsigned restart_count = 0;
    bool stop_requested = false;
    std::string cgroup;
    std::string raw;  // the file's text

    bool stopped() const { return status == "stopped"; }
};

// nullopt when the task dir has no task.json (never started, or cleaned up).
Result<std::optional<TaskInfo>> read_task(const std::string& task_dir);
Result<TaskInfo> parse_task(const std::string& text);

// Field 22 of /proc/<pid>/stat; 0 when gone (zombies count as gone).
uint64_t process_start_time(pid_t pid);
// The process is there and is the same one (start time matches).
bool process_alive(pid_t pid, uint64_t start_time);
bool monitor_alive(const TaskInfo& task);

// Records that the monitor is gone: status stopped, exit_reason monitor-lost, exit_code as
// given (the engine killed the init: 137), written atomically like the monitor does.
Result<void> write_monitor_lost(const std::string& task_dir, TaskInfo& task,
                                std::optional<int> exit_code);

// One request on <task-dir>/ctl.sock ("stop 10", "kill 9", "state"); the answer's text.
// ECONNREFUSED/ENOENT when the monitor is gone.
Result<std::string> control_request(const std::string& task_dir, const std::string& request);

// Whether PID's handler mask (/proc/PID/status SigCgt) has a handler for sig, or blocks it
// (SigBlk: it takes it by signalfd or sigwait).
std::optional<bool> catches_signal(pid_t pid, int sig);

}  // namespace berth::engine
