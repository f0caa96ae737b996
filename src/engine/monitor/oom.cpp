#include "engine/monitor/oom.h"

#include "base/file.h"
#include "base/strings.h"

namespace berth::monitor {

std::optional<CgroupRef> parse_proc_cgroup(std::string_view content) {
    // On a hybrid host the "0::" line is the controller-less unified tree: the v1 memory
    // controller's line is the one with the counters.
    std::optional<CgroupRef> v1, v2;
    for (const auto& line : split(content, '\n')) {
        // hierarchy-id:controllers:path
        size_t a = line.find(':');
        if (a == std::string::npos) continue;
        size_t b = line.find(':', a + 1);
        if (b == std::string::npos) continue;
        std::string_view id = std::string_view(line).substr(0, a);
        std::string_view controllers = std::string_view(line).substr(a + 1, b - a - 1);
        std::string path = line.substr(b + 1);
        if (id == "0" && controllers.empty()) v2 = CgroupRef{path, true};
        for (const auto& c : split(controllers, ',')) {
            if (c == "memory") v1 = CgroupRef{path, false};
        }
    }
    return v1 ? v1 : v2;
}

std::optional<CgroupRef> cgroup_of(pid_t pid) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
    if (!text.ok()) return std::nullopt;
    return parse_proc_cgroup(*text);
}

std::optional<uint64_t> parse_oom_kill(std::string_view content) {
    for (const auto& line : split(content, '\n')) {
        std::string_view l = trim(line);
        if (!starts_with(l, "oom_kill ")) continue;
        return parse_number<uint64_t>(trim(l.substr(9)));
    }
    return std::nullopt;
}

std::optional<uint64_t> read_oom_kill(const CgroupRef& cgroup, const std::string& cgroupfs_root) {
    std::string dir = cgroup.v2 ? path_join(cgroupfs_root, cgroup.path)
                                : path_join(path_join(cgroupfs_root, "memory"), cgroup.path);
    auto text = read_file(path_join(dir, cgroup.v2 ? "memory.events" : "memory.oom_control"));
    if (!text.ok()) return std::nullopt;
    return parse_oom_kill(*text);
}

}  // namespace berth::monitor
