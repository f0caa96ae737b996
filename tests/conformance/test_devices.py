"""linux.devices, default devices, device cgroup rules."""


from conftest import expect_error, requires_cgroup_v1

EPERM = 1

DEFAULT_NODES = {
    "/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7),
    "/dev/random": (1, 8), "/dev/urandom": (1, 9), "/dev/tty": (5, 0),
}


def test_default_device_nodes(rt):
    b = rt.bundle()
    devs = rt.check(b, "devices")
    for path, (maj, mn) in DEFAULT_NODES.items():
        d = devs.get(path)
        assert d is not None, f"{path} missing: {sorted(devs)}"
        assert d["type"] == "c", (path, d)
        assert (d["major"], d["minor"]) == (maj, mn), (path, d)
        assert d["mode"] == 0o666, (path, d)


def test_default_device_symlinks(rt):
    b = rt.bundle()
    devs = rt.check(b, "devices")
    want = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
            "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"}
    for path, target in want.items():
        assert devs[path]["type"] == "l", (path, devs.get(path))
        assert devs[path]["target"] == target
    ptmx = devs["/dev/ptmx"]
    assert (ptmx["type"] == "l" and ptmx["target"] in ("pts/ptmx", "/dev/pts/ptmx")) or \
        (ptmx["type"] == "c" and (ptmx["major"], ptmx["minor"]) == (5, 2)), ptmx
    assert devs["/dev/pts"]["type"] == "d"
    assert devs["/dev/shm"]["type"] == "d"


def test_default_devices_usable(rt):
    b = rt.bundle("/bin/sh", "-c", "echo x > /dev/null && head -c 4 /dev/zero | wc -c && "
                  "head -c 4 /dev/urandom | wc -c && (echo x > /dev/full) 2>/dev/null || echo full-ENOSPC")
    res = rt.run(b)
    assert res.returncode == 0, res
    assert res.stdout.split() == ["4", "4", "full-ENOSPC"]


def test_host_devices_not_exposed(rt):
    b = rt.bundle()
    devs = rt.check(b, "devices")
    for p in ("/dev/kmsg", "/dev/mem", "/dev/vda", "/dev/loop0", "/dev/kvm"):
        assert p not in devs, f"host device {p} visible in container"


def test_extra_char_device(rt):
    b = rt.bundle()
    b.linux["devices"] = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
                           "fileMode": 0o640, "uid": 1000, "gid": 1001}]
    b.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"})
    st = rt.check(b, "stat", "/dev/mynull")["/dev/mynull"]
    assert st["type"] == "c"
    assert (st["major"], st["minor"]) == (1, 3)
    assert st["mode"] == 0o640
    assert (st["uid"], st["gid"]) == (1000, 1001)


def test_extra_block_device(rt):
    b = rt.bundle()
    b.linux["devices"] = [{"path": "/dev/blk0", "type": "b", "major": 7, "minor": 200,
                           "fileMode": 0o600, "uid": 0, "gid": 0}]
    st = rt.check(b, "stat", "/dev/blk0")["/dev/blk0"]
    assert st["type"] == "b"
    assert (st["major"], st["minor"]) == (7, 200)
    assert st["mode"] == 0o600


def test_extra_fifo_device(rt):
    b = rt.bundle()
    b.linux["devices"] = [{"path": "/dev/myfifo", "type": "p", "fileMode": 0o620}]
    st = rt.check(b, "stat", "/dev/myfifo")["/dev/myfifo"]
    assert st["type"] == "p"
    assert st["mode"] == 0o620


def test_extra_device_in_subdirectory(rt):
    b = rt.bundle()
    b.linux["devices"] = [{"path": "/dev/sub/dir/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o666}]
    st = rt.check(b, "stat", "/dev/sub/dir/zero")["/dev/sub/dir/zero"]
    assert st["type"] == "c" and (st["major"], st["minor"]) == (1, 5)


def test_extra_device_invalid_type_rejected(rt):
    b = rt.bundle()
    b.linux["devices"] = [{"path": "/dev/weird", "type": "x", "major": 1, "minor": 3}]
    expect_error(rt.run(b), "type")
    rt.assert_nothing_left(b)


@requires_cgroup_v1
def test_device_cgroup_denies_unlisted(rt):
    # /dev/kmsg (1:11) is not in the default allow list
    b = rt.bundle()
    b.linux["devices"] = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o666}]
    j = rt.check(b, "open", "/dev/kmsg", "w")
    assert j["ok"] is False and j["errno"] == EPERM


@requires_cgroup_v1
def test_device_cgroup_allow_rule(rt):
    b = rt.bundle()
    b.linux["devices"] = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o666}]
    b.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"})
    b.checker("open", "/dev/kmsg", "w")
    j = rt.check(b)
    assert j["ok"] is True, j
    # read access was not granted
    b2 = rt.bundle()
    b2.linux["devices"] = list(b.linux["devices"])
    b2.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"})
    j2 = rt.check(b2, "open", "/dev/kmsg", "r")
    assert j2["ok"] is False and j2["errno"] == EPERM


@requires_cgroup_v1
def test_device_cgroup_list_from_outside(rt):
    b = rt.bundle()
    b.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 1, "minor": 11, "access": "rw"})
    b.checker("sleep", "60")
    assert rt.create(b).returncode == 0
    rules = rt.cgroup_read(b, "devices", "devices.list").splitlines()
    assert "c 1:11 rw" in rules, rules
    assert "a *:* rwm" not in rules
