"""Rootless: the runtime run by an unprivileged uid, in a user namespace.

Root sets the scene (an unused uid U with no passwd entry, a bundle U can read, an
$XDG_RUNTIME_DIR owned by U, delegated cgroups chowned to U), then the runtime runs as U via
`setpriv --reuid=U --regid=U --clear-groups --inh-caps=-all`. The state root is the default
for a non-root caller ($XDG_RUNTIME_DIR/berth-runtime): no --root is passed.

The subordinate-id cases run inside a private mount namespace where temp files are
bind-mounted over /etc/subuid, /etc/subgid, /etc/passwd and /etc/group (newuidmap looks the
caller up by name), so the host's files are never touched.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import CGROUP_ROOT, IS_BERTH, KIND, RUNTIME, TMP_BASE, _make_rootfs, host_cgroup_v1

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to set up the unprivileged user"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)"),
]

SUBUID_START = 200000  # the range the fake /etc/subuid gives U (never a real uid here)
SUBUID_COUNT = 65536


def _uid_in_use(uid: int) -> bool:
    with open("/etc/passwd") as f:
        if any(line.split(":")[2:3] == [str(uid)] for line in f if line.count(":") >= 2):
            return True
    for st in Path("/proc").glob("[0-9]*/status"):
        try:
            for line in st.read_text().splitlines():
                if line.startswith("Uid:") and str(uid) in line.split()[1:]:
                    return True
        except OSError:
            pass
    return False


def _pick_uid() -> int:
    for _ in range(50):
        uid = 100000 + random.randrange(1, 90000)
        if not _uid_in_use(uid):
            return uid
    raise RuntimeError("no unused uid found")


def _procs_of(uid: int) -> list[int]:
    out = []
    for st in Path("/proc").glob("[0-9]*/status"):
        try:
            for line in st.read_text().splitlines():
                if line.startswith("Uid:") and line.split()[1] == str(uid):
                    out.append(int(st.parent.name))
        except OSError:
            pass
    return out


def _status_ids(pid: int, key: str) -> list[int]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return [int(x) for x in line.split()[1:]]
    raise AssertionError(f"no {key} in /proc/{pid}/status")


class Rootless:
    def __init__(self, checker: Path):
        self.uid = self.gid = _pick_uid()
        self.name = f"bt{self.uid}"
        self.tag = uuid.uuid4().hex[:8]
        self.tmp = Path(tempfile.mkdtemp(prefix=f"berth-rl-{self.tag}-", dir=TMP_BASE))
        os.chmod(self.tmp, 0o755)
        self.xdg = self.tmp / "xdg"
        self.xdg.mkdir(mode=0o700)
        os.chown(self.xdg, self.uid, self.gid)
        self.root = self.xdg / ("berth-runtime" if IS_BERTH else KIND)  # the default root
        self.checker_bin = checker
        self.ids: list[str] = []
        self.cgroups: list[Path] = []
        self.overlay: dict[str, Path] = {}  # /etc file -> its stand-in
        self._n = 0

    # ------------------------------------------------------------------ setup
    def bundle(self, *args) -> tuple[str, Path, dict]:
        self._n += 1
        cid = f"bt-rl-{self.tag}-{self._n}"
        self.ids.append(cid)
        path = self.tmp / f"bundle-{self._n}"
        path.mkdir(mode=0o755)
        _make_rootfs(path / "rootfs", self.checker_bin)
        os.chown(path, self.uid, self.gid)  # U writes config.json with `spec --rootless`
        res = self.cmd("spec", "--rootless", cwd=path)
        assert res.returncode == 0, res
        cfg = json.loads((path / "config.json").read_text())
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = list(args) or ["true"]
        cfg["hostname"] = "berth-rootless"
        return cid, path, cfg

    def write(self, path: Path, cfg: dict):
        (path / "config.json").write_text(json.dumps(cfg, indent=1))

    def fake_etc(self, subuid_start=SUBUID_START, count=SUBUID_COUNT):
        """Stand-ins for /etc/{subuid,subgid,passwd,group} giving U one subordinate range."""
        for name in ("subuid", "subgid"):
            p = self.tmp / name
            p.write_text(f"{self.name}:{subuid_start}:{count}\n")
            self.overlay[f"/etc/{name}"] = p
        passwd = self.tmp / "passwd"
        passwd.write_text(Path("/etc/passwd").read_text() +
                          f"{self.name}:x:{self.uid}:{self.gid}::/nonexistent:/bin/false\n")
        group = self.tmp / "group"
        group.write_text(Path("/etc/group").read_text() + f"{self.name}:x:{self.gid}:\n")
        self.overlay["/etc/passwd"] = passwd
        self.overlay["/etc/group"] = group

    def delegate(self, *controllers) -> str:
        """Root makes /<name> in each v1 controller and hands it to U; returns its cgroup path."""
        name = f"berth-rl-{self.tag}-{len(self.cgroups)}"
        for ctl in controllers:
            d = CGROUP_ROOT / ctl / name
            d.mkdir()
            self.cgroups.append(d)
            os.chown(d, self.uid, self.gid)
            for f in ("cgroup.procs", "tasks"):
                os.chown(d / f, self.uid, self.gid)
        return "/" + name

    # ------------------------------------------------------------------ running as U
    def cmd(self, *args, cwd=None, timeout=60, stdout_file=None):
        argv = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                "--inh-caps=-all", RUNTIME, *[str(a) for a in args]]
        if self.overlay:
            # A private mount namespace (unshare's default propagation is private) with the
            # stand-ins bound over the host's files, then setpriv as above.
            binds = " && ".join(f'mount --bind "{src}" "{dst}"' for dst, src in self.overlay.items())
            argv = ["unshare", "-m", "sh", "-c", binds + ' && exec "$@"', "sh", *argv]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR": str(self.xdg)}
        if not stdout_file:
            return subprocess.run(argv, cwd=cwd or self.tmp, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout, text=True)
        # A container started detached keeps its stdio: files, or a pipe would never see EOF.
        err_file = Path(str(stdout_file) + ".err")
        with open(stdout_file, "w") as out, open(err_file, "w") as err:
            p = subprocess.run(argv, cwd=cwd or self.tmp, env=env, stdin=subprocess.DEVNULL,
                               stdout=out, stderr=err, timeout=timeout, text=True)
        p.stderr = err_file.read_text()
        return p

    def state(self, cid) -> dict:
        res = self.cmd("state", cid)
        assert res.returncode == 0, res
        return json.loads(res.stdout)

    # ------------------------------------------------------------------ cleanup
    def cleanup(self):
        self.overlay = {}
        for cid in self.ids:
            try:
                self.cmd("delete", "--force", cid, timeout=20)
            except Exception:
                pass
        # Only processes of our fresh uid (or of its subordinate range) can be ours.
        for _ in range(50):
            pids = _procs_of(self.uid)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)
        for d in reversed(self.cgroups):
            subs = sorted((p for p in [d, *d.rglob("*")] if p.is_dir()), key=lambda p: len(str(p)),
                          reverse=True)
            for sub in subs:
                for _ in range(100):
                    try:
                        os.rmdir(sub)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.05)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def rl(checker_bin):
    r = Rootless(checker_bin)
    try:
        yield r
    finally:
        r.cleanup()


def _wait_words(path: Path, n: int, timeout=10.0) -> list[str]:
    """The first n words the container wrote to path, once it has written them."""
    words: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        words = path.read_text().split() if path.exists() else []
        if len(words) >= n:
            break
        time.sleep(0.05)
    return words[:n]


# ---------------------------------------------------------------------------------- tests


def test_single_mapping_root_inside_user_outside(rl):
    cid, path, cfg = rl.bundle("sh", "-c", "id -u; id -g; sleep 30")
    assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": rl.uid, "size": 1}]
    assert not any(ns["type"] == "network" for ns in cfg["linux"]["namespaces"])
    rl.write(path, cfg)
    out = rl.tmp / "out"
    res = rl.cmd("create", "--bundle", path, cid, stdout_file=out)
    assert res.returncode == 0, res
    # The default state root for a non-root caller.
    assert (rl.root / cid).is_dir(), list(rl.xdg.rglob("*"))
    st = rl.state(cid)
    assert st["status"] == "created"
    assert rl.cmd("start", cid).returncode == 0
    assert _wait_words(out, 2) == ["0", "0"]
    pid = st["pid"]
    assert _status_ids(pid, "Uid") == [rl.uid] * 4
    assert _status_ids(pid, "Gid") == [rl.gid] * 4
    res = rl.cmd("exec", cid, "id", "-u")
    assert res.returncode == 0 and res.stdout.strip() == "0", res
    assert rl.cmd("kill", cid, "KILL").returncode == 0
    deadline = time.monotonic() + 10
    while rl.state(cid)["status"] != "stopped" and time.monotonic() < deadline:
        time.sleep(0.05)
    res = rl.cmd("delete", cid)
    assert res.returncode == 0, res
    assert not (rl.root / cid).exists()


def test_subuid_range_through_newuidmap(rl):
    if shutil.which("newuidmap") is None:
        pytest.skip("newuidmap (Debian uidmap) not installed")
    rl.fake_etc()
    cid, path, cfg = rl.bundle("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u nobody")
    maps = [{"containerID": 0, "hostID": rl.uid, "size": 1},
            {"containerID": 1, "hostID": SUBUID_START, "size": SUBUID_COUNT}]
    cfg["linux"]["uidMappings"] = maps
    cfg["linux"]["gidMappings"] = maps
    rl.write(path, cfg)
    res = rl.cmd("run", "--bundle", path, cid)
    assert res.returncode == 0, res
    rows = [line.split() for line in res.stdout.splitlines() if line.strip()]
    want = [["0", str(rl.uid), "1"], ["1", str(SUBUID_START), str(SUBUID_COUNT)]]
    assert rows[:2] == want and rows[2:4] == want, res.stdout
    assert rows[4] == ["65534"], res.stdout
    assert not (rl.root / cid).exists()


# berth_only: runc 1.1 rootless on v1 needs a writable cgroup in every hierarchy (it fails
# with "mkdir /sys/fs/cgroup/cpuset/...: permission denied" when only some are delegated).
@pytest.mark.berth_only
@pytest.mark.skipif(not host_cgroup_v1(), reason="delegation set up on cgroup v1 controllers")
def test_delegated_cgroup_gets_limits(rl):
    parent = rl.delegate("memory", "pids")
    cid, path, cfg = rl.bundle("sleep", "30")
    cgpath = f"{parent}/{cid}"
    cfg["linux"]["cgroupsPath"] = cgpath
    cfg["linux"]["resources"] = {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 42}}
    rl.write(path, cfg)
    res = rl.cmd("create", "--bundle", path, cid, stdout_file=rl.tmp / "out")
    assert res.returncode == 0, res
    if IS_BERTH:
        assert "level=warning" not in res.stderr, res.stderr
    pid = rl.state(cid)["pid"]
    mem = CGROUP_ROOT / "memory" / cgpath.lstrip("/")
    pids = CGROUP_ROOT / "pids" / cgpath.lstrip("/")
    assert (mem / "memory.limit_in_bytes").read_text().strip() == str(64 * 1024 * 1024)
    assert (pids / "pids.max").read_text().strip() == "42"
    assert str(pid) in (mem / "cgroup.procs").read_text().split()
    assert str(pid) in (pids / "cgroup.procs").read_text().split()
    res = rl.cmd("delete", "--force", cid)
    assert res.returncode == 0, res
    assert not mem.exists() and not pids.exists()


@pytest.mark.berth_only
def test_limits_without_delegation_warn_and_run(rl):
    cid, path, cfg = rl.bundle("echo", "ran")
    cfg["linux"]["resources"] = {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 42}}
    rl.write(path, cfg)
    res = rl.cmd("run", "--bundle", path, cid)
    assert res.returncode == 0, res
    assert res.stdout.strip() == "ran", res
    warning = [line for line in res.stderr.splitlines() if "level=warning" in line]
    assert warning, res.stderr
    assert "linux.resources.memory" in warning[0] and "linux.resources.pids" in warning[0], warning
    assert not (rl.root / cid).exists()


@pytest.mark.berth_only
def test_mapping_outside_subuid_range_fails_cleanly(rl):
    if shutil.which("newuidmap") is None:
        pytest.skip("newuidmap (Debian uidmap) not installed")
    rl.fake_etc()
    cid, path, cfg = rl.bundle("true")
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": rl.uid, "size": 1},
                                   {"containerID": 1, "hostID": SUBUID_START + SUBUID_COUNT,
                                    "size": 1000}]
    rl.write(path, cfg)
    res = rl.cmd("run", "--bundle", path, cid)
    assert res.returncode != 0, res
    assert "linux.uidMappings" in res.stderr, res.stderr
    assert "newuidmap" in res.stderr, res.stderr
    assert not (rl.root / cid).exists(), os.listdir(rl.root)
    assert rl.cmd("state", cid).returncode != 0
    assert _procs_of(rl.uid) == []


@pytest.mark.berth_only
def test_no_user_namespace_is_a_clear_error(rl):
    cid, path, cfg = rl.bundle("true")
    cfg["linux"]["namespaces"] = [ns for ns in cfg["linux"]["namespaces"] if ns["type"] != "user"]
    del cfg["linux"]["uidMappings"]
    del cfg["linux"]["gidMappings"]
    rl.write(path, cfg)
    res = rl.cmd("run", "--bundle", path, cid)
    assert res.returncode != 0, res
    assert "linux.namespaces" in res.stderr and "user namespace" in res.stderr, res.stderr
    assert not (rl.root / cid).exists()
