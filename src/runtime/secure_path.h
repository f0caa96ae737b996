// Resolving a container path inside the rootfs the way the container will see it: symlinks
// in the image are followed relative to the rootfs, never out of it (CVE-2021-30465 class).
#pragma once

#include <fcntl.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::runtime {

// Returns root + path with every symlink resolved as if root were "/". Components that do
// not exist yet are appended as they are. A string answer can be raced: prefer open_in_root.
Result<std::string> resolve_in_root(const std::string& root, const std::string& path);

// "/proc/self/fd/N": the name of what fd holds, for syscalls that take only paths (mount).
std::string fd_path(BorrowedFd fd);

// Opens the container path `path` below `root` (a directory fd of the rootfs) with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): symlinks and ".." stay inside the root and
// procfs magic links (/proc/self/fd/N) are refused with ELOOP.
Result<UniqueFd> open_in_root(BorrowedFd root, const std::string& path, int flags = O_PATH);

// Opens the target of a mount inside the root as an O_PATH fd, first creating what is
// missing inside the root too: directories, and an empty file as the last component when
// as_file (bind mounts of files). Mount onto fd_path() of the answer.
Result<UniqueFd> open_mount_point(BorrowedFd root, const std::string& dest, bool as_file);

// Creates process.cwd inside the rootfs when missing (runc does). A cwd that can only be
// reached through a magic link is left alone: chdir and its checks decide about it.
Result<void> make_cwd_in_root(const std::string& rootfs, const std::string& cwd);

}  // namespace berth::runtime
