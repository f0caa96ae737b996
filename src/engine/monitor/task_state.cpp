#include "engine/monitor/task_state.h"

#include "base/file.h"
#include "base/strings.h"

namespace berth::monitor {

namespace {

void add_string(std::string& out, const char* key, const std::string& value) {
    out += ",\"";
    out += key;
    out += "\":\"";
    out += json_escape(value);
    out += '"';
}

template <typename N>
void add_number(std::string& out, const char* key, N value) {
    out += ",\"";
    out += key;
    out += "\":";
    out += std::to_string(value);
}

void add_bool(std::string& out, const char* key, bool value) {
    out += ",\"";
    out += key;
    out += value ? "\":true" : "\":false";
}

}  // namespace

std::string task_state_json(const TaskState& s) {
    std::string out = "{\"version\":1";
    add_string(out, "id", s.id);
    add_string(out, "status", s.status);
    add_number(out, "pid", s.pid);
    add_number(out, "pid_start_time", s.pid_start_time);
    add_number(out, "monitor_pid", s.monitor_pid);
    add_number(out, "monitor_start_time", s.monitor_start_time);
    add_string(out, "started_at", s.started_at);
    add_string(out, "finished_at", s.finished_at);
    if (s.has_exit) {
        add_number(out, "exit_code", s.exit_code);
        add_number(out, "exit_signal", s.exit_signal);
    } else {
        out += ",\"exit_code\":null,\"exit_signal\":null";
    }
    if (s.exit_reason.empty()) {
        out += ",\"exit_reason\":null";
    } else {
        add_string(out, "exit_reason", s.exit_reason);
    }
    add_bool(out, "oom_killed", s.oom_killed);
    add_string(out, "error", s.error);
    add_number(out, "restart_count", s.restart_count);
    add_string(out, "restart_policy", s.restart_policy);
    add_bool(out, "stop_requested", s.stop_requested);
    add_number(out, "next_restart_delay_ms", s.next_restart_delay_ms);
    add_string(out, "cgroup", s.cgroup);
    add_string(out, "log_path", s.log_path);
    out += "}\n";
    return out;
}

Result<void> write_task_state(const std::string& path, const TaskState& state) {
    return write_file_atomic(path, task_state_json(state), 0644);
}

uint64_t process_start_time(pid_t pid) {
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat.ok()) return 0;
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
    size_t close = stat->rfind(')');
    if (close == std::string::npos) return 0;
    auto fields = split(std::string_view(*stat).substr(close + 2), ' ');
    // fields[0] is field 3 (state); starttime is field 22.
    if (fields.size() < 20) return 0;
    return parse_number<uint64_t>(fields[19]).value_or(0);
}

}  // namespace berth::monitor
