"""`berth run`'s security, mount and resource flags end to end (root, real kernel): --cap-add,
--cap-drop, --privileged, --security-opt, -v, --tmpfs, --init, --memory, --cpus, --pids-limit,
each observed from inside the container (/proc/self/status, /proc/self/mountinfo) or from the
host (bind-mounted files, the container's cgroup).

Same setup as test_engine_containers.py (the `berth` fixture of conftest.py): $BERTH_BIN,
$BERTH_TEST_ENGINE_RUNTIME, a temp --root and --runroot per test, and a finalizer that removes
every container and checks that nothing (mount, cgroup) is left.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from engine_helpers import IMAGE, REQUIREMENTS, _cgroup_dirs

pytestmark = list(REQUIREMENTS)

CAP_SYS_ADMIN = 21
CAP_NET_ADMIN = 12
CAP_CHOWN = 0


def _status(berth, *flags) -> dict[str, str]:
    out = berth.container("--rm", *flags, cmd=["cat", "/proc/self/status"]).stdout
    return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)


def _has(mask: str, cap: int) -> bool:
    return bool(int(mask, 16) >> cap & 1)


def _mounts(berth, *flags) -> dict[str, tuple[str, str, str]]:
    """mount point -> (per-mount options, fstype, source) inside a container."""
    out = berth.container("--rm", *flags, cmd=["cat", "/proc/self/mountinfo"]).stdout
    mounts = {}
    for line in out.splitlines():
        fields = line.split()
        sep = fields.index("-")
        mounts[fields[4]] = (fields[5], fields[sep + 1], fields[sep + 2])
    return mounts


def _usage_error(p, *words):
    assert p.returncode == 125, p.stdout + p.stderr
    for w in words:
        assert w in p.stderr, p.stderr


# --- security -----------------------------------------------------------------------------------

def test_default_security(berth):
    s = _status(berth)
    assert not _has(s["CapEff"], CAP_SYS_ADMIN)
    assert _has(s["CapEff"], CAP_CHOWN)
    assert s["NoNewPrivs"] == "0"
    assert s["Seccomp"] == "2"  # the default profile
    # A user namespace needs no capability, but the default profile refuses new namespaces
    # without CAP_SYS_ADMIN (as docker's does); unconfined, or with the capability, it works.
    p = berth.container("--rm", cmd=["unshare", "-U", "true"], check=False)
    assert p.returncode == 1 and "Operation not permitted" in p.stderr, p.stderr
    berth.container("--rm", "--security-opt", "seccomp=unconfined", cmd=["unshare", "-U", "true"])
    berth.container("--rm", "--cap-add", "SYS_ADMIN", cmd=["unshare", "-U", "true"])


def test_cap_add_drop(berth):
    s = _status(berth, "--cap-add", "NET_ADMIN", "--cap-drop", "chown")
    assert _has(s["CapEff"], CAP_NET_ADMIN)
    assert not _has(s["CapEff"], CAP_CHOWN)
    s = _status(berth, "--cap-drop", "ALL", "--cap-add", "CAP_CHOWN")
    assert int(s["CapEff"], 16) == 1 << CAP_CHOWN
    assert int(s["CapBnd"], 16) == 1 << CAP_CHOWN
    s = _status(berth, "--cap-add", "ALL")
    assert _has(s["CapEff"], CAP_SYS_ADMIN)
    _usage_error(berth.container("--rm", "--cap-add", "BOGUS", cmd=["true"], check=False),
                 "--cap-add", "BOGUS")
    _usage_error(berth.container("--rm", "--cap-drop", "nope", cmd=["true"], check=False),
                 "--cap-drop")


def test_privileged(berth):
    s = _status(berth, "--privileged")
    host_bnd = dict(line.split(":\t", 1) for line in
                    Path("/proc/self/status").read_text().splitlines())["CapBnd"]
    assert int(s["CapEff"], 16) == int(host_bnd, 16)
    assert s["Seccomp"] == "0"
    mounts = _mounts(berth, "--privileged")
    assert mounts["/sys"][0].split(",")[0] == "rw"
    # No masked or read-only paths.
    assert "/proc/keys" not in mounts and "/proc/sys" not in mounts
    default = _mounts(berth)
    assert "/proc/keys" in default and "/proc/sys" in default
    # Host devices.
    out = berth.container("--rm", "--privileged", cmd=["ls", "/dev"]).stdout.split()
    host = [d for d in os.listdir("/dev") if Path("/dev", d).is_char_device() and d != "console"]
    assert set(host) - {"ptmx", "tty"} <= set(out)
    # And a mount works.
    p = berth.container("--rm", "--privileged",
                        cmd=["sh", "-c", "mkdir -p /m && mount -t tmpfs x /m && echo ok"])
    assert p.stdout == "ok\n"


def test_security_opt(berth, tmp_path):
    s = _status(berth, "--security-opt", "no-new-privileges")
    assert s["NoNewPrivs"] == "1"
    s = _status(berth, "--security-opt", "seccomp=unconfined")
    assert s["Seccomp"] == "0"
    # A docker-format profile.
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                     "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }))
    p = berth.container("--rm", "--security-opt", f"seccomp={profile}",
                        cmd=["sh", "-c", "mkdir /tmp/x"], check=False)
    assert p.returncode == 1
    assert "Operation not permitted" in p.stderr
    _usage_error(berth.container("--rm", "--security-opt", "apparmor=x", cmd=["true"],
                                 check=False), "--security-opt")
    _usage_error(berth.container("--rm", "--security-opt", f"seccomp={tmp_path}/none.json",
                                 cmd=["true"], check=False), "none.json")


# --- mounts -------------------------------------------------------------------------------------

def test_bind_volumes(berth, tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    (host / "in").write_text("from host\n")
    p = berth.container("--rm", "-v", f"{host}:/h", "-v", f"{host}:/r:ro", cmd=[
        "sh", "-c", "cat /h/in; echo written > /h/out; echo no > /r/x; echo ro=$?"])
    assert p.stdout == "from host\nro=1\n"
    assert "Read-only file system" in p.stderr
    assert (host / "out").read_text() == "written\n"
    assert not (host / "x").exists()
    mounts = _mounts(berth, "-v", f"{host}:/h", "-v", f"{host}:/r:ro")
    assert mounts["/h"][0].split(",")[0] == "rw"
    assert mounts["/r"][0].split(",")[0] == "ro"
    missing = tmp_path / "missing"
    _usage_error(berth.container("--rm", "-v", f"{missing}:/x", cmd=["true"], check=False),
                 "-v", str(missing))
    _usage_error(berth.container("--rm", "-v", f"{host}:rel", cmd=["true"], check=False), "-v")
    assert berth.ps() == []


def test_named_volume_persists(berth):
    berth.container("--rm", "-v", "data1:/data", cmd=["sh", "-c", "echo kept > /data/f"])
    data = berth.root / "volumes/data1/_data"
    assert (data / "f").read_text() == "kept\n"
    p = berth.container("--rm", "-v", "data1:/d2:ro", cmd=["cat", "/d2/f"])
    assert p.stdout == "kept\n"
    _usage_error(berth.container("--rm", "-v", "bad name:/x", cmd=["true"], check=False), "-v")


def test_volume_commands(berth):
    assert berth.run("volume", "ls", "-q").stdout == ""
    berth.run("volume", "create", "made")
    berth.container("--rm", "-v", "used:/u", cmd=["true"])
    assert berth.run("volume", "ls", "-q").stdout == "made\nused\n"
    assert "local       made" in berth.run("volume", "ls").stdout
    cid = berth.run("create", "-v", "used:/u", IMAGE, "true").stdout.strip()
    p = berth.run("volume", "rm", "used", check=False)
    assert p.returncode == 125 and "being used" in p.stderr, p.stderr
    berth.run("rm", cid)
    assert berth.run("volume", "rm", "used", "made").stdout == "used\nmade\n"
    assert berth.run("volume", "ls", "-q").stdout == ""
    assert not (berth.root / "volumes/used").exists()
    p = berth.run("volume", "rm", "nope", check=False)
    assert p.returncode != 0 and "no such volume" in p.stderr


def test_tmpfs(berth):
    mounts = _mounts(berth, "--tmpfs", "/scratch", "--tmpfs", "/big:size=2m,exec")
    opts, fstype, _ = mounts["/scratch"]
    assert fstype == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= set(opts.split(","))
    assert "noexec" not in mounts["/big"][0].split(",")
    p = berth.container("--rm", "--tmpfs", "/big:size=2m", cmd=["df", "-k", "/big"])
    assert " 2048 " in p.stdout, p.stdout
    _usage_error(berth.container("--rm", "--tmpfs", "rel", cmd=["true"], check=False),
                 "--tmpfs")


# --- init and resources -------------------------------------------------------------------------

def test_init(berth):
    p = berth.container("--rm", "--init", cmd=["sh", "-c", "cat /proc/1/cmdline; echo; echo $$"])
    first, pid = p.stdout.splitlines()
    assert first.split("\0")[:3] == ["/run/berth-init", "--", "sh"]
    assert pid != "1"
    cid = berth.container("--init", cmd=["sleep", "1000"], detach=True).stdout.strip()
    start = time.monotonic()
    p = berth.run("stop", cid)
    assert time.monotonic() - start < 5
    assert "SigCgt" not in p.stderr, p.stderr
    assert berth.inspect(cid)["State"]["ExitCode"] == 143
    berth.run("rm", cid)
    # Without it the stop needs SIGKILL, and berth says why.
    cid = berth.container(cmd=["sleep", "1000"], detach=True).stdout.strip()
    p = berth.run("stop", "-t", "1", cid)
    assert "SigCgt" in p.stderr
    berth.run("rm", cid)


def test_resources(berth):
    cid = berth.container("--memory", "64m", "--cpus", "0.5", "--pids-limit", "50",
                          cmd=["sleep", "1000"], detach=True).stdout.strip()
    # /sys/fs/cgroup/<controller>/berth/<name> (v1) or /sys/fs/cgroup/berth/<name> (v2).
    dirs = {d.parent.parent.name: d for d in _cgroup_dirs(cid)}
    if "memory" in dirs:  # cgroup v1
        assert (dirs["memory"] / "memory.limit_in_bytes").read_text().strip() == str(64 << 20)
        assert (dirs["cpu"] / "cpu.cfs_quota_us").read_text().strip() == "50000"
        assert (dirs["pids"] / "pids.max").read_text().strip() == "50"
    else:
        d = dirs["cgroup"]
        assert (d / "memory.max").read_text().strip() == str(64 << 20)
        assert (d / "cpu.max").read_text().split()[0] == "50000"
        assert (d / "pids.max").read_text().strip() == "50"
    berth.run("rm", "-f", cid)
    _usage_error(berth.container("--rm", "--memory", "lots", cmd=["true"], check=False),
                 "--memory")
    _usage_error(berth.container("--rm", "--cpus", "-1", cmd=["true"], check=False), "--cpus")
