"""berth exec, pause/unpause, top and attach end to end (root, real kernel).

Same setup as test_engine_containers.py (the `berth` fixture of conftest.py): $BERTH_BIN,
$BERTH_TEST_ENGINE_RUNTIME, a temp --root and --runroot per test, and a finalizer that removes
every container and checks that nothing (mount, cgroup) is left.
"""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

from engine_helpers import IMAGE, REQUIREMENTS, RUNTIME, _wait_for

pytestmark = list(REQUIREMENTS)


def _sleeper(berth, name=None, cmd=("sleep", "1000")):
    name = name or f"c-{uuid.uuid4().hex[:6]}"
    berth.container("--name", name, detach=True, cmd=list(cmd))
    return name


def _init_pid(berth, name) -> int:
    return berth.inspect(name)["State"]["Pid"]


def test_exec_exit_codes(berth):
    c = _sleeper(berth)
    assert berth.run("exec", c, "true").returncode == 0
    assert berth.run("exec", c, "sh", "-c", "exit 7", check=False).returncode == 7
    p = berth.run("exec", c, "no-such-binary", check=False)
    assert p.returncode == 127 and "no-such-binary" in p.stderr, p.stderr
    p = berth.run("exec", c, "/etc", check=False)
    assert p.returncode == 126, p.stderr
    p = berth.run("exec", "no-such-container", "true", check=False)
    assert p.returncode == 125
    # Output streams are the process's own.
    p = berth.run("exec", c, "sh", "-c", "echo out; echo err >&2")
    assert p.stdout == "out\n" and p.stderr == "err\n"


def test_exec_options(berth):
    c = _sleeper(berth)
    p = berth.run("exec", "-e", "FOO=bar baz", "-e", "PATH=/bin", c, "sh", "-c",
                  "echo $FOO; echo $PATH")
    assert p.stdout == "bar baz\n/bin\n"
    # The container's own env is the base.
    assert berth.run("exec", c, "sh", "-c", "echo $HOSTNAME").stdout.strip() != ""
    p = berth.run("exec", "-u", "nobody", "-w", "/tmp", c, "sh", "-c", "id -u; pwd; echo $HOME")
    assert p.stdout.splitlines() == ["65534", "/tmp", "/nonexistent"]
    assert berth.run("exec", "-u", "1234:5678", c, "id", "-g").stdout == "5678\n"
    p = berth.run("exec", "-u", "nosuchuser", c, "true", check=False)
    assert p.returncode == 125 and "nosuchuser" in p.stderr
    # stdin is /dev/null unless -i.
    assert berth.run("exec", c, "cat", input="ignored").stdout == ""
    assert berth.run("exec", "-i", c, "cat", input="piped\n").stdout == "piped\n"


def test_exec_detach(berth):
    c = _sleeper(berth)
    p = berth.run("exec", "-d", c, "sh", "-c", "sleep 0.3; echo done > /tmp/marker")
    assert p.returncode == 0
    _wait_for(lambda: berth.run("exec", c, "cat", "/tmp/marker", check=False).stdout == "done\n",
              what="the detached exec's marker")


def test_exec_stopped_container_fails(berth):
    name = f"c-{uuid.uuid4().hex[:6]}"
    berth.container("--name", name, cmd=["true"])
    p = berth.run("exec", name, "true", check=False)
    assert p.returncode == 125 and "not running" in p.stderr, p.stderr
    berth.run("create", "--runtime", RUNTIME, "--name", name + "x", IMAGE, "true")
    p = berth.run("exec", name + "x", "true", check=False)
    assert p.returncode == 125


def _freezer_state(pid: int) -> str | None:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, ctrls, path = line.split(":", 2)
        if "freezer" in ctrls.split(","):
            return Path(f"/sys/fs/cgroup/freezer{path}/freezer.state").read_text().strip()
        if ctrls == "":
            unified = path
    base = "/sys/fs/cgroup" if Path("/sys/fs/cgroup/cgroup.controllers").exists() \
        else "/sys/fs/cgroup/unified"
    events = Path(f"{base}{unified}/cgroup.events").read_text()
    return "FROZEN" if "frozen 1" in events else "THAWED"


def test_pause_unpause(berth):
    c = _sleeper(berth)
    pid = _init_pid(berth, c)
    assert berth.run("pause", c).stdout == f"{c}\n"
    _wait_for(lambda: _freezer_state(pid) == "FROZEN", what="frozen")
    # Frozen tasks do not run: exec is refused while paused.
    p = berth.run("exec", c, "true", check=False)
    assert p.returncode == 125 and "paused" in p.stderr
    berth.run("unpause", c)
    _wait_for(lambda: _freezer_state(pid) == "THAWED", what="thawed")
    assert berth.run("exec", c, "true").returncode == 0
    # Stopped containers cannot be paused.
    berth.run("stop", "-t", "0", c)
    assert berth.run("pause", c, check=False).returncode == 125


def test_top_lists_init_and_execs(berth):
    c = _sleeper(berth)
    pid = _init_pid(berth, c)
    out = berth.run("top", c).stdout.splitlines()
    assert out[0].split() == ["PID", "USER", "TIME", "COMMAND"]
    rows = [line.split(None, 3) for line in out[1:]]
    assert [str(pid), "root", "00:00:00", "sleep 1000"] in rows, out
    berth.run("exec", "-d", "-u", "nobody", c, "sleep", "123")
    _wait_for(lambda: any(r[3] == "sleep 123" and r[1] == "nobody"
                          for r in (line.split(None, 3)
                                    for line in berth.run("top", c).stdout.splitlines()[1:])),
              what="the exec in top")


def test_attach_receives_output_and_detaches(berth):
    c = _sleeper(berth, cmd=["sh", "-c", "while true; do echo tick; sleep 0.2; done"])
    p = subprocess.Popen(berth.base + ["attach", "--no-stdin", c], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.2)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert out.count("tick\n") >= 3, out
    # Detaching left the container running.
    assert berth.inspect(c)["State"]["Running"]


def test_attach_returns_exit_status(berth):
    c = _sleeper(berth, cmd=["sh", "-c", "sleep 0.5; echo bye; exit 3"])
    p = berth.run("attach", c, check=False, timeout=20, stdin=subprocess.DEVNULL)
    assert p.returncode == 3, p.stderr
    assert p.stdout == "bye\n"
    p = berth.run("attach", c, check=False)
    assert p.returncode == 125 and "stopped" in p.stderr
