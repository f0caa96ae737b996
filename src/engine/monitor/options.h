// berth-monitor's command line. Parsed by hand (no getopt globals, no CLI11): the monitor stays
// resident for the container's whole life and every page it maps counts against conmon.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::monitor {

enum class RestartMode { kNo, kOnFailure, kAlways, kUnlessStopped };

struct RestartPolicy {
    RestartMode mode = RestartMode::kNo;
    unsigned max_retries = 0;  // on-failure:N; 0 means unlimited
};

// "no", "on-failure", "on-failure:3", "always", "unless-stopped".
Result<RestartPolicy> parse_restart_policy(std::string_view text);
// The policy as written on the command line and in task.json.
std::string restart_policy_string(const RestartPolicy& policy);

struct Options {
    std::string runtime;       // runc-compatible binary: berth-runtime, crun, runc
    std::string runtime_root;  // its --root; empty: the runtime's default
    std::string bundle;
    std::string id;
    std::string task_dir;        // task.json, attach.sock, ctl.sock, console.sock, runtime.log
    std::string log_path;        // CRI log; empty: output is only streamed to attach clients
    uint64_t log_max_size = 0;   // bytes; 0: no rotation
    unsigned log_max_files = 2;  // files kept including the live one (FILE, FILE.1, ...)
    bool terminal = false;       // pty through the runtime's --console-socket
    bool stdin_pipe = false;     // keep a stdin pipe that attach clients write to
    // An attach client connected by the caller (one end of a socketpair): the foreground
    // `run -i`/`-t` gets every byte from the start, with no race against attach.sock.
    int attach_fd = -1;
    // The pty's first size (rows, cols; 0: the runtime's default), set before `start`.
    unsigned short console_rows = 0;
    unsigned short console_cols = 0;
    RestartPolicy restart;
    int stop_signal = 15;
    unsigned stop_timeout_s = 10;  // stop signal, then SIGKILL after this long
    int ready_fd = -1;             // gets {"pid":N} or {"error":"..."} once, then is closed
    bool foreground = false;       // do not fork and setsid (tests, or a caller that already did)
    // Run once the task is over for good (no restart pending), detached, stdio on /dev/null, as
    // conmon's --exit-command: the engine's cleanup (`berth container cleanup --rm ID`).
    std::string exit_command;
    std::vector<std::string> exit_command_args;
    // Test-only: the back-off base (kubelet: 10 s) and cap (5 min) and the reset threshold
    // (10 min of running) in milliseconds.
    uint64_t backoff_base_ms = 10'000;
    uint64_t backoff_max_ms = 300'000;
    uint64_t backoff_reset_ms = 600'000;
};

enum class ParseAction { kRun, kHelp, kVersion };

struct ParseOutcome {
    ParseAction action = ParseAction::kRun;
    Options options;
};

// Parses argv[1..]; both "--flag value" and "--flag=value" are accepted.
Result<ParseOutcome> parse_options(int argc, const char* const* argv);

extern const char kUsage[];

}  // namespace berth::monitor
