"""linux.namespaces, hostname, domainname, uid/gid mappings, time offsets."""

import os
import subprocess
import time

import pytest

from conftest import expect_error, expect_ok

# OCI namespace type -> /proc/self/ns entry
NS_FILE = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
           "user": "user", "cgroup": "cgroup", "time": "time"}


def host_ns(name):
    return os.stat(f"/proc/self/ns/{name}").st_ino


def kernel_has_timens():
    return os.path.exists("/proc/self/ns/time")


def userns_bundle(rt, *args):
    b = rt.bundle(*args)
    b.set_namespace("user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    return b


@pytest.mark.parametrize("ns", ["pid", "network", "mount", "ipc", "uts", "cgroup"])
def test_namespace_created(rt, ns):
    b = rt.bundle()
    b.set_namespace(ns)
    j = rt.check(b, "ns")
    assert j[NS_FILE[ns]] != host_ns(NS_FILE[ns]), f"{ns} namespace not unshared"


@pytest.mark.parametrize("ns", ["network", "ipc", "uts", "cgroup"])
def test_namespace_absent_shares_host(rt, ns):
    b = rt.bundle()
    b.remove_namespace(ns)
    if ns == "uts":
        b.config.pop("hostname", None)
    j = rt.check(b, "ns")
    assert j[NS_FILE[ns]] == host_ns(NS_FILE[ns]), f"{ns} namespace was unshared although not requested"


def test_user_namespace_created_with_mappings(rt):
    b = userns_bundle(rt)
    j = rt.check(b, "ids")
    assert j["uid"] == 0 and j["gid"] == 0
    assert j["uid_map"].split() == ["0", "100000", "65536"]
    assert j["gid_map"].split() == ["0", "100000", "65536"]


def test_user_namespace_inode_differs(rt):
    b = userns_bundle(rt)
    assert rt.check(b, "ns")["user"] != host_ns("user")


def test_user_namespace_host_uid_from_outside(rt):
    b = userns_bundle(rt)
    b.checker("sleep", "60")
    assert rt.create(b).returncode == 0
    pid = rt.state(b.id)["pid"]
    with open(f"/proc/{pid}/status") as f:
        st = {l.split(":")[0]: l.split()[1:] for l in f}
    assert st["Uid"][0] == "100000"
    assert st["Gid"][0] == "100000"


def test_user_namespace_multiple_mapping_ranges(rt):
    b = rt.bundle()
    b.set_namespace("user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 1000},
                              {"containerID": 1000, "hostID": 300000, "size": 10}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 1000}]
    b.process["user"] = {"uid": 1005, "gid": 7}
    j = rt.check(b, "ids")
    assert j["uid"] == 1005 and j["gid"] == 7
    rows = sorted(tuple(l.split()) for l in j["uid_map"].strip().splitlines())
    assert rows == [("0", "200000", "1000"), ("1000", "300000", "10")]


def test_mappings_without_user_namespace_do_not_create_one(rt):
    b = rt.bundle()
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    res = rt.run(b.checker("ns"))
    if res.returncode != 0:  # rejecting the config is also acceptable
        rt.assert_nothing_left(b)
        return
    assert res.json()["user"] == host_ns("user")


def test_pid_namespace_pid1(rt):
    b = rt.bundle()
    j = rt.check(b, "pid")
    assert j["pid"] == 1 and j["ppid"] == 0


def test_network_namespace_loopback_only(rt):
    b = rt.bundle()
    b.set_namespace("network")
    j = rt.check(b, "netdevs")
    assert j["interfaces"] == ["lo"]


def test_cgroup_namespace_root(rt):
    b = rt.bundle()
    b.set_namespace("cgroup")
    j = rt.check(b, "cgroup")
    paths = {e["controllers"]: e["path"] for e in j["cgroup"]}
    assert paths, j
    for ctl, p in paths.items():
        if ctl in ("memory", "pids", "cpu", "cpuset", "freezer", "devices", "blkio"):
            assert p == "/", (ctl, p)


def test_no_cgroup_namespace_shows_full_path(rt):
    b = rt.bundle()
    b.remove_namespace("cgroup")
    j = rt.check(b, "cgroup")
    paths = {e["controllers"]: e["path"] for e in j["cgroup"]}
    if "memory" in paths:
        assert paths["memory"] == b.cgroups_path


def test_hostname_set(rt):
    b = rt.bundle()
    b.config["hostname"] = "box-under-test"
    assert rt.check(b, "hostname")["hostname"] == "box-under-test"
    assert os.uname().nodename != "box-under-test"


def test_hostname_requires_uts_namespace(rt):
    original = os.uname().nodename
    b = rt.bundle()
    b.remove_namespace("uts")
    b.config["hostname"] = "should-fail"
    try:
        expect_error(rt.run(b), "hostname")
        rt.assert_nothing_left(b)
        assert os.uname().nodename == original
    finally:
        if os.uname().nodename != original:  # a broken runtime renamed the host: undo it
            subprocess.run(["hostname", original])


@pytest.mark.berth_only  # runc 1.1.5 ignores "domainname" (added in runc 1.2)
def test_domainname_set(rt):
    b = rt.bundle()
    b.config["domainname"] = "berth.example"
    j = rt.check(b, "hostname")
    assert j["domainname"] == "berth.example"


def test_ipc_namespace_isolated(rt):
    # a SysV shm segment made on the host must not be visible inside
    out = subprocess.run(["ipcmk", "-M", "4096"], capture_output=True, text=True)
    shmid = int(out.stdout.split(":")[-1]) if out.returncode == 0 and ":" in out.stdout else -1
    if shmid < 0:
        pytest.skip("ipcmk could not create a SysV segment")
    try:
        b = rt.bundle("cat", "/proc/sysvipc/shm")
        text = expect_ok(rt.run(b)).stdout
        rows = text.strip().splitlines()[1:]
        assert not rows, f"host SysV shm visible in container: {rows}"
    finally:
        if shmid >= 0:
            subprocess.run(["ipcrm", "-m", str(shmid)], stderr=subprocess.DEVNULL)


# --------------------------------------------------------------------------- joining namespaces


@pytest.fixture
def sleeper(rt):
    """A host process in fresh net/ipc/uts namespaces (killed by rt.cleanup)."""
    p = rt.spawn("unshare", "--net", "--ipc", "--uts", "sleep", "120")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            # wait until unshare exec'd sleep in the new namespaces
            if os.stat(f"/proc/{p.pid}/ns/net").st_ino != host_ns("net"):
                break
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    return p


@pytest.mark.parametrize("ns", ["network", "ipc", "uts"])
def test_join_namespace_by_proc_path(rt, sleeper, ns):
    path = f"/proc/{sleeper.pid}/ns/{NS_FILE[ns]}"
    want = os.stat(path).st_ino
    assert want != host_ns(NS_FILE[ns])
    b = rt.bundle()
    b.set_namespace(ns, path)
    if ns == "uts":
        b.config.pop("hostname", None)
    assert rt.check(b, "ns")[NS_FILE[ns]] == want


def test_join_netns_bind_mounted_file(rt):
    nsfile = rt.tmp / "netns"
    nsfile.touch()
    subprocess.run(["unshare", f"--net={nsfile}", "true"], check=True)
    want = os.stat(nsfile).st_ino
    assert want != host_ns("net")
    b = rt.bundle()
    b.set_namespace("network", nsfile)
    j = rt.check(b, "ns")
    assert j["net"] == want
    # the runtime must not consume or unmount the user's namespace file
    assert os.stat(nsfile).st_ino == want


def test_join_namespace_bad_path_fails(rt):
    b = rt.bundle()
    b.set_namespace("network", rt.tmp / "no-such-ns")
    expect_error(rt.run(b), "no-such-ns")
    rt.assert_nothing_left(b)


def test_join_namespace_wrong_type_fails(rt, sleeper):
    b = rt.bundle()
    b.set_namespace("network", f"/proc/{sleeper.pid}/ns/ipc")
    expect_error(rt.run(b), "network")
    rt.assert_nothing_left(b)


def test_join_pid_namespace_of_other_container(rt):
    first = rt.bundle()
    first.checker("sleep", "60")
    assert rt.create(first).returncode == 0
    pid = rt.state(first.id)["pid"]
    b = rt.bundle()
    b.set_namespace("pid", f"/proc/{pid}/ns/pid")
    j = rt.check(b, "ns")
    assert j["pid"] == os.stat(f"/proc/{pid}/ns/pid").st_ino


# --------------------------------------------------------------------------- time namespace


@pytest.mark.berth_only  # runc 1.1.5 has no time namespace support ("namespace time does not exist")
def test_time_namespace_offsets(rt):
    if not kernel_has_timens():
        pytest.skip("kernel lacks time namespaces")
    b = rt.bundle()
    b.set_namespace("time")
    b.linux["timeOffsets"] = {"monotonic": {"secs": 86400, "nanosecs": 0},
                              "boottime": {"secs": 172800, "nanosecs": 0}}
    j = rt.check(b, "time")
    host_mono = time.clock_gettime(time.CLOCK_MONOTONIC)
    assert j["monotonic"] - host_mono > 86400 - 60
    assert j["boottime"] - time.clock_gettime(time.CLOCK_BOOTTIME) > 172800 - 60
    offs = {l.split()[0]: int(l.split()[1]) for l in j["timens_offsets"].strip().splitlines()}
    assert offs == {"monotonic": 86400, "boottime": 172800}


@pytest.mark.berth_only  # runc 1.1.5 has no time namespace support
def test_time_namespace_created(rt):
    if not kernel_has_timens():
        pytest.skip("kernel lacks time namespaces")
    b = rt.bundle()
    b.set_namespace("time")
    assert rt.check(b, "ns")["time"] != host_ns("time")


def test_unknown_namespace_type_rejected(rt):
    b = rt.bundle()
    b.linux["namespaces"].append({"type": "bogus"})
    expect_error(rt.run(b), "bogus")
    rt.assert_nothing_left(b)


def test_duplicate_namespace_rejected(rt):
    b = rt.bundle()
    b.linux["namespaces"].append({"type": "ipc"})
    res = rt.run(b)
    if res.returncode == 0 and rt.kind != "berth":
        pytest.skip(f"{rt.kind} tolerates duplicate namespace entries")
    expect_error(res, "ipc")
    rt.assert_nothing_left(b)
