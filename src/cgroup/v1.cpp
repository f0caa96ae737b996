#include "cgroup/v1.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "base/file.h"
#include "base/log.h"
#include "base/scope_guard.h"
#include "base/strings.h"
#include "cgroup/stats_parse.h"
#include "cgroup/v2_files.h"

namespace berth::cgroup {
namespace {

using namespace std::chrono_literals;

// The highest directory mkdir_p(dir) would create, or "" when dir exists.
std::string first_missing(const std::string& dir) {
    std::string missing;
    for (std::string p = dir; !p.empty() && p != "/" && !path_exists(p); p = path_dirname(p))
        missing = p;
    return missing;
}

void read_v1_hugetlb(const std::string& dir, std::map<std::string, HugetlbStats>& out) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<std::string> sizes;
    while (auto* e = ::readdir(d)) {
        std::string_view name(e->d_name);
        constexpr std::string_view suffix = ".limit_in_bytes";
        if (!starts_with(name, "hugetlb.") || name.size() <= 8 + suffix.size()) continue;
        if (name.substr(name.size() - suffix.size()) != suffix) continue;
        std::string_view size = name.substr(8, name.size() - 8 - suffix.size());
        if (size.find('.') != std::string_view::npos) continue;  // .rsvd.limit_in_bytes
        sizes.emplace_back(size);
    }
    ::closedir(d);
    for (const auto& size : sizes) {
        HugetlbStats s;
        std::string base = "hugetlb." + size + ".";
        s.usage = cg_read_u64(dir, base + "usage_in_bytes").value_or(0);
        s.max_usage = cg_read_u64(dir, base + "max_usage_in_bytes").value_or(0);
        s.failcnt = cg_read_u64(dir, base + "failcnt").value_or(0);
        out[size] = s;
    }
}

}  // namespace

std::unique_ptr<Manager> make_v1_manager(ManagerSetup setup) {
    return std::make_unique<V1Manager>(std::move(setup));
}

const std::string* V1Manager::dir(std::string_view controller) const {
    for (const auto& hd : s_.v1)
        if (hd.hierarchy.has(controller)) return &hd.dir;
    return nullptr;
}

bool V1Manager::unified_offers(const std::string& controller) const {
    if (!s_.unified) return false;
    auto offered = v2::available_controllers(s_.unified->hierarchy.mountpoint);
    return std::find(offered.begin(), offered.end(), controller) != offered.end();
}

std::vector<std::string> V1Manager::paths() const {
    std::vector<std::string> out;
    for (const auto& hd : s_.v1) out.push_back(hd.dir);
    if (s_.unified) out.push_back(s_.unified->dir);
    return out;
}

Result<void> V1Manager::init_cpuset(const std::string& mountpoint, const std::string& leaf) const {
    // A new v1 cpuset cgroup starts with empty cpus and mems, and nothing can join it until
    // they are set: fill each level from its parent, top down.
    std::vector<std::string> chain;
    for (std::string p = path_clean(leaf); p.size() > mountpoint.size(); p = path_dirname(p))
        chain.push_back(p);
    std::reverse(chain.begin(), chain.end());
    for (const auto& d : chain) {
        for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
            auto cur = cg_read_opt(d, file);
            if (!cur || !cur->empty()) continue;
            auto parent = cg_read_opt(path_dirname(d), file);
            if (!parent || parent->empty()) continue;
            BERTH_TRY(s_.writer.write(d, file, *parent, "cgroup cpuset `" + d + "`"));
        }
    }
    return {};
}

Result<void> V1Manager::create() {
    std::vector<std::string> made;
    auto undo = make_scope_guard([&] {
        for (auto it = made.rbegin(); it != made.rend(); ++it) (void)remove_cgroup_tree(*it);
    });
    auto make = [&](const std::string& d) -> Result<void> {
        std::string top = first_missing(d);
        if (auto r = mkdir_p(d, 0755); !r) return std::move(r).error().wrap("create cgroup");
        if (!top.empty()) made.push_back(top);
        return {};
    };
    for (const auto& hd : s_.v1) {
        BERTH_TRY(make(hd.dir));
        if (hd.hierarchy.has("cpuset")) BERTH_TRY(init_cpuset(hd.hierarchy.mountpoint, hd.dir));
    }
    if (s_.unified) BERTH_TRY(make(s_.unified->dir));
    undo.dismiss();
    return {};
}

Result<void> V1Manager::add_process(pid_t pid) {
    std::string value = std::to_string(pid);
    for (const auto& d : paths())
        BERTH_TRY(s_.writer.write(d, "cgroup.procs", value, "join cgroup `" + d + "`"));
    return {};
}

Result<SelfJoin> V1Manager::open_self_join() const {
    std::vector<std::string> dirs;
    for (const auto& hd : s_.v1) dirs.push_back(hd.dir);
    return open_self_join_files(dirs, unified_path());
}

Result<void> V1Manager::add_process_unified(pid_t pid) {
    if (!s_.unified) return {};
    const std::string& d = s_.unified->dir;
    return s_.writer.write(d, "cgroup.procs", std::to_string(pid), "join cgroup `" + d + "`");
}

Result<void> V1Manager::set_freezer(const std::string& state) {
    const std::string* d = dir("freezer");
    if (!d) return Error(ENOTSUP) << "the freezer controller is not mounted on this host";
    const std::string field = state == "FROZEN" ? "freeze" : "thaw";
    BERTH_TRY(s_.writer.write(*d, "freezer.state", state, field));
    // FREEZING lasts while tasks are being stopped; tasks forked meanwhile can keep it there,
    // so the state is written again now and then.
    int polls = 0;
    bool done = poll_until(
        [&] {
            auto cur = cg_read_opt(*d, "freezer.state");
            if (cur && *cur == state) return true;
            if (++polls % 10 == 0) (void)s_.writer.write(*d, "freezer.state", state, field);
            return false;
        },
        5000ms);
    if (done) return {};
    if (state == "FROZEN") (void)s_.writer.write(*d, "freezer.state", "THAWED", "thaw");
    return Error(EBUSY) << field << ": freezer.state did not reach " << state << " within 5s";
}

Result<void> V1Manager::freeze() {
    return set_freezer("FROZEN");
}
Result<void> V1Manager::thaw() {
    return set_freezer("THAWED");
}

Result<bool> V1Manager::frozen() {
    const std::string* d = dir("freezer");
    if (!d) return false;
    auto state = cg_read(*d, "freezer.state");
    if (!state) return std::move(state).error().wrap("cgroup freezer");
    return trim(*state) == "FROZEN";
}

Result<std::vector<pid_t>> V1Manager::pids() {
    for (const char* c : {"pids", "freezer", "memory"})
        if (const std::string* d = dir(c)) return read_pids_recursive(*d);
    if (!s_.v1.empty()) return read_pids_recursive(s_.v1.front().dir);
    if (s_.unified) return read_pids_recursive(s_.unified->dir);
    return std::vector<pid_t>{};
}

Result<Stats> V1Manager::stats() {
    Stats st;
    if (!s_.v1.empty() && !is_directory(s_.v1.front().dir))
        return Error(ENOENT) << "cgroup `" << s_.v1.front().dir << "` does not exist";
    if (const std::string* d = dir("cpuacct")) {
        st.cpu.usage_total_ns = cg_read_u64(*d, "cpuacct.usage").value_or(0);
        if (auto percpu = cg_read_opt(*d, "cpuacct.usage_percpu"))
            st.cpu.usage_per_cpu_ns = parse_number_list(*percpu);
        if (auto stat = cg_read_opt(*d, "cpuacct.stat")) {
            auto kv = parse_flat_keyed(*stat);
            long hz = ::sysconf(_SC_CLK_TCK);
            st.cpu.usage_user_ns = ticks_to_ns(kv["user"], hz);
            st.cpu.usage_kernel_ns = ticks_to_ns(kv["system"], hz);
        }
    }
    if (const std::string* d = dir("cpu")) {
        if (auto stat = cg_read_opt(*d, "cpu.stat")) {
            auto kv = parse_flat_keyed(*stat);
            st.cpu.periods = kv["nr_periods"];
            st.cpu.throttled_periods = kv["nr_throttled"];
            st.cpu.throttled_time_ns = kv["throttled_time"];
        }
    }
    if (const std::string* d = dir("memory")) {
        auto& m = st.memory;
        m.usage = cg_read_u64(*d, "memory.usage_in_bytes").value_or(0);
        m.max_usage = cg_read_u64(*d, "memory.max_usage_in_bytes").value_or(0);
        m.limit = cg_read_u64(*d, "memory.limit_in_bytes").value_or(0);
        m.failcnt = cg_read_u64(*d, "memory.failcnt").value_or(0);
        m.swap_usage = cg_read_u64(*d, "memory.memsw.usage_in_bytes").value_or(0);
        m.swap_limit = cg_read_u64(*d, "memory.memsw.limit_in_bytes").value_or(0);
        if (auto stat = cg_read_opt(*d, "memory.stat")) m.raw = parse_flat_keyed(*stat);
        auto get = [&](const char* key, const char* fallback) -> uint64_t {
            if (auto it = m.raw.find(key); it != m.raw.end()) return it->second;
            if (auto it = m.raw.find(fallback); it != m.raw.end()) return it->second;
            return 0;
        };
        // The total_ figures include child cgroups, which is what the container as a whole uses.
        m.rss = get("total_rss", "rss");
        m.cache = get("total_cache", "cache");
        m.inactive_file = get("total_inactive_file", "inactive_file");
        m.active_file = get("total_active_file", "active_file");
        m.working_set = working_set(m.usage, m.inactive_file);
        if (auto oom = cg_read_opt(*d, "memory.oom_control"))
            m.oom_kill = parse_flat_keyed(*oom)["oom_kill"];
    }
    if (const std::string* d = dir("pids")) {
        st.pids.current = cg_read_u64(*d, "pids.current").value_or(0);
        st.pids.limit = cg_read_u64(*d, "pids.max", 0).value_or(0);
    }
    if (const std::string* d = dir("blkio")) {
        auto read = [&](const char* name) {
            std::string base = name;
            auto text = cg_read_opt(*d, base + "_recursive");
            if (!text) text = cg_read_opt(*d, base);
            return text ? parse_blkio_v1(*text) : std::vector<BlkioEntry>{};
        };
        st.blkio.io_service_bytes = read("blkio.throttle.io_service_bytes");
        st.blkio.io_serviced = read("blkio.throttle.io_serviced");
    }
    if (const std::string* d = dir("hugetlb")) {
        read_v1_hugetlb(*d, st.hugetlb);
    } else if (s_.unified) {
        v2::read_hugetlb(s_.unified->dir, st.hugetlb);
    }
    return st;
}

Result<void> V1Manager::destroy() {
    // The usual case, the init gone and no child cgroups: one rmdir per hierarchy, which
    // the kernel refuses while a task or a child cgroup is left (then the full walk below).
    if (remove_empty_leaves(paths())) {
        if (s_.path.is_default)
            for (const auto& d : paths()) remove_default_parent(d);
        return {};
    }
    auto all_pids = [&]() -> Result<std::vector<pid_t>> {
        std::vector<pid_t> out;
        for (const auto& d : paths()) {
            auto r = read_pids_recursive(d);
            if (!r) {
                if (r.error().errno_value() == ENOENT) continue;
                return std::move(r).error();
            }
            out.insert(out.end(), r->begin(), r->end());
        }
        return out;
    };
    // Frozen tasks take SIGKILL only once thawed: kill first so they die as they wake.
    if (auto first = all_pids(); first && !first->empty()) {
        pid_t self = ::getpid();
        for (pid_t pid : *first)
            if (pid != self) ::kill(pid, SIGKILL);
        if (const std::string* d = dir("freezer")) {
            auto state = cg_read_opt(*d, "freezer.state");
            if (state && *state != "THAWED")
                (void)s_.writer.write(*d, "freezer.state", "THAWED", "thaw");
        }
    }
    BERTH_TRY_CTX(kill_until_empty(all_pids, 5000ms), "destroy cgroup");
    Result<void> result;
    for (const auto& d : paths()) {
        auto r = remove_cgroup_tree(d);
        if (!r && result.ok()) result = std::move(r).error().wrap("destroy cgroup");
    }
    if (s_.path.is_default && result.ok())
        for (const auto& d : paths()) remove_default_parent(d);
    return result;
}

}  // namespace berth::cgroup
