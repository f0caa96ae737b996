// Best-effort OOM detection: the container's cgroup comes from /proc/<init>/cgroup while the
// init lives (so it works whatever cgroupsPath the bundle gave, and with any runtime); its
// oom_kill counter is read when the task starts and again when it has exited, before delete.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::monitor {

struct CgroupRef {
    std::string path;  // as /proc/<pid>/cgroup shows it, e.g. "/berth/c1"
    bool v2 = true;    // unified hierarchy; else the v1 memory controller's path
};

// Parses the content of /proc/<pid>/cgroup: the v1 memory controller's line when there is one
// (v1 or hybrid), else the "0::" line (unified).
std::optional<CgroupRef> parse_proc_cgroup(std::string_view content);
std::optional<CgroupRef> cgroup_of(pid_t pid);

// The oom_kill count from memory.events (v2) or memory.oom_control (v1) text.
std::optional<uint64_t> parse_oom_kill(std::string_view content);
// Reads it under cgroupfs_root (normally /sys/fs/cgroup).
std::optional<uint64_t> read_oom_kill(const CgroupRef& cgroup,
                                      const std::string& cgroupfs_root = "/sys/fs/cgroup");

}  // namespace berth::monitor
