// The engine's side of a container's end (lifecycle.h): the monitor's exit command and the
// recovery of a task whose run root state was lost.
#include <signal.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "engine/container_lock.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "engine/rootfs.h"

namespace berth::engine {

Result<void> Engine::cleanup_exited(const std::string& id, bool remove) {
    // A foreground `run --rm` removes the container itself once it has the exit status.
    wait_for_removal_hold(paths_, id);
    ContainerLock lock = BERTH_TRY(lock_container(paths_, id));
    auto record = containers_.find(paths_.ns, id);
    if (!record.ok()) {
        if (record.error().errno_value() != ENOENT) return std::move(record).error();
        lock.container_gone();  // removed by `rm` or gc meanwhile
        return {};
    }
    if (record->id != id) return {};  // a name or prefix: the monitor always passes the full id
    ContainerView v = view(std::move(*record));
    // Started again since (`berth start`), or its monitor is still writing the end.
    if (v.state != "exited") return {};
    if (!remove) {
        release_network(v.record);  // CNI DEL and the netns, once the task is over for good
        return {};
    }
    return cleanup(v.record);
}

std::optional<TaskInfo> Engine::recover_lost_task(const ContainerRecord& r) {
    if (!path_exists(started_file(paths_, r.id))) return std::nullopt;  // the usual case
    // start() and removal hold the lock while task.json is missing on purpose: not lost then.
    auto lock = lock_container(paths_, r.id, false);
    if (!lock.ok()) return std::nullopt;
    auto started = read_file(started_file(paths_, r.id));
    if (!started.ok() || path_exists(path_join(paths_.task_dir(r.id), "task.json"))) {
        return std::nullopt;
    }
    nlohmann::json j = nlohmann::json::parse(*started, nullptr, false);
    TaskInfo last;
    if (j.is_object() && j.contains("task") && j["task"].is_object()) {
        if (auto t = parse_task(j["task"].dump()); t.ok()) last = std::move(*t);
    }
    // A monitor that lives on without its task dir can no longer be reached (its sockets went
    // with the run root): stop it first, so that it neither restarts the task nor races us.
    if (monitor_alive(last)) ::kill(last.monitor_pid, SIGKILL);
    bool killed = false;
    if (process_alive(last.pid, last.pid_start_time)) {
        ::kill(last.pid, SIGKILL);
        killed = true;
    }
    if (!container_cgroup_pids(r.ns, r.id).empty()) killed = true;
    if (path_exists(path_join(paths_.runtime_root(r.runtime), r.id))) {
        (void)runtime_delete(r.runtime, r.id);
    }
    (void)remove_container_cgroups(r.ns, r.id);
    // What a reboot takes away: start() makes them again.
    if (auto u = unmount_tree(paths_.bundle_dir(r.id)); !u.ok()) log::warn(u.error().what());
    release_network(r);  // CNI DEL and the netns
    auto task = write_lost_task(paths_, r.id, *started, killed);
    if (!task.ok()) {
        log::warn(task.error().what());
        return std::nullopt;
    }
    return std::move(*task);
}

}  // namespace berth::engine
