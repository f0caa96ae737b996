// <task-dir>/task.json: the task's live state as its monitor last wrote it, replaced atomically
// (write task.json.tmp, rename) at every change. The engine reads it; when monitor_pid is gone
// (or is a different process: compare monitor_start_time with /proc/<pid>/stat field 22) and
// status is not "stopped", reconciliation decides from the kernel.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/result.h"

namespace berth::monitor {

struct TaskState {
    std::string id;
    // created: runtime create done, not started; running; restarting: waiting out the
    // back-off; stopped: final, the monitor is gone or going.
    std::string status = "created";
    pid_t pid = 0;                // the container's init on the host; 0 when none
    uint64_t pid_start_time = 0;  // its /proc/<pid>/stat starttime (clock ticks since boot)
    pid_t monitor_pid = 0;
    uint64_t monitor_start_time = 0;
    std::string started_at;   // RFC 3339 (nanoseconds), last start
    std::string finished_at;  // last exit
    bool has_exit = false;    // exit_code/exit_reason are meaningful
    int exit_code = 0;        // shell status: the code, or 128 + signal
    int exit_signal = 0;      // the signal for exit_reason signaled/oom
    std::string exit_reason;  // exited | signaled | oom | start-failed (engine: monitor-lost)
    // The OOM killer killed a process of the container's cgroup during the last run (the
    // cgroup's oom_kill count rose), whichever process and however the init ended: docker's
    // State.OOMKilled.
    bool oom_killed = false;
    std::string error;  // why a start failed
    unsigned restart_count = 0;
    std::string restart_policy = "no";
    bool stop_requested =
        false;  // a stop came through ctl.sock or SIGTERM: unless-stopped stays down
    uint64_t next_restart_delay_ms = 0;  // status restarting: the back-off being waited out
    std::string cgroup;  // the init's cgroup (v2 path, or v1 memory path), for the engine
    std::string log_path;
};

std::string task_state_json(const TaskState& state);
Result<void> write_task_state(const std::string& path, const TaskState& state);

// Field 22 of /proc/<pid>/stat; 0 when the process is gone.
uint64_t process_start_time(pid_t pid);

}  // namespace berth::monitor
