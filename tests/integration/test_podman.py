"""podman (Debian's 4.3.x, through conmon) drives the runtime under test.

Everything podman touches is private: --root/--runroot/--tmpdir under the session
temp dir, CONTAINERS_CONF / CONTAINERS_STORAGE_CONF / CONTAINERS_REGISTRIES_CONF
pointing at generated files, file locks instead of the shared /dev/shm lock
segment, a file events logger, cgroupfs manager with --cgroup-parent
/berthtest-<token>, --network none.

Note for runtime authors: podman invokes the runtime without --root (state lives in
the runtime's default root), and its `podman container cleanup` path does not
forward --runtime-flag options, so the tests do not use --runtime-flag.
"""

import os
import re
import resource
import time

import pytest

from berth_itest import (kill_pids, mounts_under, pids_with_cmdline_containing, remove_cgroup_tree, run,
                      run_in_pty, unmount_all_under)

PODMAN = "/usr/bin/podman"
DRIVER = os.environ.get("BERTH_TEST_PODMAN_STORAGE_DRIVER", "vfs")


def _ulimits():
    # This VM has no CAP_SYS_RESOURCE: the runtime may only lower rlimits. Rootful
    # podman would otherwise ask for nofile/nproc=1048576 and the runtime's
    # prlimit() fails with EPERM. podman itself lowers its own RLIMIT_NPROC to
    # 32768 before starting conmon, so nproc must not exceed that either.
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    cap = lambda v, m: m if v == resource.RLIM_INFINITY else min(v, m)
    return cap(nofile, 1048576), cap(nproc, 4096)


class Podman:
    def __init__(self, base, token, runtime, image):
        self.base = base
        self.token = token
        self.runtime = runtime
        self.image = image
        self.cgroup_parent = f"berthtest-{token}"
        self.env = dict(os.environ,
                        CONTAINERS_CONF=str(base / "containers.conf"),
                        CONTAINERS_STORAGE_CONF=str(base / "storage.conf"),
                        CONTAINERS_REGISTRIES_CONF=str(base / "registries.conf"),
                        TMPDIR=str(base / "tmp"))
        self.env.pop("CONTAINER_HOST", None)
        self.env.pop("CONTAINER_CONNECTION", None)
        self._n = 0

    def cmd(self, *args):
        b = self.base
        return [PODMAN, "--root", str(b / "root"), "--runroot", str(b / "run"), "--tmpdir", str(b / "libpod-tmp"),
                "--storage-driver", DRIVER, "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                "--runtime", self.runtime.path, *args]

    def __call__(self, *args, timeout=90, **kw):
        return run(self.cmd(*args), timeout=timeout, env=self.env, **kw)

    def ok(self, *args, **kw):
        res = self(*args, **kw)
        assert res.returncode == 0, f"podman {' '.join(args)} exited {res.returncode}\n{res.stdout}\n{res.stderr}"
        return res

    def new_name(self, what="c"):
        self._n += 1
        return f"berthtest-{self.token}-{what}{self._n}"

    def run_opts(self, name):
        return ["--name", name, "--network", "none", "--cgroup-parent", f"/{self.cgroup_parent}"]


def _write_configs(base):
    nofile, nproc = _ulimits()
    for d in ("root", "run", "libpod-tmp", "tmp", "net"):
        (base / d).mkdir(parents=True, exist_ok=True)
    (base / "containers.conf").write_text(f"""[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{base}/events.log"
lock_type = "file"
tmp_dir = "{base}/libpod-tmp"
static_dir = "{base}/root/libpod"
volume_path = "{base}/root/volumes"
# podman passes --log-format=json to runtimes it knows; berth-runtime is runc-compatible
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "berth-runtime"]

[network]
network_config_dir = "{base}/net"
""")
    (base / "storage.conf").write_text(f"""[storage]
driver = "{DRIVER}"
graphroot = "{base}/root"
runroot = "{base}/run"
""")
    (base / "registries.conf").write_text("""unqualified-search-registries = []
short-name-mode = "disabled"
""")
    (base / "policy.json").write_text('{"default": [{"type": "insecureAcceptAnything"}]}\n')


@pytest.fixture(scope="module")
def podman(session_dir, token, runtime, busybox_image):
    if not os.path.exists(PODMAN):
        pytest.skip("podman not installed (apt-get install podman)")
    base = session_dir / "podman"
    base.mkdir()
    _write_configs(base)
    pm = Podman(base, token, runtime, busybox_image[1])
    try:
        res = pm("load", "--signature-policy", str(base / "policy.json"), "-i", busybox_image[0], timeout=180)
        assert res.returncode == 0, f"podman load failed: {res.stdout}{res.stderr}"
        assert busybox_image[1] in res.stdout + res.stderr
        yield pm
    finally:
        _teardown(pm, base)


def _teardown(pm, base):
    try:
        pm("rm", "-af", "-t", "0", timeout=60)
        pm("rmi", "-af", timeout=60)
    except Exception:
        pass
    for _ in range(3):
        pids = pids_with_cmdline_containing(str(base))  # conmon, podman cleanup processes
        if not pids:
            break
        kill_pids(pids)
        time.sleep(0.2)
    leftovers = remove_cgroup_tree(pm.cgroup_parent)
    unmount_all_under(str(base))
    assert not leftovers, f"cgroups left behind: {leftovers}"
    assert not mounts_under(str(base)), f"mounts left behind: {mounts_under(str(base))}"


# --------------------------------------------------------------------------- tests

def test_run_exit_code(podman, runtime):
    name = podman.new_name("exit")
    res = podman("run", "--rm", *podman.run_opts(name), podman.image, "sh", "-c", "echo out-line; exit 3")
    assert res.returncode == 3, res.stderr
    assert "out-line" in res.stdout
    verbs = runtime.verbs()
    assert "create" in verbs and "start" in verbs, runtime.tail()
    # --rm removed it
    assert name not in podman.ok("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_run_stdin(podman):
    name = podman.new_name("stdin")
    res = podman("run", "--rm", "-i", *podman.run_opts(name), podman.image, "cat", input="hi\nsecond line\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "hi\nsecond line\n"


def test_run_tty(podman):
    name = podman.new_name("tty")
    rc, out = run_in_pty(podman.cmd("run", "--rm", "-t", *podman.run_opts(name), podman.image,
                                    "sh", "-c", "tty; stty size; exit 5"), env=podman.env, timeout=90)
    assert rc == 5, out
    assert re.search(r"^/dev/pts/\d+$", out, re.M), out


def test_run_tty_interactive(podman):
    """-it: stdin typed into the terminal reaches the container."""
    name = podman.new_name("ttyi")
    rc, out = run_in_pty(["sh", "-c", 'printf "typed-text\\n" | script -qec "$0" /dev/null',
                          " ".join(podman.cmd("run", "--rm", "-it", *podman.run_opts(name), podman.image,
                                              "sh", "-c", "'read x; echo got=$x'"))],
                         env=podman.env, timeout=90)
    assert rc == 0, out
    assert "got=typed-text" in out, out


def test_detached_exec_pause_stop(podman, runtime):
    name = podman.new_name("det")
    podman.ok("run", "-d", *podman.run_opts(name), podman.image, "sleep", "1000")
    try:
        state = lambda: podman.ok("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        assert state() == "running"
        res = podman("exec", name, "sh", "-c", "echo exec-out; exit 6")
        assert res.returncode == 6, res.stderr
        assert "exec-out" in res.stdout
        res = podman("exec", "-i", name, "cat", input="via-exec-stdin\n")
        assert res.returncode == 0 and res.stdout == "via-exec-stdin\n", res.stderr
        podman.ok("pause", name)
        assert state() == "paused"
        podman.ok("unpause", name)
        assert state() == "running"
        podman.ok("kill", "-s", "USR1", name)  # ignored by pid 1, must not kill it
        assert state() == "running"
        podman.ok("stop", "-t", "1", name)
        assert state() == "exited"
        verbs = runtime.verbs()
        for v in ("exec", "pause", "resume", "kill"):
            assert v in verbs, runtime.tail()
    finally:
        podman("rm", "-f", "-t", "0", name)
    assert name not in podman.ok("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_missing_executable_is_127(podman):
    """podman maps the runtime's error text ("executable file not found",
    "no such file or directory") to exit code 127, like docker."""
    name = podman.new_name("enoent")
    res = podman("run", "--rm", *podman.run_opts(name), podman.image, "/no/such/binary")
    assert res.returncode == 127, res.stderr
    assert "/no/such/binary" in res.stderr, res.stderr
    name = podman.new_name("enoent")
    res = podman("run", "--rm", *podman.run_opts(name), podman.image, "no-such-command-in-path")
    assert res.returncode == 127, res.stderr


def test_not_executable_is_126(podman):
    """... and "permission denied" to 126."""
    name = podman.new_name("eacces")
    res = podman("run", "--rm", *podman.run_opts(name), podman.image, "/etc/passwd")
    assert res.returncode == 126, res.stderr
    assert "permission denied" in res.stderr.lower(), res.stderr
