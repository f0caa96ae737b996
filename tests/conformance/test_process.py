"""process.*: args, env, cwd, user, rlimits, capabilities, noNewPrivileges,
oomScoreAdj, ioPriority, scheduler, terminal."""

import resource

import pytest

from conftest import CAP_BIT, cap_mask, expect_error


def caps_of(j):
    return {k: int(j[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def test_args_passed_verbatim(rt):
    b = rt.bundle("/bin/sh", "-c", 'printf "%s|%s|%s|%s" "$0" "$1" "$2" "$#"', "zero", "one two", "", "three")
    res = rt.run(b)
    assert res.returncode == 0, res
    assert res.stdout == "zero|one two||3"


def test_args0_resolved_via_path(rt):
    # args[0] without a slash is looked up in the container's PATH
    b = rt.bundle("berth-true-not-here")
    b.args("echo", "via-path")
    res = rt.run(b)
    assert res.returncode == 0, res
    assert res.stdout.strip() == "via-path"


def test_env_exact(rt):
    b = rt.bundle()
    b.process["env"] = ["PATH=/bin", "FOO=bar", "WITH_SPACE=a b  c", "EMPTY=", "EQUALS=x=y"]
    j = rt.check(b, "env")
    assert j["env"]["FOO"] == "bar"
    assert j["env"]["WITH_SPACE"] == "a b  c"
    assert j["env"]["EMPTY"] == ""
    assert j["env"]["EQUALS"] == "x=y"
    assert j["env"]["PATH"] == "/bin"
    assert "TERM" not in j["env"], "runtime must not inject env from the host"


def test_cwd(rt):
    b = rt.bundle()
    (b.rootfs / "work/dir").mkdir(parents=True)
    b.process["cwd"] = "/work/dir"
    assert rt.check(b, "cwd")["cwd"] == "/work/dir"


def test_user_uid_gid(rt):
    b = rt.bundle()
    b.process["user"] = {"uid": 1000, "gid": 1001}
    j = rt.check(b, "ids")
    assert (j["uid"], j["euid"], j["suid"]) == (1000, 1000, 1000)
    assert (j["gid"], j["egid"], j["sgid"]) == (1001, 1001, 1001)


def test_user_additional_gids(rt):
    b = rt.bundle()
    b.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 2000, 3000]}
    j = rt.check(b, "ids")
    assert sorted(j["groups"]) == [5, 2000, 3000] or sorted(j["groups"]) == [5, 1000, 2000, 3000]
    assert {5, 2000, 3000} <= set(j["groups"])


def test_user_no_additional_gids_clears_groups(rt):
    b = rt.bundle()
    b.process["user"] = {"uid": 1000, "gid": 1000}
    j = rt.check(b, "ids")
    assert set(j["groups"]) <= {1000}, "supplementary groups of the runtime leaked into the container"


@pytest.mark.parametrize("umask", [0o027, 0o077, 0o002])
def test_user_umask(rt, umask):
    b = rt.bundle()
    b.process["user"] = {"uid": 0, "gid": 0, "umask": umask}
    assert rt.check(b, "ids")["umask"] == umask


def _hard(res):
    return resource.getrlimit(res)[1]


def test_rlimits_applied(rt):
    nofile_hard = min(_hard(resource.RLIMIT_NOFILE), 4096)
    nproc_hard = _hard(resource.RLIMIT_NPROC)
    nproc_hard = 5000 if nproc_hard == resource.RLIM_INFINITY else min(nproc_hard, 5000)
    b = rt.bundle()
    b.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 333, "hard": nofile_hard},
        {"type": "RLIMIT_NPROC", "soft": 1234, "hard": nproc_hard},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
        {"type": "RLIMIT_MSGQUEUE", "soft": 8192, "hard": 16384},
        {"type": "RLIMIT_STACK", "soft": 4 << 20, "hard": 16 << 20},
    ]
    j = rt.check(b, "rlimits")
    assert j["RLIMIT_NOFILE"] == {"soft": 333, "hard": nofile_hard}
    assert j["RLIMIT_NPROC"] == {"soft": 1234, "hard": nproc_hard}
    assert j["RLIMIT_CORE"] == {"soft": 0, "hard": 4096}
    assert j["RLIMIT_MSGQUEUE"] == {"soft": 8192, "hard": 16384}
    assert j["RLIMIT_STACK"] == {"soft": 4 << 20, "hard": 16 << 20}


def test_rlimit_unknown_type_rejected(rt):
    b = rt.bundle()
    b.process["rlimits"] = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    expect_error(rt.run(b), "RLIMIT_BOGUS")
    rt.assert_nothing_left(b)


def test_rlimit_raise_hard_without_cap_sys_resource_fails(rt):
    with open("/proc/self/status") as f:
        bnd = int([l for l in f if l.startswith("CapBnd:")][0].split()[1], 16)
    if bnd & (1 << CAP_BIT["CAP_SYS_RESOURCE"]):
        pytest.skip("host has CAP_SYS_RESOURCE; raising a hard limit would succeed")
    hard = _hard(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("RLIMIT_NOFILE hard limit is unlimited")
    b = rt.bundle()
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": hard + 10, "hard": hard + 10}]
    b.checker("rlimits")
    expect_error(rt.run(b), "RLIMIT_NOFILE")
    rt.assert_nothing_left(b)


def test_capabilities_bounding_exact(rt):
    b = rt.bundle()
    caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    b.set_caps(caps, ("bounding", "effective", "permitted"))
    c = caps_of(rt.check(b, "caps"))
    assert c["CapBnd"] == cap_mask(caps)


def test_capabilities_root_permitted_effective_with_nnp(rt):
    # With no_new_privs the root exec rule cannot widen the permitted set, so
    # the configured permitted/effective sets are what the process ends up with.
    b = rt.bundle()
    b.process["noNewPrivileges"] = True
    b.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
        "permitted": ["CAP_KILL", "CAP_SETUID"],
        "effective": ["CAP_KILL", "CAP_SETUID"],
    }
    c = caps_of(rt.check(b, "caps"))
    assert c["CapBnd"] == cap_mask(["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"])
    assert c["CapPrm"] == cap_mask(["CAP_KILL", "CAP_SETUID"])
    assert c["CapEff"] == cap_mask(["CAP_KILL", "CAP_SETUID"])
    assert c["CapInh"] == 0
    assert c["CapAmb"] == 0


def test_capabilities_nonroot_inheritable_and_ambient(rt):
    b = rt.bundle()
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
        "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_NET_BIND_SERVICE"],
    }
    c = caps_of(rt.check(b, "caps"))
    assert c["CapBnd"] == cap_mask(["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"])
    assert c["CapInh"] == cap_mask(["CAP_KILL", "CAP_NET_BIND_SERVICE"])
    assert c["CapAmb"] == cap_mask(["CAP_NET_BIND_SERVICE"])
    # for a non-root exec without file caps, permitted = effective = ambient
    assert c["CapPrm"] == cap_mask(["CAP_NET_BIND_SERVICE"])
    assert c["CapEff"] == cap_mask(["CAP_NET_BIND_SERVICE"])


def test_capabilities_nonroot_without_ambient_has_none(rt):
    b = rt.bundle()
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.process["capabilities"] = {k: ["CAP_KILL", "CAP_CHOWN"] for k in
                                 ("bounding", "permitted", "effective", "inheritable")}
    c = caps_of(rt.check(b, "caps"))
    assert c["CapInh"] == cap_mask(["CAP_KILL", "CAP_CHOWN"])
    assert c["CapPrm"] == 0 and c["CapEff"] == 0 and c["CapAmb"] == 0


def test_capabilities_absent_means_none(rt):
    b = rt.bundle()
    b.process["user"] = {"uid": 0, "gid": 0}
    b.process["noNewPrivileges"] = True
    b.process["capabilities"] = {"bounding": [], "permitted": [], "effective": []}
    c = caps_of(rt.check(b, "caps"))
    assert c == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 0, "CapAmb": 0}


def test_capability_unknown_name_rejected(rt):
    b = rt.bundle()
    b.process["capabilities"]["bounding"] = ["CAP_NOT_A_CAP"]
    res = rt.run(b)
    if res.returncode == 0 and not rt.kind == "berth":
        pytest.skip(f"{rt.kind} ignores unknown capability names with a warning")
    expect_error(res, "CAP_NOT_A_CAP")
    rt.assert_nothing_left(b)


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(rt, nnp):
    b = rt.bundle()
    b.process["noNewPrivileges"] = nnp
    j = rt.check(b, "caps")
    assert j["NoNewPrivs"] == (1 if nnp else 0)
    assert j["prctl_no_new_privs"] == (1 if nnp else 0)


@pytest.mark.parametrize("adj", [500, 123, 1000])
def test_oom_score_adj(rt, adj):
    b = rt.bundle()
    b.process["oomScoreAdj"] = adj
    assert rt.check(b, "oom_score_adj")["oom_score_adj"] == adj


@pytest.mark.berth_only  # runc 1.1.5 ignores process.ioPriority (added in runc 1.2)
@pytest.mark.parametrize("cls,prio,num", [("IOPRIO_CLASS_IDLE", 0, 3), ("IOPRIO_CLASS_BE", 6, 2)])
def test_io_priority(rt, cls, prio, num):
    b = rt.bundle()
    b.process["ioPriority"] = {"class": cls, "priority": prio}
    j = rt.check(b, "ioprio")
    assert j["class"] == cls and j["class_num"] == num
    assert j["priority"] == prio


@pytest.mark.berth_only  # runc 1.1.5 ignores process.scheduler (added in runc 1.2)
def test_scheduler_batch_nice(rt):
    b = rt.bundle()
    b.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    j = rt.check(b, "sched")
    assert j["policy"] == "SCHED_BATCH"
    assert j["nice"] == 7


@pytest.mark.berth_only  # runc 1.1.5 ignores process.scheduler
def test_scheduler_idle(rt):
    b = rt.bundle()
    b.process["scheduler"] = {"policy": "SCHED_IDLE"}
    assert rt.check(b, "sched")["policy"] == "SCHED_IDLE"


def test_terminal_console_socket(rt, console):
    b = rt.bundle()
    b.process["terminal"] = True
    b.process["consoleSize"] = {"height": 33, "width": 111}
    b.checker("tty")
    sock = console()
    res = rt.create(b, "--console-socket", sock.path)
    assert res.returncode == 0, res
    assert rt.start(b.id).returncode == 0
    out = sock.read_all(15)
    import json as _json
    j = _json.loads(out.strip().splitlines()[-1])
    for fd in ("0", "1", "2"):
        assert j[fd]["isatty"] is True
        assert j[fd]["name"].startswith("/dev/pts/")
        assert (j[fd]["rows"], j[fd]["cols"]) == (33, 111)
    assert j["tty_nr"] != 0, "the pty must be the controlling terminal"


def test_terminal_reads_input(rt, console):
    b = rt.bundle("/bin/sh", "-c", "read line; echo got:$line")
    b.process["terminal"] = True
    sock = console()
    assert rt.create(b, "--console-socket", sock.path).returncode == 0
    fd = sock.wait_master()
    import os as _os
    _os.write(fd, b"hello-pty\n")
    assert rt.start(b.id).returncode == 0
    out = sock.read_all(15)
    assert "got:hello-pty" in out


def test_terminal_without_console_socket_fails_for_detached(rt):
    b = rt.bundle()
    b.process["terminal"] = True
    res = rt.create(b)
    expect_error(res, "console")
    rt.assert_nothing_left(b)
