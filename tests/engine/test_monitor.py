"""berth-monitor end to end: a real runtime, busybox bundles, real processes (root).

Binaries: $BERTH_MONITOR (default <repo>/build/bin/berth-monitor) and the runtime,
$BERTH_TEST_ENGINE_RUNTIME as for the other engine tests, else $BERTH_TEST_RUNTIME (default
berth-runtime; a name is looked up next to the monitor, then in $PATH). Every test has
its own temp dir, runtime --root, cgroup parent and container ids; finalizers force-delete the
containers, kill monitors that are still alive and remove the temp dir and cgroups.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from engine_helpers import REPO, _alive, _start_time, _wait_for

MONITOR = os.environ.get("BERTH_MONITOR") or str(REPO / "build/bin/berth-monitor")
# A name is looked up next to the monitor, then in $PATH, as berth finds its --runtime.
_rt = (os.environ.get("BERTH_TEST_ENGINE_RUNTIME") or os.environ.get("BERTH_TEST_RUNTIME") or
       "berth-runtime")
RUNTIME = _rt if "/" in _rt else next(
    (p for p in (str(Path(MONITOR).parent / _rt), shutil.which(_rt)) if p and os.path.exists(p)), _rt)
CGROUP_ROOT = Path("/sys/fs/cgroup")
CRI_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF]) (.*)$")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists(MONITOR), reason=f"no berth-monitor at {MONITOR}"),
    pytest.mark.skipif(not os.path.exists(RUNTIME), reason=f"no runtime at {RUNTIME}"),
]

SPEC = {
    "ociVersion": "1.0.2",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh"],
        "env": ["PATH=/bin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {k: ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
                         for k in ("bounding", "effective", "permitted")},
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": False},
    "hostname": "mon",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    ],
    "linux": {
        "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
        "maskedPaths": ["/proc/kcore"],
        "readonlyPaths": ["/proc/sys"],
    },
}


class Task:
    def __init__(self, env: "Env", cid: str, task_dir: Path, log: Path, ready: dict):
        self.env, self.id, self.dir, self.log, self.ready = env, cid, task_dir, log, ready

    def state(self) -> dict:
        return json.loads((self.dir / "task.json").read_text())

    def wait_status(self, status: str, timeout=15.0) -> dict:
        def check():
            try:
                s = self.state()
            except (OSError, ValueError):
                return None
            return s if s["status"] == status else None
        return _wait_for(check, timeout, f"{self.id} status {status}")

    def wait_stopped(self, timeout=15.0) -> dict:
        s = self.wait_status("stopped", timeout)
        mp = s["monitor_pid"]
        _wait_for(lambda: not _alive(mp), timeout, "monitor exit")
        return s

    def log_records(self, path: Path | None = None):
        text = (path or self.log).read_text()
        out = []
        for line in text.splitlines():
            m = CRI_LINE.match(line)
            assert m, f"not a CRI log line: {line!r}"
            out.append((m.group(2), m.group(3), m.group(4)))
        return out

    def control(self, request: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.settimeout(5)
            s.connect(str(self.dir / "ctl.sock"))
            s.send(request.encode())
            return s.recv(65536).decode()


class Env:
    def __init__(self):
        self.uid = uuid.uuid4().hex[:8]
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bmon-{self.uid}-"))
        os.chmod(self.tmp, 0o755)
        self.root = self.tmp / "rt"
        self.cg_parent = f"berth-mon-test-{self.uid}"
        self.ids: list[str] = []
        self.monitors: list[tuple[int, int]] = []  # (pid, start time) to kill at the end
        self.n = 0

    def bundle(self, script: str, terminal=False) -> tuple[str, Path]:
        self.n += 1
        cid = f"bmon-{self.uid}-{self.n}"
        path = self.tmp / f"bundle-{self.n}"
        rootfs = path / "rootfs"
        for d in ("bin", "dev", "proc", "sys", "tmp", "etc"):
            (rootfs / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2("/bin/busybox", rootfs / "bin/busybox")
        for applet in ("sh", "echo", "sleep", "cat", "seq", "tty", "true"):
            os.symlink("busybox", rootfs / "bin" / applet)
        cfg = json.loads(json.dumps(SPEC))
        cfg["process"]["args"] = ["sh", "-c", script]
        cfg["process"]["terminal"] = terminal
        cfg["linux"]["cgroupsPath"] = f"/{self.cg_parent}/{cid}"
        (path / "config.json").write_text(json.dumps(cfg))
        self.ids.append(cid)
        return cid, path

    def start(self, script: str, *flags, terminal=False, expect_error=False) -> Task:
        cid, bundle = self.bundle(script, terminal=terminal)
        task_dir = self.tmp / "tasks" / cid
        log = self.tmp / "logs" / f"{cid}.log"
        r, w = os.pipe()
        argv = [MONITOR, "--runtime", RUNTIME, "--runtime-root", str(self.root), "--bundle", str(bundle),
                "--id", cid, "--task-dir", str(task_dir), "--log-path", str(log), "--ready-fd", str(w),
                *flags]
        if terminal:
            argv.append("--terminal")
        p = subprocess.Popen(argv, pass_fds=(w,), stdin=subprocess.DEVNULL)
        os.close(w)
        data = b""
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([r], [], [], 0.5)
                if ready:
                    chunk = os.read(r, 4096)
                    if not chunk:
                        break
                    data += chunk
        finally:
            os.close(r)
        assert p.wait(timeout=10) == 0, "berth-monitor's first process must exit at once"
        msg = json.loads(data.decode())
        task = Task(self, cid, task_dir, log, msg)
        try:
            st = task.state()
            self.monitors.append((st["monitor_pid"], st["monitor_start_time"]))
        except OSError:
            pass
        if expect_error:
            assert "error" in msg, msg
        else:
            assert "pid" in msg, f"monitor failed to start {cid}: {msg}"
        return task

    def runtime(self, *args, check=False):
        return subprocess.run([RUNTIME, "--root", str(self.root), *args], capture_output=True, text=True,
                              check=check, timeout=30)

    def cleanup(self):
        for pid, start in self.monitors:
            if _alive(pid) and _start_time(pid) == start:
                os.kill(pid, signal.SIGKILL)
        for cid in self.ids:
            self.runtime("delete", "--force", cid)
        # The cgroup parent in every hierarchy: unified, or each v1 controller (hybrid hosts).
        for parent in [CGROUP_ROOT / self.cg_parent, *CGROUP_ROOT.glob(f"*/{self.cg_parent}")]:
            if not parent.is_dir():
                continue
            for d in sorted(parent.rglob("*"), key=lambda p: len(str(p)), reverse=True):
                if d.is_dir():
                    try:
                        d.rmdir()
                    except OSError:
                        pass
            try:
                parent.rmdir()
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def env(request):
    e = Env()
    request.addfinalizer(e.cleanup)
    return e


# --------------------------------------------------------------------------- logs and exits


def test_cri_log_full_and_partial_lines(env):
    t = env.start("echo hello; echo -n partial")
    assert t.ready["pid"] > 0
    s = t.wait_stopped()
    assert s["exit_code"] == 0 and s["exit_reason"] == "exited" and s["exit_signal"] == 0
    assert s["started_at"] and s["finished_at"] >= s["started_at"]
    assert s["pid"] == 0 and s["restart_count"] == 0 and s["restart_policy"] == "no"
    recs = t.log_records()
    assert ("stdout", "F", "hello") in recs
    assert ("stdout", "P", "partial") in recs
    # The task dir keeps the state; the sockets go with the monitor.
    assert not (t.dir / "attach.sock").exists() and not (t.dir / "ctl.sock").exists()
    # The monitor deleted the container from the runtime.
    assert env.runtime("state", t.id).returncode != 0


def test_stderr_tagged_and_exit_code_recorded(env):
    t = env.start("echo out; echo oops >&2; exit 7")
    s = t.wait_stopped()
    assert s["exit_code"] == 7 and s["exit_reason"] == "exited"
    recs = t.log_records()
    assert ("stderr", "F", "oops") in recs
    assert ("stdout", "F", "out") in recs


def test_sigkilled_container(env):
    t = env.start("echo up; sleep 100")
    s = t.wait_status("running")
    assert s["pid"] == t.ready["pid"] and _alive(s["pid"])
    assert s["pid_start_time"] == _start_time(s["pid"])
    os.kill(s["pid"], signal.SIGKILL)
    s = t.wait_stopped()
    assert s["exit_reason"] == "signaled" and s["exit_code"] == 137 and s["exit_signal"] == 9


def test_exec_failure_reported_on_ready_fd(env):
    cid, bundle = env.bundle("true")
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["process"]["args"] = ["/no/such/binary"]
    (bundle / "config.json").write_text(json.dumps(cfg))
    # Reuse start()'s plumbing by hand: the monitor must answer with an error and give up.
    task_dir = env.tmp / "tasks" / cid
    r, w = os.pipe()
    p = subprocess.Popen([MONITOR, "--runtime", RUNTIME, "--runtime-root", str(env.root), "--bundle",
                          str(bundle), "--id", cid, "--task-dir", str(task_dir), "--ready-fd", str(w)],
                         pass_fds=(w,))
    os.close(w)
    with os.fdopen(r, "rb") as f:
        msg = json.loads(f.read().decode())
    p.wait(timeout=10)
    if "pid" in msg:
        # Runtimes that report exec failures as the process' exit (127) rather than at start.
        s = Task(env, cid, task_dir, task_dir / "none", msg).wait_stopped()
        assert s["exit_code"] == 127
    else:
        assert msg["error"]
        s = json.loads((task_dir / "task.json").read_text())
        assert s["status"] == "stopped" and s["exit_reason"] == "start-failed" and s["error"]
    assert env.runtime("state", cid).returncode != 0


# --------------------------------------------------------------------------- restarts


def test_restart_on_failure_with_backoff(env):
    began = time.monotonic()
    t = env.start("echo run; exit 3", "--restart", "on-failure:2", "--backoff-base-ms", "100")
    s = t.wait_stopped(timeout=30)
    elapsed = time.monotonic() - began
    assert s["restart_count"] == 2 and s["exit_code"] == 3 and s["restart_policy"] == "on-failure:2"
    assert [r for r in t.log_records() if r[2] == "run"] == [("stdout", "F", "run")] * 3
    assert elapsed >= 0.3, "back-off 100 ms then 200 ms"


def test_on_failure_does_not_restart_success(env):
    t = env.start("exit 0", "--restart", "on-failure", "--backoff-base-ms", "50")
    s = t.wait_stopped()
    assert s["restart_count"] == 0 and s["exit_code"] == 0


def test_always_restarts_until_stop_requested(env):
    t = env.start("sleep 100", "--restart", "always", "--backoff-base-ms", "100", "--stop-timeout", "1")
    first = t.wait_status("running")["pid"]
    os.kill(first, signal.SIGKILL)
    s = _wait_for(lambda: (lambda st: st if st["status"] == "running" and st["restart_count"] == 1 else None)(
        t.state()), 15, "restart")
    assert s["pid"] != first and _alive(s["pid"])
    assert t.control("stop 1") == "ok"
    s = t.wait_stopped()
    assert s["stop_requested"] is True and s["restart_count"] == 1
    assert s["exit_code"] == 137  # sleep as PID 1 ignores SIGTERM: killed after the timeout


def test_stop_during_backoff(env):
    t = env.start("exit 1", "--restart", "unless-stopped", "--backoff-base-ms", "5000")
    t.wait_status("restarting")
    assert t.state()["next_restart_delay_ms"] == 5000
    assert t.control("stop") == "ok"
    s = t.wait_stopped()
    assert s["restart_count"] == 0 and s["stop_requested"] is True


def test_sigterm_to_monitor_stops_task(env):
    t = env.start("trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done")
    s = t.wait_status("running")
    time.sleep(0.3)  # let the shell install its trap
    os.kill(s["monitor_pid"], signal.SIGTERM)
    s = t.wait_stopped()
    assert s["exit_code"] == 0 and s["stop_requested"] is True
    assert ("stdout", "F", "bye") in t.log_records()


# --------------------------------------------------------------------------- log rotation


def test_log_rotation(env):
    t = env.start("i=1; while [ $i -le 200 ]; do echo line-$i; i=$((i+1)); done",
                  "--log-max-size", "1000", "--log-max-files", "3")
    t.wait_stopped()
    files = [t.log, Path(str(t.log) + ".1"), Path(str(t.log) + ".2")]
    assert all(f.exists() for f in files)
    assert not Path(str(t.log) + ".3").exists()
    for f in files:
        assert f.stat().st_size <= 1000
    texts = [r[2] for f in reversed(files) for r in t.log_records(f)]
    assert texts[-1] == "line-200"
    nums = [int(x.split("-")[1]) for x in texts]
    assert nums == list(range(nums[0], 201)), "rotation lost or reordered lines"


# --------------------------------------------------------------------------- attach


def _recv_until(sock, needle: bytes, timeout=10.0) -> list[bytes]:
    packets, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            pkt = sock.recv(65536)
        except socket.timeout:
            break
        if not pkt:
            break
        packets.append(pkt)
        if needle in b"".join(p[1:] for p in packets):
            return packets
    raise AssertionError(f"{needle!r} not received; got {packets!r}")


def test_attach_receives_live_output(env):
    t = env.start("i=0; while true; do echo tick-$i; echo tock-$i >&2; i=$((i+1)); sleep 0.1; done")
    t.wait_status("running")
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(str(t.dir / "attach.sock"))
        packets = _recv_until(s, b"tock-")
        assert any(p[0] == 1 and b"tick-" in p for p in packets)
        assert any(p[0] == 2 and b"tock-" in p for p in packets)
    assert t.control("stop 0") == "ok"
    t.wait_stopped()


def test_attach_writes_stdin(env):
    t = env.start("cat", "--stdin")
    t.wait_status("running")
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(str(t.dir / "attach.sock"))
        s.send(b"ping\n")
        _recv_until(s, b"ping\n")
    assert t.control("close-stdin") == "ok"
    s = t.wait_stopped()
    assert s["exit_code"] == 0
    assert ("stdout", "F", "ping") in t.log_records()


def test_terminal(env):
    t = env.start("tty; echo -n 'x'", terminal=True)
    s = t.wait_stopped()
    assert s["exit_code"] == 0
    text = "".join(r[2] for r in t.log_records())
    assert "/dev/pts/" in text
    assert all(r[0] == "stdout" for r in t.log_records())


def test_control_state_and_kill(env):
    t = env.start("sleep 100")
    t.wait_status("running")
    st = json.loads(t.control("state"))
    assert st["status"] == "running" and st["id"] == t.id
    assert t.control("bogus").startswith("error")
    assert t.control("kill KILL") == "ok"
    s = t.wait_stopped()
    assert s["exit_code"] == 137 and s["stop_requested"] is False


# --------------------------------------------------------------------------- monitor crash


def test_monitor_sigkill_leaves_container_running(env):
    t = env.start("sleep 100")
    s = t.wait_status("running")
    mpid, cpid = s["monitor_pid"], s["pid"]
    assert s["monitor_start_time"] == _start_time(mpid)
    os.kill(mpid, signal.SIGKILL)
    _wait_for(lambda: not _alive(mpid), 5, "monitor death")
    time.sleep(0.2)
    assert _alive(cpid), "the container must outlive its monitor"
    after = t.state()
    # What reconciliation will see: running, with a monitor that is gone.
    assert after["status"] == "running" and after["pid"] == cpid and after["monitor_pid"] == mpid
    assert not _alive(mpid) or _start_time(mpid) != after["monitor_start_time"]
    st = env.runtime("state", t.id)
    assert st.returncode == 0 and json.loads(st.stdout)["status"] == "running"


# --------------------------------------------------------------------------- memory


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(shutil.which("conmon") is None, reason="conmon not installed")
def test_rss_not_above_conmon(env):
    t = env.start("sleep 100")
    s = t.wait_status("running")
    time.sleep(0.3)
    ours = _rss_kib(s["monitor_pid"])

    cid, bundle = env.bundle("sleep 100")
    cm = env.tmp / "conmon"
    (cm / "exits").mkdir(parents=True)
    (cm / "sock").mkdir()
    subprocess.run(["conmon", "-c", cid, "-u", cid, "-n", cid, "-r", RUNTIME,
                    "--runtime-arg", "--root", "--runtime-arg", str(env.root), "-b", str(bundle),
                    "-p", str(cm / "pid"), "-P", str(cm / "conmon.pid"), "-l", f"k8s-file:{cm / 'ctr.log'}",
                    "--exit-dir", str(cm / "exits"), "--socket-dir-path", str(cm / "sock"),
                    "--log-level", "error"], check=True, timeout=30, capture_output=True)
    # conmon's first process returns before `create` is done: its container pid file says when.
    _wait_for(lambda: (cm / "pid").exists(), 15, "conmon's container pid file")
    conmon_pid = int((cm / "conmon.pid").read_text())
    env.monitors.append((conmon_pid, _start_time(conmon_pid)))
    env.runtime("start", cid, check=True)
    time.sleep(0.3)
    theirs = _rss_kib(conmon_pid)
    print(f"idle sleep container: berth-monitor VmRSS {ours} KiB, conmon VmRSS {theirs} KiB")
    assert ours <= theirs


def test_oom_kill_recorded(env):
    cid, bundle = env.bundle("exec dd if=/dev/zero of=/dev/null bs=64M count=1")
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["linux"]["resources"] = {"memory": {"limit": 16 * 1024 * 1024, "swap": 16 * 1024 * 1024}}
    (bundle / "config.json").write_text(json.dumps(cfg))
    os.symlink("busybox", bundle / "rootfs/bin/dd")
    task_dir = env.tmp / "tasks" / cid
    r, w = os.pipe()
    p = subprocess.Popen([MONITOR, "--runtime", RUNTIME, "--runtime-root", str(env.root), "--bundle",
                          str(bundle), "--id", cid, "--task-dir", str(task_dir), "--ready-fd", str(w)],
                         pass_fds=(w,))
    os.close(w)
    with os.fdopen(r, "rb") as f:
        msg = json.loads(f.read().decode())
    p.wait(timeout=10)
    assert "pid" in msg, msg
    s = Task(env, cid, task_dir, task_dir / "none", msg).wait_stopped()
    assert s["cgroup"].endswith(cid)
    assert s["exit_code"] == 137 and s["exit_reason"] == "oom", s
