#include "engine/lifecycle.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

using Json = nlohmann::json;

constexpr const char kCgroupRoot[] = "/sys/fs/cgroup";
constexpr const char kParent[] = "berth";

std::vector<std::string> subdirs(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != ".." && e->d_type == DT_DIR) out.push_back(name);
    }
    ::closedir(d);
    return out;
}

// dir and every cgroup below it, deepest first (the order rmdir needs).
void collect_tree(const std::string& dir, std::vector<std::string>& out) {
    for (const auto& name : subdirs(dir)) collect_tree(path_join(dir, name), out);
    out.push_back(dir);
}

std::vector<pid_t> pids_in(const std::vector<std::string>& dirs) {
    std::vector<pid_t> out;
    for (const auto& d : dirs) {
        auto text = read_file(path_join(d, "cgroup.procs"));
        if (!text.ok()) continue;
        for (const auto& line : split(*text, '\n')) {
            if (auto pid = parse_number<pid_t>(trim(line)); pid && *pid > 0) out.push_back(*pid);
        }
    }
    return out;
}

// Frozen tasks die only once thawed (v1 freezer, v2 cgroup.freeze).
void thaw(const std::vector<std::string>& dirs) {
    for (const auto& d : dirs) {
        if (auto s = read_file(path_join(d, "freezer.state")); s.ok() && trim(*s) != "THAWED") {
            (void)write_file(path_join(d, "freezer.state"), "THAWED");
        }
        if (auto s = read_file(path_join(d, "cgroup.freeze")); s.ok() && trim(*s) != "0") {
            (void)write_file(path_join(d, "cgroup.freeze"), "0");
        }
    }
}

std::string boot_id() {
    auto id = read_file("/proc/sys/kernel/random/boot_id");
    return id.ok() ? std::string(trim(*id)) : "";
}

}  // namespace

std::vector<std::string> cgroup_mounts() {
    std::vector<std::string> out;
    auto text = read_file("/proc/self/mountinfo");
    if (!text.ok()) return out;
    const std::string prefix = std::string(kCgroupRoot) + "/";
    for (const auto& line : split(*text, '\n')) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        auto sep = line.find(" - ");
        if (sep == std::string::npos) continue;
        auto fields = split(std::string_view(line).substr(0, sep), ' ');
        auto after = split(std::string_view(line).substr(sep + 3), ' ');
        if (fields.size() < 5 || after.empty()) continue;
        if (after[0] != "cgroup" && after[0] != "cgroup2") continue;
        const std::string& mp = fields[4];
        if (mp != kCgroupRoot && !mp.starts_with(prefix)) continue;
        if (std::find(out.begin(), out.end(), mp) == out.end()) out.push_back(mp);
    }
    return out;
}

bool container_cgroup_exists(const std::string& ns, const std::string& id) {
    const std::string rel = cgroup_path(ns, id);
    for (const auto& m : cgroup_mounts()) {
        if (path_exists(path_join(m, rel))) return true;
    }
    return false;
}

std::vector<pid_t> container_cgroup_pids(const std::string& ns, const std::string& id) {
    const std::string rel = cgroup_path(ns, id);
    std::vector<std::string> dirs;
    for (const auto& m : cgroup_mounts()) {
        std::string d = path_join(m, rel);
        if (path_exists(d)) collect_tree(d, dirs);
    }
    auto pids = pids_in(dirs);
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    return pids;
}

std::vector<std::string> remove_container_cgroups(const std::string& ns, const std::string& id) {
    const std::string rel = cgroup_path(ns, id);
    std::vector<std::string> dirs;
    for (const auto& m : cgroup_mounts()) {
        std::string d = path_join(m, rel);
        if (path_exists(d)) collect_tree(d, dirs);
    }
    std::vector<std::string> removed;
    // Usually empty already (the runtime's delete killed the rest): one rmdir each. Else kill
    // and retry for up to 2 s; a zombie keeps a v1 cgroup busy until its parent reaps it.
    const pid_t self = ::getpid();
    for (int attempt = 0; attempt < 100 && !dirs.empty(); attempt++) {
        if (attempt > 0) {
            for (pid_t pid : pids_in(dirs)) {
                if (pid != self) ::kill(pid, SIGKILL);
            }
            if (attempt == 1) thaw(dirs);
            ::usleep(20'000);
        }
        std::vector<std::string> left;
        for (const auto& d : dirs) {
            if (::rmdir(d.c_str()) == 0) {
                removed.push_back(d);
            } else if (errno != ENOENT) {
                left.push_back(d);
            }
        }
        dirs = std::move(left);
    }
    // The shared /berth parents stay: removing one here raced other containers' creation (a
    // runtime's mkdir of /berth/<ns>-<id> right after someone's rmdir of /berth fails with
    // ENOENT, and crun does not retry). `system gc` removes them when empty.
    return removed;
}

void remove_empty_cgroup_parents() {
    // EBUSY/ENOTEMPTY: another container's cgroup is below it, or is being made right now.
    for (const auto& m : cgroup_mounts()) (void)::rmdir(path_join(m, kParent).c_str());
}

std::vector<std::string> berth_cgroup_names() {
    std::set<std::string> names;
    for (const auto& m : cgroup_mounts()) {
        for (auto& n : subdirs(path_join(m, kParent))) names.insert(std::move(n));
    }
    return {names.begin(), names.end()};
}

Result<std::vector<std::string>> cleanup_command(const Paths& paths, const std::string& id) {
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) return ErrnoError() << "readlink /proc/self/exe";
    // The command may run in another directory one day: relative roots are made absolute.
    char cwd[4096];
    auto absolute = [&](const std::string& p) {
        if (p.empty() || p.front() == '/' || !::getcwd(cwd, sizeof(cwd))) return p;
        return path_clean(path_join(cwd, p));
    };
    return std::vector<std::string>{std::string(self, size_t(n)),
                                    "--root",
                                    absolute(paths.root),
                                    "--runroot",
                                    absolute(paths.runroot),
                                    "-n",
                                    paths.ns,
                                    "container",
                                    "cleanup",
                                    "--rm",
                                    id};
}

std::string started_file(const Paths& paths, const std::string& id) {
    return path_join(paths.state_dir(id), "started.json");
}

Result<void> note_task_started(const Paths& paths, const std::string& id) {
    std::string task = BERTH_TRY(read_file(path_join(paths.task_dir(id), "task.json")));
    Json j = {{"boot_id", boot_id()},
              {"runroot", paths.runroot},
              {"task", Json::parse(task, nullptr, false)}};
    return write_file_atomic(started_file(paths, id), j.dump() + "\n", 0600);
}

void forget_task_started(const Paths& paths, const std::string& id) {
    (void)::unlink(started_file(paths, id).c_str());
}

void sync_task_started(const Paths& paths, const std::string& id, const TaskInfo& stopped) {
    auto text = read_file(started_file(paths, id));
    if (!text.ok()) return;  // never started, or being removed or started again: not ours
    Json j = Json::parse(*text, nullptr, false);
    if (!j.is_object()) return;
    Json task = j.value("task", Json::object());
    if (task.is_object() && task.value("status", "") == "stopped") return;
    Json now = Json::parse(stopped.raw, nullptr, false);
    if (!now.is_object()) return;
    j["task"] = now;
    (void)write_file_atomic(started_file(paths, id), j.dump() + "\n", 0600);
}

Result<TaskInfo> write_lost_task(const Paths& paths, const std::string& id,
                                 const std::string& started_json, bool killed_init) {
    Json started = Json::parse(started_json, nullptr, false);
    Json task = started.is_object() ? started.value("task", Json::object()) : Json::object();
    if (!task.is_object()) task = Json::object();
    if (task.value("status", "") == "stopped" && !killed_init) {
        // It had ended, and started.json has its end: the exit status survives.
        std::string text = task.dump() + "\n";
        BERTH_TRY(mkdir_p(paths.task_dir(id), 0700));
        BERTH_TRY(write_file_atomic(path_join(paths.task_dir(id), "task.json"), text, 0644));
        return parse_task(text);
    }
    const bool rebooted = started.is_object() && started.value("boot_id", "") != boot_id();
    std::string why = rebooted ? "the host rebooted while the task ran"
                               : "the task's state in the run root `" + paths.runroot +
                                     "` was removed while the task ran";
    task["id"] = id;
    task["status"] = "stopped";
    task["pid"] = 0;
    task["exit_reason"] = "monitor-lost";
    task["exit_code"] = killed_init ? Json(128 + SIGKILL) : Json(nullptr);
    task["exit_signal"] = killed_init ? Json(SIGKILL) : Json(nullptr);
    task["finished_at"] = now_rfc3339();
    task["error"] =
        why + ": its monitor is gone" + (killed_init ? "; its processes were killed" : "");
    std::string text = task.dump() + "\n";
    std::string dir = paths.task_dir(id);
    BERTH_TRY(mkdir_p(dir, 0700));
    BERTH_TRY(write_file_atomic(path_join(dir, "task.json"), text, 0644));
    return parse_task(text);
}

}  // namespace berth::engine
