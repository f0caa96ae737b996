#include "runtime/mounts.h"

#include <sys/mount.h>
#include <sys/stat.h>
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

Result<void> apply_propagation(const std::string& dst, const MountOptions& o) {
    if (!o.propagation) return {};
    return sys_mount("", dst, nullptr, o.propagation, "");
}

Result<void> apply_recursive_attrs(const std::string& dst, const MountOptions& o) {
    if (!o.attr_set && !o.attr_clr) return {};
    struct mount_attr attr{};
    attr.attr_set = o.attr_set;
    attr.attr_clr = o.attr_clr;
    // Access-time modes are one field: changing any of them clears the others.
    const uint64_t atime = MOUNT_ATTR_NOATIME | MOUNT_ATTR_STRICTATIME | MOUNT_ATTR_RELATIME;
    if ((o.attr_set | o.attr_clr) & atime) attr.attr_clr |= MOUNT_ATTR__ATIME;
    if (sys::mount_setattr(-1, dst.c_str(), AT_RECURSIVE, &attr, sizeof(attr)) < 0)
        return ErrnoError() << "mount_setattr `" << dst << "`";
    return {};
}

Result<void> mount_cgroup(const MountContext& ctx, const std::string& dst, const MountOptions& o) {
    const unsigned long sub_flags = (o.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) |
                                    MS_NOSUID | MS_NODEV | MS_NOEXEC;
    // Unified layout: the container's cgroup2 directory is the whole mount.
    if (ctx.cgroups.size() == 1 && ctx.cgroups[0].at_root) {
        const auto& h = ctx.cgroups[0];
        if (ctx.cgroupns) return sys_mount("cgroup2", dst, "cgroup2", sub_flags, "");
        BERTH_TRY(sys_mount(h.host_dir, dst, nullptr, MS_BIND | MS_REC, ""));
        return remount_bind(dst, sub_flags);
    }
    // v1 and hybrid: a tmpfs holding one directory per hierarchy.
    BERTH_TRY(sys_mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755"));
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
        BERTH_TRY(sys_mount("", dst, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                            "mode=755"));
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
        if (bind) {
            std::string src = m.source;
            if (src.empty()) return Error(EINVAL) << "source: a bind mount needs a source";
            if (src[0] != '/') src = path_join(ctx.bundle, src);
            struct stat st;
            if (::stat(src.c_str(), &st) < 0) return ErrnoError() << "source `" << src << "`";
            std::string dst = BERTH_TRY(make_mount_point(ctx.rootfs, m.destination, !S_ISDIR(st.st_mode)));
            BERTH_TRY(sys_mount(src, dst, nullptr, MS_BIND | (o.rbind ? MS_REC : 0), ""));
            unsigned long f = o.flags & ~(MS_REMOUNT);
            if (f & ~(MS_REC)) BERTH_TRY(remount_bind(dst, f));
            BERTH_TRY(apply_propagation(dst, o));
            return apply_recursive_attrs(dst, o);
        }
        std::string dst = BERTH_TRY(make_mount_point(ctx.rootfs, m.destination, false));
        if (m.type == "cgroup") {
            BERTH_TRY(mount_cgroup(ctx, dst, o));
            return apply_propagation(dst, o);
        }
        std::string type = m.type.empty() ? "none" : m.type;
        auto r = sys_mount(m.source.empty() ? type : m.source, dst, type.c_str(), o.flags, o.data);
        if (!r && type == "sysfs" && r.error().errno_value() == EPERM) {
            // sysfs of the host network namespace cannot be mounted from a new user
            // namespace; bind the host's, as runc does.
            BERTH_TRY(sys_mount("/sys", dst, nullptr, MS_BIND | MS_REC, ""));
            BERTH_TRY(remount_bind(dst, o.flags | MS_RDONLY));
        } else if (!r && type == "mqueue" && r.error().errno_value() == EPERM) {
            BERTH_TRY(sys_mount("/dev/mqueue", dst, nullptr, MS_BIND | MS_REC, ""));
            BERTH_TRY(remount_bind(dst, o.flags));
        } else if (!r) {
            return r;
        }
        BERTH_TRY(apply_propagation(dst, o));
        return apply_recursive_attrs(dst, o);
    };
    auto r = body();
    if (!r) return std::move(r).error().wrap(field + " (`" + m.destination + "`)");
    return {};
}

}  // namespace berth::runtime
