#include "runtime/cgroup_mounts.h"

#include "base/file.h"
#include "base/strings.h"

namespace berth::runtime {

Result<std::vector<CgroupHierarchy>> cgroup_hierarchies(const std::vector<std::string>& dirs,
                                                        std::string info) {
    if (info.empty()) info = BERTH_TRY(read_file("/proc/self/mountinfo"));
    std::vector<CgroupHierarchy> out;
    for (auto& line : split(info, '\n')) {
        auto sep = line.find(" - ");
        if (sep == std::string::npos) continue;
        auto left = split(line.substr(0, sep), ' ');
        auto right = split(line.substr(sep + 3), ' ');
        if (left.size() < 5 || right.size() < 3) continue;
        const std::string& fstype = right[0];
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        const std::string& mnt = left[4];
        for (auto& d : dirs) {
            if (d.compare(0, mnt.size(), mnt) != 0 ||
                (d.size() > mnt.size() && d[mnt.size()] != '/'))
                continue;
            CgroupHierarchy h;
            h.fstype = fstype;
            h.host_dir = d;
            auto slash = mnt.rfind('/');
            h.name = mnt.substr(slash + 1);
            if (fstype == "cgroup") {
                // Keep only controller and name= options from the super options.
                std::string opts;
                for (auto& o : split(right[2], ',')) {
                    if (o == "rw" || o == "ro" || o == "relatime" || o == "nosuid" ||
                        o == "nodev" || o == "noexec" || starts_with(o, "release_agent") ||
                        o == "clone_children" || o == "xattr" || o == "noprefix" ||
                        o == "cpuset_v2_mode")
                        continue;
                    if (!opts.empty()) opts += ',';
                    opts += o;
                }
                h.options = opts;
            }
            h.at_root = fstype == "cgroup2" && (mnt == "/sys/fs/cgroup");
            out.push_back(std::move(h));
            break;
        }
    }
    return out;
}

}  // namespace berth::runtime
