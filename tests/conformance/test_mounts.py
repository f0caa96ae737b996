"""root, mounts, rootfsPropagation, maskedPaths, readonlyPaths."""

import os
import shutil
import subprocess

import pytest

from conftest import expect_error, expect_ok

EROFS, EACCES, ENOENT = 30, 13, 2


def mounts_by_point(j):
    out = {}
    for m in j["mounts"]:
        out[m["mountpoint"]] = m  # last one wins (top of the stack)
    return out


def run_mounts(rt, b):
    return mounts_by_point(rt.check(b, "mounts"))


# --------------------------------------------------------------------------- root


def test_root_readonly(rt):
    b = rt.bundle()
    b.config["root"]["readonly"] = True
    b.args("/bin/sh", "-c", "/berth-checker write /newfile; /berth-checker mounts")
    res = expect_ok(rt.run(b))
    lines = res.stdout.strip().splitlines()
    import json
    w = json.loads(lines[0])
    assert w["ok"] is False and w["errno"] == EROFS
    root = mounts_by_point(json.loads(lines[1]))["/"]
    assert "ro" in root["options"]
    assert not (b.rootfs / "newfile").exists()


def test_root_writable(rt):
    b = rt.bundle()
    b.config["root"]["readonly"] = False
    j = rt.check(b, "write", "/newfile", "data")
    assert j["ok"] is True
    assert (b.rootfs / "newfile").read_text() == "data"


def test_root_path_relative_to_bundle(rt):
    b = rt.bundle()
    shutil.move(str(b.rootfs), str(b.path / "other-root"))
    b.config["root"]["path"] = "other-root"
    (b.path / "other-root/marker").write_text("x")
    j = rt.check(b, "stat", "/marker")
    assert j["/marker"]["type"] == "f"


def test_root_absolute_path(rt):
    b = rt.bundle()
    b.config["root"]["path"] = str(b.rootfs)
    (b.rootfs / "marker").write_text("x")
    assert rt.check(b, "stat", "/marker")["/marker"]["type"] == "f"


# --------------------------------------------------------------------------- bind mounts


def _hostdir(rt, name, files=None):
    d = rt.tmp / name
    d.mkdir()
    os.chmod(d, 0o755)
    for k, v in (files or {}).items():
        (d / k).write_text(v)
    return d


def test_bind_mount_ro(rt):
    src = _hostdir(rt, "ro-src", {"hello": "world"})
    b = rt.bundle()
    b.add_mount("/data", "bind", src, ["bind", "ro"])
    b.args("/bin/sh", "-c", "cat /data/hello; echo; /berth-checker write /data/new; /berth-checker mounts")
    res = expect_ok(rt.run(b))
    import json
    out = res.stdout.strip().splitlines()
    assert out[0] == "world"
    w = json.loads(out[1])
    assert w["ok"] is False and w["errno"] == EROFS
    m = mounts_by_point(json.loads(out[2]))["/data"]
    assert "ro" in m["options"]
    assert not (src / "new").exists()


def test_bind_mount_rw_visible_on_host(rt):
    src = _hostdir(rt, "rw-src")
    b = rt.bundle()
    b.add_mount("/data", "bind", src, ["rbind", "rw"])
    j = rt.check(b, "write", "/data/from-container", "payload")
    assert j["ok"] is True
    assert (src / "from-container").read_text() == "payload"


def test_bind_mount_creates_missing_destination(rt):
    src = _hostdir(rt, "src", {"f": "1"})
    b = rt.bundle()
    b.add_mount("/deep/new/dir", "bind", src, ["bind"])
    b.args("cat", "/deep/new/dir/f")
    assert expect_ok(rt.run(b)).stdout == "1"


def test_bind_mount_file(rt):
    srcdir = _hostdir(rt, "filesrc", {"conf": "file-bind"})
    b = rt.bundle()
    b.add_mount("/etc/myconf", "bind", srcdir / "conf", ["bind", "ro"])
    b.args("cat", "/etc/myconf")
    assert expect_ok(rt.run(b)).stdout == "file-bind"


@pytest.fixture
def tree_with_submount(rt):
    """Host dir with a tmpfs submount (cleaned by rt.cleanup's unmount sweep)."""
    src = _hostdir(rt, "tree", {"top": "t"})
    (src / "sub").mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "berth-sub", str(src / "sub")], check=True)
    (src / "sub/inner").write_text("inner")
    return src


def test_bind_is_not_recursive(rt, tree_with_submount):
    b = rt.bundle()
    b.add_mount("/tree", "bind", tree_with_submount, ["bind"])
    b.args("/bin/sh", "-c", "cat /tree/top; echo; test -e /tree/sub/inner && echo LEAK || echo no-sub")
    assert expect_ok(rt.run(b)).stdout.split() == ["t", "no-sub"]


def test_rbind_is_recursive(rt, tree_with_submount):
    b = rt.bundle()
    b.add_mount("/tree", "bind", tree_with_submount, ["rbind"])
    b.args("/bin/sh", "-c", "cat /tree/top; echo; cat /tree/sub/inner")
    assert expect_ok(rt.run(b)).stdout.split() == ["t", "inner"]


def test_bind_mount_missing_source_fails(rt):
    b = rt.bundle()
    b.add_mount("/data", "bind", rt.tmp / "does-not-exist", ["bind"])
    expect_error(rt.run(b), "does-not-exist")
    rt.assert_nothing_left(b)


def test_bind_noexec_blocks_exec(rt):
    src = _hostdir(rt, "bin-src")
    shutil.copy2("/bin/busybox", src / "true")  # busybox picks the applet from argv[0]
    b = rt.bundle()
    b.add_mount("/noexec", "bind", src, ["bind", "noexec"])
    b.add_mount("/yesexec", "bind", src, ["bind"])
    b.args("/bin/sh", "-c", "/berth-checker execve /noexec/true; /berth-checker execve /yesexec/true")
    import json
    out = [json.loads(l) for l in expect_ok(rt.run(b)).stdout.strip().splitlines()]
    assert out[0]["executed"] is False and out[0]["errno"] == EACCES
    assert out[1]["executed"] is True and out[1]["exit_code"] == 0


# --------------------------------------------------------------------------- tmpfs and flags


def test_tmpfs_size_and_mode(rt):
    b = rt.bundle()
    b.add_mount("/scratch", "tmpfs", "tmpfs", ["size=2m", "mode=0710", "nosuid", "nodev", "noexec"])
    b.args("/bin/sh", "-c", "/berth-checker mounts; /berth-checker stat /scratch")
    import json
    lines = expect_ok(rt.run(b)).stdout.strip().splitlines()
    m = mounts_by_point(json.loads(lines[0]))["/scratch"]
    st = json.loads(lines[1])["/scratch"]
    assert m["fstype"] == "tmpfs"
    assert "size=2048k" in m["super_options"]
    for flag in ("nosuid", "nodev", "noexec"):
        assert flag in m["options"], m
    assert st["mode"] == 0o710
    assert st["fs_blocks"] * st["fs_bsize"] == 2 * 1024 * 1024


def test_tmpfs_default_flags_absent(rt):
    b = rt.bundle()
    b.add_mount("/scratch", "tmpfs", "tmpfs", [])
    m = run_mounts(rt, b)["/scratch"]
    for flag in ("nosuid", "nodev", "noexec", "ro"):
        assert flag not in m["options"], m


@pytest.mark.parametrize("opt,expect_present,expect_absent", [
    ("relatime", ["relatime"], ["noatime"]),
    ("noatime", ["noatime"], ["relatime"]),
    ("strictatime", [], ["relatime", "noatime"]),
])
def test_atime_options(rt, opt, expect_present, expect_absent):
    b = rt.bundle()
    b.add_mount("/scratch", "tmpfs", "tmpfs", [opt])
    m = run_mounts(rt, b)["/scratch"]
    for f in expect_present:
        assert f in m["options"], m
    for f in expect_absent:
        assert f not in m["options"], m


def test_mount_ro_option(rt):
    b = rt.bundle()
    b.add_mount("/scratch", "tmpfs", "tmpfs", ["ro"])
    b.args("/bin/sh", "-c", "/berth-checker write /scratch/x")
    j = rt.check(b)
    assert j["errno"] == EROFS


def test_mount_nodev_blocks_device_open(rt):
    b = rt.bundle()
    b.add_mount("/devdir", "tmpfs", "tmpfs", ["nodev", "mode=755"])
    b.add_mount("/devok", "tmpfs", "tmpfs", ["mode=755"])
    b.process["capabilities"]["bounding"].append("CAP_MKNOD")
    b.process["capabilities"]["effective"].append("CAP_MKNOD")
    b.process["capabilities"]["permitted"].append("CAP_MKNOD")
    b.args("/bin/sh", "-c", "mknod /devdir/null c 1 3 && mknod /devok/null c 1 3 && "
           "/berth-checker open /devdir/null && /berth-checker open /devok/null")
    import json
    out = [json.loads(l) for l in expect_ok(rt.run(b)).stdout.strip().splitlines()]
    assert out[0]["ok"] is False and out[0]["errno"] == EACCES
    assert out[1]["ok"] is True


def test_mount_nosuid_flag(rt):
    b = rt.bundle()
    b.add_mount("/scratch", "tmpfs", "tmpfs", ["nosuid"])
    b.add_mount("/scratch2", "tmpfs", "tmpfs", ["suid"])
    ms = run_mounts(rt, b)
    assert "nosuid" in ms["/scratch"]["options"]
    assert "nosuid" not in ms["/scratch2"]["options"]


# --------------------------------------------------------------------------- special filesystems


def test_default_special_mounts(rt):
    b = rt.bundle()
    ms = run_mounts(rt, b)
    assert ms["/proc"]["fstype"] == "proc"
    assert ms["/dev"]["fstype"] == "tmpfs"
    assert "nosuid" in ms["/dev"]["options"]
    assert "mode=755" in ms["/dev"]["super_options"]
    assert "size=65536k" in ms["/dev"]["super_options"]
    pts = ms["/dev/pts"]
    assert pts["fstype"] == "devpts"
    for o in ("gid=5", "mode=620", "ptmxmode=666"):
        assert o in pts["super_options"], pts
    assert "noexec" in pts["options"] and "nosuid" in pts["options"]
    shm = ms["/dev/shm"]
    assert shm["fstype"] == "tmpfs" and "size=65536k" in shm["super_options"]
    assert {"nosuid", "noexec", "nodev"} <= set(shm["options"])
    assert ms["/dev/mqueue"]["fstype"] == "mqueue"
    assert ms["/sys"]["fstype"] == "sysfs" and "ro" in ms["/sys"]["options"]
    assert "/sys/fs/cgroup" in ms


def test_devpts_is_new_instance(rt):
    b = rt.bundle()
    b.args("/bin/sh", "-c", "ls /dev/pts")
    out = expect_ok(rt.run(b)).stdout.split()
    # a fresh devpts instance only has ptmx (the host's ptys are not visible)
    assert out == ["ptmx"]


def test_proc_is_container_pid_namespace(rt):
    b = rt.bundle()
    b.args("/bin/sh", "-c", "ls /proc | grep -E '^[0-9]+$' | sort -n | head -1")
    assert expect_ok(rt.run(b)).stdout.strip() == "1"


def test_mqueue_mount_usable(rt):
    b = rt.bundle()
    b.add_mount("/mq2", "mqueue", "mqueue", ["nosuid", "nodev", "noexec"])
    ms = run_mounts(rt, b)
    assert ms["/mq2"]["fstype"] == "mqueue"


def test_sysfs_rw_mount(rt):
    b = rt.bundle()
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] not in ("/sys", "/sys/fs/cgroup")]
    b.add_mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev"])
    m = run_mounts(rt, b)["/sys"]
    assert m["fstype"] == "sysfs" and "ro" not in m["options"]


def test_cgroup_mount_readonly(rt):
    b = rt.bundle()
    j = rt.check(b, "mounts")
    cg = [m for m in j["mounts"] if m["mountpoint"].startswith("/sys/fs/cgroup/") and m["fstype"] in ("cgroup", "cgroup2")]
    assert cg, "no cgroup hierarchies mounted under /sys/fs/cgroup"
    for m in cg:
        assert "ro" in m["options"], m
    b2 = rt.bundle()
    b2.args("/bin/sh", "-c", "ls /sys/fs/cgroup")
    listing = expect_ok(rt.run(b2)).stdout.split()
    if os.path.isdir("/sys/fs/cgroup/memory"):
        assert "memory" in listing and "pids" in listing


def test_proc_mount_extra_location(rt):
    b = rt.bundle()
    b.add_mount("/proc2", "proc", "proc", ["nosuid", "nodev", "noexec"])
    b.args("cat", "/proc2/self/stat")
    out = expect_ok(rt.run(b)).stdout
    assert out.split()[1] == "(cat)"


# --------------------------------------------------------------------------- propagation


@pytest.mark.parametrize("opt,expect", [("shared", "shared"), ("rshared", "shared"),
                                        ("private", "private"), ("rprivate", "private"),
                                        ("unbindable", "unbindable"), ("runbindable", "unbindable")])
def test_mount_propagation_flags(rt, opt, expect):
    b = rt.bundle()
    b.add_mount("/p", "tmpfs", "tmpfs", [opt])
    m = run_mounts(rt, b)["/p"]
    assert m["propagation"] == expect, m


def test_mount_propagation_slave(rt):
    # Make a shared host mount, bind it into the container as rslave: the
    # container's copy must be a slave of the host peer group.
    src = _hostdir(rt, "shared-src")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "berth-shared", str(src)], check=True)
    subprocess.run(["mount", "--make-shared", str(src)], check=True)
    b = rt.bundle()
    b.add_mount("/s", "bind", src, ["rbind", "rslave"])
    m = run_mounts(rt, b)["/s"]
    assert m["propagation"] == "slave", m


def test_rootfs_propagation_accepted_and_root_not_shared_with_host(rt):
    for prop in ("private", "rprivate", "slave", "rslave"):
        b = rt.bundle()
        b.linux["rootfsPropagation"] = prop
        root = run_mounts(rt, b)["/"]
        assert root["propagation"] in ("private", "slave"), (prop, root)


@pytest.mark.berth_only  # runc 1.1.5 applies rootfsPropagation to the pre-pivot root; the pivoted "/" is always private
@pytest.mark.parametrize("prop,expect", [("shared", "shared"), ("private", "private"), ("unbindable", "unbindable")])
def test_rootfs_propagation_applied_to_root(rt, prop, expect):
    b = rt.bundle()
    b.linux["rootfsPropagation"] = prop
    assert run_mounts(rt, b)["/"]["propagation"] == expect


def test_rootfs_propagation_invalid_rejected(rt):
    b = rt.bundle()
    b.linux["rootfsPropagation"] = "sideways"
    expect_error(rt.run(b), "rootfsPropagation")
    rt.assert_nothing_left(b)


# --------------------------------------------------------------------------- masked / readonly paths


def test_masked_paths_default(rt):
    files = [f for f in ("/proc/kcore", "/proc/keys", "/proc/timer_list") if os.path.exists(f)]
    dirs = [d for d in ("/sys/firmware", "/proc/acpi") if os.path.isdir(d) and os.listdir(d)]
    if not files or not dirs:
        pytest.skip("host lacks the default masked proc/sys entries")
    f, d = files[0], dirs[0]
    b = rt.bundle()
    b.args("/bin/sh", "-c", f"/berth-checker read {f}; /berth-checker stat {f} {d}; /berth-checker ls {d}")
    import json
    out = [json.loads(l) for l in expect_ok(rt.run(b)).stdout.strip().splitlines()]
    assert out[0][f]["data"] == ""
    st = out[1]
    # a masked file is covered by /dev/null (char 1:3) ...
    assert st[f]["type"] == "c" and (st[f]["major"], st[f]["minor"]) == (1, 3), st
    # ... a masked directory by an empty read-only tmpfs
    assert out[2][d] == []
    assert "ro" in st[d]["fs_flags"]


def test_masked_paths_custom(rt):
    b = rt.bundle()
    (b.rootfs / "secret.txt").write_text("top-secret")
    (b.rootfs / "secretdir").mkdir()
    (b.rootfs / "secretdir/inner").write_text("hidden")
    b.linux["maskedPaths"] = ["/secret.txt", "/secretdir", "/does/not/exist"]
    b.args("/bin/sh", "-c", "/berth-checker read /secret.txt; /berth-checker ls /secretdir; "
           "/berth-checker write /secretdir/new")
    import json
    out = [json.loads(l) for l in expect_ok(rt.run(b)).stdout.strip().splitlines()]
    assert out[0]["/secret.txt"]["data"] == ""
    assert out[1]["/secretdir"] == []
    assert out[2]["ok"] is False and out[2]["errno"] == EROFS
    assert (b.rootfs / "secret.txt").read_text() == "top-secret"


def test_masked_paths_absent_means_visible(rt):
    b = rt.bundle()
    (b.rootfs / "secret.txt").write_text("visible")
    b.linux["maskedPaths"] = []
    assert rt.check(b, "read", "/secret.txt")["/secret.txt"]["data"] == "visible"


def test_readonly_paths_default(rt):
    b = rt.bundle()
    b.args("/bin/sh", "-c", "/berth-checker write /proc/sys/kernel/hostname x; /berth-checker stat /proc/sys")
    import json
    out = [json.loads(l) for l in expect_ok(rt.run(b)).stdout.strip().splitlines()]
    assert out[0]["ok"] is False and out[0]["errno"] == EROFS
    assert "ro" in out[1]["/proc/sys"]["fs_flags"]


def test_readonly_paths_custom(rt):
    b = rt.bundle()
    (b.rootfs / "rodir").mkdir()
    (b.rootfs / "rwdir").mkdir()
    b.linux["readonlyPaths"] = ["/rodir", "/not/there"]
    b.args("/bin/sh", "-c", "/berth-checker write /rodir/f; /berth-checker write /rwdir/f")
    import json
    out = [json.loads(l) for l in expect_ok(rt.run(b)).stdout.strip().splitlines()]
    assert out[0]["ok"] is False and out[0]["errno"] == EROFS
    assert out[1]["ok"] is True


def test_mount_order_later_mount_on_top(rt):
    a = _hostdir(rt, "a", {"f": "first"})
    c = _hostdir(rt, "c", {"f": "second"})
    b = rt.bundle()
    b.add_mount("/m", "bind", a, ["bind"])
    b.add_mount("/m", "bind", c, ["bind"])
    b.args("cat", "/m/f")
    assert expect_ok(rt.run(b)).stdout == "second"
