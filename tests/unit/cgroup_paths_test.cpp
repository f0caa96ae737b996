// Layout detection, mountinfo and /proc/self/cgroup parsing, cgroupsPath resolution.
#include <gtest/gtest.h>

#include "cgroup/hierarchy.h"
#include "unit/cgroup_fake_tree.h"

namespace berth::cgroup {
namespace {

using testing::FakeTree;

constexpr const char* kThisHost =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,release_agent=/x,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 23 0:50 / /other/cgroup rw - cgroup cgroup rw,pids\n";

TEST(CgroupMountinfo, FindsEachHierarchyUnderTheRoot) {
    auto hs = parse_mountinfo(kThisHost, "/sys/fs/cgroup");
    ASSERT_EQ(hs.size(), 5u);
    EXPECT_EQ(hs[0].controllers, std::vector<std::string>{"cpu"});
    EXPECT_EQ(hs[0].mountpoint, "/sys/fs/cgroup/cpu");
    EXPECT_EQ(hs[1].controllers, std::vector<std::string>{"cpuacct"});
    EXPECT_EQ(hs[3].controllers, std::vector<std::string>{"name=systemd"});  // xattr dropped
    EXPECT_TRUE(hs[4].cgroup2);
    EXPECT_EQ(hs[4].mountpoint, "/sys/fs/cgroup/unified");
}

TEST(CgroupMountinfo, ComountedControllersAreOneHierarchy) {
    auto hs = parse_mountinfo(
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "33 31 0:29 / /sys/fs/cgroup/again rw - cgroup cgroup rw,cpuacct,cpu\n"
        "34 31 0:30 /sub /sys/fs/cgroup/net\\040x rw shared:5 - cgroup cgroup "
        "rw,net_cls,net_prio\n",
        "/sys/fs/cgroup/");
    ASSERT_EQ(hs.size(), 2u);
    EXPECT_TRUE(hs[0].has("cpu"));
    EXPECT_TRUE(hs[0].has("cpuacct"));
    EXPECT_EQ(hs[1].mountpoint, "/sys/fs/cgroup/net x");  // octal escape, optional field
    EXPECT_EQ(hs[1].root, "/sub");
}

TEST(CgroupProcSelf, ParsesV1AndV2Lines) {
    auto e = parse_proc_cgroup("9:name=systemd:/\n4:memory:/a/b\n1:cpu,cpuacct:/x:y\n0::/u\n");
    ASSERT_EQ(e.size(), 4u);
    EXPECT_EQ(e[1].controllers, std::vector<std::string>{"memory"});
    EXPECT_EQ(e[1].path, "/a/b");
    EXPECT_EQ(e[2].path, "/x:y");
    EXPECT_TRUE(e[3].controllers.empty());
}

TEST(CgroupPath, EmptyIsBerthSlashId) {
    auto p = normalize_cgroups_path("", "abc");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->path, "/berth/abc");
    EXPECT_TRUE(p->absolute);
    EXPECT_TRUE(p->is_default);
    EXPECT_FALSE(normalize_cgroups_path("", "a/b").ok());
    EXPECT_FALSE(normalize_cgroups_path("", "").ok());
}

TEST(CgroupPath, DotDotCannotEscape) {
    auto abs = normalize_cgroups_path("/../../etc/x", "c");
    ASSERT_TRUE(abs.ok());
    EXPECT_EQ(abs->path, "/etc/x");
    auto rel = normalize_cgroups_path("../../x", "c");
    ASSERT_TRUE(rel.ok());
    EXPECT_EQ(rel->path, "/x");
    EXPECT_FALSE(rel->absolute);
}

TEST(CgroupPath, RootAndOwnCgroupAreRefused) {
    auto r = normalize_cgroups_path("/", "c");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    EXPECT_NE(r.error().message().find("linux.cgroupsPath"), std::string::npos);
    EXPECT_FALSE(normalize_cgroups_path(".", "c").ok());
}

TEST(CgroupPath, ResolvesAbsoluteAndRelative) {
    Hierarchy mem{{"memory"}, "/sys/fs/cgroup/memory", "/", false};
    Hierarchy cpu{{"cpu", "cpuacct"}, "/sys/fs/cgroup/cpu,cpuacct", "/", false};
    Hierarchy nested{{"pids"}, "/sys/fs/cgroup/pids", "/outer", false};
    Hierarchy v2{{}, "/sys/fs/cgroup/unified", "/", true};
    auto self = parse_proc_cgroup(
        "4:memory:/process_api/xy\n2:cpuacct,cpu:/k\n"
        "3:pids:/outer/inner\n0::/u2\n");
    CgroupPath abs{"/ctr/a", true, false};
    EXPECT_EQ(resolve_dir(mem, abs, self), "/sys/fs/cgroup/memory/ctr/a");
    CgroupPath rel{"/ctr/a", false, false};
    EXPECT_EQ(resolve_dir(mem, rel, self), "/sys/fs/cgroup/memory/process_api/xy/ctr/a");
    EXPECT_EQ(resolve_dir(cpu, rel, self), "/sys/fs/cgroup/cpu,cpuacct/k/ctr/a");
    EXPECT_EQ(resolve_dir(nested, rel, self), "/sys/fs/cgroup/pids/inner/ctr/a");
    EXPECT_EQ(resolve_dir(v2, rel, self), "/sys/fs/cgroup/unified/u2/ctr/a");
}

TEST(CgroupOpen, LegacySeparateCpuAndCpuacct) {
    FakeTree t;
    t.legacy();
    auto m = open(t.options("/ctr"));
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_EQ((*m)->layout(), Layout::Legacy);
    auto paths = (*m)->paths();
    EXPECT_EQ(paths.size(), 9u);
    EXPECT_EQ(paths.front(), t.path("cpu/ctr"));
    EXPECT_EQ((*m)->unified_path(), "");
}

TEST(CgroupOpen, LegacyComounted) {
    FakeTree t;
    t.legacy(/*comounted=*/true);
    auto m = open(t.options("/ctr"));
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_EQ((*m)->paths().front(), t.path("cpu,cpuacct/ctr"));
    EXPECT_EQ((*m)->paths().size(), 8u);
}

TEST(CgroupOpen, HybridAddsTheUnifiedPart) {
    FakeTree t;
    t.set_own_cgroup("/me");
    t.hybrid();
    auto m = open(t.options("rel/x"));
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_EQ((*m)->layout(), Layout::Hybrid);
    EXPECT_EQ((*m)->unified_path(), t.path("unified/me/rel/x"));
    EXPECT_EQ((*m)->paths().back(), t.path("unified/me/rel/x"));
    EXPECT_EQ((*m)->paths().front(), t.path("cpu/me/rel/x"));
}

TEST(CgroupOpen, UnifiedDefaultPath) {
    FakeTree t;
    t.unified();
    auto m = open(t.options("", "ctr-1"));
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_EQ((*m)->layout(), Layout::Unified);
    EXPECT_EQ((*m)->paths(), std::vector<std::string>{t.path("berth/ctr-1")});
}

TEST(CgroupOpen, NothingMounted) {
    FakeTree t;
    auto m = open(t.options("/x"));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().errno_value(), ENOENT);
}

TEST(CgroupOpen, SystemdDriverNeedsSystemd) {
    FakeTree t;
    t.legacy();
    auto o = t.options("system.slice:berth:abc");
    o.systemd = true;
    auto m = open(o);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().message(), "--systemd-cgroup: systemd is not running on this host");
    ASSERT_TRUE(mkdir_p(o.systemd_run_dir).ok());
    m = open(o);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().message().find("not implemented"), std::string::npos);
}

TEST(CgroupLayout, PlainDirectoryIsLegacy) {
    FakeTree t;
    EXPECT_EQ(detect_layout(t.root()), Layout::Legacy);
    EXPECT_STREQ(layout_name(Layout::Hybrid), "hybrid");
}

}  // namespace
}  // namespace berth::cgroup
