"""Helpers shared by the integration tests (processes, ptys, mounts, cgroups).

Kept out of conftest.py under a unique module name so that importing them never
clashes with another directory's conftest module.
"""

import os
import pty
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CGROUP_ROOT = Path("/sys/fs/cgroup")


# --------------------------------------------------------------------------- helpers

def resolve_runtime():
    """Returns (path or None, reason)."""
    want = os.environ.get("BERTH_TEST_RUNTIME") or str(REPO / "build/bin/berth-runtime")
    if "/" not in want:
        found = shutil.which(want) or shutil.which(want, path="/usr/sbin:/sbin:/usr/local/sbin")
        if not found:
            return None, f"runtime {want!r} (BERTH_TEST_RUNTIME) not found in PATH"
        want = found
    p = Path(want)
    if not p.is_file() or not os.access(p, os.X_OK):
        return None, f"runtime {want} does not exist or is not executable (build it, or set BERTH_TEST_RUNTIME=runc)"
    return str(p.resolve()), ""


def run(cmd, *, timeout=60, check=False, input=None, env=None, **kw):
    """subprocess.run with text output captured; never hangs longer than timeout."""
    res = subprocess.run(cmd, input=input, capture_output=True, text=True,
                         timeout=timeout, env=env, **kw)
    if check and res.returncode != 0:
        raise AssertionError(f"{cmd!r} exited {res.returncode}\nstdout: {res.stdout}\nstderr: {res.stderr}")
    return res


def run_in_pty(cmd, *, timeout=60, env=None):
    """Runs cmd with stdin/stdout/stderr on a fresh pseudo-terminal (as its controlling
    tty), returns (exit code, output with \\r removed)."""
    master, slave = pty.openpty()

    def child_setup():
        import fcntl
        import termios
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                            preexec_fn=child_setup, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                raise AssertionError(f"{cmd!r} timed out in pty; output so far: {out!r}")
            r, _, _ = select.select([master], [], [], min(left, 0.5))
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: all slave ends closed
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                # drain whatever is still buffered
                while select.select([master], [], [], 0.1)[0]:
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        break
                    out += chunk
                break
        rc = proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return rc, out.decode(errors="replace").replace("\r", "")


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def mounts_under(prefix):
    """Mount points at or below prefix, deepest first."""
    prefix = os.path.realpath(prefix)
    pts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == prefix or mp.startswith(prefix + "/"):
                pts.append(mp)
    return sorted(pts, key=lambda p: p.count("/"), reverse=True)


def unmount_all_under(prefix):
    for _ in range(5):
        pts = mounts_under(prefix)
        if not pts:
            return
        for mp in pts:
            subprocess.run(["umount", "-l", mp], capture_output=True)


def pids_with_cmdline_containing(needle):
    """PIDs (not ours) whose command line contains needle (bytes or str)."""
    if isinstance(needle, str):
        needle = needle.encode()
    me = os.getpid()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if needle in f.read():
                    out.append(int(d))
        except OSError:
            pass
    return out


def kill_pids(pids, sig=signal.SIGKILL):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def cgroup_dirs(name):
    """Top-level cgroup directories called `name` in every hierarchy."""
    out = []
    if not CGROUP_ROOT.is_dir():
        return out
    for hier in CGROUP_ROOT.iterdir():
        d = hier / name
        if d.is_dir():
            out.append(d)
    if (CGROUP_ROOT / name).is_dir():  # pure cgroup v2 layout
        out.append(CGROUP_ROOT / name)
    return out


def remove_cgroup_tree(name):
    """Kills every process left in /sys/fs/cgroup/*/name/** and removes the dirs."""
    dirs = cgroup_dirs(name)
    for d in dirs:
        # thaw frozen v1 cgroups first, or SIGKILL is never delivered
        for sub in sorted(d.rglob("freezer.state")):
            try:
                sub.write_text("THAWED")
            except OSError:
                pass
        for sub in [d, *d.rglob("*")]:
            if sub.name == "cgroup.freeze":
                try:
                    sub.write_text("0")
                except OSError:
                    pass
            if sub.name == "cgroup.procs":
                try:
                    kill_pids(int(x) for x in sub.read_text().split())
                except OSError:
                    pass
    for d in dirs:
        subdirs = sorted((p for p in d.rglob("*") if p.is_dir()),
                         key=lambda p: len(p.parts), reverse=True)
        for sub in [*subdirs, d]:
            for _ in range(50):
                try:
                    sub.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
    return [str(d) for d in cgroup_dirs(name)]
