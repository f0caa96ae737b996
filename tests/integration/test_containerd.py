"""containerd (Debian's 1.6.x, io.containerd.runc.v2 shim) drives the runtime under test.

A private containerd runs from a generated config (own root, state, sockets; the CRI
plugin and other unneeded plugins disabled), the busybox image is imported with
`ctr image import`, and every container is started with
`ctr run --runc-binary <wrapper> --runc-root <private> --cgroup /berthtest-<token>/<id>`.
ctr passes --runc-binary to the shim as runc options BinaryName, which the v2 shim
honours, so no runtime section is needed in the containerd config.
"""

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from berth_itest import (kill_pids, mounts_under, pids_with_cmdline_containing, remove_cgroup_tree, run,
                      run_in_pty, unmount_all_under, wait_for)

CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"
NS = "berthtest"
SNAPSHOTTER = os.environ.get("BERTH_TEST_SNAPSHOTTER", "overlayfs")


class Containerd:
    def __init__(self, base, token, runtime, image_name):
        self.base = base
        self.token = token
        self.runtime = runtime
        self.image = image_name
        self.sock = str(base / "containerd.sock")
        self.cgroup_parent = f"berthtest-{token}"
        self.runc_root = str(base / "runc-root")
        self.fifo_dir = str(base / "fifo")
        self.proc = None
        self._n = 0
        self.ids = []

    def ctr(self, *args, timeout=60, **kw):
        return run([CTR, "-a", self.sock, "-n", NS, *args], timeout=timeout, **kw)

    def ctr_ok(self, *args, **kw):
        res = self.ctr(*args, **kw)
        assert res.returncode == 0, f"ctr {' '.join(args)} exited {res.returncode}\n{res.stdout}\n{res.stderr}"
        return res

    def new_id(self, what="c"):
        self._n += 1
        cid = f"berthtest-{self.token}-{what}{self._n}"
        self.ids.append(cid)
        return cid

    def run_args(self, cid, *, detach=False, rm=False, tty=False):
        a = ["run", "--runc-binary", self.runtime.path, "--runc-root", self.runc_root,
             "--fifo-dir", self.fifo_dir, "--snapshotter", SNAPSHOTTER,
             "--cgroup", f"/{self.cgroup_parent}/{cid}"]
        if detach:
            a.append("-d")
        if rm:
            a.append("--rm")
        if tty:
            a.append("-t")
        return a + [self.image, cid]

    def task_status(self, cid):
        res = self.ctr("task", "ls")
        for line in res.stdout.splitlines()[1:]:
            f = line.split()
            if f and f[0] == cid:
                return f[2] if len(f) > 2 else ""
        return None

    def remove(self, cid, timeout=20):
        """Best-effort kill + delete of a task and its container (never raises)."""
        def quiet(*args):
            try:
                return self.ctr(*args, timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
        try:
            if self.task_status(cid) not in (None, "STOPPED"):
                quiet("task", "resume", cid)
                quiet("task", "kill", "-a", "-s", "SIGKILL", cid)
                try:
                    wait_for(lambda: self.task_status(cid) in (None, "STOPPED"), 10, what=f"{cid} to stop")
                except AssertionError:
                    pass
        except subprocess.TimeoutExpired:
            pass
        quiet("task", "delete", "-f", cid)
        quiet("container", "delete", cid)


def _write_config(base):
    cfg = f"""version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{base}/containerd.sock"

[ttrpc]
  address = "{base}/containerd.sock.ttrpc"

[debug]
  address = "{base}/debug.sock"
  level = "debug"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{base}/opt"
  [plugins."io.containerd.gc.v1.scheduler"]
    pause_threshold = 0.02
"""
    path = base / "config.toml"
    path.write_text(cfg)
    return path


@pytest.fixture(scope="module")
def containerd(session_dir, token, runtime, busybox_image):
    if not (os.path.exists(CONTAINERD) and os.path.exists(CTR)):
        pytest.skip("containerd/ctr not installed (apt-get install containerd)")
    base = session_dir / "containerd"
    base.mkdir()
    run_dir_existed = os.path.exists("/run/containerd")
    cfg = _write_config(base)
    log = open(base / "containerd.log", "w")
    cd = Containerd(base, token, runtime, busybox_image[1])
    cd.proc = subprocess.Popen([CONTAINERD, "--config", str(cfg)], stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        def up():
            if cd.proc.poll() is not None:
                raise AssertionError(f"containerd exited with {cd.proc.returncode}: "
                                     f"{(base / 'containerd.log').read_text()[-3000:]}")
            return os.path.exists(cd.sock) and cd.ctr("version", timeout=10).returncode == 0
        wait_for(up, timeout=30, what="containerd socket")
        res = cd.ctr("image", "import", "--snapshotter", SNAPSHOTTER, busybox_image[0], timeout=120)
        assert res.returncode == 0, f"ctr image import failed: {res.stdout}{res.stderr}"
        assert busybox_image[1] in cd.ctr_ok("image", "ls", "-q").stdout.split()
        yield cd
    finally:
        _teardown(cd, base, log, run_dir_existed)


def _teardown(cd, base, log, run_dir_existed):
    if cd.proc and cd.proc.poll() is None:
        try:
            for cid in cd.ctr("container", "ls", "-q", timeout=20).stdout.split():
                cd.remove(cid, timeout=10)
        except Exception:
            pass
        cd.proc.terminate()
        try:
            cd.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            cd.proc.kill()
            cd.proc.wait()
    log.close()
    # shims (containerd-shim-runc-v2 -namespace ... -address <our socket>) and anything
    # else still referring to our private directory
    for _ in range(3):
        pids = pids_with_cmdline_containing(str(base))
        if not pids:
            break
        kill_pids(pids)
        time.sleep(0.2)
    leftovers = remove_cgroup_tree(cd.cgroup_parent)
    unmount_all_under(str(base))
    # a shim that had to be SIGKILLed leaves its socket behind:
    # /run/containerd/s/sha256(<containerd address>/<namespace>/<id>)
    for cid in cd.ids:
        h = hashlib.sha256(f"{cd.sock}/{NS}/{cid}".encode()).hexdigest()
        try:
            os.unlink(f"/run/containerd/s/{h}")
        except OSError:
            pass
    if not run_dir_existed:
        # the shim keeps its sockets in /run/containerd/s; drop the dirs only if empty
        for d in ("/run/containerd/s", "/run/containerd/fifo", "/run/containerd/runc", "/run/containerd"):
            try:
                os.rmdir(d)
            except OSError:
                pass
    assert not leftovers, f"cgroups left behind: {leftovers}"
    assert not mounts_under(str(base)), f"mounts left behind: {mounts_under(str(base))}"


@pytest.fixture
def sleeper(containerd):
    """A detached container running `sleep 1000`; removed afterwards."""
    cid = containerd.new_id("sleep")
    res = containerd.ctr(*containerd.run_args(cid, detach=True), "sleep", "1000")
    try:
        assert res.returncode == 0, f"ctr run -d failed: {res.stdout}{res.stderr}"
        wait_for(lambda: containerd.task_status(cid) == "RUNNING", 10, what=f"{cid} RUNNING")
        yield cid
    finally:
        containerd.remove(cid)


# --------------------------------------------------------------------------- tests

def test_run_foreground_exit_code(containerd, runtime):
    cid = containerd.new_id("fg")
    res = containerd.ctr(*containerd.run_args(cid, rm=True), "sh", "-c", "echo hello-from-busybox; exit 7")
    assert res.returncode == 7, res.stderr
    assert "hello-from-busybox" in res.stdout
    # the shim really went through our runtime (--runc-binary honoured)
    verbs = runtime.verbs()
    assert "create" in verbs and "start" in verbs and "delete" in verbs, runtime.tail()
    assert any(cid in c for c in runtime.calls())
    assert containerd.task_status(cid) is None
    assert cid not in containerd.ctr_ok("container", "ls", "-q").stdout.split()


def test_run_foreground_success_and_stdin(containerd):
    cid = containerd.new_id("stdin")
    res = containerd.ctr(*containerd.run_args(cid, rm=True), "sh", "-c", "read x; echo got:$x",
                         input="piped-line\n")
    assert res.returncode == 0, res.stderr
    assert "got:piped-line" in res.stdout


def test_run_tty(containerd):
    cid = containerd.new_id("tty")
    rc, out = run_in_pty([CTR, "-a", containerd.sock, "-n", NS,
                          *containerd.run_args(cid, rm=True, tty=True), "sh", "-c", "tty; exit 4"])
    assert rc == 4, out
    assert re.search(r"/dev/pts/\d+", out), out


def test_detached_run(containerd, sleeper):
    assert containerd.task_status(sleeper) == "RUNNING"
    info = json.loads(containerd.ctr_ok("container", "info", sleeper).stdout)
    assert info["Runtime"]["Name"] == "io.containerd.runc.v2"
    # the init process is alive on the host and sits in the cgroup we asked for
    pid = int(containerd.ctr_ok("task", "ls").stdout.split(sleeper)[1].split()[0])
    cg = Path(f"/proc/{pid}/cgroup").read_text()
    assert f"/{containerd.cgroup_parent}/{sleeper}" in cg, cg


def test_exec(containerd, sleeper):
    res = containerd.ctr("task", "exec", "--exec-id", "ex1", "--fifo-dir", containerd.fifo_dir, sleeper,
                         "sh", "-c", "echo from-exec; ls /; exit 5")
    assert res.returncode == 5, res.stderr
    assert "from-exec" in res.stdout
    assert "bin" in res.stdout.split()
    # a second exec with a fresh id succeeds and sees the same pid namespace (sleep is pid 1)
    res = containerd.ctr("task", "exec", "--exec-id", "ex2", "--fifo-dir", containerd.fifo_dir, sleeper,
                         "cat", "/proc/1/cmdline")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split("\0")[:2] == ["sleep", "1000"]


def test_exec_tty(containerd, sleeper):
    rc, out = run_in_pty([CTR, "-a", containerd.sock, "-n", NS, "task", "exec", "-t", "--exec-id", "ext",
                          "--fifo-dir", containerd.fifo_dir, sleeper, "sh", "-c", "tty; exit 2"])
    assert rc == 2, out
    assert re.search(r"/dev/pts/\d+", out), out


def test_ps(containerd, sleeper):
    res = containerd.ctr_ok("task", "ps", sleeper)
    lines = res.stdout.strip().splitlines()
    assert lines[0].split()[0] == "PID"
    pids = [int(l.split()[0]) for l in lines[1:]]
    assert len(pids) == 1
    with open(f"/proc/{pids[0]}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"sleep"


def test_pause_resume(containerd, sleeper):
    containerd.ctr_ok("task", "pause", sleeper)
    wait_for(lambda: containerd.task_status(sleeper) == "PAUSED", 10, what="PAUSED")
    containerd.ctr_ok("task", "resume", sleeper)
    wait_for(lambda: containerd.task_status(sleeper) == "RUNNING", 10, what="RUNNING")
    # still responsive after resume
    res = containerd.ctr("task", "exec", "--exec-id", "after-resume", "--fifo-dir", containerd.fifo_dir,
                         sleeper, "echo", "alive")
    assert res.returncode == 0 and "alive" in res.stdout, res.stderr


def test_metrics(containerd, sleeper):
    res = containerd.ctr_ok("task", "metrics", sleeper)
    table = dict(line.split(None, 1) for line in res.stdout.splitlines() if len(line.split(None, 1)) == 2)
    # cgroup v1 keys (memory.usage_in_bytes, cpuacct.usage) or v2 keys (memory.usage, cpu.usage_usec)
    mem = table.get("memory.usage_in_bytes") or table.get("memory.usage")
    cpu = table.get("cpuacct.usage") or table.get("cpu.usage_usec")
    assert mem is not None and cpu is not None, res.stdout
    assert int(mem.strip()) > 0, res.stdout
    assert int(cpu.strip()) > 0, res.stdout
    js = json.loads(containerd.ctr_ok("task", "metrics", "--format", "json", sleeper).stdout)
    assert js.get("pids", {}).get("current", 0) >= 1, js


def test_kill_and_delete(containerd):
    cid = containerd.new_id("kill")
    containerd.ctr_ok(*containerd.run_args(cid, detach=True), "sleep", "1000")
    try:
        wait_for(lambda: containerd.task_status(cid) == "RUNNING", 10, what="RUNNING")
        # sleep is pid 1 in its namespace: SIGTERM is ignored, SIGKILL is not
        containerd.ctr_ok("task", "kill", "-s", "SIGKILL", cid)
        wait_for(lambda: containerd.task_status(cid) == "STOPPED", 10, what="STOPPED")
        res = containerd.ctr_ok("task", "delete", cid)
        assert containerd.task_status(cid) is None
        assert "137" in res.stderr, res.stderr  # ctr warns "exit with non-zero exit code 137"
        containerd.ctr_ok("container", "delete", cid)
        assert cid not in containerd.ctr_ok("container", "ls", "-q").stdout.split()
        # the runtime cleaned up its state and the container's cgroup
        assert not os.path.exists(os.path.join(containerd.runc_root, NS, cid))
        assert not any(Path(h, containerd.cgroup_parent, cid).exists()
                       for h in Path("/sys/fs/cgroup").iterdir())
    finally:
        containerd.remove(cid)


def test_kill_all_with_exec_processes(containerd):
    cid = containerd.new_id("killall")
    containerd.ctr_ok(*containerd.run_args(cid, detach=True), "sleep", "1000")
    try:
        wait_for(lambda: containerd.task_status(cid) == "RUNNING", 10, what="RUNNING")
        containerd.ctr_ok("task", "exec", "-d", "--exec-id", "bg", "--fifo-dir", containerd.fifo_dir,
                          cid, "sleep", "999")
        wait_for(lambda: len(containerd.ctr_ok("task", "ps", cid).stdout.strip().splitlines()) == 3, 10,
                 what="two processes in ps")
        containerd.ctr_ok("task", "kill", "-a", "-s", "SIGKILL", cid)
        wait_for(lambda: containerd.task_status(cid) == "STOPPED", 10, what="STOPPED")
    finally:
        containerd.remove(cid)


def test_run_missing_executable_reports_error(containerd):
    """The shim reads the runtime's --log (JSON lines) to build the error message
    that ctr prints; the message must name the missing file."""
    cid = containerd.new_id("enoent")
    try:
        res = containerd.ctr(*containerd.run_args(cid, rm=True), "/no/such/binary")
        assert res.returncode != 0
        assert "/no/such/binary" in res.stderr, res.stderr
        assert re.search(r"no such file|not found", res.stderr, re.I), res.stderr
    finally:
        containerd.remove(cid)
    assert cid not in containerd.ctr_ok("container", "ls", "-q").stdout.split()


def test_import_gzip_layer_variant(containerd, session_dir, token):
    """make-busybox-image.sh with BUSYBOX_IMAGE_GZIP=1 also imports and runs."""
    from berth_itest import REPO
    name = f"localhost/berthtest/busybox-gz:{token}"
    tar = session_dir / "busybox-gz.tar"
    res = run(["bash", str(REPO / "scripts/make-busybox-image.sh"), str(tar), name], timeout=120,
              env=dict(os.environ, BUSYBOX_IMAGE_GZIP="1"))
    assert res.returncode == 0, res.stderr
    containerd.ctr_ok("image", "import", "--snapshotter", SNAPSHOTTER, str(tar), timeout=120)
    cid = containerd.new_id("gz")
    try:
        args = containerd.run_args(cid, rm=True)
        args[-2] = name
        res = containerd.ctr(*args, "sh", "-c", "exit 0")
        assert res.returncode == 0, res.stderr
    finally:
        containerd.remove(cid)
        containerd.ctr("image", "rm", name)
