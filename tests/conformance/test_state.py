"""Container state under concurrency and outside interference: parallel verbs on
distinct and on the same id, queries racing a lifecycle loop, inits killed from
outside, forced deletes, OOM kills, and the --pid-file."""

import copy
import ctypes
import json
import os
import queue
import re
import signal
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import CGROUP_ROOT, IS_BERTH, RUNTIME, Bundle, expect_error, expect_ok

MiB = 1024 * 1024
STATUSES = {"creating", "created", "running", "stopped", "paused"}


# --------------------------------------------------------------------------- helpers


def shared_rootfs_bundle(rt, base: Bundle) -> Bundle:
    """A bundle with its own id, dir, config.json and cgroupsPath over base's rootfs."""
    cid = rt.new_id()
    path = rt.tmp / f"bundle-{cid}"
    path.mkdir()
    os.chmod(path, 0o755)
    cfg = copy.deepcopy(base.config)
    cfg["root"]["path"] = str(base.rootfs)
    cfg["linux"]["cgroupsPath"] = f"{rt.cg_parent}/{cid}"
    return Bundle(rt, cid, path, cfg)


def proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/PID/stat, or None when the pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rfind(")") + 2:].split()


def proc_gone(pid: int) -> bool:
    """Reaped, or a zombie waiting for whoever inherited it."""
    fields = proc_stat(pid)
    return fields is None or fields[0] in "ZXx"


def proc_dead(pid: int) -> bool:
    """proc_gone, or already in do_exit (PF_EXITING): a pid-namespace init killed from outside
    lingers in zap_pid_ns_processes until its namespace's zombies are reaped by their new
    parent (here PID 1, which may take a while)."""
    fields = proc_stat(pid)
    return fields is None or fields[0] in "ZXx" or bool(int(fields[6]) & 0x4)


def wait_gone(pid: int, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not proc_gone(pid):
        assert time.monotonic() < deadline, f"pid {pid} still alive after SIGKILL"
        time.sleep(0.02)


def cgroup_procs(rt, b, controller="memory") -> list[int]:
    return [int(p) for p in rt.cgroup_read(b, controller, "cgroup.procs").split()]


def list_json(rt) -> list:
    res = expect_ok(rt.cmd("list", "--format", "json"))
    return json.loads(res.stdout or "null") or []


def started(rt, b: Bundle) -> int:
    expect_ok(rt.create(b))
    expect_ok(rt.start(b.id))
    assert rt.wait_status(b.id, "running") == "running"
    return rt.state(b.id)["pid"]


def exec_detached(rt, b: Bundle, name="exec") -> int:
    pf = rt.tmp / f"{name}.pid"
    expect_ok(rt.exec(b.id, "/berth-checker", "sleep", "60", opts=["-d", "--pid-file", pf],
                      stdout_file=rt.tmp / f"{name}.out"))
    return int(pf.read_text())


class Inotify:
    """Directory-entry events of one directory (ctypes: the stdlib has no inotify)."""

    IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x2, 0x8, 0x80, 0x100

    def __init__(self, path):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        mask = self.IN_MODIFY | self.IN_CLOSE_WRITE | self.IN_MOVED_TO | self.IN_CREATE
        if libc.inotify_add_watch(self.fd, str(path).encode(), mask) < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")

    def events(self) -> list[tuple[str, int]]:
        out = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            off = 0
            while off < len(buf):
                _wd, mask, _cookie, n = struct.unpack_from("iIII", buf, off)
                out.append((buf[off + 16:off + 16 + n].rstrip(b"\0").decode(), mask))
                off += 16 + n

    def close(self):
        os.close(self.fd)


# --------------------------------------------------------------------------- 1. distinct ids


def test_parallel_creates_distinct_ids(rt):
    base = rt.bundle()
    base.checker("sleep", "60")
    bundles = [base] + [shared_rootfs_bundle(rt, base) for _ in range(15)]
    for b in bundles:
        b.write()
    barrier = threading.Barrier(len(bundles), timeout=30)

    def create(b):
        barrier.wait()
        return rt.create(b, write=False)

    with ThreadPoolExecutor(len(bundles)) as ex:
        results = list(ex.map(create, bundles))
    for b, res in zip(bundles, results):
        assert res.returncode == 0, (b.id, res)

    items = {i["id"]: i for i in list_json(rt)}
    assert set(items) == {b.id for b in bundles}
    pids = set()
    for b in bundles:
        st = rt.state(b.id)
        assert st["id"] == b.id and st["status"] == "created", st
        assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path)
        assert items[b.id]["status"] == "created"
        assert items[b.id]["pid"] == st["pid"] > 0
        assert not proc_dead(st["pid"])
        assert cgroup_procs(rt, b) == [st["pid"]], b.id
        pids.add(st["pid"])
    assert len(pids) == len(bundles)

    def start_and_delete(b):
        barrier.wait()
        return rt.start(b.id), rt.delete(b.id, force=True)

    barrier.reset()
    with ThreadPoolExecutor(len(bundles)) as ex:
        results = list(ex.map(start_and_delete, bundles))
    for b, (started_res, deleted_res) in zip(bundles, results):
        assert started_res.returncode == 0, (b.id, started_res)
        assert deleted_res.returncode == 0, (b.id, deleted_res)

    assert rt.state_entries() == []
    assert list_json(rt) == []
    for pid in pids:
        assert proc_dead(pid)
    for b in bundles:
        rt.assert_nothing_left(b)


# --------------------------------------------------------------------------- 2. same id


# runc 1.1.5 checks the id with stat() then MkdirAll() (a TOCTOU race): of concurrent creates
# of one id none, one or two may succeed, and a loser may remove the survivor's state dir.
@pytest.mark.berth_only
def test_parallel_creates_same_id(rt):
    b = rt.bundle()
    b.checker("sleep", "0.5")
    b.write()
    n = 8
    barrier = threading.Barrier(n, timeout=30)

    def create(i):
        barrier.wait()
        return rt.cmd("create", "--bundle", b.path, b.id, stdout_file=rt.tmp / f"same-{i}.out")

    with ThreadPoolExecutor(n) as ex:
        results = list(ex.map(create, range(n)))
    winners = [i for i, r in enumerate(results) if r.returncode == 0]
    assert len(winners) == 1, results
    for i, res in enumerate(results):
        if i != winners[0]:
            expect_error(res, "already exists")

    # The losers neither removed nor joined the survivor's state and cgroups.
    assert rt.state_entries() == [b.id]
    assert [i["id"] for i in list_json(rt)] == [b.id]
    st = rt.state(b.id)
    assert st["status"] == "created"
    pid = st["pid"]
    assert not proc_dead(pid)
    cg_dirs = rt.leftover_cgroups(b.cgroups_path)
    assert any("/memory/" in d for d in cg_dirs), cg_dirs
    for d in cg_dirs:
        with open(os.path.join(d, "cgroup.procs")) as f:
            procs = [int(p) for p in f.read().split()]
        assert procs == [pid], (d, procs)

    expect_ok(rt.start(b.id))
    assert rt.wait_status(b.id, "stopped") == "stopped"
    out = (rt.tmp / f"same-{winners[0]}.out").read_text()
    assert json.loads(out.strip().splitlines()[-1]) == {"slept": 0.5}
    expect_ok(rt.delete(b.id))
    rt.assert_nothing_left(b)

    # Nothing of the losers blocks the id either: it runs again and reports its exit code.
    b.checker("exit", "7")
    assert rt.run(b).returncode == 7
    rt.assert_nothing_left(b)


# --------------------------------------------------------------------------- 3. queries vs lifecycle


def test_queries_during_lifecycle_loop(rt):
    b = rt.bundle()
    b.checker("sleep", "60")
    b.write()
    done = threading.Event()
    problems = []
    seen = {"state": set(), "list": set(), "ps": 0}

    def call(*args):
        try:
            return rt.cmd(*args, timeout=20, log=False)
        except subprocess.TimeoutExpired:
            problems.append(f"{args} hung")
            return None

    def crashed(res):
        return res.returncode < 0 or res.returncode >= 126

    def check_state(res):
        if res.returncode != 0:
            if not res.stderr.strip() or (IS_BERTH and "does not exist" not in res.stderr):
                problems.append(f"state failed oddly: {res}")
            return
        st = json.loads(res.stdout)
        assert st["id"] == b.id and st["status"] in STATUSES, st
        if st["status"] in ("created", "running"):
            assert isinstance(st["pid"], int) and st["pid"] > 0, st
        seen["state"].add(st["status"])

    def check_list(res):
        assert res.returncode == 0, res
        for item in json.loads(res.stdout or "null") or []:
            assert item["id"] == b.id and item["status"] in STATUSES, item
            seen["list"].add(item["status"])

    def check_ps(res):
        if res.returncode != 0:
            if not res.stderr.strip():
                problems.append(f"ps failed silently: {res}")
            return
        pids = json.loads(res.stdout or "null") or []
        assert isinstance(pids, list) and all(isinstance(p, int) and p > 0 for p in pids), res.stdout
        seen["ps"] += 1

    def reader(args, check):
        while not done.is_set():
            res = call(*args)
            if res is None:
                continue
            if crashed(res):
                problems.append(f"{args} crashed: {res}")
                continue
            try:
                check(res)
            except (AssertionError, ValueError, KeyError, TypeError) as e:
                problems.append(f"{args} garbage ({e!r}): {res}")

    readers = [threading.Thread(target=reader, args=(a, c), daemon=True) for a, c in (
        (("state", b.id), check_state),
        (("list", "--format", "json"), check_list),
        (("ps", "--format", "json", b.id), check_ps),
    )]
    for t in readers:
        t.start()
    try:
        for cycle in range(10):
            res = rt.create(b, write=False, timeout=30)
            assert res.returncode == 0, (cycle, res)
            res = rt.start(b.id)
            assert res.returncode == 0, (cycle, res)
            res = rt.delete(b.id, force=True)
            assert res.returncode == 0, (cycle, res)
    finally:
        done.set()
        for t in readers:
            t.join(30)
    assert not any(t.is_alive() for t in readers), "a query verb hung"
    assert not problems, "\n".join(problems[:5])
    assert seen["state"] & {"created", "running"}, seen
    assert seen["list"] & {"created", "running"}, seen
    assert seen["ps"] > 0, seen
    assert rt.status(b.id) is None
    rt.assert_nothing_left(b)


# --------------------------------------------------------------------------- 4-6. outside kills, delete


def test_init_killed_before_start_is_stopped(rt):
    b = rt.bundle()
    b.checker("sleep", "60")
    expect_ok(rt.create(b))
    pid = rt.state(b.id)["pid"]
    assert any("/memory/" in d for d in rt.leftover_cgroups(b.cgroups_path))
    os.kill(pid, signal.SIGKILL)
    wait_gone(pid)

    st = rt.state(b.id)
    assert st["status"] == "stopped", st
    assert [(i["id"], i["status"]) for i in list_json(rt)] == [(b.id, "stopped")]
    expect_error(rt.start(b.id), "stopped")
    assert rt.status(b.id) == "stopped"

    expect_ok(rt.delete(b.id))
    assert rt.status(b.id) is None
    assert list_json(rt) == []
    rt.assert_nothing_left(b)


def test_all_processes_killed_then_delete(rt):
    b = rt.bundle()
    b.checker("sleep", "60")
    init = started(rt, b)
    child = exec_detached(rt, b)
    assert child != init and not proc_dead(child)
    assert sorted(cgroup_procs(rt, b)) == sorted([init, child])

    for pid in (init, child):
        os.kill(pid, signal.SIGKILL)
    for pid in (init, child):
        wait_gone(pid)
    assert rt.status(b.id) == "stopped"

    expect_ok(rt.delete(b.id))
    assert rt.status(b.id) is None
    rt.assert_nothing_left(b)


def test_delete_running_needs_force(rt):
    b = rt.bundle()
    b.checker("sleep", "60")
    init = started(rt, b)
    child = exec_detached(rt, b)
    cg_dirs = rt.leftover_cgroups(b.cgroups_path)
    assert cg_dirs

    expect_error(rt.delete(b.id), "running")
    assert rt.status(b.id) == "running"
    assert not proc_dead(init) and not proc_dead(child)
    assert rt.state_entries() == [b.id]
    assert rt.leftover_cgroups(b.cgroups_path) == cg_dirs
    assert sorted(cgroup_procs(rt, b)) == sorted([init, child])

    expect_ok(rt.delete(b.id, force=True))
    # The cgroups are gone, so every process in them has exited by the time delete returns.
    assert proc_dead(init) and proc_dead(child)
    assert rt.status(b.id) is None
    rt.assert_nothing_left(b)


# --------------------------------------------------------------------------- 7. OOM


def oom_bundle(rt, *args):
    b = rt.bundle(*args)
    b.linux["resources"]["memory"] = {"limit": 16 * MiB, "swap": 16 * MiB}
    return b


def assert_stats_show_limit(rt, ev, b):
    assert ev["type"] == "stats" and ev["id"] == b.id, ev
    mem = ev["data"]["memory"]
    assert mem["usage"]["limit"] == 16 * MiB, mem
    if (CGROUP_ROOT / "memory/memory.memsw.limit_in_bytes").exists():
        assert mem["swap"]["limit"] == 16 * MiB, mem


def test_oom_kill_exit_137(rt):
    # The allocation waits for /go so that `events --stats` sees the container first.
    b = oom_bundle(rt, "/bin/sh", "-c", "while [ ! -e /go ]; do sleep 0.05; done; exec /berth-checker alloc 256")
    b.write()
    out = open(rt.tmp / "oom-run.out", "w+")
    p = subprocess.Popen([rt.binary, "--root", str(rt.root), "run", "--bundle", str(b.path), b.id],
                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    rt.procs.append(p)
    try:
        assert rt.wait_status(b.id, "running", timeout=20) == "running"
        res = expect_ok(rt.cmd("events", "--stats", b.id, timeout=30))
        assert_stats_show_limit(rt, json.loads(res.stdout.strip().splitlines()[0]), b)
        (b.rootfs / "go").touch()
        rc = p.wait(timeout=60)
    finally:
        out.close()
    text = (rt.tmp / "oom-run.out").read_text()
    assert rc == 137, text
    assert "allocated_mb" not in text
    rt.assert_nothing_left(b)


@pytest.mark.parametrize("victim", ["init", "child"])
def test_events_stream_reports_oom(rt, victim):
    """The OOM kill of the init (container stops) or of a child (container keeps running)
    shows up as {"type":"oom"} in an `events --interval` stream started before it."""
    if victim == "init":
        b = oom_bundle(rt, "/berth-checker", "alloc", "256")
    else:
        b = oom_bundle(rt, "/bin/sh", "-c", "/berth-checker alloc 256; exec /berth-checker sleep 60")
    expect_ok(rt.create(b))
    p = subprocess.Popen([rt.binary, "--root", str(rt.root), "events", "--interval", "100ms", b.id],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         start_new_session=True)
    rt.procs.append(p)
    lines = queue.Queue()

    def pump():
        for line in p.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        first = lines.get(timeout=15)
        assert first, "events printed nothing"
        assert_stats_show_limit(rt, json.loads(first), b)
        expect_ok(rt.start(b.id))
        events = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            events.append(json.loads(line))
            if events[-1]["type"] == "oom":
                break
        oom_kills = rt.cgroup_read(b, "memory", "memory.oom_control") if (CGROUP_ROOT / "memory").is_dir() else ""
        assert {"type": "oom", "id": b.id} in events, ([e["type"] for e in events], oom_kills)
        if victim == "init":
            assert rt.wait_status(b.id, "stopped") == "stopped"
        else:
            assert rt.status(b.id) == "running"
    finally:
        p.kill()
        p.wait()


# --------------------------------------------------------------------------- 8. pid file


def test_pid_file_atomic_and_is_host_init_pid(rt):
    b = rt.bundle()
    b.checker("sleep", "60")
    d = rt.tmp / "piddir"
    d.mkdir()
    pf = d / "init.pid"
    ino = Inotify(d)
    try:
        expect_ok(rt.create(b, "--pid-file", pf))
        events = ino.events()
    finally:
        ino.close()
    # Written elsewhere, renamed into place: the name only ever appears complete.
    on_name = [mask for name, mask in events if name == "init.pid"]
    assert any(m & Inotify.IN_MOVED_TO for m in on_name), events
    assert not any(m & (Inotify.IN_CREATE | Inotify.IN_MODIFY | Inotify.IN_CLOSE_WRITE) for m in on_name), events
    assert os.listdir(d) == ["init.pid"]
    text = pf.read_text()
    assert re.fullmatch(r"[1-9][0-9]*\n?", text), repr(text)
    pid = int(text)

    assert rt.state(b.id)["pid"] == pid
    assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    with open(f"/proc/{pid}/status") as f:
        nspid = next(l.split()[1:] for l in f if l.startswith("NSpid:"))
    assert nspid[0] == str(pid) and nspid[-1] == "1", nspid  # host pid, and pid 1 inside

    expect_ok(rt.start(b.id))
    assert rt.wait_status(b.id, "running") == "running"
    assert rt.state(b.id)["pid"] == pid
    with open(f"/proc/{pid}/cmdline") as f:
        assert f.read().split("\0")[:2] == ["/berth-checker", "sleep"]


@pytest.mark.berth_only  # runc 1.1.5 leaves the cgroup of a create killed half-way
def test_delete_force_cleans_up_after_a_killed_create(rt):
    """A `create` SIGKILLed half-way (here: while a prestart hook runs, after the cgroup and
    the init exist) leaves no record; `delete --force` still removes all of it."""
    b = rt.bundle()
    b.checker("exit", "0")
    b.config["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "3"]}]}
    b.write()
    proc = rt.spawn(RUNTIME, "--root", rt.root, "create", "--bundle", b.path, b.id)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not any("/memory/" in d for d in rt.leftover_cgroups(b.cgroups_path)):
            time.sleep(0.05)
        assert rt.leftover_cgroups(b.cgroups_path), "create never made its cgroup"
        time.sleep(0.2)  # into the hook
        proc.kill()  # the runtime alone; its hook and the init are what must be cleaned up
    finally:
        proc.wait(timeout=10)
    assert rt.state_entries() == [b.id]
    assert rt.status(b.id) is None  # no record: "does not exist"
    expect_ok(rt.delete(b.id, force=True))
    rt.assert_nothing_left(b)
