// A container's root filesystem: an overlay of its image's layer snapshots (read-only lowers)
// and its own writable layer, mounted at the bundle's rootfs/ in the host's mount namespace,
// where the runtime finds it. It stays mounted while the container exists (podman does the
// same), is mounted again by `start` after a reboot, and is unmounted by `rm` and `system gc`.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace berth::engine {

// Whether `path` is a mount point (a different device than its parent, or the mount table
// says so).
bool is_mount_point(const std::string& path);

// Makes upper and work (mode 0755) and mounts the overlay at target unless it already is;
// `transient` for a --rm container (image::mount_overlay: a volatile upper, never synced).
Result<void> mount_rootfs(const std::vector<std::string>& lower_top_first, const std::string& upper,
                          const std::string& work, const std::string& target,
                          bool transient = false);

// Detaches every mount at or below target (lazily: a process still inside does not stop rm).
Result<void> unmount_tree(const std::string& target);

// Mount points listed in /proc/self/mountinfo at or below `prefix`, deepest first.
std::vector<std::string> mounts_under(const std::string& prefix);

}  // namespace berth::engine
