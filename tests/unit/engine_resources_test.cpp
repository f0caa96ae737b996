// docker's resource flags turned into config.json (engine/resources.h), `berth update`'s merge
// and checks, inspect's HostConfig view, and the stats helpers (engine/stats.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/resources.h"
#include "engine/stats.h"

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;

OJson base_spec() {
    return OJson::parse(R"({
        "process": {"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
        "mounts": [{"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                    "options": ["nosuid", "mode=1777", "size=65536k"]}],
        "linux": {"resources": {"devices": [{"allow": false, "access": "rwm"}]}}
    })");
}

Result<OJson> apply(const ResourceFlags& f, bool own_netns = true) {
    OJson spec = base_spec();
    BERTH_TRY(apply_resource_flags(f, own_netns, spec));
    return spec;
}

// The error's text, or "" when it succeeded.
template <typename T>
std::string error_of(const Result<T>& r) {
    return r.ok() ? "" : r.error().what();
}

TEST(EngineResources, CpuMemoryPids) {
    ResourceFlags f;
    f.memory = "64m";
    f.memory_swap = "128m";
    f.memory_reservation = "32m";
    f.cpus = "0.5";
    f.cpu_shares = "1";  // clamped to the kernel's minimum
    f.cpuset_cpus = "0";
    f.pids_limit = 0;  // docker: unlimited
    f.oom_kill_disable = true;
    f.blkio_weight = "300";
    auto spec = apply(f);
    ASSERT_TRUE(spec.ok()) << spec.error().what();
    const OJson& r = (*spec)["linux"]["resources"];
    EXPECT_EQ(r["memory"]["limit"], 64 << 20);
    EXPECT_EQ(r["memory"]["swap"], 128 << 20);
    EXPECT_EQ(r["memory"]["reservation"], 32 << 20);
    EXPECT_EQ(r["memory"]["disableOOMKiller"], true);
    EXPECT_EQ(r["cpu"]["quota"], 50000);
    EXPECT_EQ(r["cpu"]["period"], 100000);
    EXPECT_EQ(r["cpu"]["shares"], 2);
    EXPECT_EQ(r["cpu"]["cpus"], "0");
    EXPECT_EQ(r["pids"]["limit"], -1);
    EXPECT_EQ(r["blockIO"]["weight"], 300);
    EXPECT_EQ(r["devices"][0]["allow"], false);  // what was there stays
}

TEST(EngineResources, ProcessSysctlShm) {
    ResourceFlags f;
    f.ulimits = {"nofile=100:200", "core=0"};
    f.sysctls = {"kernel.msgmax=4096", "net/ipv4/ip_forward=1"};
    f.shm_size = "1g";
    f.oom_score_adj = 100;
    auto spec = apply(f);
    ASSERT_TRUE(spec.ok()) << spec.error().what();
    const OJson& rl = (*spec)["process"]["rlimits"];
    ASSERT_EQ(rl.size(), 2u);  // nofile replaced, core added
    EXPECT_EQ(rl[0]["type"], "RLIMIT_NOFILE");
    EXPECT_EQ(rl[0]["soft"], 100);
    EXPECT_EQ(rl[0]["hard"], 200);
    EXPECT_EQ(rl[1]["hard"], 0);
    EXPECT_EQ((*spec)["process"]["oomScoreAdj"], 100);
    EXPECT_EQ((*spec)["linux"]["sysctl"]["kernel.msgmax"], "4096");
    EXPECT_EQ((*spec)["linux"]["sysctl"]["net.ipv4.ip_forward"], "1");
    EXPECT_EQ((*spec)["mounts"][0]["options"].back(), "size=1073741824");

    auto hc = host_config_resources(spec->dump());
    EXPECT_EQ(hc["ShmSize"], int64_t(1) << 30);
    EXPECT_EQ(hc["OomScoreAdj"], 100);
    EXPECT_EQ(hc["Ulimits"][1]["Name"], "core");
    EXPECT_EQ(hc["Ulimits"][1]["Hard"], 0);
    EXPECT_EQ(hc["Sysctls"]["kernel.msgmax"], "4096");
}

TEST(EngineResources, ErrorsNameTheFlag) {
    auto fails = [](auto set, const char* flag, bool own_netns = true) {
        ResourceFlags f;
        set(f);
        std::string e = error_of(apply(f, own_netns));
        EXPECT_NE(e.find(flag), std::string::npos) << flag << ": `" << e << "`";
    };
    fails([](ResourceFlags& f) { f.memory = "1k"; }, "--memory");
    fails([](ResourceFlags& f) { f.memory_swap = "64m"; }, "--memory-swap");
    fails(
        [](ResourceFlags& f) {
            f.memory = "64m";
            f.memory_swap = "32m";
        },
        "--memory-swap");
    fails(
        [](ResourceFlags& f) {
            f.memory = "64m";
            f.memory_reservation = "65m";
        },
        "--memory-reservation");
    fails([](ResourceFlags& f) { f.cpus = "0.001"; }, "--cpus");
    fails([](ResourceFlags& f) { f.cpus = "100000"; }, "--cpus");
    fails(
        [](ResourceFlags& f) {
            f.cpus = "0.5";
            f.cpu_period = "50000";
        },
        "--cpu-period");
    fails([](ResourceFlags& f) { f.cpu_quota = "999"; }, "--cpu-quota");
    fails([](ResourceFlags& f) { f.cpu_period = "2000000"; }, "--cpu-period");
    fails([](ResourceFlags& f) { f.cpu_shares = "-1"; }, "--cpu-shares");
    fails([](ResourceFlags& f) { f.cpuset_cpus = "4096"; }, "--cpuset-cpus");
    fails([](ResourceFlags& f) { f.cpuset_cpus = "1-0"; }, "--cpuset-cpus");
    fails([](ResourceFlags& f) { f.blkio_weight = "1001"; }, "--blkio-weight");
    fails([](ResourceFlags& f) { f.blkio_weight_device = {"/dev/null:100"}; },
          "--blkio-weight-device");
    fails([](ResourceFlags& f) { f.device_read_bps = {"nodevice"}; }, "--device-read-bps");
    fails([](ResourceFlags& f) { f.oom_score_adj = 1001; }, "--oom-score-adj");
    fails([](ResourceFlags& f) { f.shm_size = "0"; }, "--shm-size");
    fails([](ResourceFlags& f) { f.ulimits = {"nofile=2:1"}; }, "--ulimit");
    fails([](ResourceFlags& f) { f.ulimits = {"files=2"}; }, "--ulimit");
    fails([](ResourceFlags& f) { f.sysctls = {"kernel.pid_max=10"}; }, "kernel.pid_max");
    fails([](ResourceFlags& f) { f.sysctls = {"net.ipv4.ip_forward=1"}; }, "--sysctl", false);
}

TEST(EngineResources, Update) {
    OJson current = OJson::parse(R"({"memory": {"limit": 67108864, "swap": 134217728},
                                     "cpu": {"shares": 512}, "pids": {"limit": 10}})");
    ResourceFlags f;
    f.memory = "96m";
    f.cpus = "0.5";
    auto u = update_resources(f, current);
    ASSERT_TRUE(u.ok()) << u.error().what();
    EXPECT_EQ(u->changed["memory"], OJson({{"limit", 96 << 20}}));  // swap untouched
    EXPECT_EQ(u->merged["memory"]["swap"], 128 << 20);
    EXPECT_EQ(u->merged["cpu"]["shares"], 512);
    EXPECT_EQ(u->merged["cpu"]["quota"], 50000);
    EXPECT_EQ(u->merged["pids"]["limit"], 10);

    f.memory = "200m";  // above memory+swap
    EXPECT_NE(error_of(update_resources(f, current)).find("--memory-swap"), std::string::npos);
    f.memory_swap = "400m";
    EXPECT_TRUE(update_resources(f, current).ok());

    ResourceFlags none;
    EXPECT_FALSE(update_resources(none, current).ok());
    ResourceFlags shm;
    shm.shm_size = "1g";  // not something update changes
    EXPECT_FALSE(update_resources(shm, current).ok());
}

TEST(EngineStats, Helpers) {
    uint64_t rx = 0, tx = 0;
    parse_net_dev(
        "Inter-|   Receive                            |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n"
        "    lo:    500       5    0    0    0     0          0         0      500       5 0 0 "
        "0 0 0 0\n"
        "  eth0:   1000      10    0    0    0     0          0         0     2000      20 0 0 "
        "0 0 0 0\n",
        rx, tx);
    EXPECT_EQ(rx, 1000u);
    EXPECT_EQ(tx, 2000u);
    EXPECT_EQ(binary_size(64.0 * 1024 * 1024), "64MiB");
    EXPECT_EQ(binary_size(192512), "188KiB");
    EXPECT_EQ(decimal_size(0), "0B");
    EXPECT_EQ(decimal_size(1234567), "1.23MB");

    StatsSample a, b;
    a.live = b.live = true;
    a.when_ns = 1'000'000'000;
    b.when_ns = 2'000'000'000;
    a.cg.cpu.usage_total_ns = 0;
    b.cg.cpu.usage_total_ns = 500'000'000;
    b.cg.memory.limit = 64 << 20;
    b.cg.memory.working_set = 16 << 20;
    b.host_memory = uint64_t(1) << 34;
    auto j = stats_json(std::string(64, 'a'), "c", &a, b);
    EXPECT_EQ(j["CPUPerc"], "50.00%");
    EXPECT_EQ(j["MemUsage"], "16MiB / 64MiB");
    EXPECT_EQ(j["MemPerc"], "25.00%");
    EXPECT_EQ(j["ID"], std::string(12, 'a'));
}

}  // namespace
}  // namespace berth::engine
