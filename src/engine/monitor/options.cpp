#include "engine/monitor/options.h"

#include <cstring>

#include "base/signals.h"
#include "base/strings.h"

namespace berth::monitor {

const char kUsage[] =
    "Usage: berth-monitor --runtime PATH --bundle DIR --id ID --task-dir DIR [options]\n"
    "\n"
    "Supervises one container: creates and starts it through a runc-compatible runtime, keeps\n"
    "its stdio, writes CRI-format logs, records its exit in TASK-DIR/task.json and restarts it\n"
    "by policy.\n"
    "\n"
    "  --runtime PATH          runc-compatible runtime (berth-runtime, crun, runc)\n"
    "  --runtime-root DIR      the runtime's --root\n"
    "  --bundle DIR            OCI bundle\n"
    "  --id ID                 container id\n"
    "  --task-dir DIR          where task.json and the sockets live (created)\n"
    "  --log-path FILE         CRI log file (<time> <stream> <P|F> <text>)\n"
    "  --log-max-size BYTES    rotate FILE to FILE.1 beyond this size (0: never)\n"
    "  --log-max-files N       files kept, the live one included (default 2)\n"
    "  --terminal              give the container a pty (process.terminal must be true)\n"
    "  --stdin                 keep the container's stdin open for attach clients\n"
    "  --attach-fd N           a connected attach client (SOCK_SEQPACKET) that is never dropped\n"
    "  --console-size ROWSxCOLS  the pty's size before the container starts (--terminal)\n"
    "  --restart POLICY        no | on-failure[:N] | always | unless-stopped\n"
    "  --stop-signal SIG       signal for a stop request (default SIGTERM)\n"
    "  --stop-timeout SECONDS  SIGKILL after this long (default 10)\n"
    "  --ready-fd N            write {\"pid\":N} or {\"error\":\"...\"} here once started\n"
    "  --foreground            do not detach (fork + setsid)\n"
    "  --exit-command PATH     run PATH (detached, stdio on /dev/null) once the task is over\n"
    "                          for good: no restart pending\n"
    "  --exit-command-arg ARG  an argument for it (repeatable, in order)\n"
    "  --backoff-base-ms MS    test only: restart back-off base (default 10000)\n"
    "  --backoff-max-ms MS     test only: back-off cap (default 300000)\n"
    "  --backoff-reset-ms MS   test only: running time that resets the back-off (600000)\n";

Result<RestartPolicy> parse_restart_policy(std::string_view text) {
    RestartPolicy p;
    if (text == "no" || text.empty()) return p;
    if (text == "always") {
        p.mode = RestartMode::kAlways;
        return p;
    }
    if (text == "unless-stopped") {
        p.mode = RestartMode::kUnlessStopped;
        return p;
    }
    if (starts_with(text, "on-failure")) {
        std::string_view rest = text.substr(strlen("on-failure"));
        p.mode = RestartMode::kOnFailure;
        if (rest.empty()) return p;
        if (rest[0] == ':') {
            auto n = parse_number<unsigned>(rest.substr(1));
            if (n) {
                p.max_retries = *n;
                return p;
            }
        }
    }
    return Error(EINVAL) << "invalid restart policy `" << text
                         << "` (no, on-failure[:N], always, unless-stopped)";
}

std::string restart_policy_string(const RestartPolicy& policy) {
    switch (policy.mode) {
        case RestartMode::kNo:
            return "no";
        case RestartMode::kAlways:
            return "always";
        case RestartMode::kUnlessStopped:
            return "unless-stopped";
        case RestartMode::kOnFailure:
            if (policy.max_retries == 0) return "on-failure";
            return "on-failure:" + std::to_string(policy.max_retries);
    }
    return "no";
}

namespace {

template <typename T>
Result<T> number_flag(std::string_view flag, std::string_view value) {
    auto n = parse_number<T>(value);
    if (!n) return Error(EINVAL) << flag << ": not a number: `" << value << "`";
    return *n;
}

}  // namespace

Result<ParseOutcome> parse_options(int argc, const char* const* argv) {
    ParseOutcome out;
    Options& o = out.options;
    for (int i = 1; i < argc; i++) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            out.action = ParseAction::kHelp;
            return out;
        }
        if (arg == "-v" || arg == "--version") {
            out.action = ParseAction::kVersion;
            return out;
        }
        if (!starts_with(arg, "--")) return Error(EINVAL) << "unexpected argument `" << arg << "`";
        std::string_view name = arg;
        std::string_view value;
        bool has_value = false;
        if (auto eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            has_value = true;
        }
        // Boolean flags.
        if (name == "--terminal" || name == "--stdin" || name == "--foreground") {
            if (has_value) return Error(EINVAL) << name << " takes no value";
            if (name == "--terminal") o.terminal = true;
            if (name == "--stdin") o.stdin_pipe = true;
            if (name == "--foreground") o.foreground = true;
            continue;
        }
        if (!has_value) {
            if (i + 1 >= argc) return Error(EINVAL) << name << " needs a value";
            value = argv[++i];
        }
        if (name == "--runtime") {
            o.runtime = value;
        } else if (name == "--runtime-root") {
            o.runtime_root = value;
        } else if (name == "--bundle") {
            o.bundle = value;
        } else if (name == "--id") {
            o.id = value;
        } else if (name == "--task-dir") {
            o.task_dir = value;
        } else if (name == "--log-path") {
            o.log_path = value;
        } else if (name == "--log-max-size") {
            o.log_max_size = BERTH_TRY(number_flag<uint64_t>(name, value));
        } else if (name == "--log-max-files") {
            o.log_max_files = BERTH_TRY(number_flag<unsigned>(name, value));
            if (o.log_max_files == 0) return Error(EINVAL) << name << ": must be at least 1";
        } else if (name == "--restart") {
            o.restart = BERTH_TRY_CTX(parse_restart_policy(value), "--restart");
        } else if (name == "--stop-signal") {
            auto sig = signal_from_string(value);
            if (!sig || *sig == 0)
                return Error(EINVAL) << name << ": unknown signal `" << value << "`";
            o.stop_signal = *sig;
        } else if (name == "--stop-timeout") {
            o.stop_timeout_s = BERTH_TRY(number_flag<unsigned>(name, value));
        } else if (name == "--attach-fd") {
            o.attach_fd = BERTH_TRY(number_flag<int>(name, value));
            if (o.attach_fd < 3) return Error(EINVAL) << name << ": must be 3 or more";
        } else if (name == "--console-size") {
            size_t x = value.find('x');
            auto rows = parse_number<unsigned short>(value.substr(0, x));
            auto cols = x == std::string_view::npos
                            ? std::nullopt
                            : parse_number<unsigned short>(value.substr(x + 1));
            if (!rows || !cols || *rows == 0 || *cols == 0)
                return Error(EINVAL) << name << ": want ROWSxCOLS, not `" << value << "`";
            o.console_rows = *rows;
            o.console_cols = *cols;
        } else if (name == "--ready-fd") {
            o.ready_fd = BERTH_TRY(number_flag<int>(name, value));
        } else if (name == "--exit-command") {
            o.exit_command = value;
        } else if (name == "--exit-command-arg") {
            o.exit_command_args.emplace_back(value);
        } else if (name == "--backoff-base-ms") {
            o.backoff_base_ms = BERTH_TRY(number_flag<uint64_t>(name, value));
        } else if (name == "--backoff-max-ms") {
            o.backoff_max_ms = BERTH_TRY(number_flag<uint64_t>(name, value));
        } else if (name == "--backoff-reset-ms") {
            o.backoff_reset_ms = BERTH_TRY(number_flag<uint64_t>(name, value));
        } else {
            return Error(EINVAL) << "unknown option `" << name << "`";
        }
    }
    if (o.runtime.empty()) return Error(EINVAL) << "--runtime is required";
    if (o.bundle.empty()) return Error(EINVAL) << "--bundle is required";
    if (o.id.empty()) return Error(EINVAL) << "--id is required";
    if (o.task_dir.empty()) return Error(EINVAL) << "--task-dir is required";
    if (o.id.find('/') != std::string::npos || o.id == "." || o.id == "..")
        return Error(EINVAL) << "--id: invalid container id `" << o.id << "`";
    if (!o.exit_command_args.empty() && o.exit_command.empty())
        return Error(EINVAL) << "--exit-command-arg needs --exit-command";
    if (!o.exit_command.empty() && o.exit_command.front() != '/')
        return Error(EINVAL) << "--exit-command: `" << o.exit_command
                             << "` is not an absolute path";
    if (o.backoff_max_ms < o.backoff_base_ms) o.backoff_max_ms = o.backoff_base_ms;
    return out;
}

}  // namespace berth::monitor
