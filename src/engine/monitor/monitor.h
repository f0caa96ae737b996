// The per-task supervisor: parent (subreaper) of the container's init, holder of its stdio,
// writer of its log and task.json, and the one who restarts it. One poll loop, no threads.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/monitor/attach.h"
#include "engine/monitor/cri_log.h"
#include "engine/monitor/oom.h"
#include "engine/monitor/options.h"
#include "engine/monitor/restart.h"
#include "engine/monitor/runtime_client.h"
#include "engine/monitor/task_state.h"
#include "init/reaper.h"
#include "init/signals.h"

namespace berth::monitor {

// File names inside --task-dir.
inline constexpr const char kTaskFile[] = "task.json";
inline constexpr const char kAttachSocket[] = "attach.sock";
inline constexpr const char kControlSocket[] = "ctl.sock";
inline constexpr const char kConsoleSocket[] = "console.sock";
inline constexpr const char kRuntimeLog[] = "runtime.log";
inline constexpr const char kPidFile[] = "init.pid";

class Monitor {
  public:
    explicit Monitor(Options options);
    // Everything after detaching: set up, start the task, report on the ready fd, supervise
    // until the task is down for good. Returns the monitor's exit code.
    int run();

  private:
    enum class Timer { kNone, kStopKill, kRestart };

    Result<void> setup();
    Result<void> start_task();
    Result<pid_t> create_task();
    void loop();
    void handle_signals();
    void handle_exit(const init::ChildExit& exit);
    void handle_control();
    void request_stop(unsigned timeout_s);
    void on_timer();
    void restart_now();
    // Reads one chunk; false at end of stream.
    bool read_output(UniqueFd& fd, Stream stream);
    void drain_output();
    void write_stdin(std::string_view data);
    void flush_stdin();
    // EOF for the container: a pipe is closed once what is pending is written; a pty gets ^D.
    void close_stdin();
    void set_console_size(unsigned short rows, unsigned short cols);
    void arm_timer(Timer kind, uint64_t ms);
    void save_state();
    void report_ready(const std::string& json);
    void cleanup_sockets();
    // Starts --exit-command, detached; the monitor does not wait for it.
    void run_exit_command();
    std::string task_path(const char* name) const;

    Options options_;
    init::SavedSignals saved_signals_{};
    UniqueFd signal_fd_;
    UniqueFd timer_fd_;
    Timer timer_ = Timer::kNone;
    RuntimeClient runtime_;
    std::optional<CriLog> log_;
    std::optional<AttachServer> attach_;
    UniqueFd control_;
    UniqueFd out_fd_;    // stdout pipe, or the pty master
    UniqueFd err_fd_;    // stderr pipe (none with a terminal)
    UniqueFd stdin_fd_;  // the stdin pipe's write end, or a dup of the pty master
    std::string stdin_pending_;
    bool stdin_closing_ = false;  // close the pipe once stdin_pending_ is written
    unsigned short console_rows_ = 0, console_cols_ = 0;  // kept for the pty of a restart
    TaskState state_;
    BackOff backoff_;
    std::optional<CgroupRef> cgroup_;
    uint64_t oom_baseline_ = 0;
    uint64_t started_mono_ms_ = 0;
    bool done_ = false;
};

// berth-monitor's entry point: parse, detach (fork + setsid) unless --foreground, run.
int monitor_main(int argc, char** argv);

}  // namespace berth::monitor
