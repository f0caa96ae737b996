// The containerd-shaped operations of the engine: a task deleted apart from its container,
// and the containers of every namespace.
#include "base/file.h"
#include "engine/container_lock.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"

namespace berth::engine {

Result<void> Engine::delete_task(const ContainerView& c, bool force) {
    const auto& r = c.record;
    if (!c.task) return Error(ENOENT) << "container " << r.name << " has no task";
    if (c.running() || c.state == "created") {
        if (!force) {
            return Error(EBUSY) << "task " << r.name << " is " << c.state
                                << ": stop it first, or delete it with --force";
        }
        BERTH_TRY(stop(c, 0, nullptr));
    }
    ContainerLock lock = BERTH_TRY(lock_container(paths_, r.id));
    // First, as in cleanup: a started.json without task.json would read as a lost task.
    forget_task_started(paths_, r.id);
    if (path_exists(path_join(paths_.runtime_root(r.runtime), r.id))) {
        BERTH_TRY(runtime_delete(r.runtime, r.id));
    }
    (void)remove_container_cgroups(r.ns, r.id);
    // The rootfs and the netns belong to the container: they stay for its next task.
    return remove_all(paths_.task_dir(r.id));
}

Result<std::vector<ContainerRecord>> Engine::list_all_namespaces() {
    return containers_.list_all();
}

}  // namespace berth::engine
