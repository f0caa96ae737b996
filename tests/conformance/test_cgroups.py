"""linux.cgroupsPath and linux.resources, checked inside (checker) and outside (/sys/fs/cgroup)."""

import os

import pytest

from conftest import CGROUP_ROOT, expect_error, requires_cgroup_v1

pytestmark = requires_cgroup_v1

MiB = 1024 * 1024


def create_sleeping(rt, b):
    b.checker("sleep", "60")
    res = rt.create(b)
    assert res.returncode == 0, res
    return rt.state(b.id)["pid"]


def inside(rt, b, *files):
    """Run the checker's cgroup command in the container (cgroupns off so
    /sys/fs/cgroup/<ctl> is the container's own cgroup either way)."""
    return rt.check(b, "cgroup", *files)["files"]


def test_cgroups_path_used_for_every_controller(rt):
    b = rt.bundle()
    pid = create_sleeping(rt, b)
    for ctl in ("memory", "pids", "cpu", "cpuset", "freezer", "devices", "blkio"):
        if not (CGROUP_ROOT / ctl).is_dir():
            continue
        procs = rt.cgroup_read(b, ctl, "cgroup.procs").split()
        assert str(pid) in procs, (ctl, procs)
    with open(f"/proc/{pid}/cgroup") as f:
        lines = {l.split(":")[1]: l.split(":")[2].strip() for l in f}
    assert lines["memory"] == b.cgroups_path


def test_cgroup_removed_on_delete(rt):
    b = rt.bundle()
    create_sleeping(rt, b)
    assert rt.leftover_cgroups(b.cgroups_path)
    assert rt.delete(b.id, force=True).returncode == 0
    assert rt.leftover_cgroups(b.cgroups_path) == []


def test_cgroup_removed_after_run(rt):
    b = rt.bundle()
    b.checker("pid")
    assert rt.run(b).returncode == 0
    assert rt.leftover_cgroups(b.cgroups_path) == []


def test_memory_limit(rt):
    b = rt.bundle()
    b.linux["resources"]["memory"] = {"limit": 64 * MiB, "reservation": 32 * MiB}
    create_sleeping(rt, b)
    assert int(rt.cgroup_read(b, "memory", "memory.limit_in_bytes")) == 64 * MiB
    assert int(rt.cgroup_read(b, "memory", "memory.soft_limit_in_bytes")) == 32 * MiB
    b2 = rt.bundle()
    b2.linux["resources"]["memory"] = {"limit": 48 * MiB}
    files = inside(rt, b2)
    assert int(files["memory/memory.limit_in_bytes"]) == 48 * MiB


def test_memory_swap(rt):
    b = rt.bundle()
    if not (CGROUP_ROOT / "memory/memory.memsw.limit_in_bytes").exists():
        pytest.skip("no swap accounting (memory.memsw.*)")
    b.linux["resources"]["memory"] = {"limit": 64 * MiB, "swap": 96 * MiB}
    create_sleeping(rt, b)
    assert int(rt.cgroup_read(b, "memory", "memory.memsw.limit_in_bytes")) == 96 * MiB


def test_memory_limit_enforced(rt):
    b = rt.bundle()
    b.linux["resources"]["memory"] = {"limit": 16 * MiB}
    if (CGROUP_ROOT / "memory/memory.memsw.limit_in_bytes").exists():
        b.linux["resources"]["memory"]["swap"] = 16 * MiB
    # allocate ~64MiB in a shell variable: the container must be OOM-killed
    b.args("/bin/sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived ${#x}")
    res = rt.run(b, timeout=60)
    assert "survived 67108864" not in res.stdout
    assert res.returncode != 0


def test_cpu_shares_quota_period(rt):
    b = rt.bundle()
    b.linux["resources"]["cpu"] = {"shares": 512, "quota": 30000, "period": 120000}
    create_sleeping(rt, b)
    assert rt.cgroup_read(b, "cpu", "cpu.shares") == "512"
    assert rt.cgroup_read(b, "cpu", "cpu.cfs_quota_us") == "30000"
    assert rt.cgroup_read(b, "cpu", "cpu.cfs_period_us") == "120000"
    b2 = rt.bundle()
    b2.linux["resources"]["cpu"] = {"shares": 256, "quota": 20000, "period": 100000}
    files = inside(rt, b2)
    assert files["cpu/cpu.shares"] == "256"
    assert files["cpu/cpu.cfs_quota_us"] == "20000"
    assert files["cpu/cpu.cfs_period_us"] == "100000"


def test_cpuset_cpus_mems(rt):
    b = rt.bundle()
    b.linux["resources"]["cpu"] = {"cpus": "0", "mems": "0"}
    create_sleeping(rt, b)
    assert rt.cgroup_read(b, "cpuset", "cpuset.cpus") == "0"
    assert rt.cgroup_read(b, "cpuset", "cpuset.mems") == "0"
    b2 = rt.bundle()
    b2.linux["resources"]["cpu"] = {"cpus": "0"}
    aff = rt.check(b2, "affinity")
    assert aff["cpus"] == [0]
    assert aff["Cpus_allowed_list"] == "0"


def test_cpuset_second_cpu(rt):
    if os.cpu_count() < 2:
        pytest.skip("needs 2 cpus")
    b = rt.bundle()
    b.linux["resources"]["cpu"] = {"cpus": "1"}
    assert rt.check(b, "affinity")["cpus"] == [1]


def test_pids_limit(rt):
    b = rt.bundle()
    b.linux["resources"]["pids"] = {"limit": 42}
    create_sleeping(rt, b)
    assert rt.cgroup_read(b, "pids", "pids.max") == "42"
    b2 = rt.bundle()
    b2.linux["resources"]["pids"] = {"limit": 17}
    assert inside(rt, b2)["pids/pids.max"] == "17"


def test_pids_limit_enforced(rt):
    b = rt.bundle()
    b.linux["resources"]["pids"] = {"limit": 5}
    b.args("/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done 2>/dev/null; "
           "echo started $(jobs -p | wc -l); kill $(jobs -p) 2>/dev/null; true")
    res = rt.run(b, timeout=60)
    n = int(res.stdout.split()[-1]) if res.stdout.split() else 0
    assert n < 8, res


def test_blkio_weight(rt):
    if not (CGROUP_ROOT / "blkio/blkio.weight").exists() and not (CGROUP_ROOT / "blkio/blkio.bfq.weight").exists():
        pytest.skip("blkio weight not available on this kernel")
    b = rt.bundle()
    b.linux["resources"]["blockIO"] = {"weight": 300}
    create_sleeping(rt, b)
    d = rt.cgroup_dir(b, "blkio")
    f = "blkio.weight" if (d / "blkio.weight").exists() else "blkio.bfq.weight"
    assert (d / f).read_text().split()[-1] == "300"


def test_nested_cgroups_path_parents_created(rt):
    b = rt.bundle()
    b.linux["cgroupsPath"] = f"{rt.cg_parent}/a/b/{b.id}"
    create_sleeping(rt, b)
    assert (CGROUP_ROOT / "pids" / rt.cg_parent.lstrip("/") / "a/b" / b.id).is_dir()


def test_relative_cgroups_path(rt):
    # A relative cgroupsPath is relative to the runtime's own cgroup;
    # the harness runs from the root of the pids hierarchy.
    with open("/proc/self/cgroup") as f:
        own = {l.split(":")[1]: l.split(":")[2].strip() for l in f}
    if own.get("pids") != "/":
        pytest.skip("test process is not in the root pids cgroup")
    b = rt.bundle()
    b.linux["cgroupsPath"] = f"{rt.cg_parent.lstrip('/')}/{b.id}"
    pid = create_sleeping(rt, b)
    with open(f"/proc/{pid}/cgroup") as f:
        lines = {l.split(":")[1]: l.split(":")[2].strip() for l in f}
    assert lines["pids"] == f"{rt.cg_parent}/{b.id}"


def test_invalid_resources_rejected_and_cleaned(rt):
    b = rt.bundle()
    b.linux["resources"]["cpu"] = {"cpus": "999-1000"}
    b.checker("pid")
    expect_error(rt.run(b), "cpus")
    rt.assert_nothing_left(b)


def test_memory_limit_below_usage_rejected(rt):
    b = rt.bundle()
    b.linux["resources"]["memory"] = {"limit": 4096}
    b.checker("pid")
    res = rt.run(b)
    assert res.returncode != 0
    rt.assert_nothing_left(b)
