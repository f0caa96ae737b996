#include "cgroup/hierarchy.h"

#include <algorithm>
#include <array>

#include "base/file.h"
#include "base/strings.h"

namespace berth::cgroup {
namespace {

// v1 controllers the kernel knows; super options that are not one of these (xattr,
// clone_children, release_agent=...) are mount flags, not controllers.
constexpr std::array<std::string_view, 14> kV1Controllers = {
    "cpu",      "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls",
    "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc"};

bool is_controller_option(std::string_view opt) {
    if (starts_with(opt, "name=")) return true;
    return std::find(kV1Controllers.begin(), kV1Controllers.end(), opt) != kV1Controllers.end();
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            auto v = parse_number<unsigned>(s.substr(i + 1, 3), 8);
            if (v && *v < 256) {
                out.push_back(static_cast<char>(*v));
                i += 3;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

bool under(const std::string& path, const std::string& root) {
    if (root == "/") return true;
    return path == root ||
           (starts_with(path, root) && path.size() > root.size() && path[root.size()] == '/');
}

}  // namespace

bool Hierarchy::has(std::string_view controller) const {
    return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::vector<Hierarchy> parse_mountinfo(std::string_view text, const std::string& mount_root) {
    std::string root = path_clean(mount_root);
    std::vector<Hierarchy> out;
    for (const std::string& line : split(text, '\n')) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
        std::vector<std::string> f;
        for (auto& w : split(line, ' '))
            if (!w.empty()) f.push_back(w);
        auto dash = std::find(f.begin(), f.end(), "-");
        if (f.size() < 6 || dash == f.end() || f.end() - dash < 4) continue;
        const std::string& fstype = *(dash + 1);
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        Hierarchy h;
        h.root = path_clean(unescape_octal(f[3]));
        h.mountpoint = path_clean(unescape_octal(f[4]));
        h.cgroup2 = fstype == "cgroup2";
        if (!under(h.mountpoint, root)) continue;
        if (!h.cgroup2) {
            for (auto& opt : split(*(dash + 3), ','))
                if (is_controller_option(opt)) h.controllers.push_back(opt);
            if (h.controllers.empty()) continue;
        }
        bool seen = std::any_of(out.begin(), out.end(), [&](const Hierarchy& o) {
            return o.cgroup2 == h.cgroup2 &&
                   (h.cgroup2 ? o.mountpoint == h.mountpoint
                              : sorted(o.controllers) == sorted(h.controllers));
        });
        if (!seen) out.push_back(std::move(h));
    }
    return out;
}

std::vector<ProcCgroupEntry> parse_proc_cgroup(std::string_view text) {
    std::vector<ProcCgroupEntry> out;
    for (const std::string& line : split(text, '\n')) {
        // ID:CONTROLLERS:PATH; the path itself may hold ':'.
        size_t a = line.find(':');
        if (a == std::string::npos) continue;
        size_t b = line.find(':', a + 1);
        if (b == std::string::npos) continue;
        ProcCgroupEntry e;
        std::string ctrls = line.substr(a + 1, b - a - 1);
        if (!ctrls.empty()) e.controllers = split(ctrls, ',');
        e.path = line.substr(b + 1);
        if (e.path.empty()) continue;
        out.push_back(std::move(e));
    }
    return out;
}

Result<CgroupPath> normalize_cgroups_path(const std::string& cgroups_path, const std::string& id) {
    CgroupPath p;
    if (cgroups_path.empty()) {
        if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos)
            return Error(EINVAL) << "container id `" << id << "` cannot name a cgroup";
        p.path = "/berth/" + id;
        p.is_default = true;
        return p;
    }
    p.absolute = cgroups_path.front() == '/';
    // Cleaning below a "/" keeps ".." from climbing above the base it is joined to.
    p.path = path_clean("/" + cgroups_path);
    if (p.path == "/") {
        return Error(EINVAL) << "linux.cgroupsPath: `" << cgroups_path << "` is "
                             << (p.absolute ? "the root cgroup" : "the caller's own cgroup");
    }
    return p;
}

std::string resolve_dir(const Hierarchy& h, const CgroupPath& p,
                        const std::vector<ProcCgroupEntry>& self) {
    if (p.absolute) return path_clean(path_join(h.mountpoint, p.path));
    // Relative: below the caller's own cgroup in this hierarchy, as seen through this mount.
    std::string own = "/";
    auto want = sorted(h.controllers);
    for (const auto& e : self) {
        if (h.cgroup2 ? e.controllers.empty() : sorted(e.controllers) == want) {
            own = path_clean(e.path);
            break;
        }
    }
    std::string rel = "/";
    if (h.root == "/") {
        rel = own;
    } else if (under(own, h.root)) {
        rel = own.substr(h.root.size());
    }
    return path_clean(path_join(path_join(h.mountpoint, rel), p.path));
}

}  // namespace berth::cgroup
