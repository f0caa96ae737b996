"""linux.sysctl and linux.seccomp."""

import os
import subprocess
import time

import pytest

from conftest import expect_error

EPERM, ENOSYS = 1, 38
SYS_GETCWD_X86_64 = 79
SIGSYS = 31
ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def host_sysctl(key):
    with open("/proc/sys/" + key.replace(".", "/")) as f:
        return f.read().strip()


@pytest.fixture
def restore_host_sysctls():
    """Put host sysctls back should a broken runtime apply a refused key on the host."""
    keys = ["vm.swappiness", "net.ipv4.ip_forward"]
    saved = {k: host_sysctl(k) for k in keys}
    yield
    for k, v in saved.items():
        if host_sysctl(k) != v:
            with open("/proc/sys/" + k.replace(".", "/"), "w") as f:
                f.write(v)


# --------------------------------------------------------------------------- sysctl


def test_sysctl_net_namespaced(rt):
    before = host_sysctl("net.ipv4.ip_forward")
    want = "0" if before == "1" else "1"
    b = rt.bundle()
    # Not accept_redirects: the kernel sets it to !ip_forward whenever ip_forward is written,
    # so the result would depend on the order the runtime applies them in.
    b.linux["sysctl"] = {"net.ipv4.ip_forward": want, "net.ipv4.conf.all.log_martians": "1"}
    j = rt.check(b, "sysctl", "net.ipv4.ip_forward", "net.ipv4.conf.all.log_martians")
    assert j["net.ipv4.ip_forward"] == want
    assert j["net.ipv4.conf.all.log_martians"] == "1"
    assert host_sysctl("net.ipv4.ip_forward") == before


def test_sysctl_ipc_namespaced(rt):
    b = rt.bundle()
    b.linux["sysctl"] = {"kernel.shmmax": "12345678", "kernel.msgmax": "4242"}
    j = rt.check(b, "sysctl", "kernel.shmmax", "kernel.msgmax")
    assert j == {"kernel.shmmax": "12345678", "kernel.msgmax": "4242"}
    assert host_sysctl("kernel.shmmax") != "12345678"


def test_sysctl_not_namespaced_refused(rt, restore_host_sysctls):
    before = host_sysctl("vm.swappiness")
    b = rt.bundle()
    b.linux["sysctl"] = {"vm.swappiness": "1" if before != "1" else "2"}
    expect_error(rt.run(b), "vm.swappiness")
    rt.assert_nothing_left(b)
    assert host_sysctl("vm.swappiness") == before


def test_sysctl_net_without_netns_refused(rt, restore_host_sysctls):
    before = host_sysctl("net.ipv4.ip_forward")
    b = rt.bundle()
    b.remove_namespace("network")
    b.linux["sysctl"] = {"net.ipv4.ip_forward": "0" if before == "1" else "1"}
    expect_error(rt.run(b), "net.ipv4.ip_forward")
    rt.assert_nothing_left(b)
    assert host_sysctl("net.ipv4.ip_forward") == before


def test_sysctl_unknown_key_fails(rt):
    b = rt.bundle()
    b.linux["sysctl"] = {"net.ipv4.berth_no_such_key": "1"}
    expect_error(rt.run(b), "berth_no_such_key")
    rt.assert_nothing_left(b)


# --------------------------------------------------------------------------- seccomp


def seccomp_bundle(rt, rules, default="SCMP_ACT_ALLOW", **extra):
    b = rt.bundle()
    b.linux["seccomp"] = {"defaultAction": default, "architectures": list(ARCHES), "syscalls": rules, **extra}
    return b


def probe(rt, b, *calls, expect_rc=0):
    res = rt.run(b.checker("seccomp", *calls))
    assert res.returncode == expect_rc, res
    return res.json() if expect_rc == 0 else res


def test_seccomp_no_filter_by_default(rt):
    b = rt.bundle()
    j = rt.check(b, "seccomp", "getcwd")
    assert j["status"]["mode"] == 0
    assert j["results"]["getcwd"]["errno"] == 0


def test_seccomp_errno_with_errnoret(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}])
    j = probe(rt, b, "getcwd", "getpid")
    assert j["status"]["mode"] == 2
    assert j["results"]["getcwd"]["errno"] == 42
    assert j["results"]["getpid"]["errno"] == 0


def test_seccomp_errno_default_is_eperm(rt):
    b = seccomp_bundle(rt, [{"names": ["mkdir", "chmod"], "action": "SCMP_ACT_ERRNO"}])
    j = probe(rt, b, "mkdir", "chmod", "getcwd")
    assert j["results"]["mkdir"]["errno"] == EPERM
    assert j["results"]["chmod"]["errno"] == EPERM
    assert j["results"]["getcwd"]["errno"] == 0


def test_seccomp_multiple_rules(rt):
    b = seccomp_bundle(rt, [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 11},
        {"names": ["chmod", "fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22},
        {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 33},
    ])
    j = probe(rt, b, "mkdir", "chmod", "fchmodat", "unshare:0", "getcwd")
    r = j["results"]
    assert (r["mkdir"]["errno"], r["chmod"]["errno"], r["fchmodat"]["errno"], r["unshare:0"]["errno"],
            r["getcwd"]["errno"]) == (11, 22, 22, 33, 0)


def test_seccomp_kill_thread(rt):
    # SCMP_ACT_KILL kills only the offending thread: the main thread survives
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_KILL"}])
    j = probe(rt, b, "--thread", "getcwd", "getpid")
    assert j["results"]["getcwd"]["completed"] is False
    assert j["results"]["getpid"]["completed"] is True


def test_seccomp_kill_thread_explicit(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_KILL_THREAD"}])
    j = probe(rt, b, "--thread", "getcwd")
    assert j["results"]["getcwd"]["completed"] is False


def test_seccomp_kill_process(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_KILL_PROCESS"}])
    res = probe(rt, b, "--thread", "getcwd", expect_rc=128 + SIGSYS)
    assert '"results"' not in res.stdout


def test_seccomp_trap(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_TRAP"}])
    j = probe(rt, b, "getcwd", "getpid")
    assert j["results"]["getcwd"]["trapped"] is True
    assert j["results"]["getcwd"]["trap_syscall"] == SYS_GETCWD_X86_64
    assert j["results"]["getpid"]["trapped"] is False


def test_seccomp_log_allows_and_logs(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_LOG"},
                            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}])
    j = probe(rt, b, "getcwd", "mkdir")
    assert j["status"]["mode"] == 2
    assert j["results"]["getcwd"]["errno"] == 0 and j["results"]["getcwd"]["ret"] > 0
    assert j["results"]["mkdir"]["errno"] == 5


def native_syscall_names():
    names = []
    for hdr in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"):
        if os.path.exists(hdr):
            with open(hdr) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 3 and parts[0] == "#define" and parts[1].startswith("__NR_"):
                        names.append(parts[1][5:])
            break
    return names


def test_seccomp_default_errno_with_default_errnoret(rt):
    # Allow every native syscall except getcwd/mkdir; the default action then
    # answers those with defaultErrnoRet.
    names = native_syscall_names()
    if not names:
        pytest.skip("no asm/unistd_64.h to enumerate syscalls (install linux-libc-dev)")
    allowed = [n for n in names if n not in ("getcwd", "mkdir")]
    b = rt.bundle()
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 61,
                          "architectures": ["SCMP_ARCH_X86_64"],
                          "syscalls": [{"names": allowed, "action": "SCMP_ACT_ALLOW"}]}
    j = probe(rt, b, "getcwd", "mkdir", "getpid")
    assert j["results"]["getcwd"]["errno"] == 61
    assert j["results"]["mkdir"]["errno"] == 61
    assert j["results"]["getpid"]["errno"] == 0


def test_seccomp_default_errno_without_errnoret_is_eperm(rt):
    names = native_syscall_names()
    if not names:
        pytest.skip("no asm/unistd_64.h to enumerate syscalls (install linux-libc-dev)")
    b = rt.bundle()
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                          "syscalls": [{"names": [n for n in names if n != "getcwd"], "action": "SCMP_ACT_ALLOW"}]}
    assert probe(rt, b, "getcwd")["results"]["getcwd"]["errno"] == EPERM


def test_seccomp_arg_condition_eq(rt):
    b = seccomp_bundle(rt, [{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 33,
                             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}])
    j = probe(rt, b, "personality:8", "personality:0xffffffff")
    assert j["results"]["personality:8"]["errno"] == 33
    assert j["results"]["personality:0xffffffff"]["errno"] == 0


def test_seccomp_arg_condition_masked_eq(rt):
    # deny unshare when CLONE_NEWUSER (0x10000000) is set
    b = seccomp_bundle(rt, [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 44,
                             "args": [{"index": 0, "value": 0x10000000, "valueTwo": 0x10000000,
                                       "op": "SCMP_CMP_MASKED_EQ"}]}])
    j = probe(rt, b, "unshare:0x10000000", "unshare:0")
    assert j["results"]["unshare:0x10000000"]["errno"] == 44
    assert j["results"]["unshare:0"]["errno"] == 0


def test_seccomp_arg_condition_ne_and_gt(rt):
    b = seccomp_bundle(rt, [
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 55,
         "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_NE"}]},
        {"names": ["setpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 66,
         "args": [{"index": 2, "value": 10, "op": "SCMP_CMP_GT"}]},
    ])
    j = probe(rt, b, "kill:1:0", "kill:1:10", "setpriority:0:0:5", "setpriority:0:0:15")
    r = j["results"]
    assert r["kill:1:0"]["errno"] == 0
    assert r["kill:1:10"]["errno"] == 55
    assert r["setpriority:0:0:15"]["errno"] == 66
    assert r["setpriority:0:0:5"]["errno"] == 0


def test_seccomp_multiple_args_are_anded(rt):
    b = seccomp_bundle(rt, [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 12,
                             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                                      {"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]}])
    j = probe(rt, b, "kill:1:10", "kill:1:0")
    assert j["results"]["kill:1:10"]["errno"] == 12
    assert j["results"]["kill:1:0"]["errno"] == 0


def test_seccomp_architectures_native_only(rt):
    b = rt.bundle()
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                          "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9}]}
    j = probe(rt, b, "getcwd")
    assert j["results"]["getcwd"]["errno"] == 9


def test_seccomp_no_architectures_uses_native(rt):
    b = rt.bundle()
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                          "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9}]}
    assert probe(rt, b, "getcwd")["results"]["getcwd"]["errno"] == 9


def test_seccomp_unknown_architecture_rejected(rt):
    b = rt.bundle()
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_NOPE"],
                          "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}
    expect_error(rt.run(b), "SCMP_ARCH_NOPE")
    rt.assert_nothing_left(b)


def test_seccomp_unknown_action_rejected(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_EXPLODE"}])
    expect_error(rt.run(b), "SCMP_ACT_EXPLODE")
    rt.assert_nothing_left(b)


def test_seccomp_unknown_default_action_rejected(rt):
    b = seccomp_bundle(rt, [], default="SCMP_ACT_NOPE")
    expect_error(rt.run(b), "SCMP_ACT_NOPE")
    rt.assert_nothing_left(b)


def test_seccomp_unknown_operator_rejected(rt):
    b = seccomp_bundle(rt, [{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
                             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}])
    expect_error(rt.run(b), "SCMP_CMP_SOMETIMES")
    rt.assert_nothing_left(b)


@pytest.mark.berth_only  # runc 1.1.5: "seccomp flags are not yet supported by runc"
def test_seccomp_flags_log_accepted(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}],
                       flags=["SECCOMP_FILTER_FLAG_LOG"])
    assert probe(rt, b, "getcwd")["results"]["getcwd"]["errno"] == 42


@pytest.mark.berth_only  # runc 1.1.5 rejects every flag, so this cannot tell flags apart
def test_seccomp_flags_unknown_rejected(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}],
                       flags=["SECCOMP_FILTER_FLAG_BOGUS"])
    expect_error(rt.run(b), "SECCOMP_FILTER_FLAG_BOGUS")
    rt.assert_nothing_left(b)


@pytest.mark.berth_only  # runc 1.1.5: "seccomp flags are not yet supported by runc"
def test_seccomp_flag_spec_allow(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}],
                       flags=["SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
    assert probe(rt, b, "getcwd")["results"]["getcwd"]["errno"] == 42


def test_seccomp_applies_to_exec(rt):
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}])
    b.checker("sleep", "60")
    assert rt.create(b).returncode == 0
    assert rt.start(b.id).returncode == 0
    res = rt.exec(b.id, "/berth-checker", "seccomp", "getcwd")
    assert res.returncode == 0, res
    assert res.json()["results"]["getcwd"]["errno"] == 42


def _dmesg():
    p = subprocess.run(["dmesg"], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else None


def test_seccomp_log_action_reaches_kernel_log(rt):
    """SCMP_ACT_LOG must install SECCOMP_RET_LOG: the kernel logs the call
    (audit type=1326, code=0x7ffc0000) for the container's host pid."""
    if _dmesg() is None:
        pytest.skip("dmesg not readable")
    with open("/proc/sys/kernel/seccomp/actions_logged") as f:
        if "log" not in f.read().split():
            pytest.skip("kernel does not log SECCOMP_RET_LOG actions")
    b = seccomp_bundle(rt, [{"names": ["getcwd"], "action": "SCMP_ACT_LOG"}])
    b.checker("seccomp", "getcwd")
    assert rt.create(b).returncode == 0
    pid = rt.state(b.id)["pid"]
    assert rt.start(b.id).returncode == 0
    assert rt.wait_status(b.id, "stopped") == "stopped"
    want = f"pid={pid} "
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [l for l in (_dmesg() or "").splitlines() if "type=1326" in l and want in l]
        if any("syscall=79 " in l and "code=0x7ffc0000" in l for l in lines):
            return
        time.sleep(0.2)
    pytest.fail(f"no SECCOMP_RET_LOG record for pid {pid} in the kernel log")
