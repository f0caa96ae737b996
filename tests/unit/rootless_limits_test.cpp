// Rootless limits: what drop_unreachable_limits keeps for a cgroup that has only some
// controllers (a delegated memory + pids cgroup, or none at all).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "runtime/rootless.h"

namespace berth::runtime {
namespace {

class FakeManager final : public cgroup::Manager {
  public:
    FakeManager(std::set<std::string> controllers, std::string unified = {})
        : controllers_(std::move(controllers)), unified_(std::move(unified)) {}
    Result<void> create() override { return {}; }
    Result<void> add_process(pid_t) override { return {}; }
    Result<cgroup::SelfJoin> open_self_join() const override { return cgroup::SelfJoin{}; }
    Result<void> add_process_unified(pid_t) override { return {}; }
    Result<void> apply(const oci::Resources&) override { return {}; }
    Result<void> freeze() override { return {}; }
    Result<void> thaw() override { return {}; }
    Result<bool> frozen() override { return false; }
    Result<std::vector<pid_t>> pids() override { return std::vector<pid_t>{}; }
    Result<cgroup::Stats> stats() override { return cgroup::Stats{}; }
    Result<void> destroy() override { return {}; }
    std::vector<std::string> paths() const override { return {}; }
    cgroup::Layout layout() const override { return cgroup::Layout::Hybrid; }
    std::string unified_path() const override { return unified_; }
    bool has_controller(std::string_view c) const override {
        return controllers_.count(std::string(c)) > 0;
    }

  private:
    std::set<std::string> controllers_;
    std::string unified_;
};

oci::Resources everything() {
    oci::Resources r;
    oci::DeviceCgroup deny;
    deny.allow = false;
    r.devices.push_back(deny);
    r.memory.emplace();
    r.memory->limit = 64 << 20;
    r.cpu.emplace();
    r.cpu->shares = 512;
    r.cpu->cpus = "0";
    r.pids_limit = 42;
    r.block_io.emplace();
    r.block_io->weight = 100;
    r.hugepage_limits.push_back({"2MB", 0});
    r.network.emplace();
    r.network->class_id = 7;
    r.rdma["mlx5_0"] = oci::RdmaLimit{};
    r.unified["memory.high"] = "max";
    return r;
}

TEST(RootlessLimits, DelegatedMemoryAndPidsKeepThoseOnly) {
    FakeManager cg({"memory", "pids"});
    oci::Resources r = everything();
    auto dropped = drop_unreachable_limits(cg, r);
    std::vector<std::string> want{"linux.resources.cpu",
                                  "linux.resources.cpu.cpus",
                                  "linux.resources.blockIO",
                                  "linux.resources.hugepageLimits",
                                  "linux.resources.network.classID",
                                  "linux.resources.rdma",
                                  "linux.resources.unified"};
    EXPECT_EQ(dropped, want);
    ASSERT_TRUE(r.memory && r.memory->limit);
    EXPECT_EQ(*r.memory->limit, 64 << 20);
    ASSERT_TRUE(r.pids_limit);
    EXPECT_EQ(*r.pids_limit, 42);
    EXPECT_FALSE(r.cpu);
    EXPECT_FALSE(r.block_io);
    EXPECT_FALSE(r.network);
    EXPECT_TRUE(r.devices.empty());  // never applied rootless, never listed
    EXPECT_TRUE(r.hugepage_limits.empty());
    EXPECT_TRUE(r.rdma.empty());
    EXPECT_TRUE(r.unified.empty());
}

TEST(RootlessLimits, CpusetWithoutCpuKeepsCpus) {
    FakeManager cg({"cpuset"});
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->quota = 50000;
    r.cpu->cpus = "0-1";
    auto dropped = drop_unreachable_limits(cg, r);
    EXPECT_EQ(dropped, std::vector<std::string>{"linux.resources.cpu"});
    ASSERT_TRUE(r.cpu);
    EXPECT_FALSE(r.cpu->quota);
    EXPECT_EQ(r.cpu->cpus, "0-1");
}

TEST(RootlessLimits, NoCgroupDropsAllAndEmptyObjectsAreNotLimits) {
    FakeManager cg({});
    oci::Resources r;
    r.memory.emplace();  // "memory": {} asks for nothing
    r.devices.push_back(oci::DeviceCgroup{});
    EXPECT_TRUE(drop_unreachable_limits(cg, r).empty());
    EXPECT_FALSE(r.memory);
    EXPECT_TRUE(r.devices.empty());

    r = everything();
    auto dropped = drop_unreachable_limits(cg, r);
    EXPECT_EQ(dropped.size(), 9u);
    EXPECT_FALSE(r.memory || r.cpu || r.pids_limit || r.block_io || r.network);
}

TEST(RootlessLimits, FullCgroupKeepsEverythingButDevices) {
    FakeManager cg({"memory", "cpu", "cpuset", "pids", "blkio", "hugetlb", "net_cls", "rdma"},
                   "/sys/fs/cgroup/unified/x");
    oci::Resources r = everything();
    EXPECT_TRUE(drop_unreachable_limits(cg, r).empty());
    EXPECT_TRUE(r.devices.empty());
    EXPECT_TRUE(r.memory && r.cpu && r.pids_limit && r.block_io && r.network);
    EXPECT_EQ(r.unified.size(), 1u);
}

}  // namespace
}  // namespace berth::runtime
