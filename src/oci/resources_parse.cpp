// `linux.resources`: cgroup limits. Also parsed alone for `update --resources FILE`.
#include <algorithm>

#include "oci/parse_internal.h"

namespace berth::oci::detail {

namespace {

using json::Node;
using json::read;
using json::read_required;

bool has_space(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    });
}

Result<DeviceCgroup> read_device_rule(const Node& node) {
    BERTH_TRY(node.expect_object());
    DeviceCgroup rule;
    BERTH_TRY(read_required(node, "allow", rule.allow));
    if (auto type = node.member("type")) {
        rule.type = BERTH_TRY(type->as_string());
        if (rule.type != "a" && rule.type != "c" && rule.type != "b") {
            return type->error() << "device type must be \"a\", \"c\" or \"b\", got "
                                 << quote(rule.type);
        }
    }
    BERTH_TRY(read(node, "major", rule.major));
    BERTH_TRY(read(node, "minor", rule.minor));
    if (auto access = node.member("access")) {
        rule.access = BERTH_TRY(access->as_string());
        bool ok = std::all_of(rule.access.begin(), rule.access.end(),
                              [](char c) { return c == 'r' || c == 'w' || c == 'm'; });
        if (!ok) {
            return access->error()
                   << "access must combine 'r', 'w' and 'm', got " << quote(rule.access);
        }
    }
    return rule;
}

// Memory amounts are bytes, -1 meaning unlimited.
Result<void> read_memory_amount(const Node& node, std::string_view key,
                                std::optional<int64_t>& out) {
    BERTH_TRY(read(node, key, out));
    if (out && *out < -1) {
        return node.member(key)->error() << "must be -1 (unlimited) or a byte count, got " << *out;
    }
    return {};
}

Result<MemoryResources> read_memory(const Node& node) {
    BERTH_TRY(node.expect_object());
    MemoryResources mem;
    BERTH_TRY(read_memory_amount(node, "limit", mem.limit));
    BERTH_TRY(read_memory_amount(node, "reservation", mem.reservation));
    BERTH_TRY(read_memory_amount(node, "swap", mem.swap));
    BERTH_TRY(read(node, "kernel", mem.kernel));
    BERTH_TRY(read(node, "kernelTCP", mem.kernel_tcp));
    BERTH_TRY(read(node, "swappiness", mem.swappiness));
    if (mem.swappiness && *mem.swappiness > 100) {
        return node.member("swappiness")->error()
               << "must be between 0 and 100, got " << *mem.swappiness;
    }
    BERTH_TRY(read(node, "disableOOMKiller", mem.disable_oom_killer));
    BERTH_TRY(read(node, "useHierarchy", mem.use_hierarchy));
    BERTH_TRY(read(node, "checkBeforeUpdate", mem.check_before_update));
    return mem;
}

Result<CpuResources> read_cpu(const Node& node) {
    BERTH_TRY(node.expect_object());
    CpuResources cpu;
    BERTH_TRY(read(node, "shares", cpu.shares));
    BERTH_TRY(read(node, "quota", cpu.quota));
    BERTH_TRY(read(node, "burst", cpu.burst));
    if (cpu.burst && cpu.quota && *cpu.quota > 0 &&
        *cpu.burst > static_cast<uint64_t>(*cpu.quota)) {
        return node.member("burst")->error()
               << "must not exceed quota (" << *cpu.quota << "), got " << *cpu.burst;
    }
    BERTH_TRY(read(node, "period", cpu.period));
    BERTH_TRY(read(node, "realtimeRuntime", cpu.realtime_runtime));
    BERTH_TRY(read(node, "realtimePeriod", cpu.realtime_period));
    BERTH_TRY(read(node, "cpus", cpu.cpus));
    BERTH_TRY(read(node, "mems", cpu.mems));
    // An int64 in the spec, but only 0 and 1 mean anything (cpu.idle in cgroup v2).
    if (auto idle = node.member("idle")) {
        int64_t v = BERTH_TRY(idle->as<int64_t>());
        if (v != 0 && v != 1) return idle->error() << "must be 0 or 1, got " << v;
        cpu.idle = v == 1;
    }
    return cpu;
}

Result<WeightDevice> read_weight_device(const Node& node) {
    BERTH_TRY(node.expect_object());
    WeightDevice dev;
    BERTH_TRY(read_required(node, "major", dev.major));
    BERTH_TRY(read_required(node, "minor", dev.minor));
    BERTH_TRY(read(node, "weight", dev.weight));
    BERTH_TRY(read(node, "leafWeight", dev.leaf_weight));
    if (!dev.weight && !dev.leaf_weight) return node.error() << "needs weight or leafWeight";
    return dev;
}

Result<ThrottleDevice> read_throttle_device(const Node& node) {
    BERTH_TRY(node.expect_object());
    ThrottleDevice dev;
    BERTH_TRY(read_required(node, "major", dev.major));
    BERTH_TRY(read_required(node, "minor", dev.minor));
    BERTH_TRY(read_required(node, "rate", dev.rate));
    return dev;
}

Result<BlockIoResources> read_block_io(const Node& node) {
    BERTH_TRY(node.expect_object());
    BlockIoResources io;
    BERTH_TRY(read(node, "weight", io.weight));
    BERTH_TRY(read(node, "leafWeight", io.leaf_weight));
    BERTH_TRY(json::read_array(node, "weightDevice", io.weight_device, read_weight_device));
    BERTH_TRY(json::read_array(node, "throttleReadBpsDevice", io.throttle_read_bps,
                               read_throttle_device));
    BERTH_TRY(json::read_array(node, "throttleWriteBpsDevice", io.throttle_write_bps,
                               read_throttle_device));
    BERTH_TRY(json::read_array(node, "throttleReadIOPSDevice", io.throttle_read_iops,
                               read_throttle_device));
    BERTH_TRY(json::read_array(node, "throttleWriteIOPSDevice", io.throttle_write_iops,
                               read_throttle_device));
    return io;
}

// "<digits><K|M|G|T|P>B", e.g. "2MB", "1GB", "64KB". It becomes part of a cgroup file name, so
// nothing else may pass.
bool is_page_size(std::string_view s) {
    if (s.size() < 3 || s.back() != 'B') return false;
    char unit = s[s.size() - 2];
    if (unit != 'K' && unit != 'M' && unit != 'G' && unit != 'T' && unit != 'P') return false;
    std::string_view digits = s.substr(0, s.size() - 2);
    return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<HugepageLimit> read_hugepage_limit(const Node& node) {
    BERTH_TRY(node.expect_object());
    HugepageLimit hl;
    Node size = BERTH_TRY(json::require(node, "pageSize"));
    hl.page_size = BERTH_TRY(size.as_string());
    if (!is_page_size(hl.page_size)) {
        return size.error() << "invalid page size " << quote(hl.page_size)
                            << " (expected e.g. \"2MB\" or \"1GB\")";
    }
    BERTH_TRY(read_required(node, "limit", hl.limit));
    return hl;
}

Result<NetworkPriority> read_net_priority(const Node& node) {
    BERTH_TRY(node.expect_object());
    NetworkPriority prio;
    Node name = BERTH_TRY(json::require(node, "name"));
    prio.name = BERTH_TRY(name.as_string());
    if (prio.name.empty() || has_space(prio.name)) {
        return name.error() << "invalid interface name " << quote(prio.name);
    }
    BERTH_TRY(read_required(node, "priority", prio.priority));
    return prio;
}

Result<NetworkResources> read_network(const Node& node) {
    BERTH_TRY(node.expect_object());
    NetworkResources net;
    BERTH_TRY(read(node, "classID", net.class_id));
    BERTH_TRY(json::read_array(node, "priorities", net.priorities, read_net_priority));
    return net;
}

Result<void> read_rdma(const Node& node, std::map<std::string, RdmaLimit>& out) {
    for (const auto& [device, entry] : BERTH_TRY(node.entries())) {
        // The name is written into rdma.max as "<device> hca_handle=N ..."; keep it one token.
        if (device.empty() || has_space(device)) {
            return entry.error() << "invalid RDMA device name";
        }
        BERTH_TRY(entry.expect_object());
        RdmaLimit limit;
        BERTH_TRY(read(entry, "hcaHandles", limit.hca_handles));
        BERTH_TRY(read(entry, "hcaObjects", limit.hca_objects));
        if (!limit.hca_handles && !limit.hca_objects) {
            return entry.error() << "needs hcaHandles or hcaObjects";
        }
        out[device] = limit;
    }
    return {};
}

Result<void> read_unified(const Node& node, std::map<std::string, std::string>& out) {
    for (const auto& [key, entry] : BERTH_TRY(node.entries())) {
        // Each key is a file in the container's cgroup directory: one plain name, no traversal.
        if (key.empty() || key == "." || key == ".." || key.find('/') != std::string::npos) {
            return entry.error() << "invalid cgroup file name";
        }
        out[key] = BERTH_TRY(entry.as_string());
    }
    return {};
}

}  // namespace

Result<Resources> read_resources(const Node& node) {
    BERTH_TRY(node.expect_object());
    Resources res;
    BERTH_TRY(json::read_array(node, "devices", res.devices, read_device_rule));
    BERTH_TRY(json::read_with(node, "memory", res.memory, read_memory));
    BERTH_TRY(json::read_with(node, "cpu", res.cpu, read_cpu));
    if (auto pids = node.member("pids")) {
        BERTH_TRY(pids->expect_object());
        int64_t limit = 0;
        BERTH_TRY(read_required(*pids, "limit", limit));
        res.pids_limit = limit;
    }
    BERTH_TRY(json::read_with(node, "blockIO", res.block_io, read_block_io));
    BERTH_TRY(json::read_array(node, "hugepageLimits", res.hugepage_limits, read_hugepage_limit));
    BERTH_TRY(json::read_with(node, "network", res.network, read_network));
    if (auto rdma = node.member("rdma")) BERTH_TRY(read_rdma(*rdma, res.rdma));
    if (auto unified = node.member("unified")) BERTH_TRY(read_unified(*unified, res.unified));
    return res;
}

}  // namespace berth::oci::detail

namespace berth::oci {

Result<Resources> parse_resources(std::string_view json_text) {
    json::Json doc = BERTH_TRY(json::parse_document(json_text, "resources.json"));
    if (!doc.is_object()) {
        return Error(EINVAL) << "resources.json: expected a JSON object, got "
                             << json::describe(doc);
    }
    return detail::read_resources(json::Node(doc, "resources"));
}

}  // namespace berth::oci
