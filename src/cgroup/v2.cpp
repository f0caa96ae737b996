// The unified (cgroup2-only) manager: one directory, controllers enabled down from the root.
#include <algorithm>

#include "base/file.h"
#include "base/log.h"
#include "base/scope_guard.h"
#include "base/strings.h"
#include "cgroup/bpf_devices.h"
#include "cgroup/convert.h"
#include "cgroup/internal.h"
#include "cgroup/stats_parse.h"
#include "cgroup/v2_files.h"

namespace berth::cgroup {
namespace {

using namespace std::chrono_literals;

std::string devnum(int64_t major, int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

class V2Manager final : public Manager {
  public:
    explicit V2Manager(ManagerSetup setup)
        : s_(std::move(setup)), dir_(s_.unified->dir), mount_(s_.unified->hierarchy.mountpoint) {}

    Result<void> create() override;
    Result<void> add_process(pid_t pid) override {
        return s_.writer.write(dir_, "cgroup.procs", std::to_string(pid),
                               "join cgroup `" + dir_ + "`");
    }
    Result<SelfJoin> open_self_join() const override { return open_self_join_files({}, dir_); }
    Result<void> add_process_unified(pid_t pid) override { return add_process(pid); }
    Result<void> apply(const oci::Resources& r) override;
    Result<void> freeze() override { return v2::set_frozen(s_.writer, dir_, true); }
    Result<void> thaw() override { return v2::set_frozen(s_.writer, dir_, false); }
    Result<bool> frozen() override { return v2::is_frozen(dir_); }
    Result<std::vector<pid_t>> pids() override { return read_pids_recursive(dir_); }
    Result<Stats> stats() override;
    Result<void> destroy() override;
    std::vector<std::string> paths() const override { return {dir_}; }
    Layout layout() const override { return Layout::Unified; }
    std::string unified_path() const override { return dir_; }
    bool has_controller(std::string_view controller) const override;

  private:
    Result<void> apply_memory(const oci::MemoryResources& m);
    Result<void> apply_cpu(const oci::CpuResources& c);
    Result<void> apply_io(const oci::BlockIoResources& b);

    ManagerSetup s_;
    std::string dir_, mount_;
};

bool V2Manager::has_controller(std::string_view controller) const {
    if (controller == "blkio") controller = "io";
    if (controller == "net_cls" || controller == "net_prio") return false;
    // The directory's own list once it exists (a delegated subtree may offer fewer than the
    // root); before that, the root's.
    auto offered = v2::available_controllers(is_directory(dir_) ? dir_ : mount_);
    return std::find(offered.begin(), offered.end(), controller) != offered.end();
}

Result<void> V2Manager::create() {
    std::string top;
    for (std::string p = dir_; p.size() > mount_.size() && !path_exists(p); p = path_dirname(p))
        top = p;
    if (auto r = mkdir_p(dir_, 0755); !r) return std::move(r).error().wrap("create cgroup");
    auto undo = make_scope_guard([&] {
        if (!top.empty()) (void)remove_cgroup_tree(top);
    });
    // Every controller the root offers, enabled on the way down, as runc does: the leaf then
    // has all the files apply() and stats() may need.
    v2::enable_controllers(s_.writer, mount_, dir_, v2::available_controllers(mount_));
    undo.dismiss();
    return {};
}

Result<void> V2Manager::apply(const oci::Resources& r) {
    const Writer& w = s_.writer;
    // cgroup2 has no devices files: the rules become an eBPF program on the directory.
    if (!r.devices.empty()) {
        bpf::DeviceState devices = BERTH_TRY(bpf::emulate_v1(r.devices));
        BERTH_TRY_CTX(bpf::attach_device_program(dir_, bpf::device_program(devices)),
                      "linux.resources.devices");
    }
    if (r.network && (r.network->class_id || !r.network->priorities.empty())) {
        return Error(ENOTSUP) << "linux.resources.network: net_cls and net_prio do not exist on "
                                 "cgroup v2";
    }
    if (r.cpu && !r.cpu->cpus.empty())
        BERTH_TRY(w.write(dir_, "cpuset.cpus", r.cpu->cpus, "linux.resources.cpu.cpus"));
    if (r.cpu && !r.cpu->mems.empty())
        BERTH_TRY(w.write(dir_, "cpuset.mems", r.cpu->mems, "linux.resources.cpu.mems"));
    if (r.memory) BERTH_TRY(apply_memory(*r.memory));
    if (r.cpu) BERTH_TRY(apply_cpu(*r.cpu));
    if (r.pids_limit) {
        BERTH_TRY(w.write(dir_, "pids.max",
                          *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max",
                          "linux.resources.pids.limit"));
    }
    if (r.block_io) BERTH_TRY(apply_io(*r.block_io));
    BERTH_TRY(v2::apply_hugetlb(w, mount_, dir_, r.hugepage_limits));
    BERTH_TRY(v2::apply_rdma(w, dir_, r.rdma));
    // Last, so a raw key overrides what the fields above wrote.
    BERTH_TRY(v2::apply_unified(w, mount_, dir_, r.unified));
    return {};
}

Result<void> V2Manager::apply_memory(const oci::MemoryResources& m) {
    const Writer& w = s_.writer;
    int64_t limit = m.limit.value_or(0);  // 0: unset, as on v1
    auto swap = BERTH_TRY(swap_max_value(m.limit, m.swap));
    if (m.check_before_update.value_or(false) && limit > 0) {
        uint64_t usage = cg_read_u64(dir_, "memory.current").value_or(0);
        if (usage > static_cast<uint64_t>(limit)) {
            return Error(EBUSY) << "linux.resources.memory.limit: usage " << usage
                                << " is above the new limit " << limit << " (checkBeforeUpdate)";
        }
    }
    if (swap) {
        // memory.swap.max is swap alone and independent of memory.max: no ordering to keep.
        if (!cg_exists(dir_, "memory.swap.max")) {
            // No swap accounting: "unlimited" and "no swap beyond memory" ask for nothing.
            if (*swap != "max" && *swap != "0") {
                return Error(ENOTSUP) << "linux.resources.memory.swap: swap accounting is off on "
                                         "this host (no memory.swap.max)";
            }
        } else {
            BERTH_TRY(w.write(dir_, "memory.swap.max", *swap, "linux.resources.memory.swap"));
        }
    }
    if (limit != 0) {
        BERTH_TRY(w.write(dir_, "memory.max", limit == -1 ? "max" : std::to_string(limit),
                          "linux.resources.memory.limit"));
    }
    if (m.reservation) {
        BERTH_TRY(w.write(dir_, "memory.low",
                          *m.reservation == -1 ? "max" : std::to_string(*m.reservation),
                          "linux.resources.memory.reservation"));
    }
    // No v2 equivalents; runc ignores these the same way rather than refuse the container.
    if (m.swappiness && *m.swappiness != UINT64_MAX)
        log::warn("linux.resources.memory.swappiness is ignored on cgroup v2");
    if (m.disable_oom_killer.value_or(false))
        log::warn("linux.resources.memory.disableOOMKiller is ignored on cgroup v2");
    if (m.kernel || m.kernel_tcp)
        log::warn("linux.resources.memory.kernel and kernelTCP are ignored on cgroup v2");
    return {};
}

Result<void> V2Manager::apply_cpu(const oci::CpuResources& c) {
    const Writer& w = s_.writer;
    if (c.realtime_runtime.value_or(0) != 0 || c.realtime_period.value_or(0) != 0) {
        return Error(ENOTSUP) << "linux.resources.cpu.realtimeRuntime: realtime CPU limits do "
                                 "not exist on cgroup v2";
    }
    if (c.shares && *c.shares != 0) {
        BERTH_TRY(w.write(dir_, "cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)),
                          "linux.resources.cpu.shares"));
    }
    bool quota_set = c.quota && *c.quota != 0;
    bool period_set = c.period && *c.period != 0;
    std::string cpu_max;
    if (quota_set) {
        // "max" alone leaves the period as it is.
        cpu_max = *c.quota > 0 ? std::to_string(*c.quota) : "max";
        if (period_set) cpu_max += " " + std::to_string(*c.period);
    } else if (period_set) {
        // A period alone keeps the current quota (writing "max P" would drop it).
        auto cur = cg_read_opt(dir_, "cpu.max");
        std::string quota = cur ? split(*cur, ' ').front() : "max";
        cpu_max = quota + " " + std::to_string(*c.period);
    }
    // The burst must stay within the quota: before cpu.max when it shrinks, after otherwise.
    bool burst_again = false;
    if (c.burst) {
        if (!cg_exists(dir_, "cpu.max.burst")) {
            if (*c.burst != 0)
                log::warn("linux.resources.cpu.burst is ignored: this kernel has no cpu.max.burst");
        } else {
            auto r = w.write(dir_, "cpu.max.burst", std::to_string(*c.burst),
                             "linux.resources.cpu.burst");
            if (!r) {
                if (r.error().errno_value() != EINVAL || cpu_max.empty()) return r;
                burst_again = true;
            }
        }
    }
    if (!cpu_max.empty()) {
        BERTH_TRY(w.write(dir_, "cpu.max", cpu_max,
                          quota_set ? "linux.resources.cpu.quota" : "linux.resources.cpu.period"));
    }
    if (burst_again) {
        BERTH_TRY(
            w.write(dir_, "cpu.max.burst", std::to_string(*c.burst), "linux.resources.cpu.burst"));
    }
    if (c.idle) {
        if (cg_exists(dir_, "cpu.idle")) {
            BERTH_TRY(w.write(dir_, "cpu.idle", *c.idle ? "1" : "0", "linux.resources.cpu.idle"));
        } else if (*c.idle) {
            return Error(ENOTSUP) << "linux.resources.cpu.idle: this kernel has no cpu.idle";
        }
    }
    return {};
}

Result<void> V2Manager::apply_io(const oci::BlockIoResources& b) {
    const Writer& w = s_.writer;
    // BFQ takes the v1 weights as they are; the generic io.weight has another range.
    bool bfq = cg_exists(dir_, "io.bfq.weight");
    auto weight_value = [&](uint64_t v) { return bfq ? v : blkio_weight_to_io_weight(v); };
    const char* weight_file = bfq ? "io.bfq.weight" : "io.weight";
    if (b.weight && *b.weight != 0) {
        BERTH_TRY(w.write(dir_, weight_file, std::to_string(weight_value(*b.weight)),
                          "linux.resources.blockIO.weight"));
    }
    if (b.leaf_weight) log::warn("linux.resources.blockIO.leafWeight is ignored on cgroup v2");
    for (size_t i = 0; i < b.weight_device.size(); ++i) {
        const auto& wd = b.weight_device[i];
        std::string field = "linux.resources.blockIO.weightDevice[" + std::to_string(i) + "]";
        if (wd.weight) {
            BERTH_TRY(
                w.write(dir_, weight_file,
                        devnum(wd.major, wd.minor) + " " + std::to_string(weight_value(*wd.weight)),
                        field + ".weight"));
        }
        if (wd.leaf_weight) log::warn(field + ".leafWeight is ignored on cgroup v2");
    }
    struct Throttle {
        const std::vector<oci::ThrottleDevice>* list;
        const char* key;
        const char* field;
    };
    for (const Throttle& t : {
             Throttle{&b.throttle_read_bps, "rbps",
                      "linux.resources.blockIO.throttleReadBpsDevice"},
             Throttle{&b.throttle_write_bps, "wbps",
                      "linux.resources.blockIO.throttleWriteBpsDevice"},
             Throttle{&b.throttle_read_iops, "riops",
                      "linux.resources.blockIO.throttleReadIOPSDevice"},
             Throttle{&b.throttle_write_iops, "wiops",
                      "linux.resources.blockIO.throttleWriteIOPSDevice"},
         }) {
        for (size_t i = 0; i < t.list->size(); ++i) {
            const auto& td = (*t.list)[i];
            // 0 is "no limit" in v1; v2 spells it max.
            std::string rate = td.rate == 0 ? "max" : std::to_string(td.rate);
            BERTH_TRY(w.write(dir_, "io.max", devnum(td.major, td.minor) + " " + t.key + "=" + rate,
                              std::string(t.field) + "[" + std::to_string(i) + "]"));
        }
    }
    return {};
}

Result<Stats> V2Manager::stats() {
    Stats st;
    if (!is_directory(dir_)) return Error(ENOENT) << "cgroup `" << dir_ << "` does not exist";
    if (auto text = cg_read_opt(dir_, "cpu.stat")) {
        auto kv = parse_flat_keyed(*text);
        st.cpu.usage_total_ns = kv["usage_usec"] * 1000;
        st.cpu.usage_user_ns = kv["user_usec"] * 1000;
        st.cpu.usage_kernel_ns = kv["system_usec"] * 1000;
        st.cpu.periods = kv["nr_periods"];
        st.cpu.throttled_periods = kv["nr_throttled"];
        st.cpu.throttled_time_ns = kv["throttled_usec"] * 1000;
    }
    auto& m = st.memory;
    m.usage = cg_read_u64(dir_, "memory.current").value_or(0);
    m.max_usage = cg_read_u64(dir_, "memory.peak").value_or(0);
    m.limit = cg_read_u64(dir_, "memory.max").value_or(0);
    if (auto text = cg_read_opt(dir_, "memory.stat")) m.raw = parse_flat_keyed(*text);
    m.rss = m.raw["anon"];
    m.cache = m.raw["file"];
    m.inactive_file = m.raw["inactive_file"];
    m.active_file = m.raw["active_file"];
    m.working_set = working_set(m.usage, m.inactive_file);
    if (auto events = cg_read_opt(dir_, "memory.events")) {
        auto kv = parse_flat_keyed(*events);
        m.oom_kill = kv["oom_kill"];
        m.failcnt = kv["max"];
    }
    // memory+swap, as v1's memsw reports it.
    if (auto swap = cg_read_u64(dir_, "memory.swap.current")) m.swap_usage = *swap + m.usage;
    if (auto swap_max = cg_read_u64(dir_, "memory.swap.max")) {
        m.swap_limit =
            (*swap_max == UINT64_MAX || m.limit == UINT64_MAX) ? UINT64_MAX : *swap_max + m.limit;
    }
    st.pids.current = cg_read_u64(dir_, "pids.current").value_or(0);
    st.pids.limit = cg_read_u64(dir_, "pids.max", 0).value_or(0);
    if (auto text = cg_read_opt(dir_, "io.stat")) st.blkio = parse_io_stat(*text);
    v2::read_hugetlb(dir_, st.hugetlb);
    return st;
}

Result<void> V2Manager::destroy() {
    // Nothing left in it (the usual case): one rmdir, no walk, no cgroup.kill.
    if (remove_empty_leaves({dir_})) {
        if (s_.path.is_default) remove_default_parent(dir_);
        return {};
    }
    BERTH_TRY_CTX(v2::kill_all(s_.writer, dir_), "destroy cgroup");
    BERTH_TRY_CTX(remove_cgroup_tree(dir_), "destroy cgroup");
    if (s_.path.is_default) remove_default_parent(dir_);
    return {};
}

}  // namespace

std::unique_ptr<Manager> make_v2_manager(ManagerSetup setup) {
    return std::make_unique<V2Manager>(std::move(setup));
}

}  // namespace berth::cgroup
