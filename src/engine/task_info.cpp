#include "engine/task_info.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

using Json = nlohmann::json;

template <typename T>
T get_or(const Json& j, const char* key, T fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    try {
        return it->get<T>();
    } catch (const std::exception&) {
        return fallback;
    }
}

std::optional<int> get_int(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int>();
}

}  // namespace

Result<TaskInfo> parse_task(const std::string& text) {
    Json j = Json::parse(text, nullptr, false);
    if (!j.is_object()) return Error(EINVAL) << "task.json is not a JSON object";
    TaskInfo t;
    t.raw = text;
    t.status = get_or<std::string>(j, "status", "");
    t.pid = get_or<pid_t>(j, "pid", 0);
    t.pid_start_time = get_or<uint64_t>(j, "pid_start_time", 0);
    t.monitor_pid = get_or<pid_t>(j, "monitor_pid", 0);
    t.monitor_start_time = get_or<uint64_t>(j, "monitor_start_time", 0);
    t.started_at = get_or<std::string>(j, "started_at", "");
    t.finished_at = get_or<std::string>(j, "finished_at", "");
    t.exit_code = get_int(j, "exit_code");
    t.exit_signal = get_int(j, "exit_signal");
    t.exit_reason = get_or<std::string>(j, "exit_reason", "");
    t.oom_killed = get_or<bool>(j, "oom_killed", false) || t.exit_reason == "oom";
    t.error = get_or<std::string>(j, "error", "");
    t.restart_count = get_or<unsigned>(j, "restart_count", 0);
    t.stop_requested = get_or<bool>(j, "stop_requested", false);
    t.cgroup = get_or<std::string>(j, "cgroup", "");
    return t;
}

Result<std::optional<TaskInfo>> read_task(const std::string& task_dir) {
    auto text = read_file(path_join(task_dir, "task.json"));
    if (!text.ok()) {
        if (text.error().errno_value() == ENOENT) return std::optional<TaskInfo>();
        return std::move(text).error();
    }
    return std::optional<TaskInfo>(BERTH_TRY_CTX(parse_task(*text), task_dir));
}

uint64_t process_start_time(pid_t pid) {
    if (pid <= 0) return 0;
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat.ok()) return 0;
    size_t paren = stat->rfind(')');
    if (paren == std::string::npos) return 0;
    auto fields = split(std::string_view(*stat).substr(paren + 2), ' ');
    // fields[0] is field 3 (state); starttime is field 22.
    if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X") return 0;
    return parse_number<uint64_t>(fields[19]).value_or(0);
}

bool process_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    uint64_t now = process_start_time(pid);
    return now != 0 && (start_time == 0 || now == start_time);
}

bool monitor_alive(const TaskInfo& task) {
    return process_alive(task.monitor_pid, task.monitor_start_time);
}

Result<void> write_monitor_lost(const std::string& task_dir, TaskInfo& task,
                                std::optional<int> exit_code) {
    Json j = Json::parse(task.raw, nullptr, false);
    if (!j.is_object()) j = Json::object();
    task.status = "stopped";
    task.pid = 0;
    task.exit_reason = "monitor-lost";
    task.exit_code = exit_code;
    task.finished_at = now_rfc3339();
    task.error = "the task's monitor (pid " + std::to_string(task.monitor_pid) + ") is gone";
    j["status"] = task.status;
    j["pid"] = 0;
    j["exit_reason"] = task.exit_reason;
    j["exit_code"] = exit_code ? Json(*exit_code) : Json(nullptr);
    j["exit_signal"] = exit_code && *exit_code > 128 ? Json(*exit_code - 128) : Json(nullptr);
    j["finished_at"] = task.finished_at;
    j["error"] = task.error;
    task.raw = j.dump();
    return write_file_atomic(path_join(task_dir, "task.json"), task.raw + "\n", 0644);
}

Result<std::string> control_request(const std::string& task_dir, const std::string& request) {
    // Through the directory's fd: a deep run root overflows sun_path (108 bytes).
    UniqueFd dir = BERTH_TRY(open_fd(task_dir, O_PATH | O_DIRECTORY));
    std::string path = "/proc/self/fd/" + std::to_string(dir.get()) + "/ctl.sock";
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!sock) return ErrnoError() << "socket";
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path.data(), path.size());
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        return ErrnoError() << "connecting to the monitor in `" << task_dir << "`";
    }
    struct timeval tv = {10, 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (::send(sock.get(), request.data(), request.size(), MSG_NOSIGNAL) < 0) {
        return ErrnoError() << "sending `" << request << "` to the monitor";
    }
    std::string answer(65536, '\0');
    ssize_t n;
    do {
        n = ::recv(sock.get(), answer.data(), answer.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError() << "reading the monitor's answer to `" << request << "`";
    answer.resize(size_t(n));
    if (answer.starts_with("error: ")) {
        return Error(EIO) << "monitor: " << answer.substr(7);
    }
    return answer;
}

std::optional<bool> catches_signal(pid_t pid, int sig) {
    auto status = read_file("/proc/" + std::to_string(pid) + "/status");
    if (!status.ok()) return std::nullopt;
    // A blocked signal counts too: the kernel never drops a blocked signal, and an init that
    // waits with signalfd or sigwait (berth-init) blocks the ones it handles.
    std::optional<bool> caught;
    for (const auto& line : split(*status, '\n')) {
        if (!line.starts_with("SigCgt:") && !line.starts_with("SigBlk:")) continue;
        auto mask = parse_number<uint64_t>(trim(std::string_view(line).substr(7)), 16);
        if (!mask || sig < 1 || sig > 64) return std::nullopt;
        caught = caught.value_or(false) || ((*mask >> (sig - 1)) & 1);
    }
    return caught;
}

}  // namespace berth::engine
