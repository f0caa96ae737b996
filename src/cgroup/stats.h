// What kubelet and cAdvisor read from a container's cgroup.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace berth::cgroup {

struct CpuStats {
    uint64_t usage_total_ns = 0, usage_user_ns = 0, usage_kernel_ns = 0;
    std::vector<uint64_t> usage_per_cpu_ns;
    uint64_t periods = 0, throttled_periods = 0, throttled_time_ns = 0;
};

struct MemoryStats {
    uint64_t usage = 0, max_usage = 0, limit = 0, failcnt = 0;  // limit: UINT64_MAX for "max"
    uint64_t swap_usage = 0, swap_limit = 0;  // memory+swap, as runc reports them on v1 and v2
    uint64_t rss = 0, cache = 0, inactive_file = 0, active_file = 0;
    uint64_t working_set = 0;  // usage - inactive_file, floored at 0
    uint64_t oom_kill = 0;
    std::map<std::string, uint64_t> raw;  // memory.stat as read
};

struct PidsStats {
    uint64_t current = 0;
    uint64_t limit = 0;  // 0: unlimited
};

struct BlkioEntry {
    uint64_t major = 0, minor = 0;
    std::string op;  // Read Write Sync Async Discard Total
    uint64_t value = 0;
};

struct BlkioStats {
    std::vector<BlkioEntry> io_service_bytes, io_serviced;
};

struct HugetlbStats {
    uint64_t usage = 0, max_usage = 0, failcnt = 0;
};

struct Stats {
    CpuStats cpu;
    MemoryStats memory;
    PidsStats pids;
    BlkioStats blkio;
    std::map<std::string, HugetlbStats> hugetlb;  // by page size, "2MB"
};

}  // namespace berth::cgroup
