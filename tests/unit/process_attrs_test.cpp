// rlimit/scheduler/ioprio/personality name tables and validation, and the child-side apply
// functions in forked children (only settings an unprivileged process may make).
#include "runtime/process_attrs.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace berth::runtime {
namespace {

#define ATTRS_ASSERT_OK(r) ASSERT_TRUE((r).ok()) << (r).error().what()

template <typename Body>
int in_child(Body body) {
    pid_t pid = fork();
    if (pid == 0) _exit(body());
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    if (WIFSIGNALED(status)) return 200 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

template <typename T>
void expect_error(const Result<T>& r, const std::string& message) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    EXPECT_EQ(r.error().message(), message);
}

oci::Rlimit rl(std::string type, uint64_t soft, uint64_t hard) {
    oci::Rlimit r;
    r.type = std::move(type);
    r.soft = soft;
    r.hard = hard;
    return r;
}

TEST(ProcAttrsRlimits, NameTable) {
    const char* names[] = {"RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
                           "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
                           "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
                           "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"};
    bool seen[RLIMIT_NLIMITS] = {};
    for (const char* name : names) {
        auto r = rlimit_from_name(name);
        ASSERT_TRUE(r) << name;
        ASSERT_GE(*r, 0);
        ASSERT_LT(*r, RLIMIT_NLIMITS);
        seen[*r] = true;
        EXPECT_STREQ(rlimit_name(*r), name);
    }
    for (bool s : seen) EXPECT_TRUE(s);
    EXPECT_EQ(rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
    EXPECT_FALSE(rlimit_from_name("NOFILE"));
    EXPECT_EQ(rlimit_name(99), nullptr);
}

TEST(ProcAttrsRlimits, ResolveAndErrors) {
    auto r = resolve_rlimits({rl("RLIMIT_NOFILE", 1024, 4096), rl("RLIMIT_CORE", 0, ~0ULL)});
    ATTRS_ASSERT_OK(r);
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].resource, RLIMIT_NOFILE);
    EXPECT_EQ((*r)[0].soft, 1024u);
    EXPECT_EQ((*r)[1].hard, RLIM_INFINITY);

    expect_error(resolve_rlimits({rl("RLIMIT_FOO", 1, 1)}),
                 "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
    expect_error(resolve_rlimits(
                     {rl("RLIMIT_CORE", 1, 1), rl("RLIMIT_NPROC", 1, 1), rl("RLIMIT_CORE", 2, 2)}),
                 "process.rlimits[2].type: RLIMIT_CORE is already set by process.rlimits[0]");
    expect_error(resolve_rlimits({rl("RLIMIT_NOFILE", 10, 5)}),
                 "process.rlimits[0]: soft limit 10 exceeds hard limit 5");
}

TEST(ProcAttrsRlimits, ApplyInChild) {
    struct rlimit cur;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &cur), 0);
    ASSERT_GE(cur.rlim_max, 64u);
    auto r = resolve_rlimits({rl("RLIMIT_NOFILE", 32, 64), rl("RLIMIT_CORE", 0, 0)});
    ATTRS_ASSERT_OK(r);
    const auto limits = *r;
    int code = in_child([&] {
        if (apply_rlimits(limits.data(), limits.size()) != 0) return 1;
        struct rlimit got;
        if (getrlimit(RLIMIT_NOFILE, &got) != 0 || got.rlim_cur != 32 || got.rlim_max != 64) {
            return 2;
        }
        if (getrlimit(RLIMIT_CORE, &got) != 0 || got.rlim_max != 0) return 3;
        return 0;
    });
    EXPECT_EQ(code, 0);
}

oci::Scheduler sched(std::string policy, int nice = 0, int priority = 0,
                     std::vector<std::string> flags = {}) {
    oci::Scheduler s;
    s.policy = std::move(policy);
    s.nice = nice;
    s.priority = priority;
    s.flags = std::move(flags);
    return s;
}

TEST(ProcAttrsScheduler, ResolveAndErrors) {
    auto a = resolve_scheduler(
        sched("SCHED_DEADLINE", 0, 0, {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_DL_OVERRUN"}));
    ATTRS_ASSERT_OK(a);
    EXPECT_EQ(a->size, 56u);
    EXPECT_EQ(a->sched_policy, 6u);
    EXPECT_EQ(a->sched_flags, 0x01u | 0x04u);

    auto f = resolve_scheduler(sched("SCHED_FIFO", 0, 10));
    ATTRS_ASSERT_OK(f);
    EXPECT_EQ(f->sched_policy, unsigned(SCHED_FIFO));
    EXPECT_EQ(f->sched_priority, 10u);

    for (const char* flag :
         {"SCHED_FLAG_RECLAIM", "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS",
          "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX"}) {
        EXPECT_TRUE(sched_flag_from_name(flag)) << flag;
    }

    expect_error(resolve_scheduler(sched("SCHED_FAST")),
                 "process.scheduler.policy: unknown policy \"SCHED_FAST\"");
    expect_error(resolve_scheduler(sched("")), "process.scheduler.policy: unknown policy \"\"");
    expect_error(resolve_scheduler(sched("SCHED_ISO")),
                 "process.scheduler.policy: SCHED_ISO is not implemented by Linux");
    expect_error(resolve_scheduler(sched("SCHED_OTHER", 20)),
                 "process.scheduler.nice: 20 is out of range (-20 to 19)");
    expect_error(resolve_scheduler(sched("SCHED_BATCH", 0, 5)),
                 "process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority, "
                 "not SCHED_BATCH");
    expect_error(resolve_scheduler(sched("SCHED_RR", 0, 0)),
                 "process.scheduler.priority: 0 is out of range for SCHED_RR (1 to 99)");
    expect_error(resolve_scheduler(sched("SCHED_OTHER", 0, 0, {"SCHED_FLAG_TURBO"})),
                 "process.scheduler.flags[0]: unknown flag \"SCHED_FLAG_TURBO\"");
}

TEST(ProcAttrsScheduler, ApplyInChild) {
    // Lowering priority needs no privilege.
    auto a = resolve_scheduler(sched("SCHED_BATCH", 7, 0, {"SCHED_FLAG_RESET_ON_FORK"}));
    ATTRS_ASSERT_OK(a);
    const SchedAttr attr = *a;
    int code = in_child([&] {
        if (apply_scheduler(attr) != 0) return 1;
        if (sched_getscheduler(0) != (SCHED_BATCH | SCHED_RESET_ON_FORK)) return 2;
        errno = 0;
        if (getpriority(PRIO_PROCESS, 0) != 7 || errno != 0) return 3;
        return 0;
    });
    EXPECT_EQ(code, 0);

    auto idle = resolve_scheduler(sched("SCHED_IDLE"));
    ATTRS_ASSERT_OK(idle);
    const SchedAttr idle_attr = *idle;
    code = in_child([&] {
        if (apply_scheduler(idle_attr) != 0) return 1;
        return sched_getscheduler(0) == SCHED_IDLE ? 0 : 2;
    });
    EXPECT_EQ(code, 0);
}

TEST(ProcAttrsIoPriority, ResolveApplyAndErrors) {
    EXPECT_EQ(ioprio_class_from_name("IOPRIO_CLASS_RT"), 1);
    EXPECT_EQ(ioprio_class_from_name("IOPRIO_CLASS_BE"), 2);
    EXPECT_EQ(ioprio_class_from_name("IOPRIO_CLASS_IDLE"), 3);

    oci::IoPriority p;
    p.io_class = "IOPRIO_CLASS_BE";
    p.priority = 6;
    auto r = resolve_ioprio(p);
    ATTRS_ASSERT_OK(r);
    EXPECT_EQ(r->io_class, 2);
    EXPECT_EQ(r->priority, 6);
    const IoPrio prio = *r;
    int code = in_child([&] {
        if (apply_ioprio(prio.io_class, prio.priority) != 0) return 1;
        long got = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
        return got == ((2 << 13) | 6) ? 0 : 2;
    });
    EXPECT_EQ(code, 0);

    p.priority = 8;
    expect_error(resolve_ioprio(p), "process.ioPriority.priority: 8 is out of range (0 to 7)");
    p.io_class = "IOPRIO_CLASS_NONE";
    expect_error(resolve_ioprio(p),
                 "process.ioPriority.class: unknown class "
                 "\"IOPRIO_CLASS_NONE\"");
}

TEST(ProcAttrsPersonality, ResolveApplyAndErrors) {
    oci::Personality p;
    p.domain = "LINUX";
    auto r = resolve_personality(p);
    ATTRS_ASSERT_OK(r);
    EXPECT_EQ(*r, static_cast<unsigned long>(PER_LINUX));

    p.domain = "LINUX32";
    p.flags = {"ADDR_NO_RANDOMIZE"};
    r = resolve_personality(p);
    ATTRS_ASSERT_OK(r);
    EXPECT_EQ(*r, static_cast<unsigned long>(PER_LINUX32) | ADDR_NO_RANDOMIZE);
    const unsigned long persona = *r;
    int code = in_child([&] {
        if (apply_personality(persona) != 0) return 1;
        return static_cast<unsigned long>(syscall(SYS_personality, 0xffffffffUL)) == persona ? 0
                                                                                             : 2;
    });
    EXPECT_EQ(code, 0);

    p.flags = {"ADDR_NO_RANDOMIZE", "MMAP_PAGE_ZERO"};
    expect_error(resolve_personality(p),
                 "linux.personality.flags[1]: unsupported flag \"MMAP_PAGE_ZERO\"");
    p.domain = "BSD";
    p.flags.clear();
    expect_error(resolve_personality(p), "linux.personality.domain: unknown domain \"BSD\"");
}

}  // namespace
}  // namespace berth::runtime
