"""The end of a container's life and what follows a crash (root, real kernel):

- `run -d --rm` removes itself through berth-monitor's exit command (`berth container cleanup
  --rm ID`), and so does a foreground `run --rm` whose `berth` was killed, once the task ends;
- that exit command racing an explicit `rm -f` (and `system gc`): no error, nothing left;
- rm removes the container's cgroup in every hierarchy (v1 controllers and the cgroup2 mount),
  and `system gc` the shared /berth parent once it is empty (rm leaves it: removing it raced
  other containers' creation);
- the run root wiped as a reboot does (with nothing running, or with running containers
  whose processes are then killed): the next command and `system gc` bring rows and kernel in
  line, and containers that were running read exited with a reason;
- a --rm container whose monitor was SIGKILLed: reported monitor-lost, removed by gc.

Binaries: $BERTH_BIN (default <repo>/build/bin/berth; berth-monitor and berth-runtime next to
it); $BERTH_TEST_ENGINE_RUNTIME picks the OCI runtime (default berth-runtime). Every test has
its own --root and --runroot. Other berths (other tests) run on the host meanwhile and share the
/berth cgroup parents, so cgroup checks look at this test's own ids.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import engine_helpers
from engine_helpers import IMAGE, REQUIREMENTS, RUNTIME, _alive, berth_monitors, temp_berth

CGROUP_ROOT = Path("/sys/fs/cgroup")

pytestmark = list(REQUIREMENTS)


def _wait_for(pred, timeout=20.0, what="condition"):
    """engine_helpers._wait_for with this file's longer default (reboots, gc)."""
    return engine_helpers._wait_for(pred, timeout=timeout, what=what)


def _cgroup_mounts() -> list[Path]:
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split()[0] in ("cgroup", "cgroup2"):
            mp = Path(left.split()[4])
            if mp == CGROUP_ROOT or CGROUP_ROOT in mp.parents:
                out.append(mp)
    return out


def _cgroup_dirs(cid: str) -> list[Path]:
    """The container's cgroup in every mounted hierarchy (as the parents check walks them)."""
    return [d for m in _cgroup_mounts() for d in m.glob(f"berth/*-{cid}")]


def _cgroup_procs(cid: str) -> list[int]:
    pids = set()
    for d in _cgroup_dirs(cid):
        try:  # the directory may go while we walk it (the exit command's removal)
            files = list(d.rglob("cgroup.procs"))
        except OSError:
            continue
        for p in files:
            try:
                pids.update(int(x) for x in p.read_text().split())
            except OSError:
                pass
    return sorted(pids)


class Berth(engine_helpers.Berth):
    """The shared Berth plus what these tests look at: every container id met, and what is
    left of a container anywhere on the host."""

    def __init__(self, tmp: Path, busybox_tar: Path):
        self.seen: set[str] = set()
        super().__init__(tmp, busybox_tar)

    def detached(self, *args, cmd=()) -> str:
        cid = self.container(*args, cmd=cmd, detach=True).stdout.strip()
        assert len(cid) == 64, cid
        self.seen.add(cid)
        return cid

    def ps(self, all=True) -> list[dict]:
        rows = super().ps(all)
        self.seen.update(r["Id"] for r in rows)
        return rows

    def ids(self) -> set[str]:
        return {r["Id"] for r in self.ps()}

    def leftovers(self, cid: str) -> list[str]:
        """What is left anywhere of a container that should be gone entirely."""
        left = []
        if cid in self.ids():
            left.append("row")
        for p in (self.root / "containers" / cid, self.runroot / "default/containers" / cid,
                  self.runroot / "default/tasks" / cid, self.runroot / "netns" / cid,
                  self.runroot / "locks" / cid, self.runroot / "locks" / f"{cid}.hold"):
            if os.path.lexists(p):
                left.append(str(p))
        for rt in (self.runroot / "runtime").glob("*"):
            if (rt / cid).exists():
                left.append(str(rt / cid))
        left += [f"mount {m}" for m in self.mounts() if cid in m]
        left += [f"cgroup {d}" for d in _cgroup_dirs(cid)]
        left += [f"process {p}" for p in _cgroup_procs(cid)]
        return left

    def gone(self, cid: str) -> bool:
        return not self.leftovers(cid)

    def wait_gone(self, cid: str, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.gone(cid):
                return
            time.sleep(0.1)
        raise AssertionError(f"{cid[:12]} not removed: {self.leftovers(cid)}")

    def monitors(self) -> list[int]:
        """Live berth-monitors working in this run root."""
        runroot = str(self.runroot)
        return [pid for pid, args in berth_monitors().items()
                if any(a.startswith(runroot) for a in args)]

    def kill_processes(self):
        """SIGKILLs every monitor of this run root and every process of the containers met."""
        for pid in self.monitors():
            os.kill(pid, signal.SIGKILL)
        for cid in self.seen:
            for pid in _cgroup_procs(cid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def kill_everything(self):
        """What a reboot does to processes: every monitor and container process dies."""
        self.kill_processes()
        _wait_for(lambda: not self.monitors() and
                  not any(_cgroup_procs(c) for c in self.seen), what="processes to die")


@pytest.fixture
def berth(busybox_tar):
    with temp_berth(busybox_tar, "blife", Berth) as b:
        try:
            yield b
            b.cleanup()
            for cid in b.seen:
                assert not _cgroup_dirs(cid), f"cgroups left for {cid}: {_cgroup_dirs(cid)}"
            assert b.ps() == []
        finally:
            b.kill_processes()
            b.unmount_all()


# --- --rm through the monitor's exit command ---------------------------------------------------

def test_detached_rm_removes_itself(berth):
    cid = berth.detached("--rm", cmd=["sh", "-c", "echo hi; sleep 0.5"])
    # While it runs, its cgroup is there (the checks below look at something real).
    assert _cgroup_dirs(cid) or cid not in berth.ids(), "no cgroup for a running container"
    berth.wait_gone(cid)
    assert cid not in berth.ids()


def test_detached_rm_killed_or_stopped(berth):
    a = berth.detached("--rm", cmd=["sleep", "1000"])
    b = berth.detached("--rm", cmd=["sleep", "1000"])
    berth.run("kill", a)
    berth.wait_gone(a)
    # stop returns once the task is down, whether or not the exit command was faster.
    berth.run("stop", "-t", "0", b)
    berth.wait_gone(b)
    assert berth.ps() == []


def _rootfs_mount_options(berth, cid) -> list[str]:
    target = str(berth.runroot / "default" / "containers" / cid / "rootfs")
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" ")
        if fields[4] == target:
            return fields[-1].split(",")  # the superblock's options
    raise AssertionError(f"no rootfs mount at {target}")


def test_rm_container_upper_is_volatile(berth):
    """A --rm container's writable layer never outlives a crash: its overlay is mounted volatile
    (no syncs, none at unmount either), as podman mounts --rm containers; others are not."""
    transient = berth.detached("--rm", cmd=["sleep", "1000"])
    kept = berth.detached(cmd=["sleep", "1000"])
    # The kernel shows it as "volatile" or, since 6.12, "fsync=volatile".
    def volatile(cid):
        return bool({"volatile", "fsync=volatile"} & set(_rootfs_mount_options(berth, cid)))
    assert volatile(transient)
    assert not volatile(kept)
    berth.run("rm", "-f", transient, kept)


def test_detached_rm_start_failure(berth):
    p = berth.run("run", "-d", "--rm", "--runtime", RUNTIME, IMAGE, "no-such-binary",
                  check=False)
    assert p.returncode == 127, p.stderr
    assert berth.ps() == []
    assert not list((berth.root / "containers").iterdir())


def test_foreground_rm_survives_killed_berth(berth):
    """`run --rm` killed while it follows the task: the container is removed once it exits."""
    p = subprocess.Popen(berth.argv("run", "--rm", "--runtime", RUNTIME, IMAGE, "sh", "-c",
                                    "sleep 1.5; exit 3"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rows = _wait_for(lambda: [r for r in berth.ps() if r["State"] == "running"],
                         what="the container running")
        cid = rows[0]["Id"]
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert cid in berth.ids()  # the task goes on without its berth
        berth.wait_gone(cid)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_foreground_rm_keeps_the_exit_status(berth):
    # The exit command waits for the foreground run: the status is never lost to it.
    for i in range(5):
        p = berth.run("run", "--rm", "--runtime", RUNTIME, IMAGE, "sh", "-c",
                      f"echo {i}; exit {i + 1}", check=False)
        assert p.returncode == i + 1, p.stderr
        assert p.stdout == f"{i}\n"
    _wait_for(lambda: berth.ps() == [], what="no rows")
    assert not list((berth.root / "containers").iterdir())


def test_rm_races_the_exit_command(berth):
    """rm -f (and gc) at about the moment the task ends, while the exit command removes it."""
    errors = []
    cids = []
    for i in range(8):
        cid = berth.detached("--rm", cmd=["sleep", "0.4"])
        cids.append(cid)
        time.sleep(0.3 + 0.03 * i)  # straddles the exit and the exit command's start
        results = {}

        def rm(key):
            results[key] = berth.run("rm", "-f", cid, check=False)

        def gc():
            results["gc"] = berth.run("system", "gc", check=False)

        threads = [threading.Thread(target=rm, args=("rm1",)),
                   threading.Thread(target=rm, args=("rm2",))]
        if i % 2:
            threads.append(threading.Thread(target=gc))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for key, p in results.items():
            # Found and removed (0), or gone before rm looked it up (1, "no container ...").
            ok = p.returncode == 0 or (key != "gc" and p.returncode == 1 and
                                       "no container" in p.stderr)
            if not ok:
                errors.append(f"{key} of {cid[:12]} exited {p.returncode}: {p.stderr}")
    assert not errors, errors
    for cid in cids:
        berth.wait_gone(cid)
    assert berth.ps() == []
    assert not [f for f in (berth.runroot / "locks").glob("*")], "lock files left"


# --- cgroups ----------------------------------------------------------------------------------

def test_rm_removes_cgroup_and_empty_parents(berth):
    cid = berth.detached(cmd=["sleep", "1000"])
    dirs = _cgroup_dirs(cid)
    assert dirs, "the container has no cgroup"
    berth.run("rm", "-f", cid)
    assert not _cgroup_dirs(cid), _cgroup_dirs(cid)

    def empty_parents() -> list[Path]:
        out = []
        for m in _cgroup_mounts():
            parent = m / "berth"
            try:
                if parent.is_dir() and not [c for c in parent.iterdir() if c.is_dir()]:
                    out.append(parent)
            except OSError:
                pass  # removed while we looked
        return out

    # Other berths on the host (other tests, other builds) may create and leave parents
    # meanwhile: an empty one seen now must go at the next gc, which rmdirs it.
    for attempt in range(5):
        left = empty_parents()
        if not left:
            break
        berth.run("system", "gc")
        left = empty_parents()
        if not left:
            break
        time.sleep(0.2)
    assert not left, f"empty /berth parents left: {left}"


def test_gc_removes_cgroup_of_a_lost_task(berth):
    """A task whose runtime state is gone leaves its cgroup to berth: gc removes it."""
    cid = berth.detached(cmd=["sleep", "1000"])
    info = berth.inspect(cid)
    os.kill(info["State"]["MonitorPid"], signal.SIGKILL)
    os.kill(info["State"]["Pid"], signal.SIGKILL)
    _wait_for(lambda: not _alive(info["State"]["Pid"]), what="init gone")
    # The runtime's state goes too, as with a wiped run root: nothing can delete the cgroup
    # but berth itself.
    for rt in (berth.runroot / "runtime").glob("*"):
        if rt.is_dir():
            shutil.rmtree(rt / cid, ignore_errors=True)
    berth.run("system", "gc")
    [c] = berth.ps()
    assert c["State"] == "exited" and c["ExitReason"] == "monitor-lost"
    assert not _cgroup_dirs(cid), _cgroup_dirs(cid)


# --- reconciliation -----------------------------------------------------------------------------

def _make_mix(berth) -> dict[str, str]:
    """running, a running --rm, an exited one (exit 3), a created one."""
    c = {
        "running": berth.detached("--name", "running", cmd=["sleep", "1000"]),
        "rm": berth.detached("--rm", "--name", "rm", cmd=["sleep", "1000"]),
        "exited": berth.detached("--name", "exited", cmd=["sh", "-c", "exit 3"]),
        "created": berth.run("create", "--runtime", RUNTIME, "--name", "created", IMAGE,
                             "true").stdout.strip(),
    }
    berth.seen.update(c.values())
    assert berth.run("wait", "exited").stdout == "3\n"
    states = {r["Names"][0]: r["State"] for r in berth.ps()}
    assert states == {"running": "running", "rm": "running", "exited": "exited",
                      "created": "created"}, states
    return c


def _check_after_wipe(berth, c: dict[str, str], restart: bool):
    rows = {r["Names"][0]: r for r in berth.ps()}
    # The --rm one may be gone already (its monitor's exit command); otherwise it is exited.
    if "rm" in rows:
        assert rows["rm"]["State"] == "exited", rows["rm"]
    assert rows["running"]["State"] == "exited", rows["running"]
    assert rows["running"]["ExitReason"] == "monitor-lost", rows["running"]
    info = berth.inspect("running")
    assert info["State"]["ExitReason"] == "monitor-lost"
    assert "run root" in info["State"]["Error"] or "rebooted" in info["State"]["Error"], info
    assert rows["exited"]["State"] == "exited" and rows["exited"]["ExitCode"] == 3, rows["exited"]
    assert rows["created"]["State"] == "created", rows["created"]

    berth.run("system", "gc")
    assert "rm" not in {r["Names"][0] for r in berth.ps()}
    berth.wait_gone(c["rm"])
    for name in ("running", "exited", "created"):
        cid = c[name]
        assert not _cgroup_dirs(cid), (name, _cgroup_dirs(cid))
        assert not _cgroup_procs(cid), name
        assert not [m for m in berth.mounts() if cid in m], (name, berth.mounts())
        assert not (berth.runroot / "netns" / cid).exists(), name
    assert not berth.monitors()

    if restart:
        # What was running starts again, from the same writable layer.
        berth.run("start", "running")
        _wait_for(lambda: berth.inspect("running")["State"]["Running"], what="restarted")
        assert berth.run("start", "-a", "exited", check=False).returncode == 3
    for name in ("running", "exited", "created"):
        berth.run("rm", "-f", name)
        berth.wait_gone(c[name])
    assert berth.ps() == []


def test_runroot_wiped_after_reboot(berth):
    """A reboot: every process dies, every mount goes, the run root (a tmpfs) is empty."""
    c = _make_mix(berth)
    berth.kill_everything()
    for m in sorted(berth.mounts(), key=len, reverse=True):
        if m.startswith(f"{berth.runroot}/"):
            subprocess.run(["umount", "-l", m], check=True)
    shutil.rmtree(berth.runroot)
    _check_after_wipe(berth, c, restart=True)


def test_runroot_wiped_while_running(berth):
    """rm -rf of the run root under running containers, whose processes are then killed."""
    c = _make_mix(berth)
    # Mount points in it refuse (EBUSY): what rm -rf leaves is left. It also deletes what it
    # sees through the mounted root file systems (whiteouts in the writable layers): no
    # restart of those afterwards.
    subprocess.run(["rm", "-rf", str(berth.runroot)], capture_output=True)
    berth.kill_everything()
    _check_after_wipe(berth, c, restart=False)


def test_monitor_sigkill_of_rm_container(berth):
    cid = berth.detached("--rm", cmd=["sleep", "1000"])
    info = berth.inspect(cid)
    mon, pid = info["State"]["MonitorPid"], info["State"]["Pid"]
    os.kill(mon, signal.SIGKILL)
    _wait_for(lambda: not _alive(mon), what="monitor death")
    [row] = berth.ps()
    assert row["State"] == "exited" and row["ExitReason"] == "monitor-lost", row
    _wait_for(lambda: not _alive(pid), what="init killed")
    assert not _cgroup_dirs(cid), _cgroup_dirs(cid)
    out = berth.run("system", "gc").stdout
    assert cid in out
    berth.wait_gone(cid)
