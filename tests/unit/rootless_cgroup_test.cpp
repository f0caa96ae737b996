// cgroup::open for an unprivileged caller (Options::rootless): hierarchies where the
// container's directory cannot be made are left out; with none left there is no cgroup. A file
// in the way stands in for a directory we may not write (root passes every access check).
#include <gtest/gtest.h>

#include "cgroup_fake_tree.h"

namespace berth::cgroup {
namespace {

using testing::FakeTree;

Result<std::unique_ptr<Manager>> open_rootless(FakeTree& t, const std::string& path) {
    Options o = t.options(path);
    o.rootless = true;
    return open(o);
}

TEST(RootlessCgroup, OnlyUsableHierarchiesAreKept) {
    FakeTree t;
    t.legacy();
    for (const char* c : {"cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "systemd"})
        t.file(std::string(c) + "/deleg", "");  // not a directory: nothing can go below it
    auto m = open_rootless(t, "/deleg/c1");
    CG_ASSERT_OK(m);
    Manager& cg = **m;
    std::vector<std::string> want{t.path("memory/deleg/c1"), t.path("pids/deleg/c1")};
    EXPECT_EQ(cg.paths(), want);
    EXPECT_TRUE(cg.has_controller("memory"));
    EXPECT_TRUE(cg.has_controller("pids"));
    EXPECT_FALSE(cg.has_controller("cpu"));
    EXPECT_FALSE(cg.has_controller("freezer"));
    CG_ASSERT_OK(cg.create());
    EXPECT_TRUE(t.exists("memory/deleg/c1"));
    EXPECT_TRUE(t.exists("pids/deleg/c1"));
}

TEST(RootlessCgroup, NothingUsableIsNoCgroup) {
    FakeTree t;
    t.legacy();
    for (const char* c :
         {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"})
        t.file(std::string(c) + "/deleg", "");
    auto m = open_rootless(t, "/deleg/c1");
    CG_ASSERT_OK(m);
    Manager& cg = **m;
    EXPECT_TRUE(cg.paths().empty());
    EXPECT_FALSE(cg.has_controller("memory"));
    CG_EXPECT_OK(cg.create());
    CG_EXPECT_OK(cg.add_process(1));
    auto join = cg.open_self_join();
    CG_ASSERT_OK(join);
    EXPECT_TRUE(join->tasks.empty());
    EXPECT_FALSE(join->clone_into.valid());
    oci::Resources devices_only;
    devices_only.devices.push_back(oci::DeviceCgroup{});
    CG_EXPECT_OK(cg.apply(devices_only));
    oci::Resources limits;
    limits.pids_limit = 10;
    auto applied = cg.apply(limits);
    ASSERT_FALSE(applied.ok());
    EXPECT_NE(applied.error().what().find("no cgroup"), std::string::npos);
    EXPECT_FALSE(cg.freeze().ok());
    auto frozen = cg.frozen();
    CG_ASSERT_OK(frozen);
    EXPECT_FALSE(*frozen);
    CG_EXPECT_OK(cg.destroy());
}

TEST(RootlessCgroup, NotRootlessStillFailsWhereItCannotCreate) {
    FakeTree t;
    t.legacy();
    t.file("pids/blocked", "");
    auto m = open(t.options("/blocked/x"));
    CG_ASSERT_OK(m);
    EXPECT_FALSE((*m)->create().ok());
}

}  // namespace
}  // namespace berth::cgroup
