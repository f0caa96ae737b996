// state, list, ps, update, events: reading and adjusting a container without changing its life.
#include "base/file.h"
#include "runtime/container.h"

namespace berth::runtime {

Result<ContainerState> state(const GlobalOptions& g, const std::string& id) {
    Container c = BERTH_TRY(load_container(g, id));
    return c.to_state();
}

Result<std::vector<ContainerState>> list(const GlobalOptions& g) {
    std::vector<ContainerState> out;
    for (auto& id : BERTH_TRY(StateDir::list_ids(g.root))) {
        auto c = load_container(g, id);
        if (!c) continue;  // deleted meanwhile
        out.push_back(c->to_state());
    }
    return out;
}

Result<std::vector<pid_t>> pids(const GlobalOptions& g, const std::string& id) {
    Container c = BERTH_TRY(load_container(g, id));
    return c.cgroup->pids();
}

Result<void> update(const GlobalOptions& g, const std::string& id, const oci::Resources& r) {
    Container c = BERTH_TRY(load_container(g, id));
    if (c.status() == "stopped") return Error(EINVAL) << "container " << id << " is not running";
    return c.cgroup->apply(r);
}

Result<cgroup::Stats> stats(const GlobalOptions& g, const std::string& id) {
    Container c = BERTH_TRY(load_container(g, id));
    // A stopped container's cgroup stays until `delete`: its last figures (an OOM kill of
    // the init, say) are still worth reading.
    return c.cgroup->stats();
}

Result<oci::Process> init_process(const GlobalOptions& g, const std::string& id) {
    Container c = BERTH_TRY(load_container(g, id));
    oci::Spec spec = BERTH_TRY(c.dir.load_config());
    if (!spec.process) return Error(EINVAL) << "container " << id << " has no process";
    return *spec.process;
}

}  // namespace berth::runtime
