"""berth's container commands end to end (root, real kernel): run, create/start, ps, logs,
stop, kill, rm, wait, inspect, restart policies, reconciliation after a monitor's death and
`system gc`.

Binaries: $BERTH_BIN (default <repo>/build/bin/berth; berth-monitor and berth-runtime are found
next to it). $BERTH_TEST_ENGINE_RUNTIME picks the OCI runtime every container gets
(`--runtime`; default berth-runtime; e.g. runc or crun). Every test has its own --root and
--runroot in a temp dir; finalizers `rm -f` every container, then check that no mount, cgroup,
network namespace or process of the test is left. The shared fixtures and helpers are in
conftest.py and engine_helpers.py.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from engine_helpers import (BERTH, IMAGE, REQUIREMENTS, RUNTIME, Berth,  # noqa: F401 (re-exported)
                            _alive, _cgroup_dirs, _wait_for)

pytestmark = list(REQUIREMENTS)


# --- foreground run ---------------------------------------------------------------------------

def test_run_exit_codes(berth):
    assert berth.container("--rm", cmd=["true"]).returncode == 0
    assert berth.container("--rm", cmd=["sh", "-c", "exit 3"], check=False).returncode == 3
    p = berth.container("--rm", cmd=["no-such-binary"], check=False)
    assert p.returncode == 127, p.stderr
    assert "no-such-binary" in p.stderr and p.stderr.startswith("Error: ")
    p = berth.container("--rm", cmd=["/etc/passwd"], check=False)
    assert p.returncode == 126, p.stderr
    # berth's own errors: 125.
    p = berth.run("run", "--rm", "no-such-image:1", "true", check=False)
    assert p.returncode == 125, p.stderr
    assert berth.ps() == []


def test_run_output_streams(berth):
    p = berth.container("--rm", cmd=["sh", "-c", "echo out; echo err >&2; echo -n tail"])
    assert p.stdout == "out\ntail"
    assert p.stderr == "err\n"


def test_run_options(berth, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=1\nSHARED=file\n")
    p = berth.container("--rm", "-e", "A=b c", "--env-file", env_file, "-e", "SHARED=flag",
                        cmd=["sh", "-c", "echo $A; echo $FROM_FILE; echo $SHARED; echo $HOSTNAME"])
    lines = p.stdout.splitlines()
    assert lines[:3] == ["b c", "1", "flag"]
    assert len(lines[3]) == 12  # the id's first 12 digits
    assert berth.container("--rm", "-w", "/tmp", cmd=["pwd"]).stdout == "/tmp\n"
    assert berth.container("--rm", "-u", "1234:5678", cmd=["id", "-u"]).stdout == "1234\n"
    assert berth.container("--rm", "-u", "1234:5678", cmd=["id", "-g"]).stdout == "5678\n"
    # A name from the image's /etc/passwd.
    out = berth.container("--rm", "-u", "nobody", cmd=["id"]).stdout
    assert "uid=65534" in out, out
    assert berth.container("--rm", "--entrypoint", "echo", cmd=["via", "entrypoint"]).stdout == \
        "via entrypoint\n"
    assert berth.container("--rm", "--hostname", "box1", cmd=["hostname"]).stdout == "box1\n"
    p = berth.container("--rm", "--read-only", cmd=["touch", "/x"], check=False)
    assert p.returncode != 0
    p = berth.container("--rm", "-u", "nosuchuser", cmd=["true"], check=False)
    assert p.returncode == 125 and "nosuchuser" in p.stderr


def test_network_none_has_lo_up(berth):
    out = berth.container("--rm", "--network", "none", cmd=["cat", "/proc/net/dev"]).stdout
    ifaces = [line.split(":")[0].strip() for line in out.splitlines()[2:]]
    assert ifaces == ["lo"], out
    out = berth.container("--rm", cmd=["ip", "link", "show", "lo"]).stdout
    assert "UP" in out.split(">")[0], out
    host = berth.container("--rm", "--network", "host", cmd=["cat", "/proc/net/dev"]).stdout
    # The host's interfaces: here the test's node netns, with the default network's bridge.
    assert "berth0:" in host, host
    assert not list((berth.runroot / "netns").iterdir())


# --- detached lifecycle -----------------------------------------------------------------------

def test_detached_lifecycle(berth):
    name = f"sleeper-{uuid.uuid4().hex[:6]}"
    cid = berth.container("--name", name, "-l", "k=v", detach=True,
                          cmd=["sh", "-c", "echo started; exec sleep 1000"]).stdout.strip()
    assert len(cid) == 64
    [c] = berth.ps(all=False)
    assert c["Id"] == cid and c["Names"] == [name] and c["State"] == "running"
    assert c["Labels"] == {"k": "v"}
    assert berth.run("ps", "-q").stdout.split() == [cid[:12]]
    _wait_for(lambda: berth.run("logs", name).stdout == "started\n", what="log")
    stamped = berth.run("logs", "-t", name).stdout
    assert stamped.endswith(" started\n") and stamped.startswith("20")
    info = berth.inspect(name)
    pid = info["State"]["Pid"]
    assert info["State"]["Running"] and _alive(pid)
    # sleep as PID 1 has no SIGTERM handler: stop says so, then kills after the grace period.
    p = berth.run("stop", "-t", "1", name)
    assert "no handler for SIGTERM" in p.stderr and "--init" in p.stderr
    [c] = berth.ps()
    assert c["State"] == "exited" and c["ExitCode"] == 137
    assert berth.run("ps").stdout.count("\n") == 1  # only the header
    assert not _alive(pid)
    assert berth.run("wait", name).stdout == "137\n"
    berth.run("rm", name)
    assert berth.ps() == []
    assert not (berth.root / "containers" / cid).exists()
    assert not (berth.runroot / "default/tasks" / cid).exists()
    assert not _cgroup_dirs(cid)
    p = berth.run("rm", name, check=False)
    assert p.returncode == 1


def test_create_start_kill_wait_rm(berth):
    cid = berth.run("create", "--runtime", RUNTIME, IMAGE, "sh", "-c",
                    "trap 'exit 7' TERM; while true; do sleep 0.1; done").stdout.strip()
    [c] = berth.ps()
    assert c["State"] == "created" and c["Status"] == "Created"
    berth.run("start", cid[:12])
    _wait_for(lambda: berth.ps()[0]["State"] == "running", what="running")
    p = berth.run("rm", cid, check=False)
    assert p.returncode == 2  # running: needs -f
    time.sleep(0.3)  # let the shell install its trap
    berth.run("kill", "-s", "TERM", cid)
    assert berth.run("wait", cid).stdout == "7\n"
    # Started again: the same writable layer.
    berth.run("start", cid)
    berth.run("rm", "-f", cid)
    assert berth.ps() == []


def test_writable_layer_survives_restart(berth):
    cid = berth.run("create", "--runtime", RUNTIME, IMAGE, "sh", "-c",
                    "cat /data 2>/dev/null; echo x >> /data").stdout.strip()
    berth.run("start", "-a", cid)
    assert berth.run("start", "-a", cid).stdout == "x\n"
    berth.run("rm", cid)


def test_image_prune_keeps_the_layers_containers_use(berth):
    cid = berth.run("create", "--runtime", RUNTIME, IMAGE, "echo", "still here").stdout.strip()
    berth.run("image", "prune", "-a")  # removes every image name
    assert berth.run("image", "ls", "-q").stdout.strip() == ""
    assert berth.run("start", "-a", cid).stdout == "still here\n"
    berth.run("rm", cid)


def test_rm_flag_removes_everything(berth):
    berth.container("--rm", cmd=["sh", "-c", "echo hi > /file"])
    assert berth.ps() == []
    assert list((berth.root / "containers").iterdir()) == []
    assert list((berth.runroot / "default/tasks").iterdir()) == []
    assert list((berth.runroot / "default/containers").iterdir()) == []


def test_restart_on_failure(berth):
    # The monitor's back-off is 10 s, so one restart is what a test can wait for.
    cid = berth.container("--restart", "on-failure:1", detach=True,
                          cmd=["sh", "-c", "echo run; exit 4"]).stdout.strip()
    assert berth.run("wait", cid, timeout=60).stdout == "4\n"
    info = berth.inspect(cid)
    assert info["RestartCount"] == 1
    assert info["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 1}
    assert berth.run("logs", cid).stdout == "run\nrun\n"


def test_two_berths_side_by_side(berth, busybox_tar):
    other = Berth(berth.tmp, busybox_tar, name="other")
    try:
        a = berth.container("--name", "same", detach=True, cmd=["sleep", "1000"]).stdout.strip()
        b = other.container("--name", "same", detach=True, cmd=["sleep", "1000"]).stdout.strip()
        assert a != b
        assert [c["Id"] for c in berth.ps()] == [a]
        assert [c["Id"] for c in other.ps()] == [b]
        other.run("rm", "-f", "same")
        assert berth.ps()[0]["State"] == "running"
    finally:
        other.cleanup()


def test_namespaces_separate_names(berth):
    berth.run("-n", "ns1", "create", "--name", "dup", IMAGE, "true")
    berth.run("-n", "ns2", "create", "--name", "dup", IMAGE, "true")
    p = berth.run("-n", "ns1", "create", "--name", "dup", IMAGE, "true", check=False)
    assert p.returncode == 125 and "already in use" in p.stderr
    assert berth.ps() == []
    assert len(json.loads(berth.run("-n", "ns1", "ps", "-a", "--format", "json").stdout)) == 1
    berth.run("-n", "ns1", "rm", "dup")
    berth.run("-n", "ns2", "rm", "dup")


def test_concurrent_run_detached(berth):
    def one(i):
        return berth.run("run", "-d", "--runtime", RUNTIME, "--name", f"c{i}", IMAGE,
                         "sleep", "1000", check=False)
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(one, range(20)))
    for p in results:
        assert p.returncode == 0, p.stderr
    running = berth.ps(all=False)
    assert len(running) == 20
    assert sorted(c["Names"][0] for c in running) == sorted(f"c{i}" for i in range(20))


def test_monitor_killed_is_reconciled(berth):
    cid = berth.container(detach=True, cmd=["sleep", "1000"]).stdout.strip()
    info = berth.inspect(cid)
    mon, pid = info["State"]["MonitorPid"], info["State"]["Pid"]
    assert _alive(mon) and _alive(pid)
    os.kill(mon, signal.SIGKILL)
    _wait_for(lambda: not _alive(mon), what="monitor death")
    [c] = berth.ps()
    assert c["State"] == "exited" and c["ExitReason"] == "monitor-lost", c
    assert "monitor-lost" in c["Status"]
    _wait_for(lambda: not _alive(pid), what="init killed")
    berth.run("rm", cid)
    assert not _cgroup_dirs(cid)


def test_system_gc_removes_leftovers(berth):
    cid = berth.container(detach=True, cmd=["sleep", "1000"]).stdout.strip()
    info = berth.inspect(cid)
    # Forget the row, as a crash between the kernel work and the database would.
    subprocess.run(["sqlite3", str(berth.root / "berth.db"),
                    f"DELETE FROM containers WHERE id = '{cid}'"], check=True)
    assert berth.ps() == []
    out = berth.run("system", "gc").stdout
    assert cid in out
    _wait_for(lambda: not _alive(info["State"]["Pid"]), what="init gone")
    assert not any(cid in line for line in Path("/proc/self/mountinfo").read_text().splitlines())
    assert not (berth.root / "containers" / cid).exists()
    assert not (berth.runroot / "netns" / cid).exists()
    _wait_for(lambda: not _cgroup_dirs(cid), what="cgroup removal")
