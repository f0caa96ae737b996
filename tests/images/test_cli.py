"""The `berth` command's image commands, podman-style: global flags and errors, ls / inspect /
tag / rm / prune, import of a rootfs tarball and of a directory, export of the flattened
filesystem, podman's top-level aliases, and pull / push against a local docker-registry.
Root; run with `pytest tests/images/test_cli.py`."""
import io
import json
import os
import subprocess
import tarfile

import pytest

from cli_fixtures import (BUSYBOX_NAME, Berth, berth, busybox_tar, needs_skopeo,  # noqa: F401
                          podman)
from registry_fixtures import multilayer_layout, needs_registry, registry_factory  # noqa: F401


def tar_members(path):
    with tarfile.open(path) as t:
        return {m.name.lstrip("./"): m for m in t.getmembers()}


# ---- global flags and errors ----------------------------------------------------------------

def test_errors_and_exit_codes(berth):
    p = berth.run(check=False)
    assert p.returncode == 125 and "missing command 'berth COMMAND'" in p.stderr
    assert "unrecognized command `berth frobnicate`" in berth.fails("frobnicate")
    assert "missing command 'berth image COMMAND'" in berth.fails("image")
    assert "--bogus" in berth.fails("image", "ls", "--bogus")
    assert "log-level" in berth.fails("--log-level", "loud", "images")
    assert "nosuch: image not known" in berth.fails("image", "inspect", "nosuch")
    berth.fails("rmi", "nosuch", code=1)  # podman: 1 when an image does not exist
    berth.run("rmi", "-i", "nosuch")
    assert berth.run("--version").stdout.startswith("berth version")


def test_roots_are_independent(berth, berth_bin, busybox_tar, tmp_root):
    other = Berth(berth_bin, tmp_root, name="second")
    berth.run("load", "-i", busybox_tar)
    assert berth.names() == [BUSYBOX_NAME]
    assert other.names() == []
    assert (berth.root / "berth.db").exists()
    assert other.blob_count() == 0


# ---- ls, inspect, tag, rm, prune -------------------------------------------------------------

def test_ls_formats(berth, busybox_tar):
    berth.run("load", "-i", busybox_tar)
    lines = berth.run("images").stdout.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    row = lines[1].split()
    img = berth.inspect(BUSYBOX_NAME)
    assert row[:3] == ["localhost/berthtest/busybox", "1", img["Id"][:12]]
    assert berth.run("image", "ls", "-q").stdout == img["Id"][:12] + "\n"
    assert berth.run("image", "list", "--no-trunc", "-q").stdout == "sha256:" + img["Id"] + "\n"
    js = berth.json("image", "ls", "--format", "json")
    assert len(js) == 1 and js[0]["Id"] == img["Id"] and js[0]["Names"] == [BUSYBOX_NAME]
    assert js[0]["Digest"] == img["Digest"] and js[0]["Size"] == img["Size"]
    out = berth.run("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout
    assert out == f"{BUSYBOX_NAME} {img['Id'][:12]}\n"


def test_inspect_fields(berth, busybox_tar):
    berth.run("load", "-i", busybox_tar)
    img = berth.inspect(BUSYBOX_NAME)
    for key in ("Id", "Digest", "RepoTags", "RepoDigests", "Created", "Architecture", "Os",
                "Config", "RootFS", "Size"):
        assert key in img, key
    assert len(img["Id"]) == 64 and img["Digest"].startswith("sha256:")
    assert img["RepoTags"] == [BUSYBOX_NAME]
    assert img["RepoDigests"] == ["localhost/berthtest/busybox@" + img["Digest"]]
    assert img["Created"] == "1970-01-01T00:00:00Z"
    assert img["Os"] == "linux"
    assert img["Config"] == {"Cmd": ["sh"], "WorkingDir": "/", "Env": [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}
    assert img["RootFS"]["Type"] == "layers" and len(img["RootFS"]["Layers"]) == 1
    assert img["Size"] > 1_000_000
    # By ID prefix, and with a template.
    assert berth.inspect(img["Id"][:12])["Id"] == img["Id"]
    out = berth.run("image", "inspect", "--format", "{{.Id}} {{.Os}} {{json .Config.Cmd}}",
                    BUSYBOX_NAME).stdout
    assert out == f"{img['Id']} linux [\"sh\"]\n"


def test_tag_rm_and_prune(berth, busybox_tar):
    berth.run("load", "-i", busybox_tar)
    img = berth.inspect(BUSYBOX_NAME)
    berth.run("tag", BUSYBOX_NAME, "mine:2", "quay.io/x/y:3")
    assert berth.names() == sorted([BUSYBOX_NAME, "localhost/mine:2", "quay.io/x/y:3"])
    assert sorted(berth.inspect("mine:2")["RepoTags"]) == berth.names()
    # By ID with several names: refused without -f.
    assert "more than one tag" in berth.fails("rmi", img["Id"][:12])
    out = berth.run("rmi", "mine:2").stdout
    assert out == "Untagged: localhost/mine:2\n"
    blobs = berth.blob_count()
    assert blobs >= 3
    out = berth.run("image", "rm", "-f", img["Id"]).stdout
    assert f"Untagged: {BUSYBOX_NAME}" in out and f"Deleted: {img['Id']}" in out
    assert berth.names() == []
    assert berth.blob_count() == 0  # rmi frees what nothing references
    out = berth.run("image", "prune").stdout
    assert "Total reclaimed space: 0 B" in out
    # prune -a removes every image and reports what it freed.
    berth.run("load", "-i", busybox_tar)
    out = berth.run("image", "prune", "-a").stdout
    assert img["Id"] in out and "Removed 3 blobs" in out
    assert berth.names() == [] and berth.blob_count() == 0


# ---- import, import-rootfs, export -----------------------------------------------------------

def make_rootfs(d):
    (d / "etc").mkdir(parents=True)
    (d / "bin").mkdir()
    (d / "etc/greeting").write_text("hello\n")
    (d / "bin/tool").write_bytes(os.urandom(50000))
    os.chmod(d / "bin/tool", 0o755)
    os.link(d / "bin/tool", d / "bin/tool2")
    os.symlink("tool", d / "bin/alias")
    os.chown(d / "etc/greeting", 1000, 1001)


def test_import_rootfs_directory(berth, tmp_root):
    rootfs = tmp_root / "rootfs"
    make_rootfs(rootfs)
    out = berth.run("image", "import-rootfs", "-c", "CMD [\"/bin/tool\"]", "-c", "ENV A=b",
                    "-c", "EXPOSE 80", "-c", "LABEL k=v", "-c", "WORKDIR /etc",
                    rootfs, "mine:1").stdout.strip()
    img = berth.inspect("localhost/mine:1")
    assert out == img["Id"]
    assert img["Config"]["Cmd"] == ["/bin/tool"]
    assert img["Config"]["Env"] == ["A=b"]
    assert img["Config"]["ExposedPorts"] == {"80/tcp": {}}
    assert img["Config"]["Labels"] == {"k": "v"}
    assert img["Config"]["WorkingDir"] == "/etc"
    assert len(img["RootFS"]["Layers"]) == 1
    exp = tmp_root / "exp.tar"
    berth.run("image", "export", "-o", exp, "mine:1")
    m = tar_members(exp)
    assert m["etc/greeting"].uid == 1000 and m["etc/greeting"].gid == 1001
    assert m["bin/alias"].issym() and m["bin/alias"].linkname == "tool"
    assert m["bin/tool"].mode & 0o777 == 0o755
    assert m["bin/tool2"].islnk() or m["bin/tool"].islnk()
    with tarfile.open(exp) as t:
        assert t.extractfile("etc/greeting").read() == b"hello\n"
    # Its layer is stored gzip-compressed with a matching diff ID: skopeo agrees.
    saved = tmp_root / "mine.tar"
    berth.run("save", "--format", "oci-archive", "-o", saved, "mine:1")
    raw = json.loads(subprocess.run(["skopeo", "inspect", "--raw", f"oci-archive:{saved}"],
                                    check=True, capture_output=True, text=True).stdout)
    assert raw["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"


@pytest.mark.parametrize("compress", ["", "gz", "xz"])
def test_import_tarball(berth, tmp_root, compress):
    rootfs = tmp_root / "rootfs"
    make_rootfs(rootfs)
    tarball = tmp_root / ("rootfs.tar" + ("." + compress if compress else ""))
    mode = "w:" + compress if compress else "w"
    with tarfile.open(tarball, mode) as t:
        t.add(rootfs, arcname=".")
    out = berth.run("import", "--change", "CMD /bin/tool", tarball, "tarimg").stdout.strip()
    img = berth.inspect("localhost/tarimg:latest")
    assert img["Id"] == out
    assert img["Config"]["Cmd"] == ["/bin/sh", "-c", "/bin/tool"]
    exp = tmp_root / "exp.tar"
    berth.run("image", "export", "tarimg", "-o", exp)
    assert {"etc/greeting", "bin/tool", "bin/alias"} <= set(tar_members(exp))
    bad = tmp_root / "bad.tar"
    bad.write_bytes(b"x" * 100)
    assert "not a tar" in berth.fails("import", bad, "bad")


def test_export_busybox(berth, busybox_tar, tmp_root):
    berth.run("load", "-i", busybox_tar)
    exp = tmp_root / "fs.tar"
    berth.run("image", "export", BUSYBOX_NAME, "-o", exp)
    m = tar_members(exp)
    assert m["bin/busybox"].isfile() and m["bin/sh"].issym()
    # To stdout when it is not a terminal.
    p = subprocess.run(berth.base + ["image", "export", BUSYBOX_NAME], capture_output=True)
    assert p.returncode == 0
    with tarfile.open(fileobj=io.BytesIO(p.stdout)) as t:
        assert "bin/busybox" in [n.lstrip("./") for n in t.getnames()]


# ---- pull and push against a local registry ------------------------------------------------

@needs_registry
def test_push_then_pull(berth, berth_bin, busybox_tar, tmp_root, registry_factory):  # noqa: F811
    reg = registry_factory("http")
    berth.run("load", "-i", busybox_tar)
    want = berth.inspect(BUSYBOX_NAME)
    dest = f"{reg.host}/berth/busybox:1"
    berth.run("push", "--tls-verify=false", BUSYBOX_NAME, dest)
    # A plain-HTTP registry needs --tls-verify=false.
    other = Berth(berth_bin, tmp_root, name="puller")
    other.fails("pull", dest)
    out = other.run("pull", "--tls-verify=false", dest).stdout.strip()
    assert out == want["Id"]
    assert other.inspect(dest)["RootFS"] == want["RootFS"]
    assert other.names() == [dest]
    # skopeo reads what berth pushed.
    raw = json.loads(subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--raw",
                                     f"docker://{dest}"], check=True, capture_output=True,
                                    text=True).stdout)
    assert raw["config"]["digest"] == "sha256:" + want["Id"]


# What the multi-layer test image (scripts/make-test-images.sh "layers") must look like from
# inside a container: whiteouts, an opaque directory, re-added files, hard links, modes.
# (/etc/hostname inside is the container's own, bind-mounted as docker does: the image's layer-2
# version is read with `berth cp` from a created container.)
IN_CONTAINER_CHECK = """
cat /etc/removeme; ls /gone; ls /opq; cat /etc/hostname
stat -c '%h %a' /usr/share/hl/one; stat -c '%a' /usr/bin/suid /etc/secret
readlink /etc/abs-link; cat /implicit/deep/file
"""
IN_CONTAINER_WANT = """back in layer 3
new
newer
multilayer
3 644
4750
600
/etc/hostname
parents not in the tar
"""


@needs_registry
@pytest.mark.parametrize("kind", ["http", "tls", "auth"])
def test_pull_push_pull_run_multilayer(berth, berth_bin, tmp_root, registry_factory,  # noqa: F811
                                       kind):
    layout = multilayer_layout(tmp_root / "src")
    if layout is None:
        pytest.skip("scripts/make-test-images.sh or zstd missing")
    reg = registry_factory(kind)
    reg.load(f"oci:{layout.path}:{layout.tag}", "test/layers:1")
    flags = {"http": ["--tls-verify=false"], "tls": ["--cert-dir", reg.cert_dir],
             "auth": ["--tls-verify=false", "--authfile", reg.auth_file]}[kind]
    src, dest = f"{reg.host}/test/layers:1", f"{reg.host}/test/copy:2"
    berth.run("pull", *flags, src)
    berth.run("push", *flags, src, dest)
    fresh = Berth(berth_bin, tmp_root, name="fresh")
    image_id = fresh.run("pull", *flags, dest).stdout.strip()
    assert image_id == berth.inspect(src)["Id"]
    out = fresh.run("run", "--rm", "--network", "none", "--hostname", "multilayer", dest, "sh",
                    "-c", IN_CONTAINER_CHECK)
    assert out.stdout == IN_CONTAINER_WANT
    fresh.run("create", "--network", "none", "--name", "files", dest)
    fresh.run("cp", "files:/etc/hostname", tmp_root / "hostname")
    assert (tmp_root / "hostname").read_text() == "layer2\n"
    fresh.run("rm", "files")
    # --rm left no container behind; the image stays.
    assert fresh.run("ps", "-a", "-q").stdout.strip() == ""
    assert fresh.names() == [dest]


def test_aliases_and_stdin(berth, busybox_tar, tmp_root):
    # `berth load` reads a pipe like podman; `berth image load` is the same command.
    with open(busybox_tar, "rb") as f:
        p = subprocess.run(berth.base + ["image", "load"], stdin=f, capture_output=True)
    assert p.returncode == 0, p.stderr
    data = open(busybox_tar, "rb").read()
    p = subprocess.run(berth.base + ["load"], input=data, capture_output=True)
    assert p.returncode == 0 and p.stdout == f"Loaded image: {BUSYBOX_NAME}\n".encode(), p.stderr
    berth.run("tag", BUSYBOX_NAME, "alias:1")
    berth.run("save", "-o", tmp_root / "a.tar", "alias:1")
    berth.run("rmi", "alias:1")
    assert berth.names() == [BUSYBOX_NAME]
    assert berth.run("images", "-q").stdout == berth.run("image", "ls", "-q").stdout
