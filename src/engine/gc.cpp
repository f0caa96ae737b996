// `berth system gc`: what a crash at any point can leave behind, found from the kernel and the
// file system rather than from the database, and removed when no container row owns it.
#include <dirent.h>
#include <signal.h>

#include <set>

#include "base/file.h"
#include "base/strings.h"
#include "engine/engine.h"
#include "engine/monitor_launch.h"
#include "engine/netns.h"
#include "engine/rootfs.h"

namespace berth::engine {
namespace {

std::vector<std::string> list_dir(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") out.push_back(name);
    }
    ::closedir(d);
    return out;
}

bool is_container_id(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Whether pid's parent is a berth-monitor: a created init that is still the monitor's child is
// about to be started (and recorded); one reparented elsewhere has lost its monitor.
bool parent_is_monitor(pid_t pid) {
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat.ok()) return false;
    size_t close = stat->rfind(')');
    if (close == std::string::npos) return false;
    auto fields = split(std::string_view(*stat).substr(close + 2), ' ');
    if (fields.size() < 2) return false;
    auto ppid = parse_number<pid_t>(fields[1]);
    if (!ppid) return false;
    auto comm = read_file("/proc/" + std::to_string(*ppid) + "/comm");
    return comm.ok() && trim(*comm) == "berth-monitor";
}

}  // namespace

Result<GcReport> Engine::gc() {
    GcReport report;
    std::set<std::string> ids;
    auto all = BERTH_TRY(containers_.list_all());
    for (const auto& r : all) ids.insert(r.id);
    auto orphan = [&](const std::string& name) {
        return is_container_id(name) && !ids.count(name);
    };

    // Containers run with -d --rm whose task is over: nobody was there to remove them.
    for (const auto& r : all) {
        if (!r.auto_remove || r.ns != paths_.ns) continue;
        ContainerView v = view(r);
        if (v.state != "exited") continue;
        BERTH_TRY(cleanup(r));
        ids.erase(r.id);
        report.removed.push_back("container " + r.id + " (--rm)");
    }

    // A monitor killed during the runtime's create wrote no task.json, but create went on and
    // left the container created: its init waits for `start` in the cgroup, holding the rootfs,
    // and the row reads as never started. The runtime's pid file tells it apart from a start
    // in progress (whose init is still the live monitor's child).
    for (const auto& r : all) {
        if (r.ns != paths_.ns || !ids.count(r.id)) continue;
        std::string task_dir = paths_.task_dir(r.id);
        if (path_exists(path_join(task_dir, "task.json")) ||
            !path_exists(path_join(paths_.runtime_root(r.runtime), r.id))) {
            continue;
        }
        auto pid_text = read_file(path_join(task_dir, "init.pid"));
        if (!pid_text.ok()) continue;  // create still running, or never got that far
        auto pid = parse_number<pid_t>(trim(*pid_text));
        if (!pid || *pid <= 0 || parent_is_monitor(*pid)) continue;
        if (runtime_delete(r.runtime, r.id).ok()) {
            report.removed.push_back("half-created task of " + r.id + " (monitor lost)");
        }
    }

    // Per namespace: task dirs and bundles without a row.
    for (const auto& ns : list_dir(paths_.runroot)) {
        if (ns == "netns" || ns == "runtime") continue;
        std::string ns_dir = path_join(paths_.runroot, ns);
        for (const auto& id : list_dir(path_join(ns_dir, "tasks"))) {
            if (!orphan(id)) continue;
            std::string dir = path_join(path_join(ns_dir, "tasks"), id);
            if (auto t = read_task(dir); t.ok() && *t && !(*t)->stopped()) {
                TaskInfo& task = **t;
                if (monitor_alive(task)) (void)control_request(dir, "stop 0");
                if (process_alive(task.pid, task.pid_start_time)) ::kill(task.pid, SIGKILL);
            }
            BERTH_TRY(remove_all(dir));
            report.removed.push_back("task dir " + dir);
        }
        for (const auto& id : list_dir(path_join(ns_dir, "containers"))) {
            if (!orphan(id)) continue;
            std::string dir = path_join(path_join(ns_dir, "containers"), id);
            for (const auto& m : mounts_under(dir)) report.removed.push_back("mount " + m);
            BERTH_TRY(unmount_tree(dir));
            BERTH_TRY(remove_all(dir));
            report.removed.push_back("bundle " + dir);
        }
    }
    // Network namespaces.
    std::string netns_dir = path_join(paths_.runroot, "netns");
    for (const auto& id : list_dir(netns_dir)) {
        if (!orphan(id)) continue;
        BERTH_TRY(remove_netns(path_join(netns_dir, id)));
        report.removed.push_back("netns " + path_join(netns_dir, id));
    }
    // The runtimes' state of containers nobody owns.
    std::string runtimes_dir = path_join(paths_.runroot, "runtime");
    for (const auto& name : list_dir(runtimes_dir)) {
        std::vector<std::string> stale;
        for (const auto& id : list_dir(path_join(runtimes_dir, name))) {
            if (orphan(id)) stale.push_back(id);
        }
        if (stale.empty()) continue;
        auto runtime = find_helper(name);
        if (!runtime.ok()) continue;
        for (const auto& id : stale) {
            if (runtime_delete(*runtime, id).ok()) {
                report.removed.push_back(name + " state of " + id);
            }
        }
    }
    // Writable layers and logs.
    std::string layers = path_join(paths_.root, "containers");
    for (const auto& id : list_dir(layers)) {
        if (!orphan(id)) continue;
        BERTH_TRY(unmount_tree(path_join(layers, id)));
        BERTH_TRY(remove_all(path_join(layers, id)));
        report.removed.push_back("container layer " + path_join(layers, id));
    }
    return report;
}

}  // namespace berth::engine
