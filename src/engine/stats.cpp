#include "engine/stats.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "base/file.h"
#include "base/strings.h"
#include "cgroup/cgfile.h"
#include "cgroup/hierarchy.h"
#include "cgroup/kube.h"
#include "cgroup/manager.h"
#include "cgroup/stats_parse.h"

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;

uint64_t monotonic_ns() {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

unsigned host_cpus() {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? unsigned(n) : 1;
}

uint64_t host_memory() {
    auto text = read_file("/proc/meminfo");
    if (!text.ok()) return 0;
    for (const auto& line : split(*text, '\n')) {
        if (!line.starts_with("MemTotal:")) continue;
        std::string_view v = trim(std::string_view(line).substr(9));
        if (v.ends_with("kB")) v = trim(v.substr(0, v.size() - 2));
        return parse_number<uint64_t>(v).value_or(0) * 1024;
    }
    return 0;
}

std::optional<int64_t> read_i64(const std::string& dir, std::string_view file) {
    auto text = cgroup::cg_read_opt(dir, file);
    if (!text) return std::nullopt;
    return parse_number<int64_t>(*text);
}

// automaxprocs over the v1 cpu and cpuset controllers, or the cgroup2 directory.
unsigned effective_cpus(const CgroupDirs& dirs) {
    if (dirs.unified_only) {
        auto n = cgroup::kube::effective_cpus_of_cgroup(dirs.unified);
        return n.ok() ? *n : host_cpus();
    }
    std::optional<int64_t> quota;
    uint64_t period = cgroup::kube::kQuotaPeriodUs;
    if (auto cpu = dirs.v1.find("cpu"); cpu != dirs.v1.end()) {
        quota = read_i64(cpu->second, "cpu.cfs_quota_us");
        if (auto p = read_i64(cpu->second, "cpu.cfs_period_us"); p && *p > 0) period = *p;
    }
    unsigned cpuset = 0;
    if (auto cs = dirs.v1.find("cpuset"); cs != dirs.v1.end()) {
        auto list = cgroup::cg_read_opt(cs->second, "cpuset.effective_cpus");
        if (!list || list->empty()) list = cgroup::cg_read_opt(cs->second, "cpuset.cpus");
        if (list)
            cpuset =
                cgroup::kube::count_cpu_list(*list).ok() ? *cgroup::kube::count_cpu_list(*list) : 0;
    }
    return cgroup::kube::effective_cpus(quota, period, cpuset, host_cpus());
}

std::string percent(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f%%", v);
    return buf;
}

}  // namespace

std::string CgroupDirs::dir(const std::string& controller) const {
    if (auto it = v1.find(controller); it != v1.end()) return it->second;
    return unified_only ? unified : "";
}

Result<CgroupDirs> find_cgroup_dirs(const std::string& cgroups_path) {
    std::string mountinfo = BERTH_TRY(read_file("/proc/self/mountinfo"));
    std::string self_text = BERTH_TRY(read_file("/proc/self/cgroup"));
    auto self = cgroup::parse_proc_cgroup(self_text);
    cgroup::CgroupPath path = BERTH_TRY(cgroup::normalize_cgroups_path(cgroups_path, "unknown"));
    CgroupDirs out;
    bool any_v1 = false;
    for (const auto& h : cgroup::parse_mountinfo(mountinfo, "/sys/fs/cgroup")) {
        std::string dir = cgroup::resolve_dir(h, path, self);
        if (h.cgroup2) {
            out.unified = dir;
            continue;
        }
        for (const auto& c : h.controllers) {
            if (c.starts_with("name=")) continue;
            out.v1[c] = dir;
            any_v1 = true;
        }
    }
    out.unified_only = !any_v1 && !out.unified.empty();
    return out;
}

std::string cgroups_path_of(const std::string& spec_text) {
    auto spec = nlohmann::json::parse(spec_text, nullptr, false);
    if (!spec.is_object() || !spec.contains("linux") || !spec["linux"].is_object()) return "";
    return spec["linux"].value("cgroupsPath", "");
}

void parse_net_dev(const std::string& text, uint64_t& rx, uint64_t& tx) {
    rx = tx = 0;
    for (const auto& line : split(text, '\n')) {
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;  // the two header lines
        std::string_view name = trim(std::string_view(line).substr(0, colon));
        if (name == "lo") continue;
        std::vector<std::string> fields;
        for (const auto& f : split(trim(std::string_view(line).substr(colon + 1)), ' ')) {
            if (!f.empty()) fields.push_back(f);
        }
        // rx: bytes packets errs drop fifo frame compressed multicast; then tx: bytes ...
        if (fields.size() < 9) continue;
        rx += parse_number<uint64_t>(fields[0]).value_or(0);
        tx += parse_number<uint64_t>(fields[8]).value_or(0);
    }
}

StatsSample sample_stats(const std::string& cgroups_path, pid_t init_pid) {
    StatsSample s;
    s.when_ns = monotonic_ns();
    s.host_memory = host_memory();
    s.effective_cpus = host_cpus();
    if (cgroups_path.empty()) return s;
    cgroup::Options o;
    o.cgroups_path = cgroups_path;
    o.id = "stats";
    o.rootless = false;
    auto mgr = cgroup::open(o);
    if (!mgr.ok()) return s;
    auto st = (*mgr)->stats();
    if (!st.ok()) return s;
    s.live = true;
    s.cg = std::move(*st);
    if (auto dirs = find_cgroup_dirs(cgroups_path); dirs.ok()) {
        s.effective_cpus = effective_cpus(*dirs);
        if (std::string d = dirs->dir("pids"); !d.empty()) {
            if (auto ev = cgroup::cg_read_opt(d, "pids.events")) {
                s.pids_max_events = cgroup::parse_flat_keyed(*ev)["max"];
            }
        }
    }
    if (init_pid > 0) {
        // /proc/<pid>/net shows the network namespace of that process.
        if (auto dev = read_file("/proc/" + std::to_string(init_pid) + "/net/dev"); dev.ok()) {
            parse_net_dev(*dev, s.net_rx, s.net_tx);
        }
    }
    return s;
}

std::string binary_size(double bytes) {
    static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    size_t i = 0;
    while (bytes >= 1024 && i + 1 < std::size(kUnits)) {
        bytes /= 1024;
        ++i;
    }
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%.4g%s", bytes, kUnits[i]);
    return buf;
}

std::string decimal_size(double bytes) {
    static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    size_t i = 0;
    while (bytes >= 1000 && i + 1 < std::size(kUnits)) {
        bytes /= 1000;
        ++i;
    }
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%.3g%s", bytes, kUnits[i]);
    return buf;
}

OJson stats_json(const std::string& id, const std::string& name, const StatsSample* prev,
                 const StatsSample& cur) {
    const auto& cpu = cur.cg.cpu;
    const auto& mem = cur.cg.memory;
    double cpu_pct = 0;
    if (prev && prev->live && cur.live && cur.when_ns > prev->when_ns &&
        cpu.usage_total_ns >= prev->cg.cpu.usage_total_ns) {
        cpu_pct = double(cpu.usage_total_ns - prev->cg.cpu.usage_total_ns) /
                  double(cur.when_ns - prev->when_ns) * 100.0;
    }
    // No limit (or one above the machine): the machine's memory, as docker shows it.
    uint64_t limit = mem.limit;
    if (limit == 0 || (cur.host_memory && limit > cur.host_memory)) limit = cur.host_memory;
    double mem_pct = limit ? double(mem.working_set) / double(limit) * 100.0 : 0;
    uint64_t read = 0, write = 0;
    for (const auto& e : cur.cg.blkio.io_service_bytes) {
        if (e.op == "Read") read += e.value;
        if (e.op == "Write") write += e.value;
    }
    return OJson{
        {"ID", id.substr(0, 12)},
        {"Container", id},
        {"Name", name},
        {"CPUPerc", percent(cpu_pct)},
        {"MemUsage", binary_size(double(mem.working_set)) + " / " + binary_size(double(limit))},
        {"MemPerc", percent(mem_pct)},
        {"NetIO", decimal_size(double(cur.net_rx)) + " / " + decimal_size(double(cur.net_tx))},
        {"BlockIO", decimal_size(double(read)) + " / " + decimal_size(double(write))},
        {"PIDs", std::to_string(cur.cg.pids.current)},
        {"Running", cur.live},
        {"CPU", cpu_pct},
        {"CPUUsageNs", cpu.usage_total_ns},
        {"CPUPeriods", cpu.periods},
        {"CPUThrottledPeriods", cpu.throttled_periods},
        {"CPUThrottledTimeNs", cpu.throttled_time_ns},
        {"EffectiveCPUs", cur.effective_cpus},
        {"MemoryUsage", mem.usage},
        {"MemoryLimit", limit},
        {"MemoryWorkingSet", mem.working_set},
        {"MemoryRSS", mem.rss},
        {"MemoryCache", mem.cache},
        {"MemoryMaxUsage", mem.max_usage},
        {"OOMKills", mem.oom_kill},
        {"PidsCurrent", cur.cg.pids.current},
        {"PidsLimit", cur.cg.pids.limit},
        {"PidsMaxEvents", cur.pids_max_events},
        {"BlockRead", read},
        {"BlockWrite", write},
        {"NetRx", cur.net_rx},
        {"NetTx", cur.net_tx},
    };
}

nlohmann::json read_cgroup_limits(const std::string& cgroups_path) {
    nlohmann::json out = nlohmann::json::object();
    if (cgroups_path.empty()) return out;
    auto dirs = find_cgroup_dirs(cgroups_path);
    if (!dirs.ok()) return out;
    static const std::pair<const char*, const char*> kV1[] = {
        {"memory", "memory.limit_in_bytes"},
        {"memory", "memory.memsw.limit_in_bytes"},
        {"memory", "memory.soft_limit_in_bytes"},
        {"cpu", "cpu.shares"},
        {"cpu", "cpu.cfs_period_us"},
        {"cpu", "cpu.cfs_quota_us"},
        {"cpuset", "cpuset.cpus"},
        {"cpuset", "cpuset.mems"},
        {"pids", "pids.max"},
        {"blkio", "blkio.weight"},
        {"blkio", "blkio.bfq.weight"},
        {"blkio", "blkio.throttle.read_bps_device"},
        {"blkio", "blkio.throttle.write_bps_device"},
        {"blkio", "blkio.throttle.read_iops_device"},
        {"blkio", "blkio.throttle.write_iops_device"},
    };
    static const char* const kV2[] = {"memory.max", "memory.swap.max", "memory.low",  "cpu.weight",
                                      "cpu.max",    "cpuset.cpus",     "cpuset.mems", "pids.max",
                                      "io.weight",  "io.bfq.weight",   "io.max"};
    if (dirs->unified_only) {
        if (!is_directory(dirs->unified)) return out;
        for (const char* f : kV2) {
            if (auto v = cgroup::cg_read_opt(dirs->unified, f)) out[f] = *v;
        }
        return out;
    }
    for (const auto& [controller, file] : kV1) {
        std::string d = dirs->dir(controller);
        if (d.empty()) continue;
        if (auto v = cgroup::cg_read_opt(d, file)) out[file] = *v;
    }
    if (std::string d = dirs->dir("memory"); !d.empty()) {
        if (auto oc = cgroup::cg_read_opt(d, "memory.oom_control")) {
            out["memory.oom_control.oom_kill_disable"] =
                cgroup::parse_flat_keyed(*oc)["oom_kill_disable"];
        }
    }
    return out;
}

}  // namespace berth::engine
