// Where the engine keeps each container's pieces. Persistent things live under the state root
// (--root): the writable layer (upper, work) and the log, so both survive a reboot and a
// container's writes never fill RAM when the run root is a tmpfs. Live things live under the
// run root (--runroot): the bundle with the rootfs mount point, the monitor's task dir, the
// network namespace file and the OCI runtime's own state.
//
//   <root>/containers/<id>/{upper,work,ctr.log}
//   <runroot>/<ns>/containers/<id>/{config.json,rootfs}     the OCI bundle
//   <runroot>/<ns>/tasks/<id>/                             berth-monitor's task dir
//   <runroot>/netns/<id>                                   --network none: bind of the netns
//   <runroot>/runtime/<runtime name>/                      the runtime's --root
//   <runroot>/runtime/<runtime name>.path                  the runtime binary's full path
#pragma once

#include <string>

namespace berth::engine {

struct Paths {
    std::string root;     // state root: berth.db, images, writable layers, logs
    std::string runroot;  // run root
    std::string ns = "default";

    std::string state_dir(const std::string& id) const;  // <root>/containers/<id>
    std::string upper_dir(const std::string& id) const;
    std::string work_dir(const std::string& id) const;
    std::string log_path(const std::string& id) const;
    std::string bundle_dir(const std::string& id) const;
    std::string rootfs_dir(const std::string& id) const;
    std::string task_dir(const std::string& id) const;
    std::string netns_path(const std::string& id) const;
    // The runtime's --root: one per runtime binary name, so that runc's and crun's state
    // never mix, and one per run root, so that two berths side by side never meet.
    std::string runtime_root(const std::string& runtime_path) const;

    std::string ns_dir() const;  // <runroot>/<ns>
};

// The cgroupsPath a container's config.json gets: /berth/<ns>-<id>.
std::string cgroup_path(const std::string& ns, const std::string& id);

}  // namespace berth::engine
