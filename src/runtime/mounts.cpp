#include "runtime/mounts.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/syscalls.h"
#include "runtime/mount_options.h"
#include "runtime/secure_path.h"

namespace berth::runtime {
namespace {

Result<void> sys_mount(const std::string& src, const std::string& dst, const char* type,
                       unsigned long flags, const std::string& data) {
    if (::mount(src.empty() ? nullptr : src.c_str(), dst.c_str(), type, flags,
                data.empty() ? nullptr : data.c_str()) < 0)
        return ErrnoError() << "mount `" << src << "` on `" << dst << "`" << (type ? " type " : "")
                            << (type ? type : "");
    return {};
}

unsigned long locked_flags(const std::string& path) {
    struct statvfs s;
    if (::statvfs(path.c_str(), &s) < 0) return 0;
    unsigned long f = 0;
    if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (s.f_flag & ST_NODEV) f |= MS_NODEV;
    if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (s.f_flag & ST_RDONLY) f |= MS_RDONLY;
    if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

// Where a mount goes: an O_PATH fd opened inside the rootfs, named /proc/self/fd/N for
// mount(2), so no symlink the image swaps in afterwards can move it (CVE-2021-30465).
struct Target {
    BorrowedFd root;
    std::string dest;
    bool as_file;
    UniqueFd fd;

    static Result<Target> open(BorrowedFd root, const std::string& dest, bool as_file) {
        UniqueFd fd = BERTH_TRY(open_mount_point(root, dest, as_file));
        return Target{root, dest, as_file, std::move(fd)};
    }
    std::string path() const { return fd_path(fd); }
    // The fd names the directory the mount now covers; reopen to reach the new mount itself.
    Result<void> reopen() {
        fd = BERTH_TRY(open_mount_point(root, dest, as_file));
        return {};
    }
};

// proc and sysfs go only onto an ordinary directory of the image, and what is there after
// mounting must be that filesystem: the masked and read-only paths below them must land on
// the kernel's files, not on a decoy (CVE-2019-16884, CVE-2019-19921).
[[maybe_unused]] Result<void> check_plain_dir(BorrowedFd root, const std::string& dest,
                                              const std::string& type) {
    std::string parent_path = path_dirname(dest);
    std::string name = dest.substr(dest.find_last_of('/') + 1);
    if (name.empty() || name == "." || name == "..")
        return Error(EINVAL) << type << " must be mounted on an ordinary directory";
    auto parent = open_in_root(root, parent_path, O_PATH | O_DIRECTORY);
    if (!parent && parent.error().errno_value() == ENOENT) return {};
    if (!parent) return std::move(parent).error();
    struct stat st;
    if (::fstatat(parent->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? Result<void>{} : ErrnoError() << "stat `" << dest << "`";
    if (!S_ISDIR(st.st_mode))
        return Error(EINVAL) << type << " must be mounted on an ordinary directory, and `" << dest
                             << "` is not one";
    return {};
}

[[maybe_unused]] Result<void> check_fs_type(BorrowedFd fd, const std::string& type) {
    const long want = type == "proc" ? PROC_SUPER_MAGIC : SYSFS_MAGIC;
    struct statfs s;
    if (::fstatfs(fd.get(), &s) < 0) return ErrnoError() << "statfs the new " << type << " mount";
    if (s.f_type != want) return Error(EPERM) << "what is mounted there is not " << type;
    return {};
}

Result<void> apply_propagation(const std::string& dst, const MountOptions& o) {
    if (!o.propagation) return {};
    return sys_mount("", dst, nullptr, o.propagation, "");
}

Result<void> apply_recursive_attrs(const std::string& dst, const MountOptions& o) {
    if (!o.attr_set && !o.attr_clr) return {};
    struct mount_attr attr {};
    attr.attr_set = o.attr_set;
    attr.attr_clr = o.attr_clr;
    if (sys::mount_setattr(-1, dst.c_str(), AT_RECURSIVE, &attr, sizeof(attr)) < 0)
        return ErrnoError() << "mount_setattr `" << dst << "`";
    return {};
}

Result<void> mount_cgroup(const MountContext& ctx, Target& t, const MountOptions& o) {
    const unsigned long sub_flags = (o.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) |
                                    MS_NOSUID | MS_NODEV | MS_NOEXEC;
    // Unified layout: the container's cgroup2 directory is the whole mount.
    if (ctx.cgroups.size() == 1 && ctx.cgroups[0].at_root) {
        const auto& h = ctx.cgroups[0];
        if (ctx.cgroupns) return sys_mount("cgroup2", t.path(), "cgroup2", sub_flags, "");
        BERTH_TRY(sys_mount(h.host_dir, t.path(), nullptr, MS_BIND | MS_REC, ""));
        BERTH_TRY(t.reopen());
        return remount_bind(t.path(), sub_flags);
    }
    // v1 and hybrid: a tmpfs holding one directory per hierarchy. It is our own fresh mount:
    // paths below it need no resolving in the root.
    BERTH_TRY(sys_mount("tmpfs", t.path(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755"));
    BERTH_TRY(t.reopen());
    const std::string dst = t.path();
    for (const auto& h : ctx.cgroups) {
        std::string sub = path_join(dst, h.name);
        BERTH_TRY(mkdir_p(sub, 0755));
        if (ctx.cgroupns) {
            BERTH_TRY(sys_mount("cgroup", sub, h.fstype.c_str(), sub_flags,
                                h.fstype == "cgroup" ? h.options : ""));
        } else {
            BERTH_TRY(sys_mount(h.host_dir, sub, nullptr, MS_BIND | MS_REC, ""));
            BERTH_TRY(remount_bind(sub, sub_flags));
        }
        // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct", as on the host.
        if (h.name.find(',') != std::string::npos) {
            for (auto& part : split(h.name, ',')) {
                std::string link = path_join(dst, part);
                if (!path_exists(link) && ::symlink(h.name.c_str(), link.c_str()) < 0)
                    return ErrnoError() << "symlink `" << link << "`";
            }
        }
    }
    if (o.flags & MS_RDONLY)
        BERTH_TRY(sys_mount("", dst, nullptr,
                            MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755"));
    return {};
}

}  // namespace

Result<void> remount_bind(const std::string& target, unsigned long flags) {
    unsigned long keep = locked_flags(target) & ~MS_RDONLY;
    if (flags & MS_RDONLY) keep |= MS_RDONLY;
    unsigned long f = MS_BIND | MS_REMOUNT | flags | keep;
    if (::mount(nullptr, target.c_str(), nullptr, f, nullptr) == 0) return {};
    // Flags locked by a user namespace must be kept exactly; retry with the source's flags.
    if (errno == EPERM) {
        f = MS_BIND | MS_REMOUNT | flags | locked_flags(target);
        if (::mount(nullptr, target.c_str(), nullptr, f, nullptr) == 0) return {};
    }
    return ErrnoError() << "remount `" << target << "`";
}

Result<void> do_mount(const MountContext& ctx, const oci::Mount& m, size_t index) {
    std::string field = "mounts[" + std::to_string(index) + "]";
    auto opts = parse_mount_options(m.options, field + ".options");
    if (!opts) return std::move(opts).error();
    const MountOptions& o = *opts;
    bool bind = o.bind || m.type == "bind";

    auto body = [&]() -> Result<void> {
        // Opened after prepare_root's bind of the rootfs onto itself, so lookups see our mounts.
        UniqueFd root = BERTH_TRY(open_fd(ctx.rootfs, O_PATH | O_DIRECTORY));
        if (bind) {
            std::string src = m.source;
            if (src.empty()) return Error(EINVAL) << "source: a bind mount needs a source";
            if (src[0] != '/') src = path_join(ctx.bundle, src);
            struct stat st;
            if (::stat(src.c_str(), &st) < 0) return ErrnoError() << "source `" << src << "`";
            Target t = BERTH_TRY(Target::open(root, m.destination, !S_ISDIR(st.st_mode)));
            BERTH_TRY(sys_mount(src, t.path(), nullptr, MS_BIND | (o.rbind ? MS_REC : 0), ""));
            BERTH_TRY(t.reopen());
            unsigned long f = o.flags & ~(MS_REMOUNT);
            if (f & ~(MS_REC)) BERTH_TRY(remount_bind(t.path(), f));
            BERTH_TRY(apply_propagation(t.path(), o));
            return apply_recursive_attrs(t.path(), o);
        }
        [[maybe_unused]] const bool kernel_fs = m.type == "proc" || m.type == "sysfs";
#ifndef BERTH_WEAKEN_PROC_OVER
        if (kernel_fs) BERTH_TRY(check_plain_dir(root, m.destination, m.type));
#endif
        Target t = BERTH_TRY(Target::open(root, m.destination, false));
        if (m.type == "cgroup") {
            BERTH_TRY(mount_cgroup(ctx, t, o));
            BERTH_TRY(t.reopen());
            return apply_propagation(t.path(), o);
        }
        std::string type = m.type.empty() ? "none" : m.type;
        auto r =
            sys_mount(m.source.empty() ? type : m.source, t.path(), type.c_str(), o.flags, o.data);
        if (!r && type == "sysfs" && r.error().errno_value() == EPERM) {
            // sysfs of the host network namespace cannot be mounted from a new user
            // namespace; bind the host's, as runc does.
            BERTH_TRY(sys_mount("/sys", t.path(), nullptr, MS_BIND | MS_REC, ""));
            BERTH_TRY(t.reopen());
            BERTH_TRY(remount_bind(t.path(), o.flags | MS_RDONLY));
        } else if (!r && type == "mqueue" && r.error().errno_value() == EPERM) {
            BERTH_TRY(sys_mount("/dev/mqueue", t.path(), nullptr, MS_BIND | MS_REC, ""));
            BERTH_TRY(t.reopen());
            BERTH_TRY(remount_bind(t.path(), o.flags));
        } else if (!r) {
            return r;
        }
        BERTH_TRY(t.reopen());
#ifndef BERTH_WEAKEN_PROC_OVER
        if (kernel_fs) BERTH_TRY(check_fs_type(t.fd, m.type));
#endif
        BERTH_TRY(apply_propagation(t.path(), o));
        return apply_recursive_attrs(t.path(), o);
    };
    auto r = body();
    if (!r) return std::move(r).error().wrap(field + " (`" + m.destination + "`)");
    return {};
}

}  // namespace berth::runtime
