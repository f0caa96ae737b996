"""Black-box OCI runtime conformance harness.

Runtime under test: $BERTH_TEST_RUNTIME (default <repo>/build/bin/berth-runtime;
a bare name such as `runc` or `crun` is looked up in $PATH).
Checker binary:     $BERTH_CHECKER (default <repo>/build/bin/berth-checker; when
the default is missing it is compiled from tests/checker into a temp dir).

Every test gets its own Runtime (`rt` fixture): private --root state dir,
private temp dir for bundles, unique container ids and a private cgroup parent
/berth-test-<uuid>.  Finalizers force-delete containers, kill leftovers in the
cgroups, remove the cgroup dirs and lazily unmount anything under the temp dir.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CGROUP_ROOT = Path("/sys/fs/cgroup")
TMP_BASE = Path(os.environ.get("BERTH_TEST_TMPDIR", "/tmp"))


def _resolve_runtime() -> str:
    v = os.environ.get("BERTH_TEST_RUNTIME") or str(REPO / "build/bin/berth-runtime")
    if "/" not in v:
        found = shutil.which(v) or shutil.which(v, path="/usr/sbin:/usr/bin:/sbin:/bin")
        v = found or v
    return v


RUNTIME = _resolve_runtime()
_base = os.path.basename(RUNTIME)
if "runc" in _base:
    KIND = "runc"
elif "crun" in _base:
    KIND = "crun"
else:
    KIND = "berth"
IS_BERTH = KIND == "berth"

CAP_ALL = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
]
CAP_BIT = {name: i for i, name in enumerate(CAP_ALL)}


def cap_mask(names) -> int:
    m = 0
    for n in names:
        m |= 1 << CAP_BIT[n]
    return m


# The equivalent of `runc spec` (runc 1.1.x) output, written out by hand so the
# suite never depends on the runtime's own `spec` verb for its base config.
DEFAULT_SPEC = {
    "ociVersion": "1.0.2-dev",
    "process": {
        "terminal": True,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh"],
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {
            k: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            for k in ("bounding", "effective", "permitted", "ambient")
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "runc",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ],
    "linux": {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                       {"type": "mount"}],
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                        "/proc/scsi"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
}


# --------------------------------------------------------------------------- session setup

_session_tmp = None


def _checker_path() -> Path:
    global _session_tmp
    env = os.environ.get("BERTH_CHECKER")
    if env:
        return Path(env)
    default = REPO / "build/bin/berth-checker"
    if default.exists():
        return default
    # Build it ourselves (each xdist worker builds its own copy; it takes a few seconds).
    if _session_tmp is None:
        _session_tmp = Path(tempfile.mkdtemp(prefix="berth-conformance-checker-", dir=TMP_BASE))
    out = _session_tmp / "berth-checker"
    if not out.exists():
        srcs = sorted(glob.glob(str(REPO / "tests/checker/*.cpp")))
        subprocess.run(["g++", "-std=gnu++20", "-O2", "-Wall", "-Wextra", "-static", "-o", str(out), *srcs],
                       check=True, stderr=subprocess.PIPE)
    return out


_busybox_applets = None


def busybox_applets():
    global _busybox_applets
    if _busybox_applets is None:
        out = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True).stdout
        _busybox_applets = [a for a in out.split() if a and "/" not in a]
    return _busybox_applets


def pytest_configure(config):
    config.addinivalue_line("markers", "berth_only: behaviour only berth-runtime has (skipped for runc/crun)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=f"berth-only behaviour; runtime under test is {KIND}")
    for item in items:
        if "berth_only" in item.keywords and not IS_BERTH:
            item.add_marker(skip)


def pytest_report_header(config):
    return [f"runtime under test: {RUNTIME} (kind={KIND})",
            f"checker: {os.environ.get('BERTH_CHECKER') or REPO / 'build/bin/berth-checker'}"]


@pytest.fixture(scope="session")
def checker_bin():
    if not os.path.exists(RUNTIME):
        pytest.exit(f"runtime under test not found: {RUNTIME} (set BERTH_TEST_RUNTIME)", returncode=4)
    p = _checker_path()
    if not p.exists():
        pytest.exit(f"checker not found: {p} (set BERTH_CHECKER)", returncode=4)
    return p


def pytest_sessionfinish(session, exitstatus):
    if _session_tmp is not None:
        shutil.rmtree(_session_tmp, ignore_errors=True)


# --------------------------------------------------------------------------- results


class Result:
    def __init__(self, args, returncode, stdout, stderr, log_text=""):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.log_text = log_text

    @property
    def ok(self):
        return self.returncode == 0

    def json(self):
        """The last stdout line that parses as JSON."""
        for line in reversed(self.stdout.strip().splitlines()):
            line = line.strip()
            if line.startswith("{") or line.startswith("["):
                try:
                    return json.loads(line)
                except ValueError:
                    continue
        try:
            return json.loads(self.stdout)
        except ValueError:
            raise AssertionError(f"no JSON in stdout of {self.args}: {self}") from None

    def __repr__(self):
        return (f"<Result rc={self.returncode} args={self.args}\n--stdout--\n{self.stdout[-3000:]}"
                f"\n--stderr--\n{self.stderr[-3000:]}\n--log--\n{self.log_text[-2000:]}>")

    __str__ = __repr__


def expect_ok(res: Result):
    assert res.returncode == 0, f"expected success: {res}"
    return res


def expect_error(res: Result, field_hint: str | None = None):
    """Non-zero exit; for berth the message must also name the field/problem."""
    assert res.returncode != 0, f"expected failure: {res}"
    if IS_BERTH and field_hint:
        text = (res.stderr + "\n" + res.log_text).lower()
        assert field_hint.lower() in text, f"error does not mention {field_hint!r}: {res}"
    return res


# --------------------------------------------------------------------------- bundles


class Bundle:
    def __init__(self, rt: "Runtime", cid: str, path: Path, config: dict):
        self.rt = rt
        self.id = cid
        self.path = path
        self.rootfs = path / "rootfs"
        self.config = config

    # convenience accessors
    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config.setdefault("linux", {})

    @property
    def cgroups_path(self):
        return self.config["linux"]["cgroupsPath"]

    def args(self, *args):
        self.config["process"]["args"] = [str(a) for a in args]
        return self

    def checker(self, *args):
        return self.args("/berth-checker", *args)

    def add_mount(self, destination, type_=None, source=None, options=None, **extra):
        m = {"destination": destination}
        if type_ is not None:
            m["type"] = type_
        if source is not None:
            m["source"] = str(source)
        if options is not None:
            m["options"] = list(options)
        m.update(extra)
        self.config.setdefault("mounts", []).append(m)
        return m

    def set_namespace(self, ns_type, path=None):
        nss = [n for n in self.linux.setdefault("namespaces", []) if n["type"] != ns_type]
        entry = {"type": ns_type}
        if path is not None:
            entry["path"] = str(path)
        nss.append(entry)
        self.linux["namespaces"] = nss

    def remove_namespace(self, ns_type):
        self.linux["namespaces"] = [n for n in self.linux.get("namespaces", []) if n["type"] != ns_type]

    def set_caps(self, caps, sets=("bounding", "effective", "permitted", "ambient", "inheritable")):
        self.process["capabilities"] = {s: list(caps) for s in sets}

    def write(self, raw: str | None = None):
        (self.path / "config.json").write_text(raw if raw is not None else json.dumps(self.config, indent=1))
        return self


def _make_rootfs(rootfs: Path, checker: Path):
    for d in ("bin", "dev", "proc", "sys", "tmp", "etc", "root", "mnt", "run", "var", "home"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    os.chmod(rootfs / "tmp", 0o1777)
    shutil.copy2("/bin/busybox", rootfs / "bin/busybox")
    for a in busybox_applets():
        if a != "busybox":
            try:
                os.symlink("busybox", rootfs / "bin" / a)
            except FileExistsError:
                pass
    os.symlink("bin", rootfs / "sbin")
    shutil.copy2(checker, rootfs / "berth-checker")
    os.chmod(rootfs / "berth-checker", 0o755)
    (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
                                       "user:x:1000:1000:user:/home:/bin/sh\n")
    (rootfs / "etc/group").write_text("root:x:0:\ntty:x:5:\nnogroup:x:65534:\nuser:x:1000:\n")
    (rootfs / "etc/hosts").write_text("127.0.0.1 localhost\n")


# --------------------------------------------------------------------------- runtime driver


class Runtime:
    """Drives the runtime under test with a private --root and cleans up after."""

    def __init__(self, checker: Path):
        self.checker_bin = checker
        self.uid = uuid.uuid4().hex[:10]
        self.tmp = Path(tempfile.mkdtemp(prefix=f"berth-ct-{self.uid}-", dir=TMP_BASE))
        os.chmod(self.tmp, 0o755)
        self.root = self.tmp / "state"
        self.root.mkdir()
        self.log = self.tmp / "runtime.log"
        self.cg_parent = f"/berth-test-{self.uid}"
        self.ids: list[str] = []
        self.procs: list[subprocess.Popen] = []
        self._n = 0
        self.kind = KIND
        self.binary = RUNTIME

    # ---------------- ids / bundles
    def new_id(self) -> str:
        self._n += 1
        cid = f"bt-{self.uid}-{self._n}"
        self.ids.append(cid)
        return cid

    def bundle(self, *args, write=True) -> Bundle:
        cid = self.new_id()
        path = self.tmp / f"bundle-{self._n}"
        path.mkdir()
        os.chmod(path, 0o755)
        _make_rootfs(path / "rootfs", self.checker_bin)
        cfg = copy.deepcopy(DEFAULT_SPEC)
        cfg["process"]["terminal"] = False
        cfg["root"]["readonly"] = False
        cfg["hostname"] = "berth-test"
        cfg["linux"]["cgroupsPath"] = f"{self.cg_parent}/{cid}"
        b = Bundle(self, cid, path, cfg)
        if args:
            b.args(*args)
        else:
            b.checker("all")
        return b

    # ---------------- invocation
    def cmd(self, *args, global_args=(), input=None, timeout=60, stdin=None, log=True,
            stdout_file=None, pass_fds=()) -> Result:
        """Run `runtime --root R [--log L] [global_args] args`.

        With stdout_file the runtime's stdout/stderr go to files (needed when a
        detached container inherits them, or a pipe would never reach EOF)."""
        argv = [RUNTIME, "--root", str(self.root)]
        if log:
            argv += ["--log", str(self.log)]
        argv += list(global_args) + [str(a) for a in args]
        before = self.log.read_text(errors="replace") if self.log.exists() else ""
        if stdout_file is not None:
            out_path = Path(stdout_file)
            err_path = Path(str(out_path) + ".err")
            with open(out_path, "wb") as o, open(err_path, "wb") as e:
                p = subprocess.run(argv, stdin=subprocess.DEVNULL if input is None and stdin is None else stdin,
                                   input=input.encode() if isinstance(input, str) else input,
                                   stdout=o, stderr=e, timeout=timeout, pass_fds=pass_fds)
            stdout = out_path.read_text(errors="replace")
            stderr = err_path.read_text(errors="replace")
        else:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL if input is None and stdin is None else stdin,
                               input=input.encode() if isinstance(input, str) else input,
                               capture_output=True, timeout=timeout, pass_fds=pass_fds)
            stdout = p.stdout.decode(errors="replace")
            stderr = p.stderr.decode(errors="replace")
        after = self.log.read_text(errors="replace") if self.log.exists() else ""
        return Result(argv, p.returncode, stdout, stderr, after[len(before):] if after.startswith(before) else after)

    def run(self, bundle: Bundle, *extra, timeout=60, write=True) -> Result:
        """Foreground `run`: the container's stdout is captured."""
        if write:
            bundle.write()
        return self.cmd("run", "--bundle", bundle.path, *extra, bundle.id, timeout=timeout)

    def check(self, bundle: Bundle, *checker_args, expect_rc=0) -> dict:
        """Run the checker as the container process; return its JSON."""
        if checker_args:
            bundle.checker(*checker_args)
        res = self.run(bundle)
        assert res.returncode == expect_rc, f"container failed: {res}"
        return res.json()

    def create(self, bundle: Bundle, *extra, write=True, timeout=60) -> Result:
        if write:
            bundle.write()
        return self.cmd("create", "--bundle", bundle.path, *extra, bundle.id,
                        stdout_file=self.tmp / f"{bundle.id}.create.out", timeout=timeout)

    def run_detached(self, bundle: Bundle, *extra, write=True) -> Result:
        if write:
            bundle.write()
        return self.cmd("run", "-d", "--bundle", bundle.path, *extra, bundle.id,
                        stdout_file=self.tmp / f"{bundle.id}.run.out")

    def container_output(self, bundle: Bundle, how="create") -> str:
        return (self.tmp / f"{bundle.id}.{how}.out").read_text(errors="replace")

    def start(self, cid) -> Result:
        return self.cmd("start", cid)

    def state(self, cid) -> dict:
        res = self.cmd("state", cid)
        assert res.returncode == 0, f"state failed: {res}"
        return json.loads(res.stdout)

    def status(self, cid) -> str | None:
        res = self.cmd("state", cid)
        if res.returncode != 0:
            return None
        return json.loads(res.stdout)["status"]

    def wait_status(self, cid, want, timeout=10.0) -> str | None:
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.status(cid)
            if st == want:
                return st
            time.sleep(0.05)
        return st

    def kill(self, cid, sig=None, *extra) -> Result:
        args = ["kill", *extra, cid]
        if sig is not None:
            args.append(str(sig))
        return self.cmd(*args)

    def delete(self, cid, force=False) -> Result:
        return self.cmd("delete", *(["--force"] if force else []), cid)

    def exec(self, cid, *cmd, opts=(), timeout=60, stdout_file=None) -> Result:
        """`exec [opts] <cid> [cmd...]`"""
        return self.cmd("exec", *opts, cid, *cmd, timeout=timeout, stdout_file=stdout_file)

    # ---------------- cgroups (v1 layout with v2 fallback paths)
    def cgroup_dir(self, bundle_or_path, controller: str) -> Path:
        path = bundle_or_path.cgroups_path if isinstance(bundle_or_path, Bundle) else bundle_or_path
        if (CGROUP_ROOT / controller).is_dir() and not (CGROUP_ROOT / "cgroup.controllers").exists():
            return CGROUP_ROOT / controller / path.lstrip("/")
        return CGROUP_ROOT / path.lstrip("/")

    def cgroup_read(self, bundle, controller: str, filename: str) -> str:
        return (self.cgroup_dir(bundle, controller) / filename).read_text().strip()

    def leftover_cgroups(self, cgroups_path: str) -> list[str]:
        return sorted({str(d) for d in cgroup_candidates(cgroups_path) if d.exists()})

    # ---------------- host helpers
    def spawn(self, *argv, **kw) -> subprocess.Popen:
        p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def mounts_mentioning(self, *needles) -> list[str]:
        needles = needles or (str(self.tmp),)
        with open("/proc/self/mountinfo") as f:
            return [l.strip() for l in f if any(n in l for n in needles)]

    def state_entries(self) -> list[str]:
        return sorted(os.listdir(self.root)) if self.root.exists() else []

    def assert_nothing_left(self, bundle: Bundle):
        """No state entry, no cgroup dir, no mounts that belong to this container."""
        assert bundle.id not in self.state_entries(), f"state dir left in {self.root}: {self.state_entries()}"
        left = self.leftover_cgroups(bundle.cgroups_path)
        assert not left, f"cgroup dirs left behind: {left}"
        mounts = self.mounts_mentioning(str(bundle.path), bundle.id)
        assert not mounts, f"mounts left behind: {mounts}"

    # ---------------- cleanup
    def cleanup(self):
        for cid in reversed(self.ids):
            try:
                self.cmd("delete", "--force", cid, timeout=20, log=False)
            except Exception:
                pass
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except Exception:
                pass
            try:
                p.wait(timeout=5)
            except Exception:
                pass
        _remove_cgroup_tree(self.cg_parent)
        # unmount anything under our temp dir, deepest first
        for _ in range(3):
            mps = []
            with open("/proc/self/mountinfo") as f:
                for line in f:
                    mp = line.split()[4].replace("\\040", " ")
                    if mp.startswith(str(self.tmp)):
                        mps.append(mp)
            if not mps:
                break
            for mp in sorted(mps, key=len, reverse=True):
                subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _own_cgroups() -> dict:
    """controller mount dir name -> this process's cgroup path in it."""
    out = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctls, path = line.rstrip("\n").split(":", 2)
                for c in ctls.split(",") if ctls else ["unified"]:
                    out[c.replace("name=", "")] = path
    except OSError:
        pass
    return out


def cgroup_candidates(path: str) -> list[Path]:
    """Every place a cgroupsPath (absolute, or relative to our own cgroup) may live."""
    rel = path.lstrip("/")
    own = _own_cgroups()
    cands = [CGROUP_ROOT / rel]
    for ctl in CGROUP_ROOT.iterdir():
        if not ctl.is_dir():
            continue
        cands.append(ctl / rel)
        o = own.get(ctl.name, "/").lstrip("/")
        if o:
            cands.append(ctl / o / rel)
    return cands


def _remove_cgroup_tree(cg_parent: str):
    dirs = [d for d in cgroup_candidates(cg_parent) if d.is_dir()]
    for d in dirs:
        # thaw, kill, then rmdir bottom-up
        for sub in sorted((p for p in [d, *d.rglob("*")] if p.is_dir()), key=lambda p: len(str(p)), reverse=True):
            fs = sub / "freezer.state"
            if fs.exists():
                try:
                    fs.write_text("THAWED")
                except OSError:
                    pass
            procs = sub / "cgroup.procs"
            if procs.exists():
                for pid in procs.read_text().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
    deadline = time.monotonic() + 5
    for d in dirs:
        subs = sorted((p for p in [d, *d.rglob("*")] if p.is_dir()), key=lambda p: len(str(p)), reverse=True)
        for sub in subs:
            while True:
                try:
                    os.rmdir(sub)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)


@pytest.fixture
def rt(checker_bin):
    r = Runtime(checker_bin)
    try:
        yield r
    finally:
        r.cleanup()


@pytest.fixture
def bundle(rt):
    return rt.bundle()


# --------------------------------------------------------------------------- console socket


class ConsoleSocket:
    """A unix socket that receives the pty master over SCM_RIGHTS."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.master_fd = None
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        self.sock.settimeout(30)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(30)
            msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
            if fds:
                self.master_fd = fds[0]
                for extra in fds[1:]:
                    os.close(extra)

    def wait_master(self, timeout=15) -> int:
        self._thread.join(timeout)
        assert self.master_fd is not None, "runtime did not send a pty master over the console socket"
        return self.master_fd

    def read_all(self, timeout=15) -> str:
        """Read the pty until EOF/EIO (all slave ends closed) or timeout."""
        import select
        fd = self.wait_master()
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
        return buf.decode(errors="replace")

    def close(self):
        if self.master_fd is not None:
            try:
                os.close(self.master_fd)
            except OSError:
                pass
        self.sock.close()


@pytest.fixture
def console(rt):
    socks = []

    def make(name="console.sock"):
        s = ConsoleSocket(rt.tmp / name)
        socks.append(s)
        return s

    yield make
    for s in socks:
        s.close()


def host_cgroup_v1() -> bool:
    return (CGROUP_ROOT / "memory").is_dir() and not (CGROUP_ROOT / "cgroup.controllers").exists()


requires_cgroup_v1 = pytest.mark.skipif(not host_cgroup_v1(), reason="host has no cgroup v1 controllers")
