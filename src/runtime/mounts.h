// The spec's mounts, done inside the container's mount namespace before pivot_root.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"
#include "runtime/cgroup_mounts.h"

namespace berth::runtime {

struct MountContext {
    std::string rootfs;                    // absolute host path of the rootfs
    std::string bundle;                    // relative bind sources resolve against it
    std::vector<CgroupHierarchy> cgroups;  // for `cgroup` mounts
    bool cgroupns = false;                 // fresh cgroup mounts instead of binds
    bool userns = false;                   // no mknod, locked flags on remounts
    bool netns = false;                    // sysfs may be mounted fresh
};

// Does mounts[index]; errors name "mounts[i]".
Result<void> do_mount(const MountContext& ctx, const oci::Mount& m, size_t index);

// Remounts an existing bind mount with flags, keeping the flags the kernel locks.
Result<void> remount_bind(const std::string& target, unsigned long flags);

}  // namespace berth::runtime
