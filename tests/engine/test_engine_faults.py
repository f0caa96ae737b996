"""Crash safety of berth's container commands (root, real kernel): `berth run -d`, `berth rm -f`
and berth-monitor are SIGKILLed at random points, cycle after cycle; after each, `berth system
gc` runs and the state must be consistent: every `ps -a` row matches the kernel and nothing
outside the rows is left (mounts, cgroups, monitors, container processes, runtime state,
task dirs, bundles, netns files, writable layers). At the end everything is removed and nothing
at all may be left. Also: 50 concurrent `berth run -d` all succeed.

Environment: $BERTH_BIN (default <repo>/build/bin/berth), $BERTH_TEST_ENGINE_RUNTIME (the OCI
runtime, default berth-runtime), $BERTH_FAULT_CYCLES (default 40, which runs in well under a
minute; 200 for the full run), $BERTH_FAULT_SEED (default: random, printed; rerun with it).
Every test has its own --root and --runroot in a temp dir (engine_helpers.Berth, extended here).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

import engine_helpers
from engine_helpers import (IMAGE, REQUIREMENTS, RUNTIME, _alive, berth_monitors, processes,
                            temp_berth)

CYCLES = int(os.environ.get("BERTH_FAULT_CYCLES", "40"))
MAX_LIVE = 6  # containers kept between cycles; older ones are removed (not killed)
SETTLE_S = 5.0  # a monitor started by a killed `run` may still be starting

pytestmark = list(REQUIREMENTS)


def _ls(d: Path) -> list[str]:
    try:
        return sorted(os.listdir(d))
    except OSError:
        return []


def _is_id(s: str) -> bool:
    return len(s) == 64 and all(c in "0123456789abcdef" for c in s)


class Berth(engine_helpers.Berth):
    """The shared Berth (a temp --root and --runroot, the image loaded), plus what the
    consistency check needs: every container id this test has met, and the host's view."""

    def __init__(self, tmp: Path, busybox_tar: Path):
        self.ns = "default"
        self.seen: set[str] = set()  # every container id this test has met, for the cgroup check
        super().__init__(tmp, busybox_tar)

    def run_detached(self, check=True):
        return self.run("run", "-d", "--runtime", RUNTIME, IMAGE, "sleep", "1000", check=check)

    def ps(self, all=True) -> list[dict]:
        rows = super().ps(all)
        self.seen.update(r["Id"] for r in rows)
        return rows

    # --- what the host holds, from the outside ----------------------------------------------

    def task_dir(self, cid: str) -> Path:
        return self.runroot / self.ns / "tasks" / cid

    def task(self, cid: str) -> dict | None:
        try:
            return json.loads((self.task_dir(cid) / "task.json").read_text())
        except (OSError, ValueError):
            return None

    def dir_ids(self) -> dict[str, list[str]]:
        """Container ids found in each of berth's per-container directories."""
        out = {
            "task dir": _ls(self.runroot / self.ns / "tasks"),
            "bundle": _ls(self.runroot / self.ns / "containers"),
            "netns": _ls(self.runroot / "netns"),
            "writable layer": _ls(self.root / "containers"),
        }
        for rt in _ls(self.runroot / "runtime"):
            out[f"{rt} state"] = _ls(self.runroot / "runtime" / rt)
        for ids in out.values():
            self.seen.update(i for i in ids if _is_id(i))
        return out

    def monitors(self) -> dict[int, str]:
        """pid -> container id of every live berth-monitor working in this run root."""
        out = {}
        task_prefix = str(self.runroot / self.ns / "tasks") + "/"
        for pid, args in berth_monitors().items():
            if "--task-dir" in args:
                td = args[args.index("--task-dir") + 1]
                if td.startswith(task_prefix):
                    out[pid] = td[len(task_prefix):]
        return out

    def container_processes(self) -> dict[int, str]:
        """pid -> container id of every process in the cgroup of a container this test met
        (/berth/<ns>-<id>; the root of a pivoted process reads as `/`, so cgroups tell)."""
        out = {}
        mark = f"/berth/{self.ns}-"
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                cgroups = (p / "cgroup").read_text()
            except OSError:
                continue
            at = cgroups.find(mark)
            if at < 0:
                continue
            cid = cgroups[at + len(mark):at + len(mark) + 64]
            if cid in self.seen and _alive(int(p.name)):
                out[int(p.name)] = cid
        return out

    def cgroups(self, ids) -> list[Path]:
        out = []
        for cid in ids:
            out += list(Path("/sys/fs/cgroup").glob(f"*/berth/{self.ns}-{cid}"))
            out += list(Path("/sys/fs/cgroup").glob(f"berth/{self.ns}-{cid}"))
        return out

    # --- the consistency check ------------------------------------------------------------

    def problems(self) -> list[str]:
        """What is inconsistent right now (empty: all good)."""
        bad = []
        rows = self.ps()
        ids = {r["Id"] for r in rows}
        for r in rows:
            cid, state = r["Id"], r["State"]
            t = self.task(cid)
            if state in ("running", "restarting"):
                if not t:
                    bad.append(f"{cid[:12]} {state} without task.json")
                    continue
                if not _alive(t["monitor_pid"], t["monitor_start_time"]):
                    bad.append(f"{cid[:12]} {state} but its monitor {t['monitor_pid']} is gone")
                if state == "running" and not _alive(r["Pid"]):
                    bad.append(f"{cid[:12]} running but its init {r['Pid']} is gone")
            elif state == "exited":
                if t and t.get("pid") and _alive(t["pid"], t["pid_start_time"]):
                    bad.append(f"{cid[:12]} exited but its init {t['pid']} is alive")
                if t and _alive(t["monitor_pid"], t["monitor_start_time"]):
                    bad.append(f"{cid[:12]} exited but its monitor {t['monitor_pid']} is alive")
            elif state == "created":
                # Either never started (no task), or a monitor starting it right now.
                if t and not _alive(t["monitor_pid"], t["monitor_start_time"]):
                    bad.append(f"{cid[:12]} created with a dead monitor")
            else:
                bad.append(f"{cid[:12]} in unexpected state {state}")
            if state != "running" and state != "restarting":
                procs = [p for p, c in self.container_processes().items() if c == cid]
                if procs and not (state == "created" and t):
                    bad.append(f"{cid[:12]} {state} but processes {procs} run in its cgroup")
        for what, dir_ids in self.dir_ids().items():
            for i in dir_ids:
                if i not in ids:
                    bad.append(f"{what} {i[:12]} without a container")
        for m in self.mounts():
            if not any(i in m for i in ids):
                bad.append(f"mount {m} without a container")
        for cg in self.cgroups(self.seen - ids):
            bad.append(f"cgroup {cg} without a container")
        for pid, cid in self.monitors().items():
            if cid not in ids:
                bad.append(f"berth-monitor {pid} of {cid[:12]} without a container")
        for pid, cid in self.container_processes().items():
            if cid not in ids:
                bad.append(f"process {pid} in the cgroup of {cid[:12]} without a container")
        return bad

    def assert_consistent(self, context: str):
        deadline = time.monotonic() + SETTLE_S
        while True:
            bad = self.problems()
            if not bad:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{context}: inconsistent after `system gc`:\n  " +
                                     "\n  ".join(bad))
            time.sleep(0.1)

    def assert_empty(self):
        deadline = time.monotonic() + SETTLE_S
        while True:
            bad = self.problems()
            if self.ps():
                bad.append(f"containers left: {[r['Id'][:12] for r in self.ps()]}")
            if not bad:
                return
            if time.monotonic() > deadline:
                raise AssertionError("left behind at the end:\n  " + "\n  ".join(bad))
            time.sleep(0.1)

    def remove_all(self):
        for r in self.ps():
            self.run("rm", "-f", r["Id"], check=False)
        self.run("system", "gc", check=False)

    def force_cleanup(self):
        """Last resort after a failed test: kill and unmount whatever is left of it."""
        for pid in list(self.monitors()) + list(self.container_processes()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.unmount_all()
        time.sleep(0.2)
        for cg in self.cgroups(self.seen):
            for d in sorted(cg.rglob("*"), key=lambda p: len(str(p)), reverse=True):
                if d.is_dir():
                    try:
                        d.rmdir()
                    except OSError:
                        pass
            try:
                cg.rmdir()
            except OSError:
                pass


@pytest.fixture
def berth(busybox_tar):
    with temp_berth(busybox_tar, "bfault", Berth) as b:
        try:
            yield b
        finally:
            try:
                b.remove_all()
            finally:
                b.force_cleanup()


def _kill_after(proc: subprocess.Popen, delay: float):
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _median(values: list[float]) -> float:
    recent = sorted(values[-9:])
    return recent[len(recent) // 2]


def test_sigkill_at_random_points(berth):
    seed = int(os.environ.get("BERTH_FAULT_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"BERTH_FAULT_SEED={seed} BERTH_FAULT_CYCLES={CYCLES}")
    rng = random.Random(seed)
    counts = {"run": 0, "rm": 0, "monitor": 0}
    outcomes = {"run killed": 0, "run finished": 0, "rm killed": 0, "rm finished": 0,
                "monitor killed": 0, "no monitor found": 0}
    durations = {k: [0.030] for k in counts}
    devnull = subprocess.DEVNULL
    for cycle in range(CYCLES):
        kind = rng.choice(["run", "rm", "monitor"])
        # 0-50 ms, but no longer than the command takes here, so that most kills land inside
        # it rather than after it has finished.
        delay = rng.uniform(0, min(0.050, 1.2 * _median(durations[kind])))
        counts[kind] += 1
        context = f"cycle {cycle} ({kind}, {delay * 1000:.1f} ms, seed {seed})"
        if kind in ("run", "rm"):
            if kind == "run":
                args = ("run", "-d", "--runtime", RUNTIME, IMAGE, "sleep", "1000")
            else:
                # Mostly a running container: stopping it is the longest part of rm.
                rows = berth.ps()
                running = [r for r in rows if r["State"] == "running"]
                if not running or rng.random() < 0.2 and rows:
                    running = rows
                if not running:
                    berth.run_detached()
                    running = berth.ps()
                args = ("rm", "-f", rng.choice(running)["Id"])
            t0 = time.monotonic()
            p = subprocess.Popen(berth.argv(*args), stdout=devnull, stderr=devnull)
            time.sleep(delay)
            if p.poll() is not None:
                outcomes[f"{kind} finished"] += 1
                durations[kind].append(time.monotonic() - t0)
            else:
                outcomes[f"{kind} killed"] += 1
                _kill_after(p, 0)
        else:
            # A monitor at any point of its life: often the one a `run -d` is starting right
            # now (before or after its ready line), else one that has been running a while.
            before = set(berth.monitors().values())
            p = subprocess.Popen(berth.argv("run", "-d", "--runtime", RUNTIME, IMAGE, "sleep",
                                            "1000"), stdout=devnull, stderr=devnull)
            time.sleep(delay)
            mons = berth.monitors()
            fresh = [pid for pid, cid in mons.items() if cid not in before]
            victims = fresh or list(mons)
            if victims:
                os.kill(rng.choice(victims), signal.SIGKILL)
                outcomes["monitor killed"] += 1
            else:
                outcomes["no monitor found"] += 1
            p.wait(timeout=60)
            durations[kind].append(0.030)
        berth.dir_ids()  # note the ids before gc removes their pieces
        berth.run("system", "gc")
        berth.assert_consistent(context)
        # Keep the number of containers bounded: remove the oldest, unharmed.
        rows = berth.ps()
        for r in sorted(rows, key=lambda r: r["Created"])[:max(0, len(rows) - MAX_LIVE)]:
            berth.run("rm", "-f", r["Id"])
    print(f"cycles per kind: {counts}; outcomes: {outcomes}")
    berth.remove_all()
    berth.assert_empty()
    assert berth.cgroups(berth.seen) == []


def test_concurrent_run_detached(berth):
    n = 50

    def one(i):
        return berth.run("run", "-d", "--runtime", RUNTIME, "--name", f"c{i}", IMAGE,
                         "sleep", "1000", check=False, timeout=180)

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
        results = list(ex.map(one, range(n)))
    failed = [(i, p.returncode, p.stderr) for i, p in enumerate(results) if p.returncode != 0]
    assert not failed, failed
    rows = berth.ps()
    assert sorted(r["Names"][0] for r in rows) == sorted(f"c{i}" for i in range(n))
    assert all(r["State"] == "running" for r in rows), [(r["Names"], r["State"]) for r in rows]
    for r in rows:
        assert _alive(r["Pid"]), r
    berth.assert_consistent("after 50 concurrent runs")
    berth.remove_all()
    berth.assert_empty()


def _runtime_creates(berth) -> list[int]:
    """Pids of this run root's OCI runtime processes running `create` (the runtime itself, or
    an init forked from it that has not exec'd yet: both still have the runtime's argv)."""
    prefix = str(berth.runroot / "runtime") + "/"
    return [pid for pid, args in processes()
            if "create" in args and any(a.startswith(prefix) for a in args)]


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2:].split()[1])


def _await_init_blocked_in_root(init: int, runtime: int, timeout=2.0):
    """Until `init` (forked by the runtime, not exec'd) runs in a root of its own and sleeps in
    a read or recvmsg (x86-64 syscalls 0, 47), or the runtime is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(runtime):
        try:
            # Its root's device: the container's (overlay), no longer the host's.
            in_root = os.stat(f"/proc/{init}/root").st_dev != os.stat("/").st_dev
            nr = Path(f"/proc/{init}/syscall").read_text().split()[0]
        except (OSError, IndexError):
            return
        if in_root and nr in ("0", "47"):
            return


def test_sigkill_runtime_create_mid_handshake(berth):
    """SIGKILL of the OCI runtime's `create` at random points of its work, the handshake with its
    init included: alone (its monitor records the failed start), or together with its monitor and
    the `berth run` (nobody is left to clean up). berth-runtime's init must then leave by itself,
    before any berth command runs; with any runtime, after `system gc` nothing may be left."""
    seed = int(os.environ.get("BERTH_FAULT_SEED") or random.SystemRandom().randrange(1 << 32))
    rounds = max(10, CYCLES // 2)
    print(f"BERTH_FAULT_SEED={seed} rounds={rounds}")
    rng = random.Random(seed)
    killed = {"create": 0, "create+monitor+run": 0, "missed": 0, "at handshake": 0}
    devnull = subprocess.DEVNULL
    for i in range(rounds):
        alone = rng.random() < 0.5
        p = subprocess.Popen(berth.argv("run", "-d", "--runtime", RUNTIME, IMAGE, "sleep", "1000"),
                             stdout=devnull, stderr=devnull)
        # The create's lowest pid is the runtime itself; its init is forked later, and the
        # handshake ends create's work: mostly wait for the init to be there, then kill soon.
        victim = init = None
        want = 2 if rng.random() < 0.7 else 1
        deadline = time.monotonic() + 10
        while p.poll() is None and time.monotonic() < deadline:
            pids = _runtime_creates(berth)
            if pids:
                victim, init = min(pids), max(pids)
            if len(pids) >= want:
                break
        context = f"round {i} (seed {seed})"
        if victim is None:
            killed["missed"] += 1
        else:
            monitor = _ppid(victim)
            if monitor not in berth.monitors():
                monitor = 0  # the create is over already (and reaped)
            if want == 2 and init != victim and rng.random() < 0.5:
                # The handshake itself: the init has pivoted into the container's root and
                # blocks (on the channel or the exec fifo) while create saves its state.
                _await_init_blocked_in_root(init, victim)
                killed["at handshake"] += 1
            else:
                time.sleep(rng.uniform(0, 0.010))
            victims = [victim] if alone else [victim, monitor, p.pid]
            for pid in victims:
                if pid <= 0:
                    continue  # never kill(0): that is our own process group
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            killed["create" if alone else "create+monitor+run"] += 1
        p.wait(timeout=60)
        if victim is not None and not alone and not engine_helpers.runtime_is_crun():
            # No berth command has run since: the init must have gone by itself (or never
            # been made), unless create finished first and left a complete, findable state.
            deadline = time.monotonic() + SETTLE_S
            while _runtime_creates(berth) and time.monotonic() < deadline:
                time.sleep(0.05)
            for pid in _runtime_creates(berth):
                try:
                    cid = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-2].decode()
                except (OSError, IndexError):
                    continue
                state = berth.runroot / "runtime" / Path(RUNTIME).name / cid / "state.json"
                assert state.exists(), f"{context}: init {pid} left waiting without a state"
        berth.dir_ids()
        berth.run("system", "gc")
        berth.assert_consistent(context)
        # No init of a killed create waits anywhere, in a cgroup or not.
        deadline = time.monotonic() + SETTLE_S
        while _runtime_creates(berth) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _runtime_creates(berth), f"{context}: runtime processes left"
        for r in berth.ps():
            if r["State"] != "running":
                berth.run("rm", "-f", r["Id"])
    print(f"kills: {killed}")
    assert killed["create"] + killed["create+monitor+run"] > 0
    berth.remove_all()
    berth.assert_empty()
