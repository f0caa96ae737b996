// Capability name resolution, and the child-side calls in forked children (the ones that
// change credentials need root and skip without it).
#include "runtime/caps.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace berth::runtime {
namespace {

#define CAPS_ASSERT_OK(r) ASSERT_TRUE((r).ok()) << (r).error().what()

constexpr uint64_t bit(int cap) {
    return uint64_t{1} << cap;
}

struct Current {
    uint64_t effective = 0, permitted = 0, inheritable = 0;
};

Current capget_self() {
    struct __user_cap_header_struct header {
        _LINUX_CAPABILITY_VERSION_3, 0
    };
    struct __user_cap_data_struct data[2]{};
    Current c;
    if (syscall(SYS_capget, &header, data) < 0) return c;
    c.effective = data[0].effective | (uint64_t{data[1].effective} << 32);
    c.permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
    c.inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
    return c;
}

// Forks, runs body in the child and returns its exit code (or 200 + signal).
template <typename Body>
int in_child(Body body) {
    pid_t pid = fork();
    if (pid == 0) _exit(body());
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    if (WIFSIGNALED(status)) return 200 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

TEST(Caps, NameTable) {
    EXPECT_STREQ(cap_name(0), "CAP_CHOWN");
    EXPECT_STREQ(cap_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
    EXPECT_STREQ(cap_name(40), "CAP_CHECKPOINT_RESTORE");
    EXPECT_EQ(cap_name(41), nullptr);
    EXPECT_EQ(cap_name(-1), nullptr);
    for (int cap = 0; cap <= kLastKnownCap; ++cap) {
        ASSERT_NE(cap_name(cap), nullptr) << cap;
        EXPECT_EQ(cap_from_name(cap_name(cap)), cap);
    }
    EXPECT_EQ(cap_from_name("CAP_BPF"), 39);
    EXPECT_FALSE(cap_from_name("cap_chown"));
    EXPECT_FALSE(cap_from_name("CHOWN"));
    EXPECT_EQ(caps_to_names(bit(CAP_CHOWN) | bit(CAP_KILL) | bit(50)), "CAP_CHOWN,CAP_KILL,50");
    EXPECT_EQ(caps_to_names(0), "");
}

TEST(Caps, ResolveSets) {
    oci::Capabilities c;
    c.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"};
    c.effective = {"CAP_CHOWN", "CAP_KILL"};
    c.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    c.inheritable = {"CAP_NET_BIND_SERVICE"};
    c.ambient = {"CAP_NET_BIND_SERVICE"};
    auto r = resolve_caps(c, 40);
    CAPS_ASSERT_OK(r);
    EXPECT_EQ(r->bounding,
              bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE) | bit(CAP_AUDIT_WRITE));
    EXPECT_EQ(r->effective, bit(CAP_CHOWN) | bit(CAP_KILL));
    EXPECT_EQ(r->permitted, bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(r->inheritable, bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(r->ambient, bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(r->last_cap, 40);
}

TEST(Caps, UnknownNameNamesTheField) {
    oci::Capabilities c;
    c.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_FOO"};
    auto r = resolve_caps(c, 40);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    EXPECT_EQ(r.error().message(),
              "process.capabilities.bounding[3]: unknown capability "
              "\"CAP_FOO\"");

    c = {};
    c.ambient = {"chown"};
    r = resolve_caps(c, 40);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(),
              "process.capabilities.ambient[0]: unknown capability "
              "\"chown\"");
}

TEST(Caps, CapsAboveTheKernelsLastAreDropped) {
    oci::Capabilities c;
    c.bounding = {"CAP_CHOWN", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", "CAP_AUDIT_READ"};
    c.permitted = {"CAP_PERFMON"};
    auto r = resolve_caps(c, 37);  // a 5.4-era kernel
    CAPS_ASSERT_OK(r);
    EXPECT_EQ(r->bounding, bit(CAP_CHOWN) | bit(CAP_AUDIT_READ));
    EXPECT_EQ(r->permitted, 0u);
    EXPECT_EQ(r->last_cap, 37);
}

TEST(Caps, AmbientNeedsPermittedAndInheritable) {
    oci::Capabilities c;
    c.permitted = {"CAP_KILL", "CAP_CHOWN"};
    c.inheritable = {"CAP_KILL", "CAP_SETUID"};
    c.ambient = {"CAP_KILL", "CAP_CHOWN", "CAP_SETUID"};
    auto r = resolve_caps(c, 40);
    CAPS_ASSERT_OK(r);
    EXPECT_EQ(r->ambient, bit(CAP_KILL));
}

TEST(Caps, ReadLastCap) {
    auto last = read_last_cap();
    CAPS_ASSERT_OK(last);
    std::ifstream f("/proc/sys/kernel/cap_last_cap");
    int expected = -1;
    f >> expected;
    EXPECT_EQ(*last, expected);
    // resolve_caps without a last cap reads the same value.
    auto r = resolve_caps(oci::Capabilities{});
    CAPS_ASSERT_OK(r);
    EXPECT_EQ(r->last_cap, expected);
}

// Needs no privilege: nothing is dropped when the bounding set is full, and capset to the
// current sets is always allowed.
TEST(Caps, ReapplyingCurrentSetsNeedsNoPrivilege) {
    auto last = read_last_cap();
    CAPS_ASSERT_OK(last);
    int code = in_child([&] {
        CapSets sets;
        sets.last_cap = *last;
        for (int cap = 0; cap <= *last; ++cap) {
            if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) sets.bounding |= bit(cap);
        }
        Current cur = capget_self();
        sets.effective = cur.effective;
        sets.permitted = cur.permitted;
        sets.inheritable = cur.inheritable;
        if (drop_bounding(sets) != 0) return 1;
        if (set_keepcaps(true) != 0) return 2;
        if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 1) return 3;
        if (set_keepcaps(false) != 0) return 4;
        if (apply_caps(sets) != 0) return 5;
        if (set_no_new_privs() != 0) return 6;
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 7;
        return 0;
    });
    EXPECT_EQ(code, 0);
}

// The init's sequence: bounding drop, keepcaps, setgroups/setgid/setuid, capset, ambient.
TEST(Caps, InitSequenceAsRoot) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    auto last = read_last_cap();
    CAPS_ASSERT_OK(last);
    oci::Capabilities c;
    c.bounding = {"CAP_CHOWN",  "CAP_KILL",   "CAP_NET_BIND_SERVICE",
                  "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"};
    c.effective = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    c.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    c.inheritable = {"CAP_NET_BIND_SERVICE"};
    c.ambient = {"CAP_NET_BIND_SERVICE"};
    auto sets = resolve_caps(c, *last);
    CAPS_ASSERT_OK(sets);
    const CapSets s = *sets;
    int code = in_child([&] {
        if (drop_bounding(s) != 0) return 1;
        if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0) return 2;
        if (prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0) != 1) return 3;
        if (set_keepcaps(true) != 0) return 4;
        gid_t groups[] = {65534};
        if (setgroups(1, groups) != 0) return 5;
        if (setresgid(65534, 65534, 65534) != 0) return 6;
        if (setresuid(65534, 65534, 65534) != 0) return 7;
        // keepcaps kept the permitted set, but the effective set is gone.
        Current after_setuid = capget_self();
        if (after_setuid.effective != 0) return 8;
        if (!(after_setuid.permitted & bit(CAP_KILL))) return 9;
        if (set_keepcaps(false) != 0) return 10;
        if (apply_caps(s) != 0) return 11;
        Current cur = capget_self();
        if (cur.effective != s.effective) return 12;
        if (cur.permitted != s.permitted) return 13;
        if (cur.inheritable != s.inheritable) return 14;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) != 1) {
            return 15;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 0) return 16;
        return 0;
    });
    EXPECT_EQ(code, 0);
}

TEST(Caps, SetuidWithoutKeepcapsLosesPermitted) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    oci::Capabilities c;
    c.effective = {"CAP_KILL"};
    c.permitted = {"CAP_KILL"};
    auto sets = resolve_caps(c, 40);
    CAPS_ASSERT_OK(sets);
    const CapSets s = *sets;
    int code = in_child([&] {
        if (setresuid(65534, 65534, 65534) != 0) return 1;
        if (capget_self().permitted != 0) return 2;
        return apply_caps(s) == -EPERM ? 0 : 3;
    });
    EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace berth::runtime
