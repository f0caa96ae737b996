#include "runtime/container.h"

#include "base/file.h"

namespace berth::runtime {

Result<Container> load_container(const GlobalOptions& g, const std::string& id) {
    Container c{BERTH_TRY(StateDir::open(g.root, id)), {}, nullptr};
    c.record = BERTH_TRY(c.dir.load());
    cgroup::Options o;
    o.cgroups_path = c.record.cgroups_path;
    o.id = c.record.id;
    o.systemd = c.record.systemd_cgroup;
    o.proc_self_cgroup = c.dir.file("cgroup.origin");
    c.cgroup = BERTH_TRY(cgroup::open(o));
    return c;
}

std::string Container::status() {
    if (!alive()) return "stopped";
    if (auto f = cgroup->frozen(); f.ok() && *f) return "paused";
    if (path_exists(dir.fifo_path())) return "created";
    return "running";
}

ContainerState Container::to_state() {
    ContainerState s;
    s.oci_version = record.oci_version;
    s.id = record.id;
    s.status = status();
    s.pid = s.status == "stopped" ? 0 : record.pid;
    s.bundle = record.bundle;
    s.annotations = record.annotations;
    s.created = record.created;
    s.owner = record.owner_uid == 0 ? "root" : std::to_string(record.owner_uid);
    s.rootfs = record.rootfs;
    return s;
}

}  // namespace berth::runtime
