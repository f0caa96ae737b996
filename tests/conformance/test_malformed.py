"""Malformed input: the runtime fails cleanly and leaves nothing behind
(no state entry, no cgroup dir, no mounts)."""

import json

import pytest

from conftest import expect_error


def _check(rt, b, hint, raw=None, verb="run"):
    before = rt.mounts_mentioning(str(b.path), b.id)
    if raw is not None:
        b.write(raw)
        write = False
    else:
        write = True
    res = rt.run(b, write=write) if verb == "run" else rt.create(b, write=write)
    expect_error(res, hint)
    assert rt.status(b.id) is None
    rt.assert_nothing_left(b)
    assert rt.mounts_mentioning(str(b.path), b.id) == before
    return res


@pytest.mark.parametrize("verb", ["run", "create"])
def test_broken_json(rt, verb):
    b = rt.bundle()
    raw = json.dumps(b.config)[:-20]
    _check(rt, b, "json", raw=raw, verb=verb)


def test_empty_config(rt):
    b = rt.bundle()
    _check(rt, b, "config", raw="")


def test_config_not_an_object(rt):
    b = rt.bundle()
    _check(rt, b, "config", raw="[1, 2, 3]")


@pytest.mark.parametrize("path,value,hint", [
    (("hostname",), 5, "hostname"),
    (("process", "args"), "not-a-list", "args"),
    (("process", "user", "uid"), "zero", "uid"),
    (("process", "terminal"), "yes", "terminal"),
    (("process", "env"), {"A": "1"}, "env"),
    (("root",), "rootfs", "root"),
    (("mounts",), {"destination": "/x"}, "mounts"),
    (("linux", "namespaces"), "pid", "namespaces"),
    (("linux", "resources", "memory", "limit"), "lots", "limit"),
])
def test_wrong_types(rt, path, value, hint):
    b = rt.bundle()
    node = b.config
    for k in path[:-1]:
        node = node.setdefault(k, {})
    node[path[-1]] = value
    _check(rt, b, hint)


def test_missing_oci_version(rt):
    b = rt.bundle()
    del b.config["ociVersion"]
    res = rt.run(b)
    if res.returncode == 0 and rt.kind != "berth":
        pytest.skip(f"{rt.kind} does not require ociVersion")
    expect_error(res, "ociVersion")
    rt.assert_nothing_left(b)


def test_missing_process_for_run(rt):
    b = rt.bundle()
    del b.config["process"]
    _check(rt, b, "process")


def test_empty_args(rt):
    b = rt.bundle()
    b.config["process"]["args"] = []
    _check(rt, b, "args")


def test_relative_cwd(rt):
    b = rt.bundle()
    b.config["process"]["cwd"] = "relative/dir"
    _check(rt, b, "cwd")


def test_unknown_namespace_type(rt):
    b = rt.bundle()
    b.linux["namespaces"].append({"type": "frobspace"})
    _check(rt, b, "frobspace")


@pytest.mark.berth_only  # runc 1.1.5 only warns about relative mount destinations and carries on
def test_relative_mount_destination(rt):
    b = rt.bundle()
    b.add_mount("relative/mnt", "tmpfs", "tmpfs")
    _check(rt, b, "destination")


def test_mount_destination_escaping_rootfs_stays_inside(rt):
    # "../../../x" must be resolved inside the rootfs, never on the host
    b = rt.bundle()
    marker = rt.tmp / "escape-marker"
    b.add_mount("/../../../../../../" + str(marker).lstrip("/"), "tmpfs", "tmpfs")
    b.checker("pid")
    rt.run(b)
    assert not marker.exists()
    assert not rt.mounts_mentioning(str(marker))


def test_missing_rootfs(rt):
    b = rt.bundle()
    b.config["root"]["path"] = "no-such-rootfs"
    _check(rt, b, "no-such-rootfs")


def test_nonexistent_bundle(rt):
    cid = rt.new_id()
    res = rt.cmd("run", "--bundle", rt.tmp / "no-such-bundle", cid)
    expect_error(res, "no-such-bundle")
    assert cid not in rt.state_entries()


def test_bundle_without_config(rt):
    b = rt.bundle()
    res = rt.cmd("create", "--bundle", b.path, b.id)  # config.json never written
    expect_error(res, "config.json")
    rt.assert_nothing_left(b)


def test_missing_executable(rt):
    b = rt.bundle("/no/such/binary")
    _check(rt, b, "/no/such/binary")


def test_executable_not_in_path(rt):
    b = rt.bundle("definitely-not-a-command")
    _check(rt, b, "definitely-not-a-command")


def test_unknown_signal_name(rt):
    b = rt.bundle()
    b.checker("sleep", "60")
    assert rt.create(b).returncode == 0
    expect_error(rt.kill(b.id, "SIGNOTREAL"), "SIGNOTREAL")
    expect_error(rt.kill(b.id, "99999"), "99999")
    assert rt.status(b.id) == "created"


@pytest.mark.parametrize("bad_id", ["", "../escape", "a/b", "..", "with space"])
def test_invalid_container_id(rt, bad_id):
    b = rt.bundle()
    b.write()
    res = rt.cmd("create", "--bundle", b.path, bad_id, stdout_file=rt.tmp / "badid.out")
    assert res.returncode != 0, res
    assert not (rt.tmp / "escape").exists()
    assert not list(rt.root.iterdir()) or all(e != bad_id for e in rt.state_entries())


def test_start_unknown_container(rt):
    expect_error(rt.cmd("start", "bt-does-not-exist"), "bt-does-not-exist")


def test_missing_container_id_argument(rt):
    for verb in ("create", "start", "state", "delete", "kill", "exec", "ps", "pause", "resume", "events"):
        res = rt.cmd(verb)
        assert res.returncode != 0, (verb, res)


def test_bad_device_path_outside_dev(rt):
    b = rt.bundle()
    b.linux["devices"] = [{"path": "/../../escape-dev", "type": "c", "major": 1, "minor": 3}]
    b.checker("pid")
    rt.run(b)
    assert not (rt.tmp / "escape-dev").exists()


def test_unknown_rlimit(rt):
    b = rt.bundle()
    b.process["rlimits"] = [{"type": "RLIMIT_WHATEVER", "soft": 1, "hard": 1}]
    _check(rt, b, "RLIMIT_WHATEVER")


def test_gid_mapping_without_uid_mapping(rt):
    b = rt.bundle()
    b.set_namespace("user")
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    _check(rt, b, "uidMappings")
