// `berth system gc`: what a crash at any point can leave behind, found from the kernel and the
// file system rather than from the database, and removed when no container row owns it.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <set>

#include "base/file.h"
#include "base/strings.h"
#include "engine/container_lock.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
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

}  // namespace

// Cgroups (/berth/<ns>-<id> in every hierarchy) of this root's containers: of ids met without a
// row, and of rows whose task is over (the runtime's state that would have removed them was
// lost). Other roots' containers share /berth: a name is only touched when this root knows
// the id. Then the /berth parents, once empty.
void Engine::gc_cgroups(GcReport& report, const std::set<std::string>& orphans) {
    for (const auto& name : berth_cgroup_names()) {
        if (name.size() < 66 || name[name.size() - 65] != '-') continue;
        std::string ns = name.substr(0, name.size() - 65);
        std::string id = name.substr(name.size() - 64);
        if (!is_container_id(id)) continue;
        bool ours = orphans.count(id) > 0;
        auto r = containers_.find(ns, id);
        if (!ours && ns == paths_.ns) ours = r.ok() && r->id == id && view(*r).state == "exited";
        // No row anywhere in this root, yet an init of one of our runtimes waits in it: a create
        // that finished after its row and every other trace of the id had gone.
        if (!ours && !r.ok() && r.error().errno_value() == ENOENT) ours = cgroup_made_here(ns, id);
        if (!ours) continue;
        for (const auto& d : remove_container_cgroups(ns, id))
            report.removed.push_back("cgroup " + d);
    }
    remove_empty_cgroup_parents();
}

// Lock files (container_lock.h) whose container is gone, unless somebody holds them now.
void Engine::gc_locks(GcReport& report, const std::set<std::string>& ids) {
    std::string dir = locks_dir(paths_);
    for (const auto& name : list_dir(dir)) {
        std::string id = name.ends_with(".hold") ? name.substr(0, name.size() - 5) : name;
        if (!is_container_id(id) || ids.count(id)) continue;
        std::string path = path_join(dir, name);
        auto fd = open_fd(path, O_RDONLY | O_CLOEXEC);
        if (!fd.ok() || ::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) continue;
        auto r = containers_.find(paths_.ns, id);
        if (r.ok() && r->id == id) continue;  // created since gc listed the rows
        if (::unlink(path.c_str()) == 0) report.removed.push_back("lock " + path);
    }
}

Result<GcReport> Engine::gc() {
    GcReport report;
    std::set<std::string> ids;
    auto all = BERTH_TRY(containers_.list_all());
    for (const auto& r : all) ids.insert(r.id);
    std::set<std::string> orphans;  // ids met in this root's directories: their cgroups go too
    auto orphan = [&](const std::string& name) {
        bool is = is_container_id(name) && !ids.count(name);
        if (is) orphans.insert(name);
        return is;
    };

    // Every task reconciled with the kernel first: a dead monitor, a lost run root.
    for (const auto& r : all) {
        if (r.ns == paths_.ns) (void)view(r);
    }

    // Containers run with -d --rm whose task is over: nobody was there to remove them.
    for (const auto& r : all) {
        if (!r.auto_remove || r.ns != paths_.ns) continue;
        if (removal_held(paths_, r.id)) continue;  // its foreground `run --rm` removes it
        ContainerLock lock = BERTH_TRY(lock_container(paths_, r.id));
        ContainerView v = view(r);
        if (v.state == "removed") {  // by its exit command, meanwhile
            lock.container_gone();
            ids.erase(r.id);
            continue;
        }
        if (v.state != "exited") continue;
        BERTH_TRY(cleanup(r));
        ids.erase(r.id);
        report.removed.push_back("container " + r.id + " (--rm)");
    }

    // (view() above also removed what a create killed with its monitor left: reap_unowned_task.)

    // Per namespace: task dirs and bundles without a row.
    for (const auto& ns : list_dir(paths_.runroot)) {
        if (ns == "netns" || ns == "runtime" || ns == "locks") continue;
        std::string ns_dir = path_join(paths_.runroot, ns);
        for (const auto& id : list_dir(path_join(ns_dir, "tasks"))) {
            if (!orphan(id)) continue;
            std::string dir = path_join(path_join(ns_dir, "tasks"), id);
            if (auto t = read_task(dir); t.ok() && *t) {
                TaskInfo& task = **t;
                if (!task.stopped() && monitor_alive(task)) (void)control_request(dir, "stop 0");
                if (process_alive(task.pid, task.pid_start_time)) ::kill(task.pid, SIGKILL);
                // Its last writes (task.json, its log) would race the removal.
                for (int i = 0; i < 250 && monitor_alive(task); i++) ::usleep(20'000);
                if (monitor_alive(task)) ::kill(task.monitor_pid, SIGKILL);
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
    // CNI attachments no container row names (DEL, then the plugins' GC).
    {
        std::vector<ContainerRecord> rows;
        for (const auto& r : all) {
            if (ids.count(r.id)) rows.push_back(r);
        }
        for (auto& line : BERTH_TRY(gc_network(rows))) report.removed.push_back(line);
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
        // The binary Engine::start recorded (--runtime PATH), else the helper of that name.
        auto runtime = read_file(path_join(runtimes_dir, name + ".path"));
        if (!runtime.ok() || ::access(runtime->c_str(), X_OK) != 0) runtime = find_helper(name);
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
    gc_cgroups(report, orphans);
    gc_locks(report, ids);
    return report;
}

}  // namespace berth::engine
