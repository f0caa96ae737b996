#include "runtime/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "runtime/mounts.h"

namespace berth::runtime {

Result<void> prepare_root(const std::string& rootfs, unsigned long propagation) {
    // Shared propagation is applied after pivot_root; before it, slave keeps host mounts from
    // leaking in while ours do not leak out.
    unsigned long p = propagation;
    // An unbindable "/" could not be bind-mounted below; both come after pivot_root.
    if (!p || (p & (MS_SHARED | MS_UNBINDABLE))) p = MS_SLAVE | MS_REC;
    if (::mount(nullptr, "/", nullptr, p, nullptr) < 0) return ErrnoError() << "make / " << "private";
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

Result<void> mask_paths(const std::vector<std::string>& paths) {
    for (size_t i = 0; i < paths.size(); ++i) {
        const std::string& p = paths[i];
        struct stat st;
        if (::stat(p.c_str(), &st) < 0) {
            if (errno == ENOENT) continue;
            return ErrnoError() << "linux.maskedPaths[" << i << "]: stat `" << p << "`";
        }
        int r = S_ISDIR(st.st_mode)
                    ? ::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, "size=0k")
                    : ::mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr);
        if (r < 0) return ErrnoError() << "linux.maskedPaths[" << i << "]: mask `" << p << "`";
    }
    return {};
}

Result<void> readonly_paths(const std::vector<std::string>& paths) {
    for (size_t i = 0; i < paths.size(); ++i) {
        const std::string& p = paths[i];
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
