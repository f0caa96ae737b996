// update: new limits from --resources FILE|- (linux.resources JSON) or from runc's
// one-value flags. Only what is given is set; the runtime merges it into the current limits.
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "cli/runtime/verbs.h"
#include "oci/spec.h"

namespace berth::cli {
namespace {

constexpr FlagSpec kFlags[] = {
    {"resources,r", FlagKind::Value,
     "file with the linux.resources JSON to apply, or '-' for stdin (other flags ignored)"},
    {"blkio-weight", FlagKind::Value, "per-cgroup block IO weight, 10 to 1000"},
    {"cpu-period", FlagKind::Value, "CPU CFS period in usecs"},
    {"cpu-quota", FlagKind::Value, "CPU CFS quota in usecs per period"},
    {"cpu-burst", FlagKind::Value, "CPU CFS burst in usecs"},
    {"cpu-share", FlagKind::Value, "CPU shares (relative weight)"},
    {"cpu-rt-period", FlagKind::Value, "CPU realtime period in usecs"},
    {"cpu-rt-runtime", FlagKind::Value, "CPU realtime runtime in usecs per period"},
    {"cpu-idle", FlagKind::Value, "1: SCHED_IDLE for the cgroup, 0: default"},
    {"cpuset-cpus", FlagKind::Value, "CPUs to use (0-3, 0,1)"},
    {"cpuset-mems", FlagKind::Value, "memory nodes to use"},
    {"memory", FlagKind::Value, "memory limit, bytes or with a suffix (100m, 1g); -1 unlimited"},
    {"memory-reservation", FlagKind::Value, "memory soft limit"},
    {"memory-swap", FlagKind::Value, "memory plus swap limit; -1 unlimited"},
    {"kernel-memory", FlagKind::Value, "obsolete, ignored"},
    {"kernel-memory-tcp", FlagKind::Value, "obsolete, ignored"},
    {"pids-limit", FlagKind::Value, "maximum number of pids"},
    {"l3-cache-schema", FlagKind::Value, "Intel RDT/CAT L3 cache schema (not supported)"},
    {"mem-bw-schema", FlagKind::Value, "Intel RDT/MBA memory bandwidth schema (not supported)"},
};

Result<std::optional<int64_t>> memory_flag(const ParsedArgs& a, std::string_view name) {
    auto v = a.value(name);
    if (!v || v->empty()) return std::optional<int64_t>();
    if (*v == "-1") return std::optional<int64_t>(-1);
    auto bytes = parse_ram_in_bytes(*v);
    if (!bytes) return Error() << "invalid value for " << name << ": invalid size: '" << *v << "'";
    return std::optional<int64_t>(*bytes);
}

Result<oci::Resources> resources_from_flags(const ParsedArgs& a) {
    oci::Resources r;
    oci::CpuResources cpu;
    bool has_cpu = false;
    auto set_u64 = [&](std::string_view flag, std::optional<uint64_t>& field) -> Result<void> {
        auto v = BERTH_TRY(uint_flag(a, flag));
        if (v) {
            field = *v;
            has_cpu = true;
        }
        return {};
    };
    auto set_i64 = [&](std::string_view flag, std::optional<int64_t>& field) -> Result<void> {
        auto v = BERTH_TRY(int_flag(a, flag));
        if (v) {
            field = *v;
            has_cpu = true;
        }
        return {};
    };
    BERTH_TRY(set_u64("cpu-period", cpu.period));
    BERTH_TRY(set_u64("cpu-burst", cpu.burst));
    BERTH_TRY(set_u64("cpu-share", cpu.shares));
    BERTH_TRY(set_u64("cpu-rt-period", cpu.realtime_period));
    BERTH_TRY(set_i64("cpu-quota", cpu.quota));
    BERTH_TRY(set_i64("cpu-rt-runtime", cpu.realtime_runtime));
    if (auto idle = BERTH_TRY(int_flag(a, "cpu-idle"))) {
        cpu.idle = *idle != 0;
        has_cpu = true;
    }
    if (auto v = a.value("cpuset-cpus"); v && !v->empty()) {
        cpu.cpus = *v;
        has_cpu = true;
    }
    if (auto v = a.value("cpuset-mems"); v && !v->empty()) {
        cpu.mems = *v;
        has_cpu = true;
    }
    if (has_cpu) r.cpu = cpu;

    oci::MemoryResources mem;
    mem.limit = BERTH_TRY(memory_flag(a, "memory"));
    mem.swap = BERTH_TRY(memory_flag(a, "memory-swap"));
    mem.reservation = BERTH_TRY(memory_flag(a, "memory-reservation"));
    // As runc: an unlimited memory with no swap given means unlimited swap too (cgroup v1).
    if (mem.limit == -1 && !mem.swap) mem.swap = -1;
    if (mem.limit || mem.swap || mem.reservation) r.memory = mem;

    if (auto w = BERTH_TRY(int_flag(a, "blkio-weight")); w && *w != 0) {
        if (*w < 0 || *w > 65535) return Error() << "invalid value for blkio-weight: " << *w;
        r.block_io.emplace().weight = static_cast<uint16_t>(*w);
    }
    // runc treats 0 as "leave unchanged".
    if (auto p = BERTH_TRY(int_flag(a, "pids-limit")); p && *p != 0) r.pids_limit = *p;
    for (const char* obsolete : {"kernel-memory", "kernel-memory-tcp"}) {
        if (!a.value_or(obsolete, "").empty()) {
            log::warn(std::string("Setting --") + obsolete + " is ignored and will be removed");
        }
    }
    return r;
}

}  // namespace

Result<int> verb_update(VerbContext& ctx, Args args) {
    auto a = BERTH_TRY(parse_args(args, kFlags));
    if (a.help()) return print_verb_help(ctx, "<container-id>", kFlags);
    BERTH_TRY(require_exact_args(a, ctx.verb, 1));
    if (!a.value_or("l3-cache-schema", "").empty()) {
        return Error() << "Intel RDT/CAT: l3 cache schema is not enabled";
    }
    if (!a.value_or("mem-bw-schema", "").empty()) {
        return Error() << "Intel RDT/MBA: memory bandwidth schema is not enabled";
    }
    oci::Resources r;
    if (auto in = a.value("resources"); in && !in->empty()) {
        std::string source = *in == "-" ? std::string("stdin") : "`" + *in + "`";
        std::string text = *in == "-" ? BERTH_TRY_CTX(read_fd(STDIN_FILENO), "reading stdin")
                                      : BERTH_TRY(read_file(*in));
        r = BERTH_TRY_CTX(oci::parse_resources(text), "resources from " + source);
    } else {
        r = BERTH_TRY(resources_from_flags(a));
    }
    BERTH_TRY(runtime::update(ctx.global, a.positional()[0], r));
    return 0;
}

}  // namespace berth::cli
