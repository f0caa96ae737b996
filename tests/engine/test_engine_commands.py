"""berth restart, cp, namespace ls/rm and the containerd split (`container info`, `task ...`)
end to end (root, real kernel).

Same setup as test_engine_containers.py (the `berth` fixture of conftest.py): $BERTH_BIN,
$BERTH_TEST_ENGINE_RUNTIME, a temp --root and --runroot per test, and a finalizer that removes
every container and checks that nothing (mount, cgroup) is left.

The cp escape tests follow the docker cp CVE class (CVE-2018-15664: a symlink swapped in while
the copy resolves its path; CVE-2019-14271): a container's symlinks to "/" or "../../.." must
resolve inside the container, whether it runs or not, and a tar stream cannot climb out.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

from engine_helpers import IMAGE, REQUIREMENTS, RUNTIME, _wait_for

pytestmark = list(REQUIREMENTS)

# sh as PID 1 with a TERM handler: stops at once.
TRAPPED = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]


def _sleeper(berth, *flags, name=None, cmd=TRAPPED):
    name = name or f"c-{uuid.uuid4().hex[:6]}"
    berth.container("--name", name, *flags, detach=True, cmd=list(cmd))
    return name


def _sh(berth, c, script, check=True):
    return berth.run("exec", c, "sh", "-c", script, check=check)


def _raw(berth, *args, input=None):
    """berth with bytes in and out (tar streams)."""
    return subprocess.run(berth.argv(*args), input=input, capture_output=True, timeout=60)


def _tar(entries) -> bytes:
    """A tar from (TarInfo, data) pairs."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _info(name, type=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, gid=0, link=""):
    i = tarfile.TarInfo(name)
    i.type = type
    i.mode = mode
    i.uid, i.gid = uid, gid
    i.linkname = link
    i.mtime = 1_600_000_000
    if type == tarfile.REGTYPE:
        i.size = len(data)
    return i, (data if type == tarfile.REGTYPE else None)


def _err(p, *words):
    assert p.returncode == 125, (p.returncode, p.stdout, p.stderr)
    for w in words:
        assert w in p.stderr, (w, p.stderr)


# --- restart --------------------------------------------------------------------------------

def test_restart(berth):
    c = _sleeper(berth)
    pid = berth.inspect(c)["State"]["Pid"]
    assert berth.run("restart", c).stdout == f"{c}\n"
    info = berth.inspect(c)
    assert info["State"]["Status"] == "running" and info["State"]["Pid"] not in (0, pid)

    # An exited container is started again; so is one that was only created.
    berth.run("stop", c)
    assert berth.inspect(c)["State"]["Status"] == "exited"
    berth.run("container", "restart", c)
    assert berth.inspect(c)["State"]["Status"] == "running"
    created = f"cr-{uuid.uuid4().hex[:6]}"
    berth.run("create", "--runtime", RUNTIME, "--name", created, IMAGE, *TRAPPED)
    berth.run("restart", created)
    assert berth.inspect(created)["State"]["Status"] == "running"

    # -t is the grace period: sleep as PID 1 ignores SIGTERM and is killed after it.
    deaf = _sleeper(berth, cmd=["sleep", "1000"])
    t0 = time.monotonic()
    berth.run("restart", "-t", "1", deaf)
    took = time.monotonic() - t0
    assert 0.9 < took < 8, took
    assert berth.inspect(deaf)["State"]["Status"] == "running"

    _err(berth.run("restart", "no-such-ctr", check=False), "no-such-ctr")


# --- cp: files and directories --------------------------------------------------------------

def test_cp_into_running_container(berth, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    c = _sleeper(berth, "-v", f"{vol}:/vol", "--tmpfs", "/scratch")
    f = tmp_path / "f.txt"
    f.write_text("hello\n")
    os.chmod(f, 0o640)
    os.chown(f, 1234, 5678)

    berth.run("cp", f, f"{c}:/tmp/")  # into an existing directory, under its own name
    assert _sh(berth, c, "cat /tmp/f.txt; stat -c '%a %u %g' /tmp/f.txt").stdout == \
        "hello\n640 0 0\n"
    berth.run("cp", "-a", f, f"{c}:/tmp/renamed")  # a new name; -a keeps uid/gid
    assert _sh(berth, c, "stat -c '%a %u %g' /tmp/renamed").stdout == "640 1234 5678\n"
    f.write_text("second\n")
    berth.run("cp", f, f"{c}:tmp/renamed")  # overwrite; the leading / is optional
    assert _sh(berth, c, "cat /tmp/renamed").stdout == "second\n"

    # A directory: recursive, modes, symlinks as symlinks.
    d = tmp_path / "tree"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "x").write_text("x\n")
    (d / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(d / "run.sh", 0o755)
    os.chmod(d / "sub", 0o750)
    (d / "link").symlink_to("/etc/passwd")
    (d / "rel").symlink_to("sub/x")
    berth.run("cp", d, f"{c}:/tmp/new")  # missing DEST: created with SRC's content
    out = _sh(berth, c, "cd /tmp/new && cat sub/x && stat -c '%a' run.sh sub && "
                        "readlink link && readlink rel && test -L link && echo ok").stdout
    assert out == "x\n755\n750\n/etc/passwd\nsub/x\nok\n"
    berth.run("cp", d, f"{c}:/tmp/new")  # existing DEST: SRC goes inside it
    assert _sh(berth, c, "cat /tmp/new/tree/sub/x").stdout == "x\n"
    _sh(berth, c, "mkdir /tmp/merge && echo keep > /tmp/merge/old")
    berth.run("cp", f"{d}/.", f"{c}:/tmp/merge")  # SRC/.: the contents
    assert _sh(berth, c, "ls /tmp/merge").stdout.split() == ["link", "old", "rel", "run.sh", "sub"]

    # The container's own mounts: a volume and a tmpfs the host's rootfs does not have.
    berth.run("cp", f, f"{c}:/vol/in-volume")
    assert (vol / "in-volume").read_text() == "second\n"
    berth.run("cp", f, f"{c}:/scratch/in-tmpfs")
    assert _sh(berth, c, "cat /scratch/in-tmpfs").stdout == "second\n"
    rootfs = Path(berth.inspect(c)["Rootfs"])
    assert not (rootfs / "scratch" / "in-tmpfs").exists()


def test_cp_out_of_running_container(berth, tmp_path):
    c = _sleeper(berth, "--tmpfs", "/scratch")
    _sh(berth, c, "mkdir -p /tmp/out/sub && echo a > /tmp/out/a && echo b > /tmp/out/sub/b && "
                  "chmod 600 /tmp/out/a && chown 1000:1001 /tmp/out/a && "
                  "ln -s /etc/passwd /tmp/out/l && ln /tmp/out/a /tmp/out/hard && "
                  "mkfifo /tmp/out/fifo && echo t > /scratch/t")
    dest = tmp_path / "out"
    berth.run("cp", f"{c}:/tmp/out", dest)
    assert (dest / "a").read_text() == "a\n" and (dest / "sub" / "b").read_text() == "b\n"
    st = os.lstat(dest / "a")
    assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o600, os.geteuid(), os.getegid())
    assert os.readlink(dest / "l") == "/etc/passwd"
    assert (dest / "hard").read_text() == "a\n"  # hard links may come out as files
    assert (dest / "fifo").is_fifo()
    berth.run("cp", "-a", f"{c}:/tmp/out/a", tmp_path / "a-archive")
    st = os.lstat(tmp_path / "a-archive")
    assert (st.st_uid, st.st_gid) == (1000, 1001)
    # Into an existing directory, and a file onto an existing file.
    (tmp_path / "into").mkdir()
    berth.run("cp", f"{c}:/tmp/out/sub", tmp_path / "into")
    assert (tmp_path / "into" / "sub" / "b").read_text() == "b\n"
    berth.run("cp", f"{c}:/tmp/out/sub/b", tmp_path / "into" / "sub" / "b2")
    berth.run("cp", f"{c}:/tmp/out/a", tmp_path / "into" / "sub" / "b2")
    assert (tmp_path / "into" / "sub" / "b2").read_text() == "a\n"
    # A tmpfs of the container's own mount namespace.
    berth.run("cp", f"{c}:/scratch/t", tmp_path / "t")
    assert (tmp_path / "t").read_text() == "t\n"
    # -L follows SRC when it is a symlink; without it the link itself is copied.
    berth.run("cp", f"{c}:/tmp/out/l", tmp_path / "link")
    assert os.readlink(tmp_path / "link") == "/etc/passwd"
    berth.run("cp", "-L", f"{c}:/tmp/out/l", tmp_path / "followed")
    assert "root:x:0:0" in (tmp_path / "followed").read_text()


def test_cp_errors(berth, tmp_path):
    c = _sleeper(berth)
    f = tmp_path / "f"
    f.write_text("f\n")
    _err(berth.run("cp", f"{c}:/no/such/file", tmp_path / "x", check=False), "/no/such/file")
    _err(berth.run("cp", "nosuchctr:/etc/passwd", tmp_path / "x", check=False), "nosuchctr")
    _err(berth.run("cp", f, "nosuchctr:/tmp", check=False), "nosuchctr")
    _err(berth.run("cp", tmp_path / "missing", f"{c}:/tmp", check=False), "missing")
    _err(berth.run("cp", f, f"{c}:/tmp/no-dir/", check=False), "does not exist")
    _err(berth.run("cp", f, f"{c}:/no/parent/x", check=False), "does not exist")
    _err(berth.run("cp", f"{c}:/etc/passwd/", tmp_path / "y", check=False), "not a directory")
    _err(berth.run("cp", tmp_path, f"{c}:/etc/passwd", check=False), "directory")
    _err(berth.run("cp", f"{c}:/etc", f, check=False), "directory")
    _err(berth.run("cp", f, tmp_path / "g", check=False), "CONTAINER:PATH")
    _err(berth.run("cp", f"{c}:/a", f"{c}:/b", check=False), "between containers")
    # A file never replaces a directory.
    _sh(berth, c, "mkdir /tmp/adir")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "adir").write_text("file\n")
    _err(berth.run("cp", f"{tmp_path}/src/.", f"{c}:/tmp", check=False), "adir")


# --- cp: tar streams ------------------------------------------------------------------------

def test_cp_tar_streams(berth):
    c = _sleeper(berth)
    p = _raw(berth, "cp", f"{c}:/etc", "-")
    assert p.returncode == 0, p.stderr
    with tarfile.open(fileobj=io.BytesIO(p.stdout)) as t:
        names = t.getnames()
        assert "etc/passwd" in names and "etc" in names
        assert b"root:x:0:0" in t.extractfile("etc/passwd").read()

    tar = _tar([
        _info("in", tarfile.DIRTYPE, mode=0o751, uid=42, gid=43),
        _info("in/f", data=b"data\n", mode=0o600, uid=42, gid=43),
        _info("in/l", tarfile.SYMTYPE, link="/"),
        _info("in/h", tarfile.LNKTYPE, link="in/f"),
        _info("implied/parent/g", data=b"g\n"),
    ])
    p = _raw(berth, "cp", "-", f"{c}:/tmp", input=tar)
    assert p.returncode == 0, p.stderr
    out = _sh(berth, c, "cd /tmp && cat in/f implied/parent/g && readlink in/l && "
                        "stat -c '%a %u %g %h' in in/f").stdout
    assert out == "data\ng\n/\n751 0 0 2\n600 0 0 2\n"
    _sh(berth, c, "mkdir /tmp/a")
    p = _raw(berth, "cp", "-a", "-", f"{c}:/tmp/a", input=tar)
    assert p.returncode == 0, p.stderr
    assert _sh(berth, c, "stat -c '%u %g' /tmp/a/in/f").stdout == "42 43\n"

    p = _raw(berth, "cp", "-", f"{c}:/etc/passwd", input=tar)
    assert p.returncode == 125 and b"directory" in p.stderr, p.stderr
    p = _raw(berth, "cp", "-", f"{c}:/tmp", input=b"not a tar archive at all" * 40)
    assert p.returncode == 125 and b"tar" in p.stderr, p.stderr


# --- cp: escapes ----------------------------------------------------------------------------

def _host_gone(*paths):
    for p in paths:
        if os.path.lexists(p):
            os.unlink(p)
            raise AssertionError(f"the copy escaped to the host: {p}")


def test_cp_symlinks_stay_in_running_container(berth, tmp_path):
    c = _sleeper(berth)
    tag = uuid.uuid4().hex[:8]
    secret = tmp_path / f"host-secret-{tag}"
    secret.write_text("host only\n")
    _sh(berth, c, "ln -s / /escape && ln -s ../../../../../../.. /tmp/up && "
                  f"echo inside > /marker-{tag} && mkdir /d && ln -s ../../../.. /d/dotdot")
    f = tmp_path / "f"
    f.write_text("payload\n")

    # Reading through the links reaches the container's files, never the host's.
    for via in ("/escape", "/tmp/up", "/d/dotdot"):
        out = tmp_path / f"out{abs(hash(via))}"
        berth.run("cp", f"{c}:{via}/marker-{tag}", out)
        assert out.read_text() == "inside\n"
        _err(berth.run("cp", f"{c}:{via}{secret}", tmp_path / "leak", check=False), str(secret))
    assert not (tmp_path / "leak").exists()

    # Writing through them lands in the container.
    for i, via in enumerate(("/escape/tmp", "/tmp/up/tmp", "/d/dotdot/tmp")):
        name = f"berth-cp-escape-{tag}-{i}"
        berth.run("cp", f, f"{c}:{via}/{name}")
        _host_gone(f"/tmp/{name}")
        assert _sh(berth, c, f"cat /tmp/{name}").stdout == "payload\n"
    berth.run("cp", tmp_path, f"{c}:/escape/tmp/dir-{tag}")
    _host_gone(f"/tmp/dir-{tag}")
    assert _sh(berth, c, f"cat /tmp/dir-{tag}/f").stdout == "payload\n"

    # Out: the links come out as links, and nothing is written through them.
    dest = tmp_path / "links"
    berth.run("cp", f"{c}:/d", dest)
    assert os.readlink(dest / "dotdot") == "../../../.."
    berth.run("cp", f"{c}:/escape", tmp_path / "esc")
    assert os.readlink(tmp_path / "esc") == "/"

    # A tar stream cannot climb out, by name or through a symlink it makes.
    bad = _tar([_info(f"../../../../tmp/berth-tar-escape-{tag}", data=b"x")])
    p = _raw(berth, "cp", "-", f"{c}:/tmp", input=bad)
    assert p.returncode == 125 and b"leaves" in p.stderr, p.stderr
    _host_gone(f"/tmp/berth-tar-escape-{tag}")
    via_link = _tar([_info("l", tarfile.SYMTYPE, link="/"),
                     _info(f"l/tmp/berth-tar-link-{tag}", data=b"in\n")])
    p = _raw(berth, "cp", "-", f"{c}:/d", input=via_link)
    assert p.returncode == 0, p.stderr
    _host_gone(f"/tmp/berth-tar-link-{tag}")
    assert _sh(berth, c, f"cat /tmp/berth-tar-link-{tag}").stdout == "in\n"


def test_cp_symlink_swap_race(berth, tmp_path):
    """CVE-2018-15664: the container swaps a directory and a symlink to / while cp resolves."""
    c = _sleeper(berth)
    tag = uuid.uuid4().hex[:8]
    _sh(berth, c, "mkdir /race.d /race.l.d && ln -s / /race.l.d/race && mv /race.d /race")
    berth.run("exec", "-d", c, "sh", "-c",
              "while true; do mv /race /race.d; mv /race.l.d/race /race; "
              "mv /race /race.l.d/race; mv /race.d /race; done")
    f = tmp_path / "f"
    f.write_text("x\n")
    ok = 0
    for i in range(40):
        p = berth.run("cp", f, f"{c}:/race/berth-race-{tag}-{i}", check=False)
        ok += p.returncode == 0
        _host_gone(f"/berth-race-{tag}-{i}")
    assert ok > 0  # some copies went through, all of them inside the container


def test_cp_stopped_container(berth, tmp_path):
    tag = uuid.uuid4().hex[:8]
    c = f"st-{tag}"
    berth.container("--name", c, cmd=["sh", "-c", "echo made > /made && ln -s / /escape && "
                                      "ln -s ../../../../.. /up"])
    assert berth.inspect(c)["State"]["Status"] == "exited"
    berth.run("cp", f"{c}:/made", tmp_path / "made")
    assert (tmp_path / "made").read_text() == "made\n"
    f = tmp_path / "f"
    f.write_text("into stopped\n")
    for via in ("/escape/tmp", "/up/tmp"):
        name = f"berth-cp-stopped-{tag}-{via.count('u')}"
        berth.run("cp", f, f"{c}:{via}/{name}")
        _host_gone(f"/tmp/{name}")
        berth.run("cp", f"{c}:/tmp/{name}", tmp_path / name)
        assert (tmp_path / name).read_text() == "into stopped\n"
    # The next run sees what was copied in.
    berth.run("start", c)
    berth.run("wait", c)

    # Created, never started: the writable layer, as the first start will mount it.
    cr = f"cr-{tag}"
    berth.run("create", "--runtime", RUNTIME, "--name", cr, IMAGE, "cat", "/tmp/f")
    berth.run("cp", f, f"{cr}:/tmp/f")
    assert berth.run("start", "-a", cr).stdout == "into stopped\n"

    ro = f"ro-{tag}"
    berth.run("create", "--runtime", RUNTIME, "--read-only", "--name", ro, IMAGE, "true")
    _err(berth.run("cp", f, f"{ro}:/tmp/f", check=False), "read-only")
    berth.run("cp", f"{ro}:/etc/passwd", tmp_path / "passwd")  # reading is fine


# --- the containerd split -------------------------------------------------------------------

def _tasks(berth) -> dict:
    return {t["Name"]: t for t in json.loads(berth.run("task", "ls", "--format", "json").stdout)}


def test_container_info_is_configuration_only(berth):
    c = _sleeper(berth, "-l", "k=v")
    [info] = json.loads(berth.run("container", "info", c).stdout)
    assert info["Name"] == c and len(info["ID"]) == 64 and info["Image"] == IMAGE
    assert info["Command"] == TRAPPED and info["Labels"] == {"k": "v"}
    assert info["Runtime"]["Name"].endswith(os.path.basename(RUNTIME))
    assert info["Spec"]["process"]["args"] == TRAPPED
    assert not {"State", "Pid", "Status"} & set(info)
    assert berth.run("container", "info", "-f", "{{.Name}}", c).stdout == f"{c}\n"
    _err(berth.run("container", "info", "nosuchctr", check=False), "nosuchctr")
    # podman's container verbs keep working.
    for verb in ("ls", "ps", "list"):
        assert c in berth.run("container", verb).stdout
    assert berth.run("container", "inspect", c).returncode == 0


def test_task_commands(berth):
    c = _sleeper(berth)
    cr = f"cr-{uuid.uuid4().hex[:6]}"
    berth.run("container", "create", "--runtime", RUNTIME, "--name", cr, IMAGE, "sh", "-c",
              "echo hi; exit 3")
    tasks = _tasks(berth)
    assert cr not in tasks  # created, no task yet
    pid = berth.inspect(c)["State"]["Pid"]
    assert tasks[c]["Status"] == "RUNNING" and tasks[c]["Pid"] == pid
    assert tasks[c]["ExitStatus"] is None
    table = berth.run("task", "ls").stdout.splitlines()
    assert table[0].split() == ["TASK", "NAME", "PID", "STATUS", "EXIT"]
    assert berth.run("task", "ls", "-q").stdout.split() == [tasks[c]["ID"][:12]]
    assert str(pid) in berth.run("task", "ps", c).stdout.split()

    berth.run("task", "pause", c)
    assert _tasks(berth)[c]["Status"] == "PAUSED"
    berth.run("task", "resume", c)
    assert _tasks(berth)[c]["Status"] == "RUNNING"

    _err(berth.run("task", "delete", c, check=False), "stop it first")
    berth.run("task", "kill", "-s", "KILL", c)
    _wait_for(lambda: _tasks(berth)[c]["Status"] == "STOPPED", what="the task to stop")
    t = _tasks(berth)[c]
    assert t["ExitStatus"] == 137 and t["Pid"] == 0
    assert berth.run("task", "delete", c).stdout == f"{c}\n"
    assert c not in _tasks(berth)
    assert berth.inspect(c)["State"]["Status"] == "created"  # the container stays

    berth.run("task", "start", "-d", c)
    assert _tasks(berth)[c]["Status"] == "RUNNING"
    _err(berth.run("task", "start", "-d", c, check=False), "already")
    berth.run("task", "kill", c)  # SIGTERM by default: the trap exits 0
    _wait_for(lambda: _tasks(berth)[c]["Status"] == "STOPPED", what="SIGTERM")
    assert _tasks(berth)[c]["ExitStatus"] == 0
    berth.run("task", "start", "-d", c)
    berth.run("task", "rm", "-f", c)
    assert c not in _tasks(berth)

    # Attached start: the task's output and exit status.
    p = berth.run("task", "start", cr, check=False)
    assert p.returncode == 3 and p.stdout == "hi\n", p
    assert _tasks(berth)[cr]["ExitStatus"] == 3

    for args in (["kill"], ["ps"], ["pause"], ["resume"], ["start", "-d"], ["delete"]):
        _err(berth.run("task", *args, "nosuchctr", check=False), "nosuchctr")
    _err(berth.run("task", "pause", cr, check=False), "not running")


# --- namespaces -----------------------------------------------------------------------------

def test_namespace_ls_rm(berth):
    ns = f"ns{uuid.uuid4().hex[:6]}"
    try:
        assert berth.run("namespace", "ls", "-q").stdout == ""
        berth.run("create", "--runtime", RUNTIME, IMAGE, "true")
        c = berth.run("-n", ns, "run", "-d", "--runtime", RUNTIME, "--name", "inns", IMAGE,
                      *TRAPPED).stdout.strip()
        listed = {n["Name"]: n["Containers"]
                  for n in json.loads(berth.run("namespace", "ls", "--format", "json").stdout)}
        assert listed == {"default": 1, ns: 1}
        assert berth.run("namespace", "ls", "-q").stdout.split() == sorted(["default", ns])
        assert berth.run("ns", "ls").stdout.splitlines()[0].split() == ["NAME", "CONTAINERS"]
        # Containers are per namespace.
        assert [x["Id"] for x in json.loads(
            berth.run("-n", ns, "ps", "--format", "json").stdout)] == [c]
        _err(berth.run("-n", "default", "inspect", "inns", check=False), "inns")

        _err(berth.run("namespace", "rm", ns, check=False), "not empty")
        berth.run("-n", ns, "rm", "-f", "inns")
        # Its run state is left (empty): still listed, now removable.
        assert berth.run("namespace", "rm", ns).stdout == f"{ns}\n"
        assert ns not in berth.run("namespace", "ls", "-q").stdout.split()
        _err(berth.run("namespace", "rm", ns, check=False), "not found")
        _err(berth.run("namespace", "rm", "default", check=False), "not empty")
    finally:
        berth.run("-n", ns, "rm", "-f", "--all", check=False)
