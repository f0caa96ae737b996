"""Resource limits end to end (root, real kernel): docker's resource flags on `berth run`, each
read back from the container's cgroup files from outside and, for the main ones, measured in
effect (a --cpus 0.5 busy loop, a --memory 32m OOM kill, a --pids-limit fork bomb, a
--cpuset-cpus pin); `berth update` on a running container; `berth stats`; errors naming the
flag with exit status 125 and nothing created.

Same setup as test_engine_flags.py (the `berth` fixture of conftest.py): $BERTH_BIN,
$BERTH_TEST_ENGINE_RUNTIME, a temp --root and --runroot per test, and a finalizer that removes
every container and checks that nothing (mount, cgroup) is left. Timing bounds are generous: the machine is a shared 2-core VM.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from engine_helpers import IMAGE, REQUIREMENTS, RUNTIME, _cgroup_dirs, runtime_is_crun

pytestmark = list(REQUIREMENTS)

MiB = 1 << 20
V2 = not Path("/sys/fs/cgroup/memory").is_dir()  # only cgroup2 (else v1 or hybrid)


class Cgroup:
    """A container's cgroup files, v1 (a directory per controller) or v2."""

    def __init__(self, cid: str):
        found = _cgroup_dirs(cid)
        assert found, f"no cgroup for {cid}"
        # /sys/fs/cgroup/<controller>/berth/<name> (v1) or /sys/fs/cgroup/berth/<name> (v2).
        self.dirs = {d.parent.parent.name: d for d in found}

    def read(self, controller: str, v1_file: str, v2_file: str | None = None) -> str:
        if V2:
            return (self.dirs["cgroup"] / (v2_file or v1_file)).read_text().strip()
        return (self.dirs[controller] / v1_file).read_text().strip()

    def keyed(self, controller: str, file: str) -> dict[str, int]:
        text = self.read(controller, file)
        return {k: int(v) for k, v in (line.split() for line in text.splitlines())}

    def cpu_usage_ns(self) -> int:
        if V2:
            return self.keyed("cpu", "cpu.stat")["usage_usec"] * 1000
        return int(self.read("cpuacct", "cpuacct.usage"))

    def throttled(self) -> int:
        return self.keyed("cpu", "cpu.stat")["nr_throttled"]

    def memory_limit(self) -> str:
        return self.read("memory", "memory.limit_in_bytes", "memory.max")


def _usage_error(p, *words):
    assert p.returncode == 125, p.stdout + p.stderr
    for w in words:
        assert w in p.stderr, p.stderr


def _block_device() -> tuple[str, str]:
    """A block device of this machine and its MAJ:MIN."""
    for name in sorted(os.listdir("/sys/block")):
        dev = Path("/dev") / name
        if dev.exists() and stat.S_ISBLK(dev.stat().st_mode):
            rdev = dev.stat().st_rdev
            return str(dev), f"{os.major(rdev)}:{os.minor(rdev)}"
    pytest.skip("no block device")


def _stats(berth, *names) -> list[dict]:
    out = berth.run("stats", "--no-stream", "--format", "json", *names).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# --- the effect of the limits ----------------------------------------------------------------

def test_cpus_caps_a_busy_loop(berth):
    # Three loops: they want up to 3 CPUs and get at most half of one.
    loops = "for i in 1 2 3; do (while :; do :; done) & done; wait"
    cid = berth.container("--cpus", "0.5", cmd=["sh", "-c", loops], detach=True).stdout.strip()
    cg = Cgroup(cid)
    if V2:
        assert cg.read("cpu", "cpu.max").split() == ["50000", "100000"]
    else:
        assert cg.read("cpu", "cpu.cfs_quota_us") == "50000"
        assert cg.read("cpu", "cpu.cfs_period_us") == "100000"

    def usage_over(seconds):
        u0, w0 = cg.cpu_usage_ns(), time.monotonic()
        time.sleep(seconds)
        return (cg.cpu_usage_ns() - u0) / 1e9 / (time.monotonic() - w0)

    time.sleep(0.5)
    cpus = usage_over(2)
    assert 0.02 < cpus < 0.75, f"the loops used {cpus:.2f} CPUs"
    s = _stats(berth, cid)[0]
    assert s["EffectiveCPUs"] == 1  # automaxprocs: floor(0.5) raised to 1
    assert s["CPUPeriods"] > 0 and 0 < s["CPU"] < 75, s
    # On a loaded machine the loops may not even get the 50 ms a period allows; at 2 ms they
    # always do: the periods they are throttled in rise, and the usage stays near the cap.
    berth.run("update", "--cpus", "0.02", cid)
    t0 = cg.throttled()
    cpus = usage_over(2)
    assert cpus < 0.1, f"the loops used {cpus:.2f} CPUs under --cpus 0.02"
    assert cg.throttled() > t0, "no throttled periods"
    assert _stats(berth, cid)[0]["CPUThrottledPeriods"] > t0
    berth.run("rm", "-f", cid)


def test_memory_limit_oom_kill(berth):
    # Pages written to the /dev/shm tmpfs are charged to the writer's memory cgroup and cannot
    # be reclaimed without swap: dd (PID 1) is OOM-killed once 32m are used.
    p = berth.container("--name", "oom", "--memory", "32m", "--shm-size", "256m",
                        cmd=["dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=200"],
                        check=False)
    assert p.returncode == 137, p.stdout + p.stderr
    state = berth.inspect("oom")["State"]
    assert state["OOMKilled"] is True, state
    assert state["ExitCode"] == 137
    ps = [c for c in berth.ps() if c["Names"] == ["oom"]][0]
    assert ps["OOMKilled"] is True and ps["ExitCode"] == 137, ps
    table = berth.run("ps", "-a").stdout
    assert "Exited (137)" in table and "(oom)" in table, table
    # Under the limit the same program runs to its end.
    p = berth.container("--rm", "--memory", "64m", "--shm-size", "256m",
                        cmd=["dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=8"])
    assert p.returncode == 0
    berth.run("rm", "oom")


def test_pids_limit_stops_a_fork_bomb(berth):
    cid = berth.container("--pids-limit", "20", cmd=["sleep", "1000"],
                          detach=True).stdout.strip()
    cg = Cgroup(cid)
    assert cg.read("pids", "pids.max") == "20"
    assert cg.keyed("pids", "pids.events")["max"] == 0
    berth.run("exec", "-d", cid, "sh", "-c", "f() { f | f & }; f")
    deadline = time.monotonic() + 20
    while cg.keyed("pids", "pids.events")["max"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cg.keyed("pids", "pids.events")["max"] > 0, "no fork was refused"
    for _ in range(5):
        assert int(cg.read("pids", "pids.current")) <= 20
        time.sleep(0.2)
    # The container's PID 1 lives on.
    c = berth.inspect(cid)
    assert c["State"]["Running"] is True
    assert Path(f"/proc/{c['State']['Pid']}/cmdline").read_bytes().startswith(b"sleep")
    berth.run("rm", "-f", cid, timeout=120)


def test_cpuset_cpus_pins(berth):
    out = berth.container("--rm", "--cpuset-cpus", "0",
                          cmd=["grep", "Cpus_allowed_list", "/proc/self/status"]).stdout
    assert out.split() == ["Cpus_allowed_list:", "0"]
    cid = berth.container("--cpuset-cpus", "0", cmd=["sleep", "1000"], detach=True).stdout.strip()
    assert Cgroup(cid).read("cpuset", "cpuset.cpus") == "0"
    pid = berth.inspect(cid)["State"]["Pid"]
    status = Path(f"/proc/{pid}/status").read_text()
    assert "Cpus_allowed_list:\t0\n" in status
    berth.run("rm", "-f", cid)


# --- every flag, read back --------------------------------------------------------------------

def test_resource_flags_read_back(berth):
    dev, majmin = _block_device()
    script = ("cat /proc/self/oom_score_adj; ulimit -Sn; ulimit -Hn; "
              "cat /proc/sys/kernel/msgmax; cat /proc/sys/net/ipv4/ip_forward; "
              "df -k /dev/shm | tail -1; sleep 1000")
    # crun 1.8 writes blkio.weight only, which BFQ kernels do not have (blkio.bfq.weight).
    weight = [] if runtime_is_crun() else ["--blkio-weight", "300"]
    cid = berth.container(
        *weight, "--cpu-shares", "512", "--cpu-period", "50000", "--cpu-quota", "25000",
        "--memory", "64m", "--memory-swap", "128m", "--memory-reservation", "32m",
        "--oom-kill-disable", "--oom-score-adj", "500",
        "--device-read-bps", f"{dev}:1mb", "--device-write-iops", f"{dev}:100",
        "--shm-size", "128m", "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=500",
        "--sysctl", "kernel.msgmax=4096", "--sysctl", "net.ipv4.ip_forward=1",
        cmd=["sh", "-c", script], detach=True).stdout.strip()
    cg = Cgroup(cid)
    if not V2:
        assert cg.read("cpu", "cpu.shares") == "512"
        assert cg.read("cpu", "cpu.cfs_period_us") == "50000"
        assert cg.read("cpu", "cpu.cfs_quota_us") == "25000"
        assert cg.read("memory", "memory.limit_in_bytes") == str(64 * MiB)
        assert cg.read("memory", "memory.memsw.limit_in_bytes") == str(128 * MiB)
        assert cg.read("memory", "memory.soft_limit_in_bytes") == str(32 * MiB)
        assert cg.keyed("memory", "memory.oom_control")["oom_kill_disable"] == 1
        if weight:
            w = cg.dirs["blkio"] / "blkio.weight"
            if not w.exists():
                w = cg.dirs["blkio"] / "blkio.bfq.weight"
            assert w.read_text().split()[-1] == "300"
        assert f"{majmin} {MiB}" in cg.read("blkio", "blkio.throttle.read_bps_device")
        assert f"{majmin} 100" in cg.read("blkio", "blkio.throttle.write_iops_device")
    else:
        assert cg.read("cpu", "cpu.max").split() == ["25000", "50000"]
        assert cg.read("memory", "memory.max") == str(64 * MiB)
        assert cg.read("memory", "memory.swap.max") == str(64 * MiB)
        assert f"{majmin} rbps={MiB}" in cg.read("io", "io.max")
    deadline = time.monotonic() + 10
    while len(berth.run("logs", cid).stdout.splitlines()) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = berth.run("logs", cid).stdout.splitlines()
    assert lines[:5] == ["500", "1024", "2048", "4096", "1"], lines
    assert lines[5].split()[1] == str(128 * 1024), lines  # 1K-blocks of /dev/shm

    hc = berth.inspect(cid)["HostConfig"]
    assert hc["Memory"] == 64 * MiB and hc["MemorySwap"] == 128 * MiB
    assert hc["MemoryReservation"] == 32 * MiB and hc["OomKillDisable"] is True
    assert hc["CpuShares"] == 512 and hc["CpuPeriod"] == 50000 and hc["CpuQuota"] == 25000
    assert hc["BlkioWeight"] == (300 if weight else 0) and hc["OomScoreAdj"] == 500
    assert hc["BlkioDeviceReadBps"] == [{"Path": majmin, "Rate": MiB}]
    assert {"Name": "nofile", "Soft": 1024, "Hard": 2048} in hc["Ulimits"]
    assert {"Name": "nproc", "Soft": 500, "Hard": 500} in hc["Ulimits"]
    assert hc["Sysctls"] == {"kernel.msgmax": "4096", "net.ipv4.ip_forward": "1"}
    assert hc["ShmSize"] == 128 * MiB
    limits = hc["CgroupLimits"]
    if not V2:
        assert limits["memory.limit_in_bytes"] == str(64 * MiB)
        assert limits["cpu.cfs_quota_us"] == "25000"
        assert limits["memory.oom_control.oom_kill_disable"] == 1
    berth.run("rm", "-f", cid)


def test_memory_defaults_as_docker(berth):
    # --memory alone: as much swap again (memory+swap = 2x), where swap is accounted.
    cid = berth.container("--memory", "48m", cmd=["sleep", "1000"], detach=True).stdout.strip()
    hc = berth.inspect(cid)["HostConfig"]
    assert hc["Memory"] == 48 * MiB
    if Path("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists() or V2:
        assert hc["MemorySwap"] == 96 * MiB
    assert hc["ShmSize"] == 64 * MiB  # the default /dev/shm
    berth.run("rm", "-f", cid)


# --- update -------------------------------------------------------------------------------------

def test_update_running_container(berth):
    cid = berth.container("--memory", "64m", "--cpus", "1", cmd=["sleep", "1000"],
                          detach=True).stdout.strip()
    cg = Cgroup(cid)
    assert cg.memory_limit() == str(64 * MiB)
    assert berth.run("update", "--memory", "96m", "--cpus", "0.25", cid).stdout.strip() == cid
    assert cg.memory_limit() == str(96 * MiB)
    if V2:
        assert cg.read("cpu", "cpu.max").split()[0] == "25000"
    else:
        assert cg.read("cpu", "cpu.cfs_quota_us") == "25000"
    hc = berth.inspect(cid)["HostConfig"]
    assert hc["Memory"] == 96 * MiB and hc["CpuQuota"] == 25000
    assert hc["CgroupLimits"][("memory.max" if V2 else "memory.limit_in_bytes")] == str(96 * MiB)
    # docker's rule: above the memory+swap limit (128m) only with --memory-swap.
    _usage_error(berth.run("update", "--memory", "200m", cid, check=False), "--memory-swap")
    berth.run("update", "--memory", "200m", "--memory-swap", "400m", "--pids-limit", "40", cid)
    assert cg.memory_limit() == str(200 * MiB)
    assert cg.read("pids", "pids.max") == "40"
    # A new start keeps the updated limits.
    berth.run("stop", "-t", "0", cid)
    berth.run("start", cid)
    cg = Cgroup(cid)
    assert cg.memory_limit() == str(200 * MiB)
    assert cg.read("pids", "pids.max") == "40"
    # Errors name the flag; nothing to change is an error too.
    _usage_error(berth.run("update", "--memory", "lots", cid, check=False), "--memory")
    _usage_error(berth.run("update", "--cpus", "-2", cid, check=False), "--cpus")
    _usage_error(berth.run("update", cid, check=False), "update")
    _usage_error(berth.run("update", "--memory", "64m", "nosuch", check=False), "nosuch")
    berth.run("rm", "-f", cid)


def test_update_stopped_container_applies_at_start(berth):
    cid = berth.run("create", "--runtime", RUNTIME, "--memory", "64m", IMAGE, "sleep",
                    "1000").stdout.strip()
    berth.run("update", "--memory", "80m", cid)
    berth.run("start", cid)
    assert Cgroup(cid).memory_limit() == str(80 * MiB)
    berth.run("rm", "-f", cid)


# --- stats --------------------------------------------------------------------------------------

def test_stats(berth):
    cid = berth.container("--name", "st", "--memory", "64m", "--cpus", "1", "--pids-limit", "30",
                          cmd=["sleep", "1000"], detach=True).stdout.strip()
    [s] = _stats(berth, "st")
    for key in ("ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs",
                "CPU", "CPUThrottledPeriods", "MemoryUsage", "MemoryLimit",
                "MemoryWorkingSet", "MemoryRSS", "MemoryCache", "OOMKills", "PidsCurrent",
                "PidsLimit", "BlockRead", "BlockWrite", "NetRx", "NetTx", "EffectiveCPUs"):
        assert key in s, key
    assert s["Container"] == cid and s["Name"] == "st" and s["ID"] == cid[:12]
    assert s["MemoryLimit"] == 64 * MiB and s["MemUsage"].endswith(" / 64MiB"), s
    assert 0 < s["MemoryUsage"] < 64 * MiB
    assert s["MemoryWorkingSet"] <= s["MemoryUsage"]
    assert s["PidsCurrent"] == 1 and s["PIDs"] == "1" and s["PidsLimit"] == 30
    assert s["EffectiveCPUs"] == 1 and s["OOMKills"] == 0
    assert s["CPUPerc"].endswith("%") and s["CPU"] < 50
    # The default: every running container, as a table.
    out = berth.run("stats", "--no-stream").stdout
    assert out.splitlines()[0].startswith("CONTAINER ID") and "st" in out
    # Live, not on a terminal: a line per sample.
    p = subprocess.Popen(berth.argv("stats", "--format", "json", "st"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4.5)
    finally:
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=10)
    samples = [json.loads(line) for line in out.splitlines()]
    assert len(samples) >= 2 and all(x["Name"] == "st" for x in samples), out
    _usage_error(berth.run("stats", "--no-stream", "nosuch", check=False), "nosuch")
    berth.run("rm", "-f", cid)


def test_stats_network_counters(berth):
    # --network none has lo only, which is left out: the counters stay at 0 even with traffic.
    cid = berth.container("--network", "none",
                          cmd=["sh", "-c", "ping -c 3 -i 0.2 127.0.0.1 >/dev/null; sleep 1000"],
                          detach=True).stdout.strip()
    [s] = _stats(berth, cid)
    assert s["NetRx"] == 0 and s["NetTx"] == 0 and s["NetIO"] == "0B / 0B"
    berth.run("rm", "-f", cid)


# --- errors -------------------------------------------------------------------------------------

def test_bad_resource_flags(berth):
    dev, _ = _block_device()
    ncpu = os.cpu_count()
    cases = [
        (["--cpus", str(ncpu + 1)], ["--cpus", "CPUs available"]),
        (["--cpus", "0.001"], ["--cpus"]),
        (["--cpus", "0.5", "--cpu-quota", "20000"], ["--cpus", "--cpu-quota"]),
        (["--cpu-shares", "-5"], ["--cpu-shares"]),
        (["--cpu-shares", "many"], ["--cpu-shares"]),
        (["--cpu-period", "10"], ["--cpu-period"]),
        (["--cpu-quota", "10"], ["--cpu-quota"]),
        (["--cpuset-cpus", "99"], ["--cpuset-cpus", "not available"]),
        (["--cpuset-cpus", "a-b"], ["--cpuset-cpus"]),
        (["--cpuset-mems", "7"], ["--cpuset-mems"]),
        (["--memory", "64m", "--memory-swap", "32m"], ["--memory-swap"]),
        (["--memory-swap", "64m"], ["--memory-swap", "--memory"]),
        (["--memory", "64m", "--memory-reservation", "128m"], ["--memory-reservation"]),
        (["--memory-reservation", "lots"], ["--memory-reservation"]),
        (["--oom-score-adj", "2000"], ["--oom-score-adj"]),
        (["--blkio-weight", "5"], ["--blkio-weight"]),
        (["--blkio-weight-device", "/dev/null:100"], ["--blkio-weight-device", "block device"]),
        (["--device-read-bps", "/no/such/dev:1mb"], ["--device-read-bps", "/no/such/dev"]),
        (["--device-write-bps", f"{dev}:fast"], ["--device-write-bps"]),
        (["--device-read-iops", f"{dev}"], ["--device-read-iops"]),
        (["--device-write-iops", f"{dev}:x"], ["--device-write-iops"]),
        (["--shm-size", "0"], ["--shm-size"]),
        (["--shm-size", "big"], ["--shm-size"]),
        (["--ulimit", "nofile=10:5"], ["--ulimit", "soft"]),
        (["--ulimit", "bogus=1"], ["--ulimit", "bogus"]),
        (["--ulimit", "nofile"], ["--ulimit"]),
        (["--sysctl", "kernel.pid_max=100"], ["--sysctl", "kernel.pid_max", "namespaced"]),
        (["--sysctl", "vm.swappiness=1"], ["--sysctl", "vm.swappiness"]),
        (["--sysctl", "novalue"], ["--sysctl"]),
        (["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
         ["--sysctl", "net.ipv4.ip_forward"]),
        (["--pids-limit", "many"], ["--pids-limit"]),
    ]
    for flags, words in cases:
        p = berth.container("--rm", *flags, cmd=["true"], check=False)
        assert p.returncode == 125, (flags, p.stdout + p.stderr)
        for w in words:
            assert w in p.stderr, (flags, p.stderr)
    # Above berth's own hard limit, without CAP_SYS_RESOURCE: a clear error.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    caps = int([line for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("CapEff:")][0].split()[1], 16)
    if not caps >> 24 & 1 and hard != resource.RLIM_INFINITY:
        p = berth.container("--rm", "--ulimit", f"nofile={hard}:{hard + 1}", cmd=["true"],
                            check=False)
        _usage_error(p, "--ulimit", "CAP_SYS_RESOURCE")
    # `create` refuses the same way, and nothing was made.
    p = berth.run("create", "--memory", "1k", IMAGE, "true", check=False)
    _usage_error(p, "--memory")
    assert berth.ps() == []


def test_oom_kill_of_a_child_is_reported(berth):
    # docker reports OOMKilled when the OOM killer killed any process of the container's cgroup
    # (containerd's OOM event), with the container's own exit code. Here dd, a child of PID 1,
    # fills a 128 MiB buffer under a 32m limit and is killed; sh goes on and exits 0.
    p = berth.container("--name", "oomchild", "--memory", "32m",
                        cmd=["sh", "-c", "dd if=/dev/zero of=/dev/null bs=128M count=1; "
                                         "echo dd=$?; exit 0"], check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "dd=137" in p.stdout, p.stdout + p.stderr
    state = berth.inspect("oomchild")["State"]
    assert state["OOMKilled"] is True, state
    assert state["ExitCode"] == 0 and state["ExitReason"] == "exited", state
    ps = [c for c in berth.ps() if c["Names"] == ["oomchild"]][0]
    assert ps["OOMKilled"] is True and ps["ExitCode"] == 0, ps
    # The same with a non-zero exit of its own, detached; and a run without OOM is not OOMKilled.
    cid = berth.container("--memory", "32m", detach=True,
                          cmd=["sh", "-c", "dd if=/dev/zero of=/dev/null bs=128M count=1; exit 1"]
                          ).stdout.strip()
    assert berth.run("wait", cid).stdout.strip() == "1"
    state = berth.inspect(cid)["State"]
    assert state["OOMKilled"] is True and state["ExitCode"] == 1, state
    p = berth.container("--name", "nooom", "--memory", "32m",
                        cmd=["sh", "-c", "dd if=/dev/zero of=/dev/null bs=1M count=1; exit 0"])
    assert berth.inspect("nooom")["State"]["OOMKilled"] is False
    berth.run("rm", "oomchild", "nooom", cid)
