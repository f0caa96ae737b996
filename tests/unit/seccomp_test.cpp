// compile_seccomp's validation, and compiled filters installed for real in forked children
// (with NO_NEW_PRIVS, which needs no privilege).
#include "runtime/seccomp.h"

#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <string>

namespace berth::runtime {
namespace {

#define SECCOMP_ASSERT_OK(r) ASSERT_TRUE((r).ok()) << (r).error().what()

oci::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                         std::optional<unsigned> errno_ret = std::nullopt,
                         std::vector<oci::SeccompArg> args = {}) {
    oci::SeccompSyscall s;
    s.names = std::move(names);
    s.action = std::move(action);
    s.errno_ret = errno_ret;
    s.args = std::move(args);
    return s;
}

oci::SeccompArg arg(unsigned index, std::string op, uint64_t value, uint64_t value_two = 0) {
    oci::SeccompArg a;
    a.index = index;
    a.op = std::move(op);
    a.value = value;
    a.value_two = value_two;
    return a;
}

oci::Seccomp allow_all() {
    oci::Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    return s;
}

void expect_error(const oci::Seccomp& s, const std::string& message) {
    auto r = compile_seccomp(s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    EXPECT_EQ(r.error().message(), message);
}

// Forks; the child installs `prog` under NO_NEW_PRIVS, then returns body()'s value as its exit
// code. Returns the wait status. 100+ codes mean setup failed in the child.
template <typename Body>
int run_filtered(const SeccompProgram& prog, Body body) {
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);  // SIGSYS would dump core
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) _exit(101);
        int listener = -2;
        if (install_seccomp(prog, &listener) != 0) _exit(102);
        if (prog.has_notify ? listener < 0 : listener != -1) _exit(103);
        _exit(body());
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return status;
}

// The child's result as a readable string, for assertions with useful failure output.
std::string describe(int status) {
    if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
}

// errno of a raw syscall that is expected to fail, 0 if it succeeded.
int errno_of(long rc) {
    return rc < 0 ? errno : 0;
}

TEST(SeccompCompile, AllowDefaultMakesAProgram) {
    auto r = compile_seccomp(allow_all());
    SECCOMP_ASSERT_OK(r);
    EXPECT_FALSE(r->filter.empty());
    EXPECT_EQ(r->flags, 0u);
    EXPECT_FALSE(r->has_notify);
}

TEST(SeccompCompile, FieldNamedErrors) {
    auto s = allow_all();
    s.syscalls = {rule({"getcwd"}, "SCMP_ACT_ERRNO"), rule({"chmod"}, "SCMP_ACT_LOG"),
                  rule({"mkdir"}, "X")};
    expect_error(s, "linux.seccomp.syscalls[2].action: unknown action \"X\"");

    s = allow_all();
    s.default_action = "SCMP_ACT_NOPE";
    expect_error(s, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");

    s = allow_all();
    s.architectures.push_back("SCMP_ARCH_VAX");
    expect_error(s, "linux.seccomp.architectures[3]: unknown architecture \"SCMP_ARCH_VAX\"");

    s = allow_all();
    s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS"};
    expect_error(s, "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"");

    s = allow_all();
    s.syscalls = {rule({"dup"}, "SCMP_ACT_ERRNO", std::nullopt,
                       {arg(0, "SCMP_CMP_EQ", 1), arg(1, "SCMP_CMP_SOMETIMES", 2)})};
    expect_error(s,
                 "linux.seccomp.syscalls[0].args[1].op: unknown operator "
                 "\"SCMP_CMP_SOMETIMES\"");

    s = allow_all();
    s.syscalls = {rule({"dup"}, "SCMP_ACT_ERRNO", std::nullopt, {arg(6, "SCMP_CMP_EQ", 1)})};
    expect_error(s, "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0-5)");
}

TEST(SeccompCompile, ErrnoRetOnlyWithErrnoOrTrace) {
    auto s = allow_all();
    s.syscalls = {rule({"mkdir"}, "SCMP_ACT_KILL", 5)};
    expect_error(s,
                 "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or "
                 "SCMP_ACT_TRACE, not SCMP_ACT_KILL");

    s = allow_all();
    s.default_errno_ret = 5;
    expect_error(s,
                 "linux.seccomp.defaultErrnoRet: only valid with SCMP_ACT_ERRNO or "
                 "SCMP_ACT_TRACE, not SCMP_ACT_ALLOW");

    s = allow_all();
    s.syscalls = {rule({"mkdir"}, "SCMP_ACT_TRACE", 7), rule({"rmdir"}, "SCMP_ACT_ERRNO", 70000)};
    expect_error(s, "linux.seccomp.syscalls[1].errnoRet: 70000 is out of range (0-65535)");
}

TEST(SeccompCompile, NotifyRestrictions) {
    auto s = allow_all();
    s.default_action = "SCMP_ACT_NOTIFY";
    expect_error(s, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

    s = allow_all();
    s.syscalls = {rule({"read", "write"}, "SCMP_ACT_NOTIFY")};
    expect_error(s,
                 "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot be used for write (the "
                 "runtime needs it to hand over the listener)");
}

TEST(SeccompCompile, UnknownSyscallsAreSkipped) {
    auto s = allow_all();
    s.syscalls = {rule({"mkdir", "no_such_syscall_ever", "socketcall"}, "SCMP_ACT_ERRNO")};
    auto r = compile_seccomp(s);
    SECCOMP_ASSERT_OK(r);
    ASSERT_EQ(r->skipped_syscalls.size(), 1u);
    EXPECT_EQ(r->skipped_syscalls[0], "no_such_syscall_ever");
}

TEST(SeccompCompile, RuleRepeatingTheDefaultIsSkipped) {
    oci::Seccomp s;
    s.default_action = "SCMP_ACT_ERRNO";
    s.syscalls = {rule({"mkdir"}, "SCMP_ACT_ERRNO"), rule({"getpid"}, "SCMP_ACT_ALLOW"),
                  rule({"rmdir"}, "SCMP_ACT_ERRNO", EPERM)};
    SECCOMP_ASSERT_OK(compile_seccomp(s));
}

TEST(SeccompCompile, Flags) {
    auto s = allow_all();
    s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
               "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
    auto r = compile_seccomp(s);
    SECCOMP_ASSERT_OK(r);
    // WAIT_KILLABLE_RECV is only accepted together with a listener.
    EXPECT_EQ(r->flags, unsigned(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                                 SECCOMP_FILTER_FLAG_SPEC_ALLOW));

    s.syscalls = {rule({"getppid"}, "SCMP_ACT_NOTIFY")};
    r = compile_seccomp(s);
    SECCOMP_ASSERT_OK(r);
    EXPECT_TRUE(r->has_notify);
    EXPECT_EQ(r->flags, unsigned(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                                 SECCOMP_FILTER_FLAG_SPEC_ALLOW | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                 SECCOMP_FILTER_FLAG_TSYNC_ESRCH | (1U << 5)));
}

TEST(SeccompCompile, NameTables) {
    EXPECT_EQ(seccomp_action_from_name("SCMP_ACT_KILL"),
              seccomp_action_from_name("SCMP_ACT_KILL_THREAD"));
    EXPECT_EQ(seccomp_action_from_name("SCMP_ACT_KILL_PROCESS"), 0x80000000u);
    EXPECT_FALSE(seccomp_action_from_name("allow"));
    EXPECT_EQ(seccomp_action_names().size(), 9u);
    EXPECT_EQ(seccomp_op_names().size(), 7u);
    EXPECT_EQ(seccomp_flag_names().size(), 4u);
    auto arches = seccomp_arch_names();
    EXPECT_NE(std::find(arches.begin(), arches.end(), "SCMP_ARCH_AARCH64"), arches.end());
    EXPECT_TRUE(seccomp_arch_from_name("SCMP_ARCH_S390X"));
    EXPECT_FALSE(seccomp_arch_from_name("x86_64"));
}

TEST(SeccompRun, ErrnoRetIsReturned) {
    auto s = allow_all();
    s.syscalls = {rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", EOPNOTSUPP),
                  rule({"rmdir"}, "SCMP_ACT_ERRNO")};
    auto prog = compile_seccomp(s);
    SECCOMP_ASSERT_OK(prog);
    int status = run_filtered(*prog, [] {
        if (mkdir("/nonexistent-dir/berth-seccomp-test", 0700) == 0 || errno != EOPNOTSUPP) {
            return 1;
        }
        if (rmdir("/nonexistent-dir") == 0 || errno != EPERM) return 2;  // default errno
        if (getppid() <= 0) return 3;
        return 0;
    });
    EXPECT_EQ(describe(status), "exit 0");
}

TEST(SeccompRun, ArgumentConditions) {
    auto s = allow_all();
    s.syscalls = {
        // One condition: personality(0xffffffff) (the query) denied, personality(0) allowed.
        rule({"personality"}, "SCMP_ACT_ERRNO", EDOM, {arg(0, "SCMP_CMP_EQ", 0xffffffff)}),
        // Two conditions on one index: separate rules, so either value is denied.
        rule({"dup"}, "SCMP_ACT_ERRNO", EXDEV,
             {arg(0, "SCMP_CMP_EQ", 100), arg(0, "SCMP_CMP_EQ", 101)}),
        // Conditions on different indexes: one rule, both must hold.
        rule({"dup3"}, "SCMP_ACT_ERRNO", ENOTTY,
             {arg(0, "SCMP_CMP_EQ", 100), arg(1, "SCMP_CMP_EQ", 200)}),
        // Masked: value is the mask, valueTwo the datum: (mode & 070) == 020.
        rule({"umask"}, "SCMP_ACT_ERRNO", ERANGE, {arg(0, "SCMP_CMP_MASKED_EQ", 070, 020)}),
    };
    auto prog = compile_seccomp(s);
    SECCOMP_ASSERT_OK(prog);
    int status = run_filtered(*prog, [] {
        if (errno_of(syscall(SYS_personality, 0xffffffffUL)) != EDOM) return 1;
        if (errno_of(syscall(SYS_personality, 0UL)) != 0) return 2;
        if (errno_of(syscall(SYS_dup, 100)) != EXDEV) return 3;
        if (errno_of(syscall(SYS_dup, 101)) != EXDEV) return 4;
        if (errno_of(syscall(SYS_dup, 102)) != EBADF) return 5;
        if (errno_of(syscall(SYS_dup3, 100, 200, 0)) != ENOTTY) return 6;
        if (errno_of(syscall(SYS_dup3, 100, 201, 0)) != EBADF) return 7;
        if (errno_of(syscall(SYS_dup3, 99, 200, 0)) != EBADF) return 8;
        if (errno_of(syscall(SYS_umask, 027)) != ERANGE) return 9;  // 027 & 070 == 020
        if (errno_of(syscall(SYS_umask, 077)) != 0) return 10;      // 077 & 070 == 070
        return 0;
    });
    EXPECT_EQ(describe(status), "exit 0");
}

TEST(SeccompRun, DefaultErrnoRet) {
    oci::Seccomp s;
    s.default_action = "SCMP_ACT_ERRNO";
    s.default_errno_ret = ENOANO;
    // Beyond exit and getpid, what the sanitizer runtimes call on the way out.
    s.syscalls = {rule({"exit", "exit_group", "getpid", "sigaltstack", "mmap", "munmap", "write",
                        "madvise", "rt_sigaction", "rt_sigprocmask", "gettid"},
                       "SCMP_ACT_ALLOW")};
    auto prog = compile_seccomp(s);
    SECCOMP_ASSERT_OK(prog);
    int status = run_filtered(*prog, [] {
        if (syscall(SYS_getpid) <= 0) return 1;
        if (errno_of(syscall(SYS_getppid)) != ENOANO) return 2;
        return 0;
    });
    EXPECT_EQ(describe(status), "exit 0");
}

TEST(SeccompRun, KillProcessAndKillThread) {
    for (const char* action : {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_TRAP"}) {
        auto s = allow_all();
        s.syscalls = {rule({"getppid"}, action)};
        auto prog = compile_seccomp(s);
        SECCOMP_ASSERT_OK(prog);
        int status = run_filtered(*prog, [] {
            syscall(SYS_getppid);
            return 0;
        });
        EXPECT_EQ(describe(status), "signal " + std::to_string(SIGSYS)) << action;
    }
}

TEST(SeccompRun, NotifyGivesAListener) {
    auto s = allow_all();
    s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
    s.syscalls = {rule({"getppid"}, "SCMP_ACT_NOTIFY")};
    auto prog = compile_seccomp(s);
    SECCOMP_ASSERT_OK(prog);
    // run_filtered checks the listener is a valid fd; the child does not call getppid.
    int status = run_filtered(*prog, [] { return 0; });
    EXPECT_EQ(describe(status), "exit 0");
}

TEST(SeccompRun, LogAndTraceCompileAndRun) {
    auto s = allow_all();
    s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
    s.syscalls = {rule({"getppid"}, "SCMP_ACT_LOG"), rule({"getpgid"}, "SCMP_ACT_TRACE", 3)};
    auto prog = compile_seccomp(s);
    SECCOMP_ASSERT_OK(prog);
    int status = run_filtered(*prog, [] {
        if (syscall(SYS_getppid) <= 0) return 1;
        // TRACE with no tracer attached: the syscall fails with ENOSYS.
        if (errno_of(syscall(SYS_getpgid, 0)) != ENOSYS) return 2;
        return 0;
    });
    EXPECT_EQ(describe(status), "exit 0");
}

}  // namespace
}  // namespace berth::runtime
