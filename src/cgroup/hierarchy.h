// Where the hierarchies are mounted and where a container's cgroup lives in each: the parsing
// of /proc/self/mountinfo and /proc/self/cgroup, and cgroupsPath resolution as runc's cgroupfs
// driver does it. Pure functions over text, so tests feed them fake files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::cgroup {

// One mounted hierarchy: a v1 controller set (or name=...) or a cgroup2 mount.
struct Hierarchy {
    std::vector<std::string> controllers;  // {"cpu","cpuacct"}, {"name=systemd"}; empty: cgroup2
    std::string mountpoint;                // absolute
    std::string root = "/";                // the cgroup mounted there (mountinfo's 4th field)
    bool cgroup2 = false;

    bool has(std::string_view controller) const;
};

// The cgroup and cgroup2 mounts at or below mount_root, one per hierarchy (a hierarchy
// mounted twice keeps its first mount).
std::vector<Hierarchy> parse_mountinfo(std::string_view text, const std::string& mount_root);

// One line of /proc/<pid>/cgroup.
struct ProcCgroupEntry {
    std::vector<std::string> controllers;  // empty for the cgroup2 line "0::/path"
    std::string path;
};
std::vector<ProcCgroupEntry> parse_proc_cgroup(std::string_view text);

// linux.cgroupsPath made safe to join: `absolute` tells whether it is rooted at each
// hierarchy's root or below the caller's own cgroup. ".." never climbs out of either.
struct CgroupPath {
    std::string path;  // cleaned, starts with '/'
    bool absolute = true;
    bool is_default = false;  // "/berth/<id>", chosen because cgroupsPath was empty
};
Result<CgroupPath> normalize_cgroups_path(const std::string& cgroups_path, const std::string& id);

// The container's directory in hierarchy h. `self` is the caller's /proc/self/cgroup, used
// for relative paths.
std::string resolve_dir(const Hierarchy& h, const CgroupPath& p,
                        const std::vector<ProcCgroupEntry>& self);

}  // namespace berth::cgroup
