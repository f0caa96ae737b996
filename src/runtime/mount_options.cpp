#include "runtime/mount_options.h"

#include <sys/mount.h>

#include <cstring>

namespace berth::runtime {
namespace {

struct FlagOpt {
    const char* name;
    bool clear;
    unsigned long flag;
};

constexpr FlagOpt kFlags[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
};

struct PropOpt {
    const char* name;
    unsigned long flag;
};

constexpr PropOpt kPropagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOpt {
    const char* name;
    bool clear;
    uint64_t attr;
};

constexpr AttrOpt kRecursive[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rnorelatime", true, MOUNT_ATTR_RELATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"ratime", true, MOUNT_ATTR_NOATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

}  // namespace

unsigned long propagation_flag(const std::string& name) {
    for (auto& p : kPropagation)
        if (name == p.name) return p.flag;
    return 0;
}

Result<MountOptions> parse_mount_options(const std::vector<std::string>& opts,
                                         const std::string& field) {
    MountOptions m;
    for (size_t i = 0; i < opts.size(); ++i) {
        const std::string& o = opts[i];
        if (o == "bind") {
            m.bind = true;
            continue;
        }
        if (o == "rbind") {
            m.bind = m.rbind = true;
            continue;
        }
        if (o == "idmap" || o == "ridmap") {
            return Error(ENOTSUP) << field << "[" << i << "]: \"" << o
                                  << "\": idmapped mounts are not supported";
        }
        if (o == "tmpcopyup" || o == "copy-symlink" || o == "notmpcopyup") continue;
        bool matched = false;
        for (auto& f : kFlags) {
            if (o == f.name) {
                if (f.clear) {
                    m.flags &= ~f.flag;
                    m.clear |= f.flag;
                } else {
                    m.flags |= f.flag;
                    m.clear &= ~f.flag;
                }
                matched = true;
                break;
            }
        }
        if (matched) continue;
        if (auto p = propagation_flag(o)) {
            m.propagation = p;
            continue;
        }
        for (auto& a : kRecursive) {
            if (o != a.name) continue;
            if (std::string_view(a.name).ends_with("atime")) {
                // Access-time modes are one field, and MOUNT_ATTR_RELATIME is 0: every such
                // option replaces the field; the "clear" ones fall back to relatime.
                m.attr_clr |= MOUNT_ATTR__ATIME;
                m.attr_set &= ~static_cast<uint64_t>(MOUNT_ATTR__ATIME);
                if (!a.clear) m.attr_set |= a.attr;
            } else if (a.clear) {
                m.attr_clr |= a.attr;
            } else {
                m.attr_set |= a.attr;
            }
            matched = true;
            break;
        }
        if (matched) continue;
        if (o.empty()) return Error(EINVAL) << field << "[" << i << "]: empty option";
        if (!m.data.empty()) m.data.push_back(',');
        m.data += o;
    }
    return m;
}

std::vector<std::string> known_mount_options() {
    std::vector<std::string> v = {"bind", "rbind"};
    for (auto& f : kFlags) v.push_back(f.name);
    for (auto& p : kPropagation) v.push_back(p.name);
    for (auto& a : kRecursive) v.push_back(a.name);
    return v;
}

}  // namespace berth::runtime
