// linux.resources on cgroup v1: which file each field goes to, and the write orders the kernel's
// invariants (limit <= memsw limit, quota against period and the parent's quota) call for.
#include <string>

#include "base/log.h"
#include "base/strings.h"
#include "cgroup/v1.h"
#include "cgroup/v2_files.h"

namespace berth::cgroup {
namespace {

Error not_mounted(std::string_view field, std::string_view controller) {
    return Error(ENOTSUP) << field << ": the " << controller
                          << " controller is not mounted on this host";
}

std::string devnum(int64_t major, int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

// "c 1:3 rwm"; missing or negative numbers are wildcards.
std::string device_rule(const oci::DeviceCgroup& d) {
    std::string type = d.type.empty() ? "a" : d.type;
    auto num = [](const std::optional<int64_t>& n) {
        return n && *n >= 0 ? std::to_string(*n) : std::string("*");
    };
    std::string access = d.access.empty() ? "rwm" : d.access;
    return type + " " + num(d.major) + ":" + num(d.minor) + " " + access;
}

}  // namespace

Result<void> V1Manager::apply(const oci::Resources& r) {
    if (r.cpu) BERTH_TRY(apply_cpuset(*r.cpu));
    if (!r.devices.empty()) BERTH_TRY(apply_devices(r.devices));
    if (r.memory) BERTH_TRY(apply_memory(*r.memory));
    if (r.cpu) BERTH_TRY(apply_cpu(*r.cpu));
    if (r.pids_limit) BERTH_TRY(apply_pids(*r.pids_limit));
    if (r.block_io) BERTH_TRY(apply_blkio(*r.block_io));
    if (!r.hugepage_limits.empty()) BERTH_TRY(apply_hugetlb(r.hugepage_limits));
    if (r.network) BERTH_TRY(apply_network(*r.network));
    if (!r.rdma.empty()) {
        if (const std::string* d = dir("rdma")) {
            BERTH_TRY(v2::apply_rdma(s_.writer, *d, r.rdma));
        } else if (unified_offers("rdma")) {
            BERTH_TRY(v2::apply_rdma(s_.writer, s_.unified->dir, r.rdma));
        } else {
            return not_mounted("linux.resources.rdma", "rdma");
        }
    }
    if (!r.unified.empty()) BERTH_TRY(apply_unified(r.unified));
    return {};
}

Result<void> V1Manager::apply_memory(const oci::MemoryResources& m) {
    const std::string* d = dir("memory");
    if (!d) {
        if (m.limit || m.reservation || m.swap || m.swappiness || m.disable_oom_killer ||
            m.kernel_tcp)
            return not_mounted("linux.resources.memory", "memory");
        return {};
    }
    const Writer& w = s_.writer;
    // 0 means unset for the limits, as in runc: a zero limit would kill the container at once.
    int64_t limit = m.limit.value_or(0);
    int64_t swap = m.swap.value_or(0);
    if (limit == -1 && swap == 0) swap = -1;  // unlimited memory: unlimited memory+swap too
    if (swap != 0 && !cg_exists(*d, "memory.memsw.limit_in_bytes")) {
        // Swap accounting is off. Unlimited, or memory+swap equal to memory, asks for nothing.
        if (swap != -1 && swap != limit) {
            return Error(ENOTSUP) << "linux.resources.memory.swap: swap accounting is off on this"
                                  << " host (no memory.memsw.limit_in_bytes)";
        }
        swap = 0;
    }
    if (m.check_before_update.value_or(false) && limit > 0) {
        uint64_t usage = cg_read_u64(*d, "memory.usage_in_bytes").value_or(0);
        if (usage > static_cast<uint64_t>(limit)) {
            return Error(EBUSY) << "linux.resources.memory.limit: usage " << usage
                                << " is above the new limit " << limit << " (checkBeforeUpdate)";
        }
    }
    auto write_limit = [&] {
        return w.write(*d, "memory.limit_in_bytes", std::to_string(limit),
                       "linux.resources.memory.limit");
    };
    auto write_swap = [&] {
        return w.write(*d, "memory.memsw.limit_in_bytes", std::to_string(swap),
                       "linux.resources.memory.swap");
    };
    if (limit != 0 && swap != 0) {
        // The kernel keeps limit <= memsw limit after every single write: memsw goes first
        // when it rises above the current limit, else the limit goes first.
        uint64_t cur = cg_read_u64(*d, "memory.limit_in_bytes").value_or(UINT64_MAX);
        if (swap == -1 || cur < static_cast<uint64_t>(swap)) {
            BERTH_TRY(write_swap());
            BERTH_TRY(write_limit());
        } else {
            BERTH_TRY(write_limit());
            BERTH_TRY(write_swap());
        }
    } else if (limit != 0) {
        BERTH_TRY(write_limit());
    } else if (swap != 0) {
        BERTH_TRY(write_swap());
    }
    if (m.reservation) {
        BERTH_TRY(w.write(*d, "memory.soft_limit_in_bytes", std::to_string(*m.reservation),
                          "linux.resources.memory.reservation"));
    }
    // UINT64_MAX is how -1 ("leave it") arrives from engines that pass a signed value.
    if (m.swappiness && *m.swappiness != UINT64_MAX) {
        if (*m.swappiness > 100) {
            return Error(EINVAL) << "linux.resources.memory.swappiness: " << *m.swappiness
                                 << " is outside 0-100";
        }
        BERTH_TRY(w.write(*d, "memory.swappiness", std::to_string(*m.swappiness),
                          "linux.resources.memory.swappiness"));
    }
    if (m.disable_oom_killer.value_or(false)) {
        BERTH_TRY(
            w.write(*d, "memory.oom_control", "1", "linux.resources.memory.disableOOMKiller"));
    }
    if (m.kernel) {
        // Kernel memory limits are gone from 5.16+ kernels; runc ignores them the same way.
        log::warn("linux.resources.memory.kernel is ignored: kernel memory limits are deprecated");
    }
    if (m.kernel_tcp) {
        if (cg_exists(*d, "memory.kmem.tcp.limit_in_bytes")) {
            BERTH_TRY(w.write(*d, "memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernel_tcp),
                              "linux.resources.memory.kernelTCP"));
        } else {
            log::warn(
                "linux.resources.memory.kernelTCP is ignored: this kernel has no "
                "memory.kmem.tcp.limit_in_bytes");
        }
    }
    if (m.use_hierarchy) log::debug("linux.resources.memory.useHierarchy is ignored");
    return {};
}

Result<void> V1Manager::apply_cpu(const oci::CpuResources& c) {
    bool any = c.shares || c.quota || c.period || c.burst || c.realtime_runtime ||
               c.realtime_period || c.idle;
    if (!any) return {};
    const std::string* d = dir("cpu");
    if (!d) return not_mounted("linux.resources.cpu", "cpu");
    const Writer& w = s_.writer;

    if (c.shares && *c.shares != 0) {
        BERTH_TRY(
            w.write(*d, "cpu.shares", std::to_string(*c.shares), "linux.resources.cpu.shares"));
        // The kernel clamps to [2, 262144] silently; say so instead of running with another value.
        auto got = cg_read_u64(*d, "cpu.shares");
        if (got && *got != *c.shares) {
            return Error(EINVAL) << "linux.resources.cpu.shares: " << *c.shares
                                 << " is outside what the kernel allows (it set " << *got << ")";
        }
    }

    // Period and burst are checked against the current quota (and the parent's), so either may
    // be refused until the new quota is in: write them first, and on EINVAL again after quota.
    bool quota_pending = c.quota && *c.quota != 0;
    bool period_again = false, burst_again = false;
    if (c.period && *c.period != 0) {
        auto r = w.write(*d, "cpu.cfs_period_us", std::to_string(*c.period),
                         "linux.resources.cpu.period");
        if (!r) {
            if (r.error().errno_value() != EINVAL || !quota_pending) return r;
            period_again = true;
        }
    }
    if (c.burst) {
        if (!cg_exists(*d, "cpu.cfs_burst_us")) {
            if (*c.burst != 0)
                log::warn(
                    "linux.resources.cpu.burst is ignored: this kernel has no cpu.cfs_burst_us");
        } else {
            auto r = w.write(*d, "cpu.cfs_burst_us", std::to_string(*c.burst),
                             "linux.resources.cpu.burst");
            if (!r) {
                if (r.error().errno_value() != EINVAL || !quota_pending) return r;
                burst_again = true;
            }
        }
    }
    if (quota_pending) {
        BERTH_TRY(
            w.write(*d, "cpu.cfs_quota_us", std::to_string(*c.quota), "linux.resources.cpu.quota"));
        if (period_again) {
            BERTH_TRY(w.write(*d, "cpu.cfs_period_us", std::to_string(*c.period),
                              "linux.resources.cpu.period"));
        }
        if (burst_again) {
            BERTH_TRY(w.write(*d, "cpu.cfs_burst_us", std::to_string(*c.burst),
                              "linux.resources.cpu.burst"));
        }
    }

    // Realtime: runtime must fit in the period, so the same dance the other way round.
    bool runtime_pending = c.realtime_runtime && *c.realtime_runtime != 0;
    bool rt_period_again = false;
    if (c.realtime_period && *c.realtime_period != 0) {
        auto r = w.write(*d, "cpu.rt_period_us", std::to_string(*c.realtime_period),
                         "linux.resources.cpu.realtimePeriod");
        if (!r) {
            if (r.error().errno_value() != EINVAL || !runtime_pending) return r;
            rt_period_again = true;
        }
    }
    if (runtime_pending) {
        BERTH_TRY(w.write(*d, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime),
                          "linux.resources.cpu.realtimeRuntime"));
        if (rt_period_again) {
            BERTH_TRY(w.write(*d, "cpu.rt_period_us", std::to_string(*c.realtime_period),
                              "linux.resources.cpu.realtimePeriod"));
        }
    }

    if (c.idle) {
        if (cg_exists(*d, "cpu.idle")) {
            BERTH_TRY(w.write(*d, "cpu.idle", *c.idle ? "1" : "0", "linux.resources.cpu.idle"));
        } else if (*c.idle) {
            return Error(ENOTSUP) << "linux.resources.cpu.idle: this kernel has no cpu.idle";
        }
    }
    return {};
}

Result<void> V1Manager::apply_cpuset(const oci::CpuResources& c) {
    if (c.cpus.empty() && c.mems.empty()) return {};
    const std::string* d = dir("cpuset");
    if (!d) return not_mounted("linux.resources.cpu.cpus", "cpuset");
    if (!c.cpus.empty())
        BERTH_TRY(s_.writer.write(*d, "cpuset.cpus", c.cpus, "linux.resources.cpu.cpus"));
    if (!c.mems.empty())
        BERTH_TRY(s_.writer.write(*d, "cpuset.mems", c.mems, "linux.resources.cpu.mems"));
    return {};
}

Result<void> V1Manager::apply_pids(int64_t limit) {
    const std::string* d = dir("pids");
    if (!d) return not_mounted("linux.resources.pids.limit", "pids");
    std::string value = limit > 0 ? std::to_string(limit) : "max";
    return s_.writer.write(*d, "pids.max", value, "linux.resources.pids.limit");
}

Result<void> V1Manager::apply_blkio(const oci::BlockIoResources& b) {
    bool any = b.weight || b.leaf_weight || !b.weight_device.empty() ||
               !b.throttle_read_bps.empty() || !b.throttle_write_bps.empty() ||
               !b.throttle_read_iops.empty() || !b.throttle_write_iops.empty();
    if (!any) return {};
    const std::string* d = dir("blkio");
    if (!d) return not_mounted("linux.resources.blockIO", "blkio");
    const Writer& w = s_.writer;
    // CFQ kernels have blkio.weight; BFQ ones (the only proportional scheduler since 5.0) have
    // blkio.bfq.weight, with the same formats.
    std::string prefix = cg_exists(*d, "blkio.weight")       ? "blkio."
                         : cg_exists(*d, "blkio.bfq.weight") ? "blkio.bfq."
                                                             : "";
    auto need_weight_file = [&](std::string_view field) -> Result<void> {
        if (prefix.empty())
            return Error(ENOTSUP) << field << ": no proportional I/O scheduler (CFQ or BFQ) here";
        return {};
    };
    if (b.weight) {
        BERTH_TRY(need_weight_file("linux.resources.blockIO.weight"));
        BERTH_TRY(w.write(*d, prefix + "weight", std::to_string(*b.weight),
                          "linux.resources.blockIO.weight"));
    }
    if (b.leaf_weight) {
        BERTH_TRY(w.write(*d, "blkio.leaf_weight", std::to_string(*b.leaf_weight),
                          "linux.resources.blockIO.leafWeight"));
    }
    for (size_t i = 0; i < b.weight_device.size(); ++i) {
        const auto& wd = b.weight_device[i];
        std::string field = "linux.resources.blockIO.weightDevice[" + std::to_string(i) + "]";
        if (wd.weight) {
            BERTH_TRY(need_weight_file(field + ".weight"));
            BERTH_TRY(w.write(*d, prefix + "weight_device",
                              devnum(wd.major, wd.minor) + " " + std::to_string(*wd.weight),
                              field + ".weight"));
        }
        if (wd.leaf_weight) {
            BERTH_TRY(w.write(*d, "blkio.leaf_weight_device",
                              devnum(wd.major, wd.minor) + " " + std::to_string(*wd.leaf_weight),
                              field + ".leafWeight"));
        }
    }
    struct Throttle {
        const std::vector<oci::ThrottleDevice>* list;
        const char* file;
        const char* field;
    };
    for (const Throttle& t : {
             Throttle{&b.throttle_read_bps, "blkio.throttle.read_bps_device",
                      "linux.resources.blockIO.throttleReadBpsDevice"},
             Throttle{&b.throttle_write_bps, "blkio.throttle.write_bps_device",
                      "linux.resources.blockIO.throttleWriteBpsDevice"},
             Throttle{&b.throttle_read_iops, "blkio.throttle.read_iops_device",
                      "linux.resources.blockIO.throttleReadIOPSDevice"},
             Throttle{&b.throttle_write_iops, "blkio.throttle.write_iops_device",
                      "linux.resources.blockIO.throttleWriteIOPSDevice"},
         }) {
        for (size_t i = 0; i < t.list->size(); ++i) {
            const auto& td = (*t.list)[i];
            BERTH_TRY(w.write(*d, t.file,
                              devnum(td.major, td.minor) + " " + std::to_string(td.rate),
                              std::string(t.field) + "[" + std::to_string(i) + "]"));
        }
    }
    return {};
}

Result<void> V1Manager::apply_hugetlb(const std::vector<oci::HugepageLimit>& limits) {
    if (const std::string* d = dir("hugetlb")) {
        for (size_t i = 0; i < limits.size(); ++i) {
            const auto& l = limits[i];
            std::string field = "linux.resources.hugepageLimits[" + std::to_string(i) + "]";
            std::string file = "hugetlb." + l.page_size + ".limit_in_bytes";
            if (l.page_size.empty() || l.page_size.find('/') != std::string::npos ||
                !cg_exists(*d, file)) {
                return Error(EINVAL) << field << ".pageSize: `" << l.page_size
                                     << "` is not a huge page size this host's hugetlb controller"
                                     << " has (no " << file << ")";
            }
            std::string value = std::to_string(l.limit);
            BERTH_TRY(s_.writer.write(*d, file, value, field + ".limit"));
            std::string rsvd = "hugetlb." + l.page_size + ".rsvd.limit_in_bytes";
            if (cg_exists(*d, rsvd)) BERTH_TRY(s_.writer.write(*d, rsvd, value, field + ".limit"));
        }
        return {};
    }
    // Hosts that moved hugetlb to the cgroup2 side of a hybrid layout.
    if (unified_offers("hugetlb")) {
        return v2::apply_hugetlb(s_.writer, s_.unified->hierarchy.mountpoint, s_.unified->dir,
                                 limits);
    }
    return not_mounted("linux.resources.hugepageLimits", "hugetlb");
}

Result<void> V1Manager::apply_network(const oci::NetworkResources& n) {
    if (n.class_id) {
        const std::string* d = dir("net_cls");
        if (!d) return not_mounted("linux.resources.network.classID", "net_cls");
        BERTH_TRY(s_.writer.write(*d, "net_cls.classid", std::to_string(*n.class_id),
                                  "linux.resources.network.classID"));
    }
    if (!n.priorities.empty()) {
        const std::string* d = dir("net_prio");
        if (!d) return not_mounted("linux.resources.network.priorities", "net_prio");
        for (size_t i = 0; i < n.priorities.size(); ++i) {
            const auto& p = n.priorities[i];
            BERTH_TRY(
                s_.writer.write(*d, "net_prio.ifpriomap", p.name + " " + std::to_string(p.priority),
                                "linux.resources.network.priorities[" + std::to_string(i) + "]"));
        }
    }
    return {};
}

Result<void> V1Manager::apply_devices(const std::vector<oci::DeviceCgroup>& rules) {
    const std::string* d = dir("devices");
    if (!d) return not_mounted("linux.resources.devices", "devices");
    // Start from deny-all so only what the list allows is reachable, whatever was there before;
    // then the rules in order, each its own write (the kernel parses one rule per write).
    BERTH_TRY(s_.writer.write(*d, "devices.deny", "a", "linux.resources.devices"));
    for (size_t i = 0; i < rules.size(); ++i) {
        const auto& rule = rules[i];
        if (!rule.type.empty() && rule.type != "a" && rule.type != "c" && rule.type != "b") {
            return Error(EINVAL) << "linux.resources.devices[" << i << "].type: `" << rule.type
                                 << "` is not a, b or c";
        }
        BERTH_TRY(s_.writer.write(*d, rule.allow ? "devices.allow" : "devices.deny",
                                  device_rule(rule),
                                  "linux.resources.devices[" + std::to_string(i) + "]"));
    }
    return {};
}

Result<void> V1Manager::apply_unified(const std::map<std::string, std::string>& unified) {
    if (!s_.unified) {
        return Error(ENOTSUP) << "linux.resources.unified[\"" << unified.begin()->first
                              << "\"]: this host has no cgroup2 hierarchy";
    }
    return v2::apply_unified(s_.writer, s_.unified->hierarchy.mountpoint, s_.unified->dir, unified);
}

}  // namespace berth::cgroup
