"""What the engine tests (tests/engine) share: where the binaries are, the runtime every container
gets, process and cgroup probes, and `Berth`, a berth CLI with a private --root and --runroot.
The fixtures built on them (busybox_tar, berth) are in conftest.py.

Environment: $BERTH_BIN (default <repo>/build/bin/berth; berth-monitor and berth-runtime are found
next to it); $BERTH_TEST_ENGINE_RUNTIME, the OCI runtime every container gets (`--runtime`;
default berth-runtime; a name berth finds, or a path, e.g. tests/engine/crun-hybrid for crun on
a hybrid cgroup host).

Networks: every berth command a `Berth` runs goes through `nsenter --net` into a network namespace
of its own (the "node", lo up, made with the Berth and deleted with its temp dir by temp_berth),
so the default network's bridge, nftables tables and ip_forward are the node's, never the host's,
and tests sharing nothing can run side by side. Not `ip netns exec`: its private mount namespace
would hide berth's mounts (rootfs, netns bind mounts) from the next command. Detached monitors
live in the node too; it is deleted only once its containers are gone (or killed).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BERTH = os.environ.get("BERTH_BIN") or str(REPO / "build/bin/berth")
RUNTIME = os.environ.get("BERTH_TEST_ENGINE_RUNTIME", "berth-runtime")
IMAGE = "localhost/berthtest/busybox:1"

# Every engine test file's pytestmark starts with these.
REQUIREMENTS = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists(BERTH), reason=f"no berth at {BERTH}"),
    pytest.mark.skipif(not os.access("/bin/busybox", os.X_OK), reason="needs busybox-static"),
    pytest.mark.skipif(shutil.which("nsenter") is None, reason="needs nsenter"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2"),
]

NODE_NETNS_PREFIX = "bt-eng-"
made_node_netnses: list[str] = []  # by this process; the session checks none is left


def runtime_is_crun(runtime: str = RUNTIME) -> bool:
    """crun itself or a wrapper of it (tests/engine/crun-hybrid)."""
    return "crun" in os.path.basename(runtime)


def _start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat; 0 when gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rfind(")") + 2:].split()
    return 0 if fields[0] == "Z" else int(fields[19])


def _alive(pid: int, start_time: int | None = None) -> bool:
    """Alive and not a zombie; with start_time (non-zero), also the same process as then."""
    if pid <= 0:
        return False
    st = _start_time(pid)
    return st != 0 and (start_time is None or start_time == 0 or st == start_time)


def _wait_for(pred, timeout=10.0, what="condition"):
    """pred()'s first true value, polled until timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def processes():
    """(pid, argv) of every live process on the host, argv decoded."""
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            argv = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0] and _alive(int(p.name)):
            yield int(p.name), [a.decode(errors="replace") for a in argv]


def berth_monitors() -> dict[int, list[str]]:
    """pid -> argv of every live berth-monitor on the host (any run root)."""
    return {pid: argv for pid, argv in processes() if argv[0].endswith("berth-monitor")}


def _cgroup_dirs(cid: str) -> list[Path]:
    """The container's cgroup in every hierarchy (each v1 controller, or the unified one)."""
    return [p for p in Path("/sys/fs/cgroup").glob(f"*/berth/*{cid}*")] + \
        [p for p in Path("/sys/fs/cgroup").glob(f"berth/*{cid}*")]


def new_node_netns(tmp: Path, name: str) -> str:
    """A new network namespace (lo up) for the berth commands of one Berth under tmp; removed by
    delete_node_netnses(tmp)."""
    ns = f"{NODE_NETNS_PREFIX}{tmp.name}-{name}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    made_node_netnses.append(ns)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True, capture_output=True)
    return ns


def delete_node_netnses(tmp: Path):
    """Deletes every node netns made for a Berth under tmp, with whatever is in it (bridge, veths,
    nftables); processes still in one keep it alive, out of the host's way."""
    for p in Path("/run/netns").glob(f"{NODE_NETNS_PREFIX}{tmp.name}-*"):
        subprocess.run(["ip", "netns", "del", p.name], capture_output=True, timeout=30)


class Berth:
    """The berth CLI with its own --root and --runroot under tmp, the test image loaded, run in
    the network namespace `netns` (default: a new one, see new_node_netns)."""

    def __init__(self, tmp: Path, busybox_tar: Path, name="berth", netns: str | None = None):
        self.tmp = tmp
        self.root = tmp / f"{name}-root"
        self.runroot = tmp / f"{name}-run"
        self.netns = netns or new_node_netns(tmp, name)
        self.base = ["nsenter", f"--net=/run/netns/{self.netns}", BERTH, "--root", str(self.root),
                     "--runroot", str(self.runroot)]
        self.run("load", "-i", busybox_tar)

    def argv(self, *args) -> list[str]:
        return self.base + [str(a) for a in args]

    def run(self, *args, check=True, timeout=60, **kw):
        p = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"berth {' '.join(map(str, args))} exited {p.returncode}:\n"
                                 f"{p.stdout}{p.stderr}")
        return p

    def container(self, *args, cmd=(), check=True, detach=False):
        """`run` with the test's runtime and image."""
        flags = ["-d"] if detach else []
        return self.run("run", *flags, "--runtime", RUNTIME, *args, IMAGE, *cmd, check=check)

    def ps(self, all=True) -> list[dict]:
        return json.loads(self.run("ps", *(["-a"] if all else []), "--format", "json").stdout)

    def inspect(self, name) -> dict:
        out = json.loads(self.run("inspect", name).stdout)
        assert len(out) == 1
        return out[0]

    def mounts(self) -> list[str]:
        """Mount points under this berth's --root and --runroot."""
        prefixes = (f"{self.runroot}/", f"{self.root}/")
        return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
                if line.split()[4].startswith(prefixes)]

    def cleanup(self):
        """Removes every container, then checks (and undoes) mounts left under its roots."""
        for c in self.ps():
            self.run("rm", "-f", c["Id"], check=False)
        self.run("system", "gc", check=False)
        left = self.unmount_all()
        assert not left, f"mounts left: {left}"

    def unmount_all(self) -> list[str]:
        """Lazily unmounts whatever is mounted under the roots; returns what was."""
        left = self.mounts()
        for m in sorted(left, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], check=False, capture_output=True)
        return left


@contextlib.contextmanager
def temp_berth(busybox_tar: Path, prefix: str, cls=Berth):
    """A `cls` (Berth or a subclass) with its roots in a new temp dir, removed afterwards with
    the node netnses of the Berths made in it."""
    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}-{uuid.uuid4().hex[:6]}-"))
    try:
        yield cls(tmp, busybox_tar)
    finally:
        delete_node_netnses(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


# --- a node netns (where berth runs) and an outside netns joined to it by a veth pair -------

NODE_IP, OUTSIDE_IP = "198.51.100.1", "198.51.100.2"


def sh(*args, check=True, timeout=30, **kw):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {p.returncode}:\n"
                             f"{p.stdout}{p.stderr}")
    return p


class NodeBerth(Berth):
    """berth run inside the node netns (same mount namespace as the test)."""

    def __init__(self, tmp, busybox_tar, node):
        self.node = node
        super().__init__(tmp, busybox_tar, netns=node)


class NodeNet:
    """The node netns (NODE_IP on up0) and the outside one (OUTSIDE_IP on eth0), named
    <prefix>-<random>-node/-out, and the berth that runs in the node. cleanup() kills the
    processes in self.procs (Popen objects) and deletes both netnses."""

    def __init__(self, tmp, busybox_tar, prefix):
        self.tag = f"{prefix}-{secrets.token_hex(3)}"
        self.node = f"{self.tag}-node"
        self.outside = f"{self.tag}-out"
        self.procs = []
        self.netnses = []
        for name in (self.node, self.outside):
            sh("ip", "netns", "add", name)
            self.netnses.append(name)
            sh("ip", "-n", name, "link", "set", "lo", "up")
        sh("ip", "link", "add", "up0", "netns", self.node, "type", "veth", "peer", "name", "eth0",
           "netns", self.outside)
        sh("ip", "-n", self.node, "addr", "add", f"{NODE_IP}/24", "dev", "up0")
        sh("ip", "-n", self.node, "link", "set", "up0", "up")
        sh("ip", "-n", self.outside, "addr", "add", f"{OUTSIDE_IP}/24", "dev", "eth0")
        sh("ip", "-n", self.outside, "link", "set", "eth0", "up")
        self.berth = NodeBerth(tmp, busybox_tar, self.node)

    def in_ns(self, ns, *cmd, check=False, timeout=20):
        return sh("ip", "netns", "exec", ns, *cmd, check=check, timeout=timeout)

    def cleanup(self):
        for p in self.procs:
            p.kill()
            p.wait()
        for name in self.netnses:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
