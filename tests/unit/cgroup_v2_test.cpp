// The unified (cgroup2) manager against a fake tree.
#include <gtest/gtest.h>

#include "unit/cgroup_fake_tree.h"

namespace berth::cgroup {
namespace {

using testing::FakeTree;

// A unified tree with the container's leaf at <root>/<rel>, holding the files a 6.x kernel
// creates there once the controllers are enabled above it.
struct V2Fixture {
    FakeTree t;
    std::unique_ptr<Manager> m;

    explicit V2Fixture(const std::string& cgroups_path = "/pod/ctr",
                       const std::string& rel = "pod/ctr") {
        t.unified();
        t.files("pod", {{"cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc"},
                        {"cgroup.subtree_control", ""}});
        t.files(rel, {{"cgroup.procs", ""},
                      {"cgroup.freeze", "0"},
                      {"cgroup.events", "populated 0\nfrozen 0\n"},
                      {"cgroup.kill", ""},
                      {"cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc"},
                      {"cpu.weight", "100"},
                      {"cpu.max", "max 100000"},
                      {"cpu.max.burst", "0"},
                      {"cpu.idle", "0"},
                      {"cpuset.cpus", ""},
                      {"cpuset.mems", ""},
                      {"memory.max", "max"},
                      {"memory.low", "0"},
                      {"memory.high", "max"},
                      {"memory.swap.max", "max"},
                      {"memory.current", "0"},
                      {"pids.max", "max"},
                      {"io.weight", "default 100"},
                      {"io.max", ""},
                      {"hugetlb.2MB.max", "max"},
                      {"hugetlb.1GB.max", "max"},
                      {"rdma.max", ""}});
        auto r = open(t.options(cgroups_path));
        EXPECT_TRUE(r.ok()) << r.error().what();
        if (r.ok()) m = std::move(*r);
    }
};

TEST(CgroupV2, CreateEnablesControllersDownToTheLeafParent) {
    FakeTree t;
    t.unified();
    auto m = open(t.options("/a/b/c"));
    ASSERT_TRUE(m.ok()) << m.error().what();
    // mkdir on a real kernel creates cgroup.controllers; the fake needs it laid out first.
    t.file("a/cgroup.controllers", "cpu memory pids");
    t.file("a/cgroup.subtree_control", "");
    t.file("a/b/cgroup.controllers", "cpu memory pids");
    t.file("a/b/cgroup.subtree_control", "memory");
    CG_ASSERT_OK((*m)->create());
    EXPECT_TRUE(is_directory(t.path("a/b/c")));
    EXPECT_EQ(t.read("cgroup.subtree_control"),
              "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc");
    EXPECT_EQ(t.read("a/cgroup.subtree_control"), "+cpu +memory +pids");
    EXPECT_EQ(t.read("a/b/cgroup.subtree_control"), "+cpu +pids");  // memory was on already
    EXPECT_FALSE(t.exists("a/b/c/cgroup.subtree_control"));         // never the leaf
}

TEST(CgroupV2, EnableFallsBackToOneControllerAtATime) {
    FakeTree t;
    t.unified();
    t.fail["cgroup.subtree_control"] = {EINVAL, EINVAL};  // the combined write, then "+cpuset"
    auto m = open(t.options("/a"));
    ASSERT_TRUE(m.ok());
    CG_ASSERT_OK((*m)->create());
    auto w = t.writes_to("cgroup.subtree_control");
    ASSERT_EQ(w.size(), 9u);
    EXPECT_EQ(w[1], "+cpuset");
    EXPECT_EQ(t.read("cgroup.subtree_control"), "+misc");  // the fake keeps the last write
}

TEST(CgroupV2, MemorySwapIsSwapOnly) {
    V2Fixture f;
    oci::Resources r;
    r.memory.emplace();
    r.memory->limit = 256 << 20;
    r.memory->swap = 768 << 20;
    r.memory->reservation = 128 << 20;
    CG_ASSERT_OK(f.m->apply(r));
    EXPECT_EQ(f.t.read("pod/ctr/memory.max"), std::to_string(256 << 20));
    EXPECT_EQ(f.t.read("pod/ctr/memory.swap.max"), std::to_string(512 << 20));
    EXPECT_EQ(f.t.read("pod/ctr/memory.low"), std::to_string(128 << 20));
    r.memory = oci::MemoryResources{};
    r.memory->limit = -1;
    CG_ASSERT_OK(f.m->apply(r));
    EXPECT_EQ(f.t.read("pod/ctr/memory.max"), "max");
    EXPECT_EQ(f.t.read("pod/ctr/memory.swap.max"), "max");
}

TEST(CgroupV2, SwapWithoutSwapAccounting) {
    V2Fixture f;
    ASSERT_TRUE(remove_all(f.t.path("pod/ctr/memory.swap.max")).ok());
    oci::Resources r;
    r.memory.emplace();
    r.memory->limit = 100;
    r.memory->swap = 100;  // no swap: fine
    CG_EXPECT_OK(f.m->apply(r));
    r.memory->swap = 300;
    auto res = f.m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message().rfind("linux.resources.memory.swap: ", 0), 0u);
}

TEST(CgroupV2, CpuWeightMaxBurst) {
    V2Fixture f;
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->shares = 1024;
    r.cpu->quota = 50000;
    r.cpu->period = 100000;
    r.cpu->burst = 10000;
    r.cpu->cpus = "0-1";
    r.cpu->mems = "0";
    CG_ASSERT_OK(f.m->apply(r));
    EXPECT_EQ(f.t.read("pod/ctr/cpu.weight"), "100");
    EXPECT_EQ(f.t.read("pod/ctr/cpu.max"), "50000 100000");
    EXPECT_EQ(f.t.read("pod/ctr/cpu.max.burst"), "10000");
    EXPECT_EQ(f.t.read("pod/ctr/cpuset.cpus"), "0-1");
    EXPECT_EQ(f.t.read("pod/ctr/cpuset.mems"), "0");

    r.cpu = oci::CpuResources{};
    r.cpu->shares = 2000;
    r.cpu->period = 50000;  // period alone keeps the quota
    CG_ASSERT_OK(f.m->apply(r));
    EXPECT_EQ(f.t.read("pod/ctr/cpu.weight"), "170");
    EXPECT_EQ(f.t.read("pod/ctr/cpu.max"), "50000 50000");

    r.cpu = oci::CpuResources{};
    r.cpu->quota = -1;  // unlimited, period untouched
    CG_ASSERT_OK(f.m->apply(r));
    EXPECT_EQ(f.t.read("pod/ctr/cpu.max"), "max");
}

TEST(CgroupV2, BurstAboveOldQuotaIsRetriedAfterCpuMax) {
    V2Fixture f;
    f.t.fail["cpu.max.burst"] = {EINVAL};
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->quota = 200000;
    r.cpu->burst = 150000;
    CG_ASSERT_OK(f.m->apply(r));
    EXPECT_EQ(f.t.writes_to("pod/ctr/cpu.max.burst").size(), 2u);
    EXPECT_LT(f.t.write_index("pod/ctr/cpu.max"), static_cast<int>(f.t.writes.size()) - 1);
    EXPECT_EQ(f.t.writes.back().first, "pod/ctr/cpu.max.burst");
}

TEST(CgroupV2, RealtimeIsRefused) {
    V2Fixture f;
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->realtime_runtime = 1000;
    auto res = f.m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message().rfind("linux.resources.cpu.realtimeRuntime: ", 0), 0u);
}

TEST(CgroupV2, PidsIoHugetlbRdmaUnified) {
    V2Fixture f;
    oci::Resources r;
    r.pids_limit = -1;
    r.block_io.emplace();
    r.block_io->weight = 500;
    r.block_io->throttle_read_bps.push_back({8, 0, 1000});
    r.block_io->throttle_write_iops.push_back({8, 0, 0});
    r.hugepage_limits.push_back({"2MB", 1 << 22});
    r.rdma["mlx5_0"] = {10, std::nullopt};
    r.unified["memory.high"] = "50M";
    CG_ASSERT_OK(f.m->apply(r));
    EXPECT_EQ(f.t.read("pod/ctr/pids.max"), "max");
    EXPECT_EQ(f.t.read("pod/ctr/io.weight"), "4950");
    EXPECT_EQ(f.t.writes_to("pod/ctr/io.max"),
              (std::vector<std::string>{"8:0 rbps=1000", "8:0 wiops=max"}));
    EXPECT_EQ(f.t.read("pod/ctr/hugetlb.2MB.max"), std::to_string(1 << 22));
    EXPECT_EQ(f.t.read("pod/ctr/rdma.max"), "mlx5_0 hca_handle=10");
    EXPECT_EQ(f.t.read("pod/ctr/memory.high"), "50M");
}

TEST(CgroupV2, UnifiedKeyOverridesAndUnknownKeyIsNamed) {
    V2Fixture f;
    oci::Resources r;
    r.pids_limit = 10;
    r.unified["pids.max"] = "20";
    CG_ASSERT_OK(f.m->apply(r));
    EXPECT_EQ(f.t.read("pod/ctr/pids.max"), "20");
    r = {};
    r.unified["bogus.file"] = "1";
    auto res = f.m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message().rfind("linux.resources.unified[\"bogus.file\"]: ", 0), 0u);
}

TEST(CgroupV2, BadDeviceRuleAndNetworkAreRefused) {
    V2Fixture f;
    oci::Resources r;
    r.devices.push_back({true, "x", 1, 1, "r"});
    auto res = f.m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message(), "linux.resources.devices[0].type: `x` is not a, b or c");
    r = {};
    r.network.emplace();
    r.network->class_id = 1;
    res = f.m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message().rfind("linux.resources.network", 0), 0u);
}

TEST(CgroupV2, FreezeWaitsForEvents) {
    V2Fixture f;
    // The fake kernel reports frozen at once.
    f.t.file("pod/ctr/cgroup.events", "populated 1\nfrozen 1\n");
    CG_ASSERT_OK(f.m->freeze());
    EXPECT_EQ(f.t.read("pod/ctr/cgroup.freeze"), "1");
    EXPECT_TRUE(*f.m->frozen());
    f.t.file("pod/ctr/cgroup.events", "populated 1\nfrozen 0\n");
    CG_ASSERT_OK(f.m->thaw());
    EXPECT_EQ(f.t.read("pod/ctr/cgroup.freeze"), "0");
    EXPECT_FALSE(*f.m->frozen());
}

TEST(CgroupV2, Stats) {
    V2Fixture f;
    f.t.files("pod/ctr",
              {{"cpu.stat",
                "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 5\n"
                "nr_throttled 2\nthrottled_usec 40\n"},
               {"memory.current", "10000\n"},
               {"memory.peak", "12000\n"},
               {"memory.max", "max\n"},
               {"memory.stat", "anon 6000\nfile 3000\ninactive_file 2500\nactive_file 500\n"},
               {"memory.events", "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n"},
               {"memory.swap.current", "100\n"},
               {"pids.current", "3\n"},
               {"pids.max", "42\n"},
               {"io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"},
               {"hugetlb.2MB.current", "2097152\n"}});
    auto s = f.m->stats();
    ASSERT_TRUE(s.ok()) << s.error().what();
    EXPECT_EQ(s->cpu.usage_total_ns, 3000000u);
    EXPECT_EQ(s->cpu.usage_user_ns, 2000000u);
    EXPECT_EQ(s->cpu.throttled_time_ns, 40000u);
    EXPECT_EQ(s->memory.usage, 10000u);
    EXPECT_EQ(s->memory.max_usage, 12000u);
    EXPECT_EQ(s->memory.limit, UINT64_MAX);
    EXPECT_EQ(s->memory.rss, 6000u);
    EXPECT_EQ(s->memory.cache, 3000u);
    EXPECT_EQ(s->memory.working_set, 7500u);
    EXPECT_EQ(s->memory.oom_kill, 1u);
    EXPECT_EQ(s->memory.failcnt, 7u);
    EXPECT_EQ(s->memory.swap_usage, 10100u);
    EXPECT_EQ(s->memory.swap_limit, UINT64_MAX);
    EXPECT_EQ(s->pids.current, 3u);
    EXPECT_EQ(s->pids.limit, 42u);
    ASSERT_EQ(s->blkio.io_service_bytes.size(), 4u);
    EXPECT_EQ(s->blkio.io_service_bytes[3].value, 30u);
    EXPECT_EQ(s->hugetlb.at("2MB").usage, 2097152u);
    EXPECT_EQ(s->hugetlb.count("1GB"), 1u);
}

TEST(CgroupV2, DestroyKillsThenRemoves) {
    V2Fixture f("", "berth/c1");
    f.t.file("berth/c1/sub/cgroup.procs", "");
    CG_ASSERT_OK(f.m->destroy());
    EXPECT_EQ(f.t.writes_to("berth/c1/cgroup.kill"), std::vector<std::string>{"1"});
    EXPECT_FALSE(f.t.exists("berth/c1"));
    EXPECT_FALSE(f.t.exists("berth"));
    CG_EXPECT_OK(f.m->destroy());
}

TEST(CgroupV2, RelativePathIsBelowOwnCgroup) {
    FakeTree t;
    t.set_own_cgroup("/user.slice/me");
    t.unified();
    auto m = open(t.options("ctr"));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ((*m)->paths().front(), t.path("user.slice/me/ctr"));
}

}  // namespace
}  // namespace berth::cgroup
