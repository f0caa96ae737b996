#include "runtime/rootless.h"

#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

namespace berth::runtime {
namespace {

bool any_memory(const oci::MemoryResources& m) {
    return m.limit || m.reservation || m.swap || m.kernel || m.kernel_tcp || m.swappiness ||
           m.disable_oom_killer.value_or(false);
}

bool any_cpu(const oci::CpuResources& c) {
    return c.shares || c.quota || c.burst || c.period || c.realtime_runtime || c.realtime_period ||
           c.idle;
}

bool any_block_io(const oci::BlockIoResources& b) {
    return b.weight || b.leaf_weight || !b.weight_device.empty() || !b.throttle_read_bps.empty() ||
           !b.throttle_write_bps.empty() || !b.throttle_read_iops.empty() ||
           !b.throttle_write_iops.empty();
}

}  // namespace

bool rootless() {
    return cgroup::running_rootless();
}

std::vector<std::string> drop_unreachable_limits(const cgroup::Manager& cg, oci::Resources& r) {
    std::vector<std::string> dropped;
    auto missing = [&](const char* controller, const char* field) {
        if (cg.has_controller(controller)) return false;
        dropped.push_back(field);
        return true;
    };
    r.devices.clear();
    if (r.memory && (!any_memory(*r.memory) || missing("memory", "linux.resources.memory")))
        r.memory.reset();
    if (r.cpu) {
        if (any_cpu(*r.cpu) && missing("cpu", "linux.resources.cpu")) {
            auto cpus = r.cpu->cpus, mems = r.cpu->mems;
            r.cpu = oci::CpuResources{};
            r.cpu->cpus = cpus;
            r.cpu->mems = mems;
        }
        if (!r.cpu->cpus.empty() && missing("cpuset", "linux.resources.cpu.cpus"))
            r.cpu->cpus.clear();
        if (!r.cpu->mems.empty() && missing("cpuset", "linux.resources.cpu.mems"))
            r.cpu->mems.clear();
        if (!any_cpu(*r.cpu) && r.cpu->cpus.empty() && r.cpu->mems.empty()) r.cpu.reset();
    }
    if (r.pids_limit && missing("pids", "linux.resources.pids")) r.pids_limit.reset();
    if (r.block_io && (!any_block_io(*r.block_io) || missing("blkio", "linux.resources.blockIO")))
        r.block_io.reset();
    if (!r.hugepage_limits.empty() && missing("hugetlb", "linux.resources.hugepageLimits"))
        r.hugepage_limits.clear();
    if (r.network) {
        if (r.network->class_id && missing("net_cls", "linux.resources.network.classID"))
            r.network->class_id.reset();
        if (!r.network->priorities.empty() &&
            missing("net_prio", "linux.resources.network.priorities"))
            r.network->priorities.clear();
        if (!r.network->class_id && r.network->priorities.empty()) r.network.reset();
    }
    if (!r.rdma.empty() && missing("rdma", "linux.resources.rdma")) r.rdma.clear();
    if (!r.unified.empty() && cg.unified_path().empty()) {
        dropped.push_back("linux.resources.unified");
        r.unified.clear();
    }
    return dropped;
}

void warn_limits_not_applied(const std::vector<std::string>& fields) {
    if (fields.empty()) return;
    std::string list;
    for (const auto& f : fields) list += (list.empty() ? "" : ", ") + f;
    std::string msg = "rootless container: no writable cgroup for " + list +
                      "; these limits are not applied (delegate a cgroup to uid " +
                      std::to_string(::geteuid()) + " and set linux.cgroupsPath inside it)";
    log::warn(msg);
    // Seen by whoever ran us even with --log (where containerd reads it).
    if (log::to_file()) {
        std::string line = "time=\"" + now_rfc3339() + "\" level=warning msg=\"" + msg + "\"\n";
        (void)!::write(STDERR_FILENO, line.data(), line.size());
    }
}

}  // namespace berth::runtime
