#include "engine/resources.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "base/file.h"
#include "base/strings.h"
#include "cgroup/manager.h"
#include "engine/spec_builder.h"

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;

constexpr int64_t kCfsPeriod = 100000;  // docker's period for --cpus

Result<int64_t> parse_int(const std::string& flag, const std::string& text) {
    auto n = parse_number<int64_t>(trim(text));
    if (!n) return Error(EINVAL) << flag << " `" << text << "`: want an integer";
    return *n;
}

// "0-2,4": the set; EINVAL naming the flag when malformed.
Result<std::set<unsigned>> parse_list(const std::string& flag, const std::string& text) {
    std::set<unsigned> out;
    for (const auto& part : split(trim(text), ',')) {
        size_t dash = part.find('-');
        auto lo = parse_number<unsigned>(part.substr(0, dash));
        auto hi = dash == std::string::npos ? lo : parse_number<unsigned>(part.substr(dash + 1));
        if (!lo || !hi || *lo > *hi || *hi > 65535) {
            return Error(EINVAL) << flag << " `" << text << "`: want a list like 0-2,4";
        }
        for (unsigned i = *lo; i <= *hi; ++i) out.insert(i);
    }
    if (out.empty()) return Error(EINVAL) << flag << " `" << text << "`: empty list";
    return out;
}

// docker: "Requested CPUs are not available - requested 3, available: 0-1".
Result<void> check_available(const std::string& flag, const std::string& text,
                             const std::string& online_file) {
    auto wanted = BERTH_TRY(parse_list(flag, text));
    std::string online = "0";
    if (auto t = read_file(online_file); t.ok()) online = std::string(trim(*t));
    auto have = parse_list(flag, online);
    if (!have.ok()) return {};  // cannot tell: let the kernel decide
    for (unsigned n : wanted) {
        if (!have->count(n)) {
            return Error(EINVAL) << flag << " `" << text << "`: " << n
                                 << " is not available (available: " << online << ")";
        }
    }
    return {};
}

unsigned host_cpus() {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? unsigned(n) : 1;
}

// Whether the host accounts swap per cgroup (v1 memory.memsw.*; always on cgroup v2).
bool swap_accounting() {
    if (cgroup::detect_layout("/sys/fs/cgroup") == cgroup::Layout::Unified) return true;
    return path_exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
}

// DEVICE:VALUE with DEVICE a block device: its major and minor, and VALUE's text.
struct DeviceValue {
    unsigned major = 0, minor = 0;
    std::string value;
};

Result<DeviceValue> parse_device_value(const std::string& flag, const std::string& text) {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        return Error(EINVAL) << flag << " `" << text << "`: want DEVICE:VALUE (/dev/sda:1mb)";
    }
    std::string path = text.substr(0, colon);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoError() << flag << " `" << text << "`";
    if (!S_ISBLK(st.st_mode)) {
        return Error(EINVAL) << flag << " `" << text << "`: " << path << " is not a block device";
    }
    return DeviceValue{::major(st.st_rdev), ::minor(st.st_rdev), text.substr(colon + 1)};
}

Result<OJson> throttle_list(const std::string& flag, const std::vector<std::string>& specs,
                            bool bytes) {
    OJson out = OJson::array();
    for (const auto& s : specs) {
        DeviceValue d = BERTH_TRY(parse_device_value(flag, s));
        int64_t rate = 0;
        if (bytes) {
            rate = BERTH_TRY(parse_bytes(flag, d.value));
        } else {
            auto n = parse_number<uint64_t>(d.value);
            if (!n) return Error(EINVAL) << flag << " `" << s << "`: want DEVICE:NUMBER";
            rate = int64_t(*n);
        }
        out.push_back({{"major", d.major}, {"minor", d.minor}, {"rate", rate}});
    }
    return out;
}

Result<int64_t> blkio_weight(const std::string& flag, const std::string& text) {
    int64_t w = BERTH_TRY(parse_int(flag, text));
    if (w != 0 && (w < 10 || w > 1000)) {
        return Error(EINVAL) << flag << " `" << text << "`: the weight ranges from 10 to 1000";
    }
    return w;
}

// The CPU and memory fields that both create and update take, written into r (a
// linux.resources object); `current` holds what the container has now (empty at create).
Result<void> common_resources(const ResourceFlags& f, const OJson& current, bool update, OJson& r) {
    auto cur = [&](const char* obj, const char* key) -> std::optional<int64_t> {
        if (!current.contains(obj) || !current[obj].contains(key)) return std::nullopt;
        const auto& v = current[obj][key];
        if (!v.is_number_integer()) return std::nullopt;
        return v.get<int64_t>();
    };
    // Memory.
    std::optional<int64_t> limit, swap, reservation;
    if (!f.memory.empty()) {
        limit = f.memory == "-1" && update ? -1 : BERTH_TRY(parse_bytes("--memory", f.memory));
        // docker's floor: below this the container cannot even start.
        if (*limit != -1 && *limit < 6 * 1024 * 1024) {
            return Error(EINVAL) << "--memory `" << f.memory
                                 << "`: the minimum memory limit is 6MB";
        }
    }
    if (!f.memory_swap.empty()) {
        swap = f.memory_swap == "-1" ? -1 : BERTH_TRY(parse_bytes("--memory-swap", f.memory_swap));
        if (*swap == 0) swap.reset();  // docker: 0 is unset
    }
    if (!f.memory_reservation.empty()) {
        reservation = BERTH_TRY(parse_bytes("--memory-reservation", f.memory_reservation));
    }
    std::optional<int64_t> eff_limit = limit ? limit : cur("memory", "limit");
    if (eff_limit && *eff_limit == -1) eff_limit.reset();
    if (swap && *swap > 0) {
        if (!eff_limit) {
            return Error(EINVAL) << "--memory-swap `" << f.memory_swap
                                 << "`: set --memory too (memory-swap is memory plus swap)";
        }
        if (*swap < *eff_limit) {
            return Error(EINVAL) << "--memory-swap `" << f.memory_swap
                                 << "`: the memory+swap limit must be at least --memory";
        }
    }
    if (swap && *swap != -1 && !swap_accounting()) {
        return Error(ENOTSUP) << "--memory-swap `" << f.memory_swap
                              << "`: this host's kernel does not account swap per cgroup";
    }
    if (limit && *limit > 0 && !swap) {
        if (!update) {
            // docker and podman: as much swap as memory, where the kernel can limit it.
            if (swap_accounting()) swap = *limit * 2;
        } else if (auto s = cur("memory", "swap"); s && *s > 0 && *limit > *s) {
            return Error(EINVAL) << "--memory `" << f.memory
                                 << "`: the limit is above the container's memory+swap limit ("
                                 << *s << " bytes): update --memory-swap at the same time";
        }
    }
    if (reservation && eff_limit && *reservation > *eff_limit) {
        return Error(EINVAL) << "--memory-reservation `" << f.memory_reservation
                             << "`: the memory limit must be at least the reservation";
    }
    if (limit) r["memory"]["limit"] = *limit;
    if (swap) r["memory"]["swap"] = *swap;
    if (reservation) r["memory"]["reservation"] = *reservation;

    // CPU.
    if (!f.cpus.empty() && (!f.cpu_period.empty() || !f.cpu_quota.empty())) {
        return Error(EINVAL) << "conflicting options: --cpus and --cpu-period/--cpu-quota "
                                "cannot both be set";
    }
    if (!f.cpus.empty()) {
        r["cpu"]["quota"] = BERTH_TRY(cpus_to_quota(f.cpus));
        r["cpu"]["period"] = kCfsPeriod;
    }
    if (!f.cpu_period.empty()) {
        int64_t p = BERTH_TRY(parse_int("--cpu-period", f.cpu_period));
        if (p != 0 && (p < 1000 || p > 1000000)) {
            return Error(EINVAL) << "--cpu-period `" << f.cpu_period
                                 << "`: the CFS period ranges from 1000 (1 ms) to 1000000 µs";
        }
        if (p != 0) r["cpu"]["period"] = p;
    }
    if (!f.cpu_quota.empty()) {
        int64_t q = BERTH_TRY(parse_int("--cpu-quota", f.cpu_quota));
        if (q < -1 || (q > 0 && q < 1000)) {
            return Error(EINVAL) << "--cpu-quota `" << f.cpu_quota
                                 << "`: the CFS quota is -1 (none) or at least 1000 (1 ms)";
        }
        if (q != 0) r["cpu"]["quota"] = q;
    }
    if (!f.cpu_shares.empty()) {
        int64_t s = BERTH_TRY(parse_int("--cpu-shares", f.cpu_shares));
        if (s < 0) {
            return Error(EINVAL) << "--cpu-shares `" << f.cpu_shares << "`: must not be negative";
        }
        // The kernel's bounds, which docker clamps to.
        if (s != 0) r["cpu"]["shares"] = std::clamp<int64_t>(s, 2, 262144);
    }
    if (!f.cpuset_cpus.empty()) {
        BERTH_TRY(
            check_available("--cpuset-cpus", f.cpuset_cpus, "/sys/devices/system/cpu/online"));
        r["cpu"]["cpus"] = std::string(trim(f.cpuset_cpus));
    }
    if (!f.cpuset_mems.empty()) {
        BERTH_TRY(
            check_available("--cpuset-mems", f.cpuset_mems, "/sys/devices/system/node/online"));
        r["cpu"]["mems"] = std::string(trim(f.cpuset_mems));
    }
    if (f.pids_limit) {
        // docker: 0 or -1 is unlimited.
        r["pids"] = {{"limit", *f.pids_limit <= 0 ? -1 : *f.pids_limit}};
    }
    if (!f.blkio_weight.empty()) {
        int64_t w = BERTH_TRY(blkio_weight("--blkio-weight", f.blkio_weight));
        if (w != 0) r["blockIO"]["weight"] = w;
    }
    return {};
}

const std::pair<const char*, const char*> kUlimits[] = {
    {"as", "RLIMIT_AS"},
    {"core", "RLIMIT_CORE"},
    {"cpu", "RLIMIT_CPU"},
    {"data", "RLIMIT_DATA"},
    {"fsize", "RLIMIT_FSIZE"},
    {"locks", "RLIMIT_LOCKS"},
    {"memlock", "RLIMIT_MEMLOCK"},
    {"msgqueue", "RLIMIT_MSGQUEUE"},
    {"nice", "RLIMIT_NICE"},
    {"nofile", "RLIMIT_NOFILE"},
    {"nproc", "RLIMIT_NPROC"},
    {"rss", "RLIMIT_RSS"},
    {"rtprio", "RLIMIT_RTPRIO"},
    {"rttime", "RLIMIT_RTTIME"},
    {"sigpending", "RLIMIT_SIGPENDING"},
    {"stack", "RLIMIT_STACK"},
};
const int kUlimitResources[] = {RLIMIT_AS,     RLIMIT_CORE,   RLIMIT_CPU,        RLIMIT_DATA,
                                RLIMIT_FSIZE,  RLIMIT_LOCKS,  RLIMIT_MEMLOCK,    RLIMIT_MSGQUEUE,
                                RLIMIT_NICE,   RLIMIT_NOFILE, RLIMIT_NPROC,      RLIMIT_RSS,
                                RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIMIT_SIGPENDING, RLIMIT_STACK};

// Whether berth's effective set has a capability (CapEff in /proc/self/status).
bool has_effective_cap(unsigned cap) {
    auto status = read_file("/proc/self/status");
    if (!status.ok()) return false;
    for (const auto& line : split(*status, '\n')) {
        if (!line.starts_with("CapEff:")) continue;
        auto v = parse_number<uint64_t>(trim(std::string_view(line).substr(7)), 16);
        return v && (*v >> cap & 1);
    }
    return false;
}
constexpr unsigned kCapSysResource = 24;

// -1 or "unlimited": RLIM_INFINITY.
std::optional<uint64_t> parse_rlimit_value(std::string_view v) {
    if (v == "-1" || v == "unlimited") return UINT64_MAX;
    return parse_number<uint64_t>(v);
}

Result<OJson> parse_ulimit(const std::string& text) {
    size_t eq = text.find('=');
    std::string name = text.substr(0, eq);
    size_t i = 0;
    while (i < std::size(kUlimits) && name != kUlimits[i].first) ++i;
    if (eq == std::string::npos || i == std::size(kUlimits)) {
        std::string names;
        for (const auto& u : kUlimits) names += std::string(names.empty() ? "" : ", ") + u.first;
        return Error(EINVAL) << "--ulimit `" << text << "`: want NAME=SOFT[:HARD] with NAME one of "
                             << names;
    }
    std::string value = text.substr(eq + 1);
    size_t colon = value.find(':');
    auto soft = parse_rlimit_value(value.substr(0, colon));
    auto hard = colon == std::string::npos ? soft : parse_rlimit_value(value.substr(colon + 1));
    if (!soft || !hard) {
        return Error(EINVAL) << "--ulimit `" << text << "`: want numbers (or -1 for unlimited)";
    }
    if (*soft > *hard) {
        return Error(EINVAL) << "--ulimit `" << text
                             << "`: the soft limit must not be above the hard limit";
    }
    struct rlimit own;
    if (::getrlimit(kUlimitResources[i], &own) == 0 && *hard > own.rlim_max &&
        !has_effective_cap(kCapSysResource)) {
        auto shown = [](uint64_t v) {
            return v == UINT64_MAX ? std::string("unlimited") : std::to_string(v);
        };
        return Error(EPERM) << "--ulimit `" << text << "`: the hard limit " << shown(*hard)
                            << " is above berth's own hard " << name << " limit "
                            << shown(own.rlim_max)
                            << ", and raising a hard limit needs CAP_SYS_RESOURCE, which berth "
                               "does not have";
    }
    return OJson{{"type", kUlimits[i].second}, {"hard", *hard}, {"soft", *soft}};
}

// docker's namespaced sysctls: the IPC namespace's and (with its own netns) the network's.
Result<std::pair<std::string, std::string>> parse_sysctl(const std::string& text, bool own_netns) {
    size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
        return Error(EINVAL) << "--sysctl `" << text << "`: want KEY=VALUE";
    }
    std::string key = text.substr(0, eq);
    std::replace(key.begin(), key.end(), '/', '.');
    bool ipc = key.starts_with("kernel.shm") || key.starts_with("kernel.msg") ||
               key == "kernel.sem" || key.starts_with("fs.mqueue.");
    bool net = key.starts_with("net.");
    if (key.find("..") != std::string::npos || key.back() == '.') ipc = net = false;
    if (net && !own_netns) {
        return Error(EINVAL) << "--sysctl `" << text << "`: `" << key
                             << "` needs the container's own network namespace (not with "
                                "--network host or container:)";
    }
    if (!ipc && !net) {
        return Error(EINVAL) << "--sysctl `" << text << "`: `" << key
                             << "` is not a namespaced sysctl: only kernel.shm*, kernel.msg*, "
                                "kernel.sem, fs.mqueue.* and net.* can be set for a container";
    }
    return std::pair{key, text.substr(eq + 1)};
}

void merge_into(OJson& dst, const OJson& src) {
    for (auto& [k, v] : src.items()) {
        if (v.is_object() && dst.contains(k) && dst[k].is_object()) {
            merge_into(dst[k], v);
        } else {
            dst[k] = v;
        }
    }
}

}  // namespace

Result<int64_t> cpus_to_quota(const std::string& text) {
    std::string_view t = trim(text);
    char* end = nullptr;
    std::string s(t);
    double cpus = std::strtod(s.c_str(), &end);
    unsigned n = host_cpus();
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(cpus) || cpus < 0) {
        return Error(EINVAL) << "--cpus `" << text << "`: want a positive number like 1.5";
    }
    int64_t nano = std::llround(cpus * 1e9);
    if (nano < 10'000'000 || nano > int64_t(n) * 1'000'000'000) {
        return Error(EINVAL) << "--cpus `" << text << "`: the range of CPUs is from 0.01 to " << n
                             << ".00, as there are only " << n << " CPUs available";
    }
    return nano * kCfsPeriod / 1'000'000'000;
}

Result<void> apply_resource_flags(const ResourceFlags& f, bool own_netns, OJson& spec) {
    OJson r = OJson::object();
    BERTH_TRY(common_resources(f, OJson::object(), false, r));
    if (f.oom_kill_disable) r["memory"]["disableOOMKiller"] = true;
    if (!f.blkio_weight_device.empty()) {
        OJson list = OJson::array();
        for (const auto& s : f.blkio_weight_device) {
            DeviceValue d = BERTH_TRY(parse_device_value("--blkio-weight-device", s));
            int64_t w = BERTH_TRY(blkio_weight("--blkio-weight-device", d.value));
            list.push_back({{"major", d.major}, {"minor", d.minor}, {"weight", w}});
        }
        r["blockIO"]["weightDevice"] = list;
    }
    const std::tuple<const char*, const std::vector<std::string>*, bool, const char*> throttles[] =
        {{"--device-read-bps", &f.device_read_bps, true, "throttleReadBpsDevice"},
         {"--device-write-bps", &f.device_write_bps, true, "throttleWriteBpsDevice"},
         {"--device-read-iops", &f.device_read_iops, false, "throttleReadIOPSDevice"},
         {"--device-write-iops", &f.device_write_iops, false, "throttleWriteIOPSDevice"}};
    for (const auto& [flag, specs, bytes, field] : throttles) {
        if (!specs->empty()) r["blockIO"][field] = BERTH_TRY(throttle_list(flag, *specs, bytes));
    }
    OJson& linux_obj = spec["linux"];
    if (!linux_obj.contains("resources")) linux_obj["resources"] = OJson::object();
    merge_into(linux_obj["resources"], r);

    OJson& process = spec["process"];
    if (f.oom_score_adj) {
        int adj = *f.oom_score_adj;
        if (adj < -1000 || adj > 1000) {
            return Error(EINVAL) << "--oom-score-adj `" << adj << "`: the range is -1000 to 1000";
        }
        // Below its own value a process may only go with CAP_SYS_RESOURCE.
        int own = 0;
        if (auto t = read_file("/proc/self/oom_score_adj"); t.ok()) {
            own = parse_number<int>(trim(*t)).value_or(0);
        }
        if (adj < own && !has_effective_cap(kCapSysResource)) {
            return Error(EPERM) << "--oom-score-adj `" << adj << "`: below berth's own " << own
                                << " it needs CAP_SYS_RESOURCE, which berth does not have";
        }
        process["oomScoreAdj"] = adj;
    }
    for (const auto& u : f.ulimits) {
        OJson rl = BERTH_TRY(parse_ulimit(u));
        OJson& list = process["rlimits"];
        if (!list.is_array()) list = OJson::array();
        for (auto it = list.begin(); it != list.end();) {
            it = (*it)["type"] == rl["type"] ? list.erase(it) : it + 1;
        }
        list.push_back(rl);
    }
    for (const auto& s : f.sysctls) {
        auto [key, value] = BERTH_TRY(parse_sysctl(s, own_netns));
        linux_obj["sysctl"][key] = value;
    }
    if (!f.shm_size.empty()) {
        int64_t size = BERTH_TRY(parse_bytes("--shm-size", f.shm_size));
        if (size <= 0) {
            return Error(EINVAL) << "--shm-size `" << f.shm_size << "`: must be greater than 0";
        }
        // Only the default /dev/shm: a --tmpfs or -v there says its own size.
        for (auto& m : spec["mounts"]) {
            if (m["destination"] != "/dev/shm" || m.value("source", "") != "shm") continue;
            OJson opts = OJson::array();
            for (const auto& o : m["options"]) {
                if (!o.get<std::string>().starts_with("size=")) opts.push_back(o);
            }
            opts.push_back("size=" + std::to_string(size));
            m["options"] = opts;
        }
    }
    return {};
}

Result<ResourceUpdate> update_resources(const ResourceFlags& f, const OJson& current) {
    if (f.oom_kill_disable || f.oom_score_adj || !f.blkio_weight_device.empty() ||
        !f.device_read_bps.empty() || !f.device_write_bps.empty() || !f.device_read_iops.empty() ||
        !f.device_write_iops.empty() || !f.shm_size.empty() || !f.ulimits.empty() ||
        !f.sysctls.empty()) {
        return Error(EINVAL) << "update: only --cpus, --cpu-shares, --cpu-period, --cpu-quota, "
                                "--cpuset-cpus, --cpuset-mems, --memory, --memory-swap, "
                                "--memory-reservation, --pids-limit and --blkio-weight can be "
                                "changed";
    }
    OJson cur = current.is_object() ? current : OJson::object();
    ResourceUpdate u;
    u.changed = OJson::object();
    BERTH_TRY(common_resources(f, cur, true, u.changed));
    if (u.changed.empty()) {
        return Error(EINVAL) << "update: give at least one flag to change (--memory, --cpus...)";
    }
    // --cpus replaces a quota and period set before; a new period alone keeps the quota.
    u.merged = cur;
    merge_into(u.merged, u.changed);
    return u;
}

nlohmann::json host_config_resources(const std::string& spec_text) {
    using Json = nlohmann::json;
    Json spec = Json::parse(spec_text, nullptr, false);
    Json out = Json::object();
    if (!spec.is_object()) return out;
    Json linux_obj = spec.value("linux", Json::object());
    Json r = linux_obj.value("resources", Json::object());
    Json mem = r.value("memory", Json::object());
    Json cpu = r.value("cpu", Json::object());
    Json blk = r.value("blockIO", Json::object());
    auto num = [](const Json& o, const char* k) -> int64_t {
        auto it = o.find(k);
        return it != o.end() && it->is_number() ? it->get<int64_t>() : 0;
    };
    out["Memory"] = num(mem, "limit");
    out["MemorySwap"] = num(mem, "swap");
    out["MemoryReservation"] = num(mem, "reservation");
    out["OomKillDisable"] = mem.value("disableOOMKiller", false);
    int64_t quota = num(cpu, "quota"), period = num(cpu, "period");
    out["NanoCpus"] = quota > 0 && period > 0 ? quota * 1'000'000'000 / period : 0;
    out["CpuShares"] = num(cpu, "shares");
    out["CpuPeriod"] = period;
    out["CpuQuota"] = quota;
    out["CpusetCpus"] = cpu.value("cpus", "");
    out["CpusetMems"] = cpu.value("mems", "");
    out["PidsLimit"] = r.contains("pids") ? num(r["pids"], "limit") : 0;
    out["BlkioWeight"] = num(blk, "weight");
    auto devices = [&](const char* field, const char* value_key, const char* name) {
        Json list = Json::array();
        for (const auto& d : blk.value(field, Json::array())) {
            list.push_back(
                {{"Path", std::to_string(num(d, "major")) + ":" + std::to_string(num(d, "minor"))},
                 {name, num(d, value_key)}});
        }
        return list;
    };
    out["BlkioWeightDevice"] = devices("weightDevice", "weight", "Weight");
    out["BlkioDeviceReadBps"] = devices("throttleReadBpsDevice", "rate", "Rate");
    out["BlkioDeviceWriteBps"] = devices("throttleWriteBpsDevice", "rate", "Rate");
    out["BlkioDeviceReadIOps"] = devices("throttleReadIOPSDevice", "rate", "Rate");
    out["BlkioDeviceWriteIOps"] = devices("throttleWriteIOPSDevice", "rate", "Rate");
    Json process = spec.value("process", Json::object());
    out["OomScoreAdj"] = num(process, "oomScoreAdj");
    Json ulimits = Json::array();
    for (const auto& rl : process.value("rlimits", Json::array())) {
        std::string type = rl.value("type", "");
        std::string name = type.starts_with("RLIMIT_") ? type.substr(7) : type;
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return char(std::tolower(c)); });
        auto value = [&](const char* k) -> Json {
            uint64_t v = rl.value(k, uint64_t(0));
            return v == UINT64_MAX ? Json(-1) : Json(v);
        };
        ulimits.push_back({{"Name", name}, {"Soft", value("soft")}, {"Hard", value("hard")}});
    }
    out["Ulimits"] = ulimits;
    out["Sysctls"] = linux_obj.value("sysctl", Json::object());
    int64_t shm = 0;
    for (const auto& m : spec.value("mounts", Json::array())) {
        if (m.value("destination", "") != "/dev/shm") continue;
        for (const auto& o : m.value("options", Json::array())) {
            std::string opt = o.is_string() ? o.get<std::string>() : "";
            if (!opt.starts_with("size=")) continue;
            if (auto b = parse_bytes("size", opt.substr(5)); b.ok()) shm = *b;
        }
    }
    out["ShmSize"] = shm;
    return out;
}

}  // namespace berth::engine
