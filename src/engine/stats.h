// `berth stats` and inspect's cgroup read-back: a container's cgroup figures read straight from
// its cgroup files (src/cgroup's readers), its network counters from its init's
// /proc/<pid>/net/dev (which shows that process's network namespace: no setns needed), and the
// CPU count a program inside should size itself to (the automaxprocs rule).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "cgroup/stats.h"

namespace berth::engine {

// Where a container's cgroup lives in each mounted hierarchy.
struct CgroupDirs {
    std::map<std::string, std::string> v1;  // controller ("memory", "cpu"...) -> directory
    std::string unified;                    // the cgroup2 directory (also on hybrid hosts)
    bool unified_only = false;              // the host has only cgroup2
    // The directory holding a controller's files, or "" when none does.
    std::string dir(const std::string& controller) const;
};
Result<CgroupDirs> find_cgroup_dirs(const std::string& cgroups_path);

// linux.cgroupsPath of a stored config.json ("" when it has none).
std::string cgroups_path_of(const std::string& spec_text);

struct StatsSample {
    uint64_t when_ns = 0;  // CLOCK_MONOTONIC
    bool live = false;     // the cgroup was there to read
    cgroup::Stats cg;
    uint64_t net_rx = 0, net_tx = 0;  // every interface but lo
    unsigned effective_cpus = 0;
    uint64_t host_memory = 0;      // MemTotal: the limit shown when there is none
    uint64_t pids_max_events = 0;  // forks refused by pids.max (pids.events "max")
};

// One reading. A container that is not running (no cgroup) gives a sample with live false.
StatsSample sample_stats(const std::string& cgroups_path, pid_t init_pid);

// docker stats' fields (CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs as text) and the
// numbers behind them. CPU % is the usage delta over the wall time between prev and cur
// (0 without prev), 100% per busy CPU.
nlohmann::ordered_json stats_json(const std::string& id, const std::string& name,
                                  const StatsSample* prev, const StatsSample& cur);

// The limits as the cgroup files hold them now, keyed by file name ("memory.limit_in_bytes",
// "cpu.cfs_quota_us", "cpu.max"...); empty when the cgroup is gone.
nlohmann::json read_cgroup_limits(const std::string& cgroups_path);

// Sums "face |bytes packets ..." lines of /proc/net/dev text, lo left out.
void parse_net_dev(const std::string& text, uint64_t& rx, uint64_t& tx);

// go-units: BytesSize "1.5MiB" (binary) and HumanSize "1.5MB" (decimal, 3 significant digits).
std::string binary_size(double bytes);
std::string decimal_size(double bytes);

}  // namespace berth::engine
