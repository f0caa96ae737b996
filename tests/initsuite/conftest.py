"""berth-init integration suite: berth-init as PID 1 in a container, and on the host.

Every behaviour test runs twice, once with berth-init and once with Debian's tini-static on
the same helper program, to show both do the same (or to pin down where they differ).

Environment:
  BERTH_TEST_RUNTIME  OCI runtime (default <repo>/build/bin/berth-runtime; a bare name such
                      as `runc` is looked up in PATH and /usr/sbin)
  BERTH_TEST_INIT     berth-init binary (default <repo>/build/bin/berth-init)
  BERTH_TEST_TINI     tini to compare with (default /usr/bin/tini-static)

Containers need root; host-only tests do not. The rootfs (busybox-static, both inits and a
static helper compiled from helper.c) is built once per session in a temp dir; each container
gets its own bundle, a writable /out bind mount, a unique id and a private --root state dir.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _which(value: str) -> str:
    if "/" in value:
        return value
    return shutil.which(value) or shutil.which(value, path="/usr/sbin:/usr/bin:/sbin:/bin") or value


RUNTIME = _which(os.environ.get("BERTH_TEST_RUNTIME") or str(REPO / "build/bin/berth-runtime"))
BERTH_INIT = os.environ.get("BERTH_TEST_INIT") or str(REPO / "build/bin/berth-init")
TINI = os.environ.get("BERTH_TEST_TINI") or "/usr/bin/tini-static"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"

INITS = {"berth-init": BERTH_INIT, "tini": TINI}


def pytest_generate_tests(metafunc):
    # `init` runs a test once per init; tests marked berth_only run for berth-init alone.
    if "init" in metafunc.fixturenames:
        berth_only = metafunc.definition.get_closest_marker("berth_only")
        metafunc.parametrize("init", ["berth-init"] if berth_only else list(INITS), indirect=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "berth_only: behaviour tini does not have (--pause)")
    config.addinivalue_line("markers", "container: needs root and a working OCI runtime")


class Init:
    """One of the two inits: its name, host path and path inside the rootfs."""

    def __init__(self, name: str, host_path: str):
        self.name = name
        self.host_path = host_path
        self.path = "/" + name  # in the container

    @property
    def is_tini(self) -> bool:
        return self.name == "tini"

    def __repr__(self) -> str:
        return self.name


@pytest.fixture
def init(request) -> Init:
    path = INITS[request.param]
    if not os.access(path, os.X_OK):
        pytest.skip(f"{request.param} not found at {path}")
    return Init(request.param, path)


@pytest.fixture(scope="session")
def session_dir():
    d = Path(tempfile.mkdtemp(prefix="berth-initsuite-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def helper(session_dir) -> Path:
    out = session_dir / "helper"
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", str(out), str(HERE / "helper.c")],
                   check=True)
    return out


@pytest.fixture(scope="session")
def rootfs(session_dir, helper) -> Path:
    """busybox with every applet linked, both inits and the helper; mounted read-only."""
    root = session_dir / "rootfs"
    for d in ("bin", "proc", "dev", "sys", "tmp", "out", "etc"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin/busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True)
    for applet in applets.stdout.split():
        link = root / "bin" / applet
        if applet != "busybox" and not link.exists():
            link.symlink_to("busybox")
    for name, path in INITS.items():
        if os.access(path, os.X_OK):
            shutil.copy2(path, root / name)
    shutil.copy2(helper, root / "helper")
    (root / "etc/passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
    return root


def _spec(rootfs: Path, args: list[str], out_dir: Path) -> dict:
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_SETUID",
            "CAP_SETGID", "CAP_DAC_OVERRIDE", "CAP_FOWNER"]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/bin", "HOME=/"],
            "cwd": "/",
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": str(rootfs), "readonly": True},
        "hostname": "initsuite",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "mode=1777"]},
            {"destination": "/out", "type": "bind", "source": str(out_dir),
             "options": ["rbind", "rw"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
        },
    }


class Container:
    """A foreground `RUNTIME run` of one container; out is its /out directory on the host."""

    def __init__(self, root: Path, bundle: Path, cid: str):
        self.root, self.bundle, self.cid = root, bundle, cid
        self.out = bundle / "out"
        self.proc: subprocess.Popen | None = None
        self.pid = 0

    def _rt(self, *args: str) -> list[str]:
        return [RUNTIME, "--root", str(self.root), *args]

    def run(self, args: list[str], rootfs: Path, wait_running: bool = True) -> "Container":
        self.bundle.mkdir(parents=True)
        self.out.mkdir()
        (self.bundle / "config.json").write_text(json.dumps(_spec(rootfs, args, self.out)))
        self.stdout = open(self.bundle / "stdout", "wb")
        self.stderr = open(self.bundle / "stderr", "wb")
        # Own session: if the runtime hangs, cleanup() can kill all of its processes at once.
        self.proc = subprocess.Popen(self._rt("run", "--bundle", str(self.bundle), self.cid),
                                     stdin=subprocess.DEVNULL, stdout=self.stdout,
                                     stderr=self.stderr, start_new_session=True)
        if wait_running:
            self.pid = self._wait_pid()
        return self

    def _wait_pid(self, timeout: float = 10) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"container exited early ({self.proc.returncode}): "
                                     f"{self.output()}")
            r = _quiet(self._rt("state", self.cid))
            if r is not None and r.returncode == 0:
                state = json.loads(r.stdout)
                if state.get("status") == "running" and state.get("pid"):
                    return int(state["pid"])
            time.sleep(0.02)
        raise AssertionError(f"container {self.cid} not running after {timeout}s")

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout=timeout)

    def exec(self, args: list[str]) -> subprocess.CompletedProcess:
        (self.bundle / "exec.json").write_text(json.dumps(
            {"args": args, "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0},
             "terminal": False}))
        return subprocess.run(self._rt("exec", "--process", str(self.bundle / "exec.json"),
                                       self.cid), capture_output=True, text=True, timeout=30)

    def output(self) -> str:
        for f in (self.stdout, self.stderr):
            f.flush()
        return ((self.bundle / "stdout").read_text(errors="replace") +
                (self.bundle / "stderr").read_text(errors="replace"))

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            _quiet(self._rt("kill", self.cid, "KILL"))
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if self.pid and proc_state(self.pid) not in ("", "Z"):
            os.kill(self.pid, signal.SIGKILL)  # the runtime could not; do not leak the init
        _quiet(self._rt("delete", "--force", self.cid))
        for f in (getattr(self, "stdout", None), getattr(self, "stderr", None)):
            if f is not None:
                f.close()


def _quiet(cmd: list[str], timeout: float = 10) -> subprocess.CompletedProcess | None:
    """Runs a runtime verb; None when it hangs (a runtime under development may)."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


@pytest.fixture(scope="session")
def runtime_ok():
    if os.geteuid() != 0:
        pytest.skip("containers need root")
    if not (os.access(RUNTIME, os.X_OK) or shutil.which(RUNTIME)):
        pytest.skip(f"runtime {RUNTIME} not found (set BERTH_TEST_RUNTIME)")
    return RUNTIME


@pytest.fixture
def container(runtime_ok, rootfs, session_dir):
    """Factory: container(args) starts `RUNTIME run` and waits until the init is running."""
    state_root = session_dir / "state"
    made: list[Container] = []

    def start(args: list[str], wait_running: bool = True) -> Container:
        cid = f"initsuite-{uuid.uuid4().hex[:12]}"
        c = Container(state_root, session_dir / "bundles" / cid, cid)
        made.append(c)
        return c.run(args, rootfs, wait_running)

    yield start
    for c in made:
        c.cleanup()


def wait_for(predicate, timeout: float = 5, interval: float = 0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def proc_state(pid: int) -> str:
    """The state letter from /proc/PID/stat, or '' when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return stat[stat.rindex(")") + 2]


def cpu_ticks(pid: int) -> int:
    """utime + stime of PID in clock ticks."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
