// `berth cp`: files and directories between a container and the host, with docker cp's rules
// for what lands where (SRC/. copies a directory's contents; a missing DEST is created with
// SRC's content under DEST's name; a directory never replaces a file).
//
// Every path inside the container is resolved by the kernel with openat2(RESOLVE_IN_ROOT)
// against the container's root, and everything below it is opened relative to its parent's
// fd without following symlinks, so no symlink or ".." the container makes (even while the copy
// runs) can point the copy at the host (the CVE-2018-15664 class). No code runs inside the
// container (no chroot'ed helper that would load the container's libraries: CVE-2019-14271).
#pragma once

#include <unistd.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/engine.h"

namespace berth::engine {

struct CopyOptions {
    // -a: keep the source's uid/gid. Otherwise what is written into a container belongs to
    // root (0:0) and what is written on the host to the user running berth (docker's rule).
    bool archive = false;
    // -L: follow SRC itself when it is a symlink (symlinks below it are always kept).
    bool follow_link = false;
};

// A container's file system as the copy sees it.
struct ContainerFs {
    UniqueFd root;           // O_PATH directory fd
    bool running = false;    // true: /proc/<init>/root, the container's own mount namespace
    bool read_only = false;  // config.json root.readonly
    std::string name;
};

// A running container: its init's root (/proc/<pid>/root), so its volumes and tmpfs mounts are
// there as its processes see them. Otherwise (created, exited): its rootfs overlay, mounted
// where and as `start` mounts it (it stays mounted until rm, as after a run); volumes are then
// not part of the view.
Result<ContainerFs> open_container_fs(Engine& engine, const ContainerView& c);

// CONTAINER:SRC to the host path DEST, or as a tar stream to `out` when DEST is "-".
Result<void> copy_from_container(const ContainerFs& fs, const std::string& src,
                                 const std::string& dest, const CopyOptions& options,
                                 BorrowedFd out = STDOUT_FILENO);

// The host path SRC, or a tar stream read from `in` when SRC is "-" (then DEST must be an
// existing directory), to CONTAINER:DEST.
Result<void> copy_to_container(const ContainerFs& fs, const std::string& src,
                               const std::string& dest, const CopyOptions& options,
                               BorrowedFd in = STDIN_FILENO);

}  // namespace berth::engine
