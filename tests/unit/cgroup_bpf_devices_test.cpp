// The cgroup v2 device program: the v1 emulation and the instructions for a few rule lists
// (pure), then the program attached for real to a cgroup2 directory under
// /sys/fs/cgroup/unified with a child process moved into it (root and a cgroup2 mount there
// needed, otherwise skipped).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <linux/magic.h>

#include <functional>

#include "base/file.h"
#include "base/scope_guard.h"
#include "cgroup/bpf_devices.h"
#include "cgroup/manager.h"

namespace berth::cgroup::bpf {
namespace {

using oci::DeviceCgroup;

DeviceCgroup rule(bool allow, const char* type, std::optional<int64_t> major,
                  std::optional<int64_t> minor, const char* access) {
    return DeviceCgroup{allow, type, major, minor, access};
}
const DeviceCgroup kDenyAll = rule(false, "a", std::nullopt, std::nullopt, "rwm");

DeviceState emulate(const std::vector<DeviceCgroup>& rules) {
    auto s = emulate_v1(rules);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().what());
    return s.ok() ? *s : DeviceState{};
}

constexpr uint32_t R = kAccessRead, W = kAccessWrite, M = kAccessMknod;

TEST(CgroupBpfDevices, EmulatesV1Writes) {
    // The usual OCI list: deny all, then what the container may use.
    DeviceState s = emulate({kDenyAll, rule(true, "c", 1, 3, "rwm"), rule(true, "c", 136, {}, "rw"),
                             rule(true, "c", 5, 1, "")});
    EXPECT_FALSE(s.default_allow);
    ASSERT_EQ(s.exceptions.size(), 3u);
    EXPECT_EQ(s.exceptions[0], (DeviceException{'c', 1u, 3u, R | W | M}));
    EXPECT_EQ(s.exceptions[1], (DeviceException{'c', 136u, std::nullopt, R | W}));
    EXPECT_EQ(s.exceptions[2], (DeviceException{'c', 5u, 1u, R | W | M}));  // "" is rwm

    // A deny against a deny-all default takes access away from the identical exception only.
    s = emulate({rule(true, "c", 1, 3, "rwm"), rule(false, "c", 1, 3, "w"),
                 rule(true, "c", 1, {}, "r"), rule(false, "c", 1, 5, "r")});
    ASSERT_EQ(s.exceptions.size(), 2u);
    EXPECT_EQ(s.exceptions[0].access, R | M);
    EXPECT_EQ(s.exceptions[1], (DeviceException{'c', 1u, std::nullopt, R}));  // no hole punched

    // Allows merge into one exception; removing all of it drops it.
    s = emulate(
        {rule(true, "b", 8, 0, "r"), rule(true, "b", 8, 0, "w"), rule(false, "b", 8, 0, "rw")});
    EXPECT_TRUE(s.exceptions.empty());

    // "a" allow resets to allow-all; denies then become the exceptions. Negative = wildcard.
    s = emulate({rule(true, "c", 1, 3, "rwm"), rule(true, "a", 1, 1, "r"),
                 rule(false, "c", 1, 5, "w"), rule(false, "b", -1, -1, "m")});
    EXPECT_TRUE(s.default_allow);
    ASSERT_EQ(s.exceptions.size(), 2u);
    EXPECT_EQ(s.exceptions[0], (DeviceException{'c', 1u, 5u, W}));
    EXPECT_EQ(s.exceptions[1], (DeviceException{'b', std::nullopt, std::nullopt, M}));

    // An empty type is "a" (the v1 manager writes it so).
    s = emulate({rule(true, "", {}, {}, "rwm")});
    EXPECT_TRUE(s.default_allow);

    auto bad = emulate_v1({rule(true, "x", 1, 1, "r")});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "linux.resources.devices[0].type: `x` is not a, b or c");
    bad = emulate_v1({kDenyAll, rule(true, "c", 1, 1, "rwx")});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(),
              "linux.resources.devices[1].access: `rwx` is not a subset of rwm");
    EXPECT_FALSE(emulate_v1({rule(true, "c", int64_t(1) << 40, 1, "r")}).ok());
}

TEST(CgroupBpfDevices, KernelV1Decisions) {
    DeviceState allow_list =
        emulate({kDenyAll, rule(true, "c", 1, 3, "rw"), rule(true, "c", 1, {}, "m")});
    EXPECT_TRUE(allows(allow_list, 'c', 1, 3, R | W));
    EXPECT_TRUE(allows(allow_list, 'c', 1, 9, M));
    EXPECT_FALSE(allows(allow_list, 'c', 1, 3, R | M));  // no single exception covers both
    EXPECT_FALSE(allows(allow_list, 'b', 1, 3, R));
    DeviceState deny_list = emulate({rule(true, "a", {}, {}, ""), rule(false, "c", 1, 5, "w")});
    EXPECT_TRUE(allows(deny_list, 'c', 1, 5, R));
    EXPECT_FALSE(allows(deny_list, 'c', 1, 5, R | W));  // any overlap is refused
    EXPECT_TRUE(allows(deny_list, 'c', 1, 3, R | W));
}

bpf_insn I(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst;
    i.src_reg = src;
    i.off = off;
    i.imm = imm;
    return i;
}

std::string dump(const std::vector<bpf_insn>& p) {
    std::string s;
    for (const bpf_insn& i : p) {
        s += std::to_string(i.code) + " " + std::to_string(i.dst_reg) + " " +
             std::to_string(i.src_reg) + " " + std::to_string(i.off) + " " + std::to_string(i.imm) +
             "\n";
    }
    return s;
}

const std::vector<bpf_insn> kPrologue = {
    I(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0), I(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff),
    I(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0), I(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16),
    I(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0), I(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0),
};
const bpf_insn kExit = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
bpf_insn ret(int v) {
    return I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, v);
}

std::vector<bpf_insn> program(std::vector<bpf_insn> body) {
    std::vector<bpf_insn> p = kPrologue;
    p.insert(p.end(), body.begin(), body.end());
    return p;
}

TEST(CgroupBpfDevices, Instructions) {
    // Deny-all and nothing else: return 0.
    EXPECT_EQ(dump(device_program(emulate({kDenyAll}))), dump(program({ret(0), kExit})));
    // Allow-all: return 1.
    EXPECT_EQ(dump(device_program(emulate({rule(true, "a", {}, {}, "rwm")}))),
              dump(program({ret(1), kExit})));

    // c 1:3 rwm: type, major, minor; no access test for rwm.
    EXPECT_EQ(dump(device_program(emulate({kDenyAll, rule(true, "c", 1, 3, "rwm")}))),
              dump(program({
                  I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 4, BPF_DEVCG_DEV_CHAR),
                  I(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 3, 1),
                  I(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 2, 3),
                  ret(1),
                  kExit,
                  ret(0),
                  kExit,
              })));

    // b *:* r (allowance: the request must be within r), then c 136:* rw.
    EXPECT_EQ(dump(device_program(emulate(
                  {kDenyAll, rule(true, "b", {}, {}, "r"), rule(true, "c", 136, {}, "rw")}))),
              dump(program({
                  I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 5, BPF_DEVCG_DEV_BLOCK),
                  I(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0),
                  I(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, BPF_DEVCG_ACC_READ),
                  I(BPF_JMP | BPF_JNE | BPF_X, 1, 3, 2, 0),
                  ret(1),
                  kExit,
                  I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 6, BPF_DEVCG_DEV_CHAR),
                  I(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0),
                  I(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE),
                  I(BPF_JMP | BPF_JNE | BPF_X, 1, 3, 3, 0),
                  I(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 2, 136),
                  ret(1),
                  kExit,
                  ret(0),
                  kExit,
              })));

    // Allow-all with a denial of writes to c *:5: any overlap with w refuses.
    EXPECT_EQ(
        dump(device_program(emulate({rule(true, "a", {}, {}, ""), rule(false, "c", {}, 5, "w")}))),
        dump(program({
            I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 6, BPF_DEVCG_DEV_CHAR),
            I(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0),
            I(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, BPF_DEVCG_ACC_WRITE),
            I(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 3, 0),
            I(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 2, 5),
            ret(0),
            kExit,
            ret(1),
            kExit,
        })));
}

// ---- On the real kernel ----

constexpr const char* kUnified = "/sys/fs/cgroup/unified";

bool unified_is_cgroup2() {
    struct statfs fs {};
    return ::statfs(kUnified, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

#define SKIP_UNLESS_ROOT_AND_CGROUP2()                                            \
    do {                                                                          \
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";                       \
        if (!unified_is_cgroup2()) GTEST_SKIP() << kUnified << " is not cgroup2"; \
    } while (0)

// A cgroup2 directory for one test, removed at the end whatever happens.
class TestCgroup {
  public:
    explicit TestCgroup(const std::string& suffix = "")
        : dir_(std::string(kUnified) + "/berth-bpftest-" + std::to_string(::getpid()) + suffix) {
        ok_ = ::mkdir(dir_.c_str(), 0755) == 0;
    }
    ~TestCgroup() { ::rmdir(dir_.c_str()); }
    bool ok() const { return ok_; }
    const std::string& dir() const { return dir_; }

  private:
    std::string dir_;
    bool ok_ = false;
};

// Runs probe in a child moved into dir; returns its errno (0: success).
int in_cgroup(const std::string& dir, const std::function<int()>& probe) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(200);
        ::close(fd);
        ::_exit(probe());
    }
    if (pid < 0) return -1;
    auto reap = make_scope_guard([&] {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    });
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    reap.dismiss();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::function<int()> open_dev(const char* path, int flags) {
    return [=] {
        int fd = ::open(path, flags | O_CLOEXEC);
        if (fd < 0) return errno;
        ::close(fd);
        return 0;
    };
}

// mknod of a char device node in a fresh temporary directory.
std::function<int()> mknod_dev(unsigned major, unsigned minor) {
    return [=] {
        char tmpl[] = "/tmp/berth-bpfnod-XXXXXX";
        if (!::mkdtemp(tmpl)) return 201;
        std::string node = std::string(tmpl) + "/dev";
        int rc = ::mknod(node.c_str(), S_IFCHR | 0600, makedev(major, minor)) == 0 ? 0 : errno;
        ::unlink(node.c_str());
        ::rmdir(tmpl);
        return rc;
    };
}

Result<void> apply(const std::string& dir, const std::vector<DeviceCgroup>& rules) {
    return apply_device_rules(dir, rules);
}

TEST(CgroupBpfDevicesKernel, AllowListReadWriteAndMknod) {
    SKIP_UNLESS_ROOT_AND_CGROUP2();
    TestCgroup cg;
    ASSERT_TRUE(cg.ok()) << cg.dir();
    // Before any program: everything goes.
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/zero", O_RDONLY)), 0);

    auto r = apply(cg.dir(), {kDenyAll, rule(true, "c", 1, 3, "rwm"), rule(true, "c", 1, 5, "r")});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/null", O_RDWR)), 0);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/zero", O_RDONLY)), 0);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/zero", O_WRONLY)), EPERM);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/zero", O_RDWR)), EPERM);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/full", O_RDONLY)), EPERM);  // 1:7
    EXPECT_EQ(in_cgroup(cg.dir(), mknod_dev(1, 3)), 0);                      // m allowed
    EXPECT_EQ(in_cgroup(cg.dir(), mknod_dev(1, 5)), EPERM);                  // r only
    // Regular files are not devices.
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/etc/hostname", O_RDONLY)), 0);
}

TEST(CgroupBpfDevicesKernel, WildcardsAndTakingAccessAway) {
    SKIP_UNLESS_ROOT_AND_CGROUP2();
    TestCgroup cg;
    ASSERT_TRUE(cg.ok()) << cg.dir();
    // Any major with minor 9 (/dev/urandom is 1:9), nothing else.
    auto r = apply(cg.dir(), {kDenyAll, rule(true, "c", {}, 9, "rw")});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/urandom", O_RDONLY)), 0);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/null", O_RDONLY)), EPERM);
    EXPECT_EQ(in_cgroup(cg.dir(), mknod_dev(1, 9)), EPERM);  // no m
    // Any minor of major 1; then w taken away from 1:3 exactly.
    r = apply(cg.dir(), {kDenyAll, rule(true, "c", 1, {}, "rwm"), rule(true, "c", 1, 3, "rwm"),
                         rule(false, "c", 1, 3, "w")});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/full", O_RDWR)), 0);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/null", O_RDONLY)), 0);
    // 1:* rwm still covers 1:3 w: the kernel does not punch holes in wider exceptions.
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/null", O_WRONLY)), 0);
    r = apply(cg.dir(), {kDenyAll, rule(true, "c", 1, 3, "rwm"), rule(false, "c", 1, 3, "w")});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/null", O_RDONLY)), 0);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/null", O_WRONLY)), EPERM);
}

TEST(CgroupBpfDevicesKernel, DenyListAndReplacement) {
    SKIP_UNLESS_ROOT_AND_CGROUP2();
    TestCgroup cg;
    ASSERT_TRUE(cg.ok()) << cg.dir();
    auto r = apply(cg.dir(), {rule(true, "a", {}, {}, "rwm"), rule(false, "c", 1, 5, "w")});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/zero", O_RDONLY)), 0);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/zero", O_RDWR)), EPERM);  // overlaps w
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/null", O_RDWR)), 0);
    auto ids = attached_device_programs(cg.dir());
    ASSERT_TRUE(ids.ok()) << ids.error().what();
    ASSERT_EQ(ids->size(), 1u);
    uint32_t first = (*ids)[0];

    // An update replaces the program: one attached, the new one, the new rules only.
    r = apply(cg.dir(), {kDenyAll, rule(true, "c", 1, 5, "rw")});
    ASSERT_TRUE(r.ok()) << r.error().what();
    ids = attached_device_programs(cg.dir());
    ASSERT_TRUE(ids.ok());
    ASSERT_EQ(ids->size(), 1u);
    EXPECT_NE((*ids)[0], first);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/zero", O_RDWR)), 0);
    EXPECT_EQ(in_cgroup(cg.dir(), open_dev("/dev/null", O_RDONLY)), EPERM);
}

TEST(CgroupBpfDevicesKernel, UnifiedManagerAttachesTheProgram) {
    SKIP_UNLESS_ROOT_AND_CGROUP2();
    // The v2 manager on the cgroup2 mount, as on a Unified host.
    std::string parent = "/berth-bpftest-" + std::to_string(::getpid()) + "-mgr";
    auto cleanup = make_scope_guard([&] {
        ::rmdir((std::string(kUnified) + parent + "/c").c_str());
        ::rmdir((std::string(kUnified) + parent).c_str());
    });
    Options o;
    o.id = "c";
    o.cgroups_path = parent + "/c";
    o.mount_root = kUnified;
    auto m = open(o);
    ASSERT_TRUE(m.ok()) << m.error().what();
    ASSERT_EQ((*m)->layout(), Layout::Unified);
    auto destroy = make_scope_guard([&] { (void)(*m)->destroy(); });
    auto r = (*m)->create();
    ASSERT_TRUE(r.ok()) << r.error().what();
    oci::Resources res;
    res.devices = {kDenyAll, rule(true, "c", 1, 3, "rw")};
    r = (*m)->apply(res);
    ASSERT_TRUE(r.ok()) << r.error().what();
    std::string dir = (*m)->unified_path();
    EXPECT_EQ(in_cgroup(dir, open_dev("/dev/null", O_RDWR)), 0);
    EXPECT_EQ(in_cgroup(dir, open_dev("/dev/zero", O_RDONLY)), EPERM);
    // Bad rules are refused before anything is attached, naming the rule.
    res.devices = {rule(true, "q", 1, 1, "r")};
    r = (*m)->apply(res);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "linux.resources.devices[0].type: `q` is not a, b or c");
    EXPECT_EQ(in_cgroup(dir, open_dev("/dev/null", O_RDWR)), 0);
}

}  // namespace
}  // namespace berth::cgroup::bpf
