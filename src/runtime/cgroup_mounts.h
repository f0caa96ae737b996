// What a container's `cgroup` mount shows: one entry per host hierarchy, with the
// container's own cgroup directory in it.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace berth::runtime {

struct CgroupHierarchy {
    std::string name;      // directory name under the mount: "cpu", "cpu,cpuacct", "unified"
    std::string fstype;    // cgroup | cgroup2
    std::string options;   // super options for a fresh mount: "cpu", "name=systemd"
    std::string host_dir;  // the container's cgroup directory in this hierarchy
    bool at_root = false;  // cgroup2 mounted at the cgroup root itself (unified layout)
};

// Matches the cgroup directories a manager owns to the host's cgroup mounts, from the text of
// /proc/self/mountinfo (read here when empty).
Result<std::vector<CgroupHierarchy>> cgroup_hierarchies(const std::vector<std::string>& dirs,
                                                        std::string mountinfo = {});

}  // namespace berth::runtime
