// The v1 manager (Legacy and Hybrid) against fake trees.
#include <gtest/gtest.h>

#include "unit/cgroup_fake_tree.h"

namespace berth::cgroup {
namespace {

using testing::FakeTree;

std::unique_ptr<Manager> open_ok(FakeTree& t, const std::string& path,
                                 const std::string& id = "c1") {
    auto m = open(t.options(path, id));
    EXPECT_TRUE(m.ok()) << m.error().what();
    return m.ok() ? std::move(*m) : nullptr;
}

oci::Resources memory(std::optional<int64_t> limit, std::optional<int64_t> swap) {
    oci::Resources r;
    r.memory.emplace();
    r.memory->limit = limit;
    r.memory->swap = swap;
    return r;
}

TEST(CgroupV1, CreateFillsEmptyCpusetsTopDown) {
    FakeTree t;
    t.legacy();
    t.files("cpuset/a", {{"cpuset.cpus", "1\n"}, {"cpuset.mems", ""}});
    t.files("cpuset/a/b", {{"cpuset.cpus", ""}, {"cpuset.mems", ""}});
    auto m = open_ok(t, "/a/b");
    CG_ASSERT_OK(m->create());
    EXPECT_EQ(t.read("cpuset/a/cpuset.cpus"), "1");  // set already: kept
    EXPECT_EQ(t.read("cpuset/a/cpuset.mems"), "0");
    EXPECT_EQ(t.read("cpuset/a/b/cpuset.cpus"), "1");
    EXPECT_EQ(t.read("cpuset/a/b/cpuset.mems"), "0");
    for (auto& d : m->paths()) EXPECT_TRUE(is_directory(d)) << d;
    CG_EXPECT_OK(m->create());  // idempotent
}

TEST(CgroupV1, AddProcessJoinsEveryHierarchyIncludingUnified) {
    FakeTree t;
    t.hybrid();
    t.populate_v1_leaf("x");
    t.file("unified/x/cgroup.procs", "");
    auto m = open_ok(t, "/x");
    CG_ASSERT_OK(m->create());
    CG_ASSERT_OK(m->add_process(4242));
    for (const char* d : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
                          "pids", "systemd", "unified"})
        EXPECT_EQ(t.read(std::string(d) + "/x/cgroup.procs"), "4242") << d;
}

TEST(CgroupV1, MemoryRaisingSwapAboveCurrentLimitWritesMemswFirst) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    t.file("memory/x/memory.limit_in_bytes", "1048576");
    auto m = open_ok(t, "/x");
    CG_ASSERT_OK(m->apply(memory(100 << 20, 200 << 20)));
    EXPECT_LT(t.write_index("memory/x/memory.memsw.limit_in_bytes"),
              t.write_index("memory/x/memory.limit_in_bytes"));
    EXPECT_EQ(t.read("memory/x/memory.limit_in_bytes"), std::to_string(100 << 20));
    EXPECT_EQ(t.read("memory/x/memory.memsw.limit_in_bytes"), std::to_string(200 << 20));
}

TEST(CgroupV1, MemoryLoweringWritesLimitFirst) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");  // current limit: unlimited
    auto m = open_ok(t, "/x");
    CG_ASSERT_OK(m->apply(memory(100 << 20, 200 << 20)));
    EXPECT_LT(t.write_index("memory/x/memory.limit_in_bytes"),
              t.write_index("memory/x/memory.memsw.limit_in_bytes"));
}

TEST(CgroupV1, MemoryUnlimitedWritesMemswFirst) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    t.file("memory/x/memory.limit_in_bytes", "1048576");
    auto m = open_ok(t, "/x");
    CG_ASSERT_OK(m->apply(memory(-1, std::nullopt)));  // swap follows: unlimited
    EXPECT_EQ(t.writes_to("memory/x/memory.memsw.limit_in_bytes"), std::vector<std::string>{"-1"});
    EXPECT_LT(t.write_index("memory/x/memory.memsw.limit_in_bytes"),
              t.write_index("memory/x/memory.limit_in_bytes"));
}

TEST(CgroupV1, SwapWithoutSwapAccounting) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x", /*memsw=*/false);
    auto m = open_ok(t, "/x");
    auto r = m->apply(memory(100, 200));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message().rfind("linux.resources.memory.swap: ", 0), 0u)
        << r.error().message();
    // Asking for no swap beyond memory, or for unlimited, needs no memsw file.
    CG_EXPECT_OK(m->apply(memory(100, 100)));
    CG_EXPECT_OK(m->apply(memory(100, -1)));
    CG_EXPECT_OK(m->apply(memory(-1, std::nullopt)));
    EXPECT_TRUE(t.writes_to("memory/x/memory.memsw.limit_in_bytes").empty());
}

TEST(CgroupV1, KernelRefusalNamesFieldAndFile) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    t.fail["memory.limit_in_bytes"] = {EBUSY};
    auto m = open_ok(t, "/x");
    auto r = m->apply(memory(4096, std::nullopt));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EBUSY);
    EXPECT_EQ(r.error().what(),
              "linux.resources.memory.limit: write memory.limit_in_bytes: Device or resource busy");
}

TEST(CgroupV1, MissingControlFileIsAnErrorNamingTheField) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    auto m = open_ok(t, "/x");
    oci::Resources r;
    r.block_io.emplace();
    r.block_io->leaf_weight = 100;  // CFQ only: no blkio.leaf_weight here
    auto res = m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().errno_value(), ENOENT);
    EXPECT_EQ(res.error().message(), "linux.resources.blockIO.leafWeight: write blkio.leaf_weight");
}

TEST(CgroupV1, MemoryOtherFields) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    auto m = open_ok(t, "/x");
    oci::Resources r;
    r.memory.emplace();
    r.memory->reservation = 1 << 20;
    r.memory->swappiness = 10;
    r.memory->disable_oom_killer = true;
    r.memory->kernel = 1 << 20;  // ignored with a warning
    r.memory->kernel_tcp = 2 << 20;
    CG_ASSERT_OK(m->apply(r));
    EXPECT_EQ(t.read("memory/x/memory.soft_limit_in_bytes"), std::to_string(1 << 20));
    EXPECT_EQ(t.read("memory/x/memory.swappiness"), "10");
    EXPECT_EQ(t.read("memory/x/memory.oom_control"), "1");
    EXPECT_EQ(t.read("memory/x/memory.kmem.tcp.limit_in_bytes"), std::to_string(2 << 20));
    EXPECT_FALSE(t.exists("memory/x/memory.kmem.limit_in_bytes"));
    r.memory->swappiness = 101;
    auto bad = m->apply(r);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message().rfind("linux.resources.memory.swappiness", 0), 0u);
}

TEST(CgroupV1, CpuQuotaAndPeriod) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    auto m = open_ok(t, "/x");
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->shares = 512;
    r.cpu->quota = 50000;
    r.cpu->period = 200000;
    r.cpu->burst = 1000;
    r.cpu->idle = true;
    CG_ASSERT_OK(m->apply(r));
    EXPECT_EQ(t.read("cpu/x/cpu.shares"), "512");
    EXPECT_EQ(t.read("cpu/x/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(t.read("cpu/x/cpu.cfs_period_us"), "200000");
    EXPECT_EQ(t.read("cpu/x/cpu.cfs_burst_us"), "1000");
    EXPECT_EQ(t.read("cpu/x/cpu.idle"), "1");
}

TEST(CgroupV1, CpuPeriodRefusedUntilQuotaIsInIsRetried) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    t.fail["cpu.cfs_period_us"] = {EINVAL};
    t.fail["cpu.cfs_burst_us"] = {EINVAL};
    auto m = open_ok(t, "/x");
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->quota = 10000;
    r.cpu->period = 20000;
    r.cpu->burst = 5000;
    CG_ASSERT_OK(m->apply(r));
    std::vector<std::string> order;
    for (auto& [p, v] : t.writes) order.push_back(p.substr(p.rfind('/') + 1) + "=" + v);
    EXPECT_EQ(order, (std::vector<std::string>{"cpu.cfs_period_us=20000", "cpu.cfs_burst_us=5000",
                                               "cpu.cfs_quota_us=10000", "cpu.cfs_period_us=20000",
                                               "cpu.cfs_burst_us=5000"}));
    // Without a quota to write, the refusal is final.
    t.fail["cpu.cfs_period_us"] = {EINVAL};
    r.cpu->quota.reset();
    r.cpu->burst.reset();
    auto res = m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message(), "linux.resources.cpu.period: write cpu.cfs_period_us");
}

TEST(CgroupV1, RealtimeRuntimeAndPeriod) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    t.fail["cpu.rt_period_us"] = {EINVAL};
    auto m = open_ok(t, "/x");
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->realtime_runtime = 950000;
    r.cpu->realtime_period = 1000000;
    CG_ASSERT_OK(m->apply(r));
    EXPECT_EQ(t.writes_to("cpu/x/cpu.rt_period_us").size(), 2u);
    EXPECT_EQ(t.read("cpu/x/cpu.rt_runtime_us"), "950000");
}

TEST(CgroupV1, CpusetPidsBlkio) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    t.files("cpuset/x", {{"cpuset.cpus", ""}, {"cpuset.mems", ""}});
    auto m = open_ok(t, "/x");
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->cpus = "0";
    r.cpu->mems = "0";
    r.pids_limit = 0;
    r.block_io.emplace();
    r.block_io->weight = 300;
    r.block_io->weight_device.push_back({8, 0, 200, std::nullopt});
    r.block_io->throttle_read_bps.push_back({8, 0, 1048576});
    r.block_io->throttle_write_iops.push_back({8, 16, 100});
    CG_ASSERT_OK(m->apply(r));
    EXPECT_EQ(t.read("cpuset/x/cpuset.cpus"), "0");
    EXPECT_EQ(t.read("pids/x/pids.max"), "max");
    EXPECT_EQ(t.read("blkio/x/blkio.bfq.weight"), "300");
    EXPECT_EQ(t.read("blkio/x/blkio.bfq.weight_device"), "8:0 200");
    EXPECT_EQ(t.read("blkio/x/blkio.throttle.read_bps_device"), "8:0 1048576");
    EXPECT_EQ(t.read("blkio/x/blkio.throttle.write_iops_device"), "8:16 100");
    r = {};
    r.pids_limit = 64;
    CG_ASSERT_OK(m->apply(r));
    EXPECT_EQ(t.read("pids/x/pids.max"), "64");
}

TEST(CgroupV1, DevicesDenyAllThenRulesInOrder) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    auto m = open_ok(t, "/x");
    oci::Resources r;
    r.devices.push_back({false, "", std::nullopt, std::nullopt, "rwm"});
    r.devices.push_back({true, "c", 1, 3, "rwm"});
    r.devices.push_back({true, "c", 136, std::nullopt, "rw"});
    r.devices.push_back({false, "b", 8, 0, "m"});
    CG_ASSERT_OK(m->apply(r));
    std::vector<std::string> order;
    for (auto& [p, v] : t.writes) order.push_back(p.substr(p.rfind('/') + 1) + " " + v);
    EXPECT_EQ(order, (std::vector<std::string>{
                         "devices.deny a", "devices.deny a *:* rwm", "devices.allow c 1:3 rwm",
                         "devices.allow c 136:* rw", "devices.deny b 8:0 m"}));
    r.devices = {{true, "x", 1, 1, "r"}};
    auto bad = m->apply(r);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message().rfind("linux.resources.devices[0].type", 0), 0u);
}

TEST(CgroupV1, UnmountedControllersNameTheField) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    auto m = open_ok(t, "/x");
    oci::Resources r;
    r.network.emplace();
    r.network->class_id = 0x100001;
    auto res = m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message().rfind("linux.resources.network.classID: ", 0), 0u);
    r = {};
    r.hugepage_limits.push_back({"2MB", 1 << 21});
    res = m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message().rfind("linux.resources.hugepageLimits: ", 0), 0u);
    r = {};
    r.unified["memory.high"] = "1G";
    res = m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message().rfind("linux.resources.unified[\"memory.high\"]: ", 0), 0u);
    r = {};
    r.rdma["mlx5_0"] = {1, 2};
    res = m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().message().rfind("linux.resources.rdma: ", 0), 0u);
}

TEST(CgroupV1, NetworkWhenMounted) {
    FakeTree t;
    t.legacy();
    t.mount_v1("net_cls,net_prio", "net_cls,net_prio");
    t.files("net_cls,net_prio/x", {{"net_cls.classid", "0"}, {"net_prio.ifpriomap", ""}});
    auto m = open_ok(t, "/x");
    oci::Resources r;
    r.network.emplace();
    r.network->class_id = 1048577;
    r.network->priorities = {{"eth0", 5}, {"lo", 1}};
    CG_ASSERT_OK(m->apply(r));
    EXPECT_EQ(t.read("net_cls,net_prio/x/net_cls.classid"), "1048577");
    EXPECT_EQ(t.writes_to("net_cls,net_prio/x/net_prio.ifpriomap"),
              (std::vector<std::string>{"eth0 5", "lo 1"}));
}

TEST(CgroupV1, HybridHugetlbAndUnifiedGoToTheCgroup2Part) {
    FakeTree t;
    t.hybrid();
    t.populate_v1_leaf("x");
    auto m = open_ok(t, "/x");
    CG_ASSERT_OK(m->create());
    oci::Resources r;
    r.hugepage_limits.push_back({"2MB", 4 << 21});
    // The leaf has no hugetlb files yet: the controller is enabled on the way down first.
    auto res = m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(t.read("unified/cgroup.subtree_control"), "+hugetlb");
    EXPECT_EQ(res.error().message().rfind("linux.resources.hugepageLimits[0].pageSize: `2MB`", 0),
              0u)
        << res.error().message();
    // ... which on a real kernel makes the files appear.
    t.files(
        "unified/x",
        {{"hugetlb.2MB.max", "max"}, {"hugetlb.2MB.rsvd.max", "max"}, {"hugetlb.1GB.max", "max"}});
    CG_ASSERT_OK(m->apply(r));
    EXPECT_EQ(t.read("unified/x/hugetlb.2MB.max"), std::to_string(4 << 21));
    EXPECT_EQ(t.read("unified/x/hugetlb.2MB.rsvd.max"), std::to_string(4 << 21));
    r = {};
    r.unified["hugetlb.1GB.max"] = "0";
    CG_ASSERT_OK(m->apply(r));
    EXPECT_EQ(t.read("unified/x/hugetlb.1GB.max"), "0");
    r.unified = {{"memory.high", "1G"}};
    res = m->apply(r);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().errno_value(), ENOENT);
    EXPECT_EQ(res.error().message().rfind("linux.resources.unified[\"memory.high\"]: ", 0), 0u);
    r.unified = {{"../x", "1"}};
    EXPECT_FALSE(m->apply(r).ok());
}

TEST(CgroupV1, FreezeAndThaw) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    auto m = open_ok(t, "/x");
    CG_ASSERT_OK(m->freeze());
    EXPECT_EQ(t.read("freezer/x/freezer.state"), "FROZEN");
    auto f = m->frozen();
    ASSERT_TRUE(f.ok());
    EXPECT_TRUE(*f);
    CG_ASSERT_OK(m->thaw());
    EXPECT_EQ(t.read("freezer/x/freezer.state"), "THAWED");
    EXPECT_FALSE(*m->frozen());
}

TEST(CgroupV1, PidsAreRecursive) {
    FakeTree t;
    t.legacy();
    t.populate_v1_leaf("x");
    t.file("pids/x/cgroup.procs", "12\n10\n");
    t.file("pids/x/sub/cgroup.procs", "11\n10\n");
    auto m = open_ok(t, "/x");
    auto p = m->pids();
    ASSERT_TRUE(p.ok()) << p.error().what();
    EXPECT_EQ(*p, (std::vector<pid_t>{10, 11, 12}));
}

TEST(CgroupV1, Stats) {
    FakeTree t;
    t.hybrid();
    t.populate_v1_leaf("x");
    long hz = ::sysconf(_SC_CLK_TCK);
    t.files("cpuacct/x", {{"cpuacct.usage", "5000000000\n"},
                          {"cpuacct.usage_percpu", "3000000000 2000000000 \n"},
                          {"cpuacct.stat", "user " + std::to_string(2 * hz) + "\nsystem " +
                                               std::to_string(hz) + "\n"}});
    t.file("cpu/x/cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 777\n");
    t.files("memory/x", {{"memory.usage_in_bytes", "1000\n"},
                         {"memory.max_usage_in_bytes", "2000\n"},
                         {"memory.failcnt", "4\n"},
                         {"memory.memsw.usage_in_bytes", "1500\n"},
                         {"memory.stat",
                          "cache 300\nrss 600\ntotal_cache 310\ntotal_rss 610\n"
                          "total_inactive_file 1200\ntotal_active_file 5\n"},
                         {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"}});
    t.files("pids/x", {{"pids.current", "7\n"}, {"pids.max", "max\n"}});
    t.file("blkio/x/blkio.throttle.io_service_bytes_recursive",
           "8:0 Read 10\n8:0 Write 20\nTotal 30\n");
    t.file("blkio/x/blkio.throttle.io_serviced", "8:0 Read 1\n8:0 Total 1\nTotal 1\n");
    t.files("unified/x", {{"hugetlb.2MB.max", "max"},
                          {"hugetlb.2MB.current", "4194304"},
                          {"hugetlb.2MB.events", "max 3\n"},
                          {"hugetlb.2MB.rsvd.max", "max"}});
    auto m = open_ok(t, "/x");
    auto s = m->stats();
    ASSERT_TRUE(s.ok()) << s.error().what();
    EXPECT_EQ(s->cpu.usage_total_ns, 5000000000u);
    EXPECT_EQ(s->cpu.usage_per_cpu_ns, (std::vector<uint64_t>{3000000000, 2000000000}));
    EXPECT_EQ(s->cpu.usage_user_ns, 2000000000u);
    EXPECT_EQ(s->cpu.usage_kernel_ns, 1000000000u);
    EXPECT_EQ(s->cpu.throttled_periods, 3u);
    EXPECT_EQ(s->cpu.throttled_time_ns, 777u);
    EXPECT_EQ(s->memory.usage, 1000u);
    EXPECT_EQ(s->memory.max_usage, 2000u);
    EXPECT_EQ(s->memory.limit, 9223372036854771712u);
    EXPECT_EQ(s->memory.failcnt, 4u);
    EXPECT_EQ(s->memory.swap_usage, 1500u);
    EXPECT_EQ(s->memory.rss, 610u);
    EXPECT_EQ(s->memory.cache, 310u);
    EXPECT_EQ(s->memory.inactive_file, 1200u);
    EXPECT_EQ(s->memory.working_set, 0u);  // inactive_file above usage: floored
    EXPECT_EQ(s->memory.oom_kill, 2u);
    EXPECT_EQ(s->memory.raw.at("cache"), 300u);
    EXPECT_EQ(s->pids.current, 7u);
    EXPECT_EQ(s->pids.limit, 0u);
    ASSERT_EQ(s->blkio.io_service_bytes.size(), 2u);
    EXPECT_EQ(s->blkio.io_service_bytes[1].value, 20u);
    ASSERT_EQ(s->blkio.io_serviced.size(), 2u);
    ASSERT_EQ(s->hugetlb.size(), 1u);
    EXPECT_EQ(s->hugetlb.at("2MB").usage, 4194304u);
    EXPECT_EQ(s->hugetlb.at("2MB").failcnt, 3u);
}

TEST(CgroupV1, StatsOfMissingCgroup) {
    FakeTree t;
    t.legacy();
    auto m = open_ok(t, "/gone");
    auto s = m->stats();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().errno_value(), ENOENT);
}

TEST(CgroupV1, DestroyRemovesLeafAndChildrenEverywhere) {
    FakeTree t;
    t.hybrid();
    auto m = open_ok(t, "", "ctr");
    CG_ASSERT_OK(m->create());
    t.populate_v1_leaf("berth/ctr");
    t.file("memory/berth/ctr/child/cgroup.procs", "");
    t.file("memory/berth/other/cgroup.procs", "");  // a sibling keeps memory/berth alive
    CG_ASSERT_OK(m->destroy());
    for (auto& d : m->paths()) EXPECT_FALSE(path_exists(d)) << d;
    EXPECT_FALSE(t.exists("cpu/berth"));  // default parent, now empty: removed
    EXPECT_TRUE(t.exists("memory/berth/other"));
    CG_EXPECT_OK(m->destroy());  // already gone: success
}

TEST(CgroupV1, CreateFailureLeavesNothing) {
    FakeTree t;
    t.legacy();
    // A file where the pids hierarchy's cgroup directory would go makes mkdir fail there.
    t.file("pids/blocked", "");
    auto m = open_ok(t, "/blocked/x");
    auto r = m->create();
    ASSERT_FALSE(r.ok());
    EXPECT_FALSE(t.exists("cpu/blocked"));
    EXPECT_FALSE(t.exists("memory/blocked"));
}

}  // namespace
}  // namespace berth::cgroup
