// Resolving a container path inside the rootfs the way the container will see it: symlinks
// in the image are followed relative to the rootfs, never out of it.
#pragma once

#include <string>

#include "base/result.h"

namespace berth::runtime {

// Returns root + path with every symlink resolved as if root were "/". Components that do
// not exist yet are appended as they are.
Result<std::string> resolve_in_root(const std::string& root, const std::string& path);

// Creates the mount point for a mount: a directory, or an empty file when the source is not
// a directory (bind mounts of files). The path is resolved with resolve_in_root first.
Result<std::string> make_mount_point(const std::string& root, const std::string& dest,
                                     bool as_file);

}  // namespace berth::runtime
