#include "runtime/rootfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <optional>

#include "base/strings.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "runtime/mounts.h"
#include "runtime/secure_path.h"

namespace berth::runtime {

Result<void> prepare_root(const std::string& rootfs, unsigned long propagation) {
    // Shared propagation is applied after pivot_root; before it, slave keeps host mounts from
    // leaking in while ours do not leak out.
    unsigned long p = propagation;
    // An unbindable "/" could not be bind-mounted below; both come after pivot_root.
    if (!p || (p & (MS_SHARED | MS_UNBINDABLE))) p = MS_SLAVE | MS_REC;
    if (::mount(nullptr, "/", nullptr, p, nullptr) < 0)
        return ErrnoError() << "make / "
                            << "private";
    if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
        return ErrnoError() << "bind rootfs `" << rootfs << "`";
    return {};
}

Result<void> enter_root(const std::string& rootfs, bool no_pivot) {
    if (no_pivot) {
        if (::chdir(rootfs.c_str()) < 0) return ErrnoError() << "chdir `" << rootfs << "`";
        if (::mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0)
            return ErrnoError() << "move rootfs to /";
        if (::chroot(".") < 0) return ErrnoError() << "chroot";
        if (::chdir("/") < 0) return ErrnoError() << "chdir /";
        return {};
    }
    UniqueFd old_root = BERTH_TRY(open_fd("/", O_DIRECTORY | O_RDONLY));
    UniqueFd new_root = BERTH_TRY(open_fd(rootfs, O_DIRECTORY | O_RDONLY));
    if (::fchdir(new_root.get()) < 0) return ErrnoError() << "fchdir rootfs";
    // pivot_root(".", ".") stacks the old root under the new one; it is then detached from
    // the old root's fd without needing a directory for it in the image.
    if (sys::pivot_root(".", ".") < 0) return ErrnoError() << "pivot_root `" << rootfs << "`";
    if (::fchdir(old_root.get()) < 0) return ErrnoError() << "fchdir old root";
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
        return ErrnoError() << "make old root slave";
    if (::umount2(".", MNT_DETACH) < 0) return ErrnoError() << "detach old root";
    if (::chdir("/") < 0) return ErrnoError() << "chdir /";
    return {};
}

Result<void> set_root_propagation(unsigned long propagation) {
    if (!propagation) return {};
    if (::mount(nullptr, "/", nullptr, propagation, nullptr) < 0)
        return ErrnoError() << "linux.rootfsPropagation: set on /";
    return {};
}

namespace {

// Masked and read-only paths below /proc and /sys hide or protect kernel files. If the image
// covered /proc (or made it a symlink), what is there is a decoy and the real files would stay
// reachable elsewhere: refuse (CVE-2019-16884).
[[maybe_unused]] Result<void> check_kernel_fs(BorrowedFd fd, const std::string& path) {
    const bool proc = starts_with(path, "/proc/");
    if (!proc && !starts_with(path, "/sys/")) return {};
    struct statfs s;
    if (::fstatfs(fd.get(), &s) < 0) return ErrnoError() << "statfs `" << path << "`";
    if (s.f_type != (proc ? PROC_SUPER_MAGIC : SYSFS_MAGIC))
        return Error(EPERM) << "`" << path << "` is not on " << (proc ? "procfs" : "sysfs")
                            << ": something covers " << (proc ? "/proc" : "/sys");
    return {};
}

// The container's /dev/null, checked to be the null device: binding whatever a symlink there
// points at would expose it instead of hiding the masked path (CVE-2025-31133).
Result<UniqueFd> open_null_device() {
    UniqueFd fd = BERTH_TRY(open_fd("/dev/null", O_PATH | O_NOFOLLOW));
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return ErrnoError() << "stat /dev/null";
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return Error(EPERM) << "/dev/null is not the null device";
    return fd;
}

// Attaches a detached mount (open_tree, fsmount) onto what target holds, without a path.
Result<void> attach(BorrowedFd mount, BorrowedFd target) {
    if (::move_mount(mount.get(), "", target.get(), "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return ErrnoError() << "move_mount";
    return {};
}

Result<UniqueFd> empty_readonly_tmpfs() {
    UniqueFd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (!fs) return ErrnoError() << "fsopen tmpfs";
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "size", "0k", 0) < 0 ||
        ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        return ErrnoError() << "fsconfig tmpfs";
    UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
    if (!mnt) return ErrnoError() << "fsmount tmpfs";
    return mnt;
}

}  // namespace

Result<void> check_kernel_mounts(const std::vector<oci::Mount>& mounts) {
    UniqueFd root = BERTH_TRY(open_fd("/", O_PATH | O_DIRECTORY));
    for (size_t i = 0; i < mounts.size(); ++i) {
        const auto& m = mounts[i];
        if (m.type != "proc" && m.type != "sysfs") continue;
        const long want = m.type == "proc" ? PROC_SUPER_MAGIC : SYSFS_MAGIC;
        auto fd = open_in_root(root, m.destination, O_PATH | O_NOFOLLOW);
        struct statfs s;
        if (!fd || ::fstatfs(fd->get(), &s) < 0 || s.f_type != want)
            return Error(EPERM) << "mounts[" << i << "]: `" << m.destination << "` is no longer "
                                << m.type << ": a later mount covers it";
    }
    return {};
}

Result<void> mask_paths(const std::vector<std::string>& paths) {
    if (paths.empty()) return {};
    UniqueFd root = BERTH_TRY(open_fd("/", O_PATH | O_DIRECTORY));
    std::optional<UniqueFd> null_dev;
    for (size_t i = 0; i < paths.size(); ++i) {
        const std::string& p = paths[i];
        auto body = [&]() -> Result<void> {
            // The path itself, not what a symlink there points to: a symlink in the image must
            // not move the mask onto something else.
            auto target = open_in_root(root, p, O_PATH | O_NOFOLLOW);
            if (!target && target.error().errno_value() == ENOENT) return {};
            if (!target) return std::move(target).error();
#ifndef BERTH_WEAKEN_PROC_OVER
            BERTH_TRY(check_kernel_fs(*target, p));
#endif
            struct stat st;
            if (::fstat(target->get(), &st) < 0) return ErrnoError() << "stat `" << p << "`";
            if (S_ISDIR(st.st_mode)) return attach(BERTH_TRY(empty_readonly_tmpfs()), *target);
            if (!null_dev) null_dev = BERTH_TRY(open_null_device());
            UniqueFd tree(::open_tree(null_dev->get(), "",
                                      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
            if (!tree) return ErrnoError() << "clone /dev/null";
            return attach(tree, *target);
        };
        auto r = body();
        if (!r)
            return std::move(r).error().wrap("linux.maskedPaths[" + std::to_string(i) + "] (`" + p +
                                             "`)");
    }
    return {};
}

Result<void> readonly_paths(const std::vector<std::string>& paths) {
    if (paths.empty()) return {};
    UniqueFd root = BERTH_TRY(open_fd("/", O_PATH | O_DIRECTORY));
    for (size_t i = 0; i < paths.size(); ++i) {
        const std::string& p = paths[i];
#ifndef BERTH_WEAKEN_PROC_OVER
        if (auto fd = open_in_root(root, p, O_PATH | O_NOFOLLOW)) {
            auto r = check_kernel_fs(*fd, p);
            if (!r)
                return std::move(r).error().wrap("linux.readonlyPaths[" + std::to_string(i) + "]");
        }
#endif
        if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
            if (errno == ENOENT) continue;
            return ErrnoError() << "linux.readonlyPaths[" << i << "]: bind `" << p << "`";
        }
        auto r = remount_bind(p, MS_RDONLY);
        if (!r) return std::move(r).error().wrap("linux.readonlyPaths[" + std::to_string(i) + "]");
    }
    return {};
}

Result<void> remount_root_readonly() {
    auto r = remount_bind("/", MS_RDONLY);
    if (!r) return std::move(r).error().wrap("root.readonly");
    return {};
}

}  // namespace berth::runtime
