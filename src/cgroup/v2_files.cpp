#include "cgroup/v2_files.h"

#include <dirent.h>

#include <algorithm>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "cgroup/stats_parse.h"

namespace berth::cgroup::v2 {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> words_of(const std::optional<std::string>& s) {
    std::vector<std::string> out;
    if (!s) return out;
    for (auto& line : split(*s, '\n'))
        for (auto& w : split(line, ' '))
            if (!w.empty()) out.push_back(w);
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// The directories from mount down to leaf's parent, top first.
std::vector<std::string> ancestors(const std::string& mount, const std::string& leaf) {
    std::vector<std::string> out;
    std::string p = path_clean(leaf);
    std::string top = path_clean(mount);
    while (p != top && p.size() > top.size()) {
        p = path_dirname(p);
        out.push_back(p);
    }
    std::reverse(out.begin(), out.end());
    return out;
}

std::string quoted_key(const std::string& key) {
    return "linux.resources.unified[\"" + key + "\"]";
}

}  // namespace

std::vector<std::string> available_controllers(const std::string& dir) {
    return words_of(cg_read_opt(dir, "cgroup.controllers"));
}

void enable_controllers(const Writer& w, const std::string& mount, const std::string& leaf,
                        const std::vector<std::string>& controllers) {
    for (const auto& dir : ancestors(mount, leaf)) {
        auto offered = available_controllers(dir);
        auto enabled = words_of(cg_read_opt(dir, "cgroup.subtree_control"));
        std::vector<std::string> todo;
        for (const auto& c : controllers)
            if (contains(offered, c) && !contains(enabled, c)) todo.push_back(c);
        if (todo.empty()) continue;
        std::string all;
        for (const auto& c : todo) all += (all.empty() ? "+" : " +") + c;
        if (w.write(dir, "cgroup.subtree_control", all, "cgroup.subtree_control")) continue;
        // One refusal (say cpu, with a realtime task in dir) must not cost the others.
        for (const auto& c : todo) {
            auto r = w.write(dir, "cgroup.subtree_control", "+" + c, "cgroup.subtree_control");
            if (!r) log::debug("cgroup: enabling " + c + " in `" + dir + "`: " + r.error().what());
        }
    }
}

Result<void> apply_hugetlb(const Writer& w, const std::string& mount, const std::string& dir,
                           const std::vector<oci::HugepageLimit>& limits) {
    if (limits.empty()) return {};
    if (!cg_exists(dir, "hugetlb." + limits.front().page_size + ".max"))
        enable_controllers(w, mount, dir, {"hugetlb"});
    for (size_t i = 0; i < limits.size(); ++i) {
        const auto& l = limits[i];
        std::string field = "linux.resources.hugepageLimits[" + std::to_string(i) + "]";
        std::string file = "hugetlb." + l.page_size + ".max";
        if (l.page_size.empty() || l.page_size.find('/') != std::string::npos ||
            !cg_exists(dir, file)) {
            return Error(EINVAL) << field << ".pageSize: `" << l.page_size
                                 << "` is not a huge page size this host's hugetlb controller has"
                                 << " (no " << file << ")";
        }
        std::string value = std::to_string(l.limit);
        BERTH_TRY(w.write(dir, file, value, field + ".limit"));
        std::string rsvd = "hugetlb." + l.page_size + ".rsvd.max";
        if (cg_exists(dir, rsvd)) BERTH_TRY(w.write(dir, rsvd, value, field + ".limit"));
    }
    return {};
}

Result<void> apply_rdma(const Writer& w, const std::string& dir,
                        const std::map<std::string, oci::RdmaLimit>& rdma) {
    for (const auto& [device, limit] : rdma) {
        std::string field = "linux.resources.rdma[\"" + device + "\"]";
        if (!limit.hca_handles && !limit.hca_objects) continue;
        std::string line = device;
        if (limit.hca_handles) line += " hca_handle=" + std::to_string(*limit.hca_handles);
        if (limit.hca_objects) line += " hca_object=" + std::to_string(*limit.hca_objects);
        BERTH_TRY(w.write(dir, "rdma.max", line, field));
    }
    return {};
}

Result<void> apply_unified(const Writer& w, const std::string& mount, const std::string& dir,
                           const std::map<std::string, std::string>& unified) {
    for (const auto& [key, value] : unified) {
        std::string field = quoted_key(key);
        auto dot = key.find('.');
        if (key.find('/') != std::string::npos || dot == std::string::npos || dot == 0)
            return Error(EINVAL) << field << ": not a cgroup2 control file name";
        std::string controller = key.substr(0, dot);
        if (!cg_exists(dir, key) && controller != "cgroup")
            enable_controllers(w, mount, dir, {controller});
        if (!cg_exists(dir, key)) {
            return Error(ENOENT) << field << ": no such control file (controller `" << controller
                                 << "` not available in `" << dir << "`)";
        }
        BERTH_TRY(w.write(dir, key, value, field));
    }
    return {};
}

void read_hugetlb(const std::string& dir, std::map<std::string, HugetlbStats>& out) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<std::string> sizes;
    while (auto* e = ::readdir(d)) {
        std::string_view name(e->d_name);
        // hugetlb.<size>.max, not hugetlb.<size>.rsvd.max
        if (!starts_with(name, "hugetlb.") || name.size() < 13) continue;
        if (name.substr(name.size() - 4) != ".max") continue;
        std::string_view size = name.substr(8, name.size() - 12);
        if (size.find('.') != std::string_view::npos) continue;
        sizes.emplace_back(size);
    }
    ::closedir(d);
    for (const auto& size : sizes) {
        HugetlbStats s;
        s.usage = cg_read_u64(dir, "hugetlb." + size + ".current").value_or(0);
        // cgroup2 keeps no peak; failures are the "max" events.
        auto events = cg_read_opt(dir, "hugetlb." + size + ".events");
        if (events) s.failcnt = parse_flat_keyed(*events)["max"];
        out[size] = s;
    }
}

Result<bool> is_frozen(const std::string& dir) {
    if (auto events = cg_read_opt(dir, "cgroup.events")) {
        auto kv = parse_flat_keyed(*events);
        if (auto it = kv.find("frozen"); it != kv.end()) return it->second == 1;
    }
    auto f = cg_read(dir, "cgroup.freeze");
    if (!f) return std::move(f).error().wrap("cgroup freezer");
    return trim(*f) == "1";
}

Result<void> set_frozen(const Writer& w, const std::string& dir, bool frozen) {
    if (!cg_exists(dir, "cgroup.freeze"))
        return Error(ENOTSUP) << "cgroup.freeze: this kernel has no cgroup2 freezer";
    BERTH_TRY(w.write(dir, "cgroup.freeze", frozen ? "1" : "0", frozen ? "freeze" : "thaw"));
    if (!cg_exists(dir, "cgroup.events")) return {};
    bool done = poll_until(
        [&] {
            auto r = is_frozen(dir);
            return r && *r == frozen;
        },
        5000ms);
    if (done) return {};
    if (frozen) (void)w.write(dir, "cgroup.freeze", "0", "thaw");
    return Error(EBUSY) << (frozen ? "freeze" : "thaw") << ": cgroup.events did not report frozen "
                        << (frozen ? 1 : 0) << " within 5s";
}

Result<void> kill_all(const Writer& w, const std::string& dir) {
    if (!path_exists(dir)) return {};
    if (cg_exists(dir, "cgroup.kill")) {
        auto r = w.write(dir, "cgroup.kill", "1", "cgroup.kill");
        if (!r && r.error().errno_value() != ENOENT) return r;
    }
    return kill_until_empty([&] { return read_pids_recursive(dir); }, 5000ms);
}

}  // namespace berth::cgroup::v2
