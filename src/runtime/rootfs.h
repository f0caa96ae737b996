// The container's root: make the host's mounts invisible to it, switch root, then mask and
// write-protect what the spec lists.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// Makes "/" private/slave (rootfsPropagation, default rslave) and the rootfs a mount point.
Result<void> prepare_root(const std::string& rootfs, unsigned long propagation);
// pivot_root into rootfs and detach the old root; no_pivot: MS_MOVE and chroot.
Result<void> enter_root(const std::string& rootfs, bool no_pivot);
// Applies rootfsPropagation to the new "/" (shared and unbindable only take effect here).
Result<void> set_root_propagation(unsigned long propagation);
// Checks that every proc and sysfs mount of the spec is still what its destination shows, not
// covered by a later mount: masked and read-only paths must land on the kernel's files.
Result<void> check_kernel_mounts(const std::vector<oci::Mount>& mounts);
// Masks each path itself (a symlink is masked, not what it points to): a read-only empty
// tmpfs over directories, the null device over anything else.
Result<void> mask_paths(const std::vector<std::string>& paths);
Result<void> readonly_paths(const std::vector<std::string>& paths);
Result<void> remount_root_readonly();

}  // namespace berth::runtime
