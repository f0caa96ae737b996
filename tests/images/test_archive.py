"""Image archives through the `berth` CLI: load the busybox image in each format (OCI archive,
docker-archive and OCI layout written by skopeo), save it in each format and prove that podman
and skopeo read what berth writes. Root; run with `pytest tests/images/test_archive.py`."""
import json
import os
import subprocess
import tarfile

import pytest

from cli_fixtures import (BUSYBOX_NAME, berth, busybox_formats, busybox_tar, make_busybox,  # noqa: F401
                          needs_skopeo, podman)

FORMATS = ["oci-archive", "docker-archive", "oci-dir"]


def config_digest_of(path, fmt):
    """The image ID (config digest) as skopeo reads the archive."""
    transport = {"oci-archive": "oci-archive", "docker-archive": "docker-archive",
                 "oci-dir": "oci"}[fmt]
    raw = subprocess.run(["skopeo", "inspect", "--raw", f"{transport}:{path}"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(raw)["config"]["digest"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_load_each_format(berth, busybox_formats, fmt):
    out = berth.run("load", "-i", busybox_formats[fmt]).stdout
    assert out == f"Loaded image: {BUSYBOX_NAME}\n"
    img = berth.inspect(BUSYBOX_NAME)
    assert img["RepoTags"] == [BUSYBOX_NAME]
    assert "sha256:" + img["Id"] == config_digest_of(busybox_formats["oci-archive"], "oci-archive")
    assert img["Config"]["Cmd"] == ["sh"]
    assert len(img["RootFS"]["Layers"]) == 1


def test_load_gzip_layers(berth, tmp_root):
    tar = make_busybox(tmp_root / "gz.tar", "localhost/berthtest/gz:1", gzip=True)
    berth.run("load", "-i", tar)
    img = berth.inspect("localhost/berthtest/gz:1")
    m = json.loads(subprocess.run(["tar", "-xOf", str(tar), "index.json"], check=True,
                                  capture_output=True).stdout)
    assert img["Digest"] == m["manifests"][0]["digest"]
    assert img["ManifestType"] == "application/vnd.oci.image.manifest.v1+json"


def test_same_image_from_every_format(berth, busybox_formats):
    ids = set()
    for fmt in FORMATS:
        berth.run("load", "-i", busybox_formats[fmt])
        ids.add(berth.inspect(BUSYBOX_NAME)["Id"])
    assert len(ids) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_save_then_load_into_berth(berth, busybox_tar, tmp_root, fmt):
    berth.run("load", "-i", busybox_tar)
    want = berth.inspect(BUSYBOX_NAME)
    out = tmp_root / f"saved-{fmt}"
    berth.run("save", "--format", fmt, "-o", out, BUSYBOX_NAME)
    other = type(berth)(berth.base[0], tmp_root, name="other")
    assert other.run("load", "-i", out).stdout == f"Loaded image: {BUSYBOX_NAME}\n"
    got = other.inspect(BUSYBOX_NAME)
    assert got["Id"] == want["Id"]
    assert got["RootFS"] == want["RootFS"]
    if fmt != "docker-archive":  # docker-archive rewrites the manifest (uncompressed layers)
        assert got["Digest"] == want["Digest"]


@needs_skopeo
@pytest.mark.parametrize("fmt", FORMATS)
def test_save_is_read_by_podman_and_skopeo(berth, podman, busybox_tar, tmp_root, fmt):
    berth.run("load", "-i", busybox_tar)
    want = berth.inspect(BUSYBOX_NAME)
    out = tmp_root / f"saved-{fmt}"
    berth.run("save", "--format", fmt, "-o", out, BUSYBOX_NAME)
    assert config_digest_of(out, fmt) == "sha256:" + want["Id"]
    transport = {"oci-archive": "oci-archive", "docker-archive": "docker-archive",
                 "oci-dir": "oci"}[fmt]
    info = json.loads(subprocess.run(["skopeo", "inspect", f"{transport}:{out}"], check=True,
                                     capture_output=True, text=True).stdout)
    assert info["Layers"] and info["Architecture"] == want["Architecture"]
    podman.run("load", "-i", out)
    ids = podman.image_ids()
    if fmt == "oci-dir":  # podman names a layout directory's image after the directory
        assert want["Id"] in ids.values(), ids
    else:
        assert ids.get(BUSYBOX_NAME) == want["Id"], ids


def test_docker_archive_layout(berth, busybox_tar, tmp_root):
    berth.run("load", "-i", busybox_tar)
    berth.run("tag", BUSYBOX_NAME, "localhost/other:2")
    out = tmp_root / "d.tar"
    berth.run("save", "-o", out, BUSYBOX_NAME, "localhost/other:2")  # docker-archive by default
    with tarfile.open(out) as t:
        names = t.getnames()
        manifest = json.load(t.extractfile("manifest.json"))
        repositories = json.load(t.extractfile("repositories"))
    assert len(manifest) == 1  # one image, two names
    assert sorted(manifest[0]["RepoTags"]) == ["localhost/berthtest/busybox:1",
                                               "localhost/other:2"]
    img = berth.inspect(BUSYBOX_NAME)
    assert manifest[0]["Config"] == img["Id"] + ".json"
    assert manifest[0]["Layers"] == [l.split(":")[1] + ".tar" for l in img["RootFS"]["Layers"]]
    assert set(names) >= {"manifest.json", "repositories", manifest[0]["Config"]}
    assert repositories["localhost/other"]["2"] == img["RootFS"]["Layers"][-1].split(":")[1]


def test_oci_archive_annotations(berth, busybox_tar, tmp_root):
    berth.run("load", "-i", busybox_tar)
    out = tmp_root / "o.tar"
    berth.run("save", "--format", "oci-archive", "-o", out, BUSYBOX_NAME)
    with tarfile.open(out) as t:
        index = json.load(t.extractfile("index.json"))
        assert json.load(t.extractfile("oci-layout")) == {"imageLayoutVersion": "1.0.0"}
    ann = index["manifests"][0]["annotations"]
    assert ann == {"org.opencontainers.image.ref.name": "1",
                   "io.containerd.image.name": BUSYBOX_NAME}
    assert index["manifests"][0]["platform"]["os"] == "linux"


def test_corrupt_blob_is_refused(berth, busybox_formats, tmp_root):
    import shutil
    layout = tmp_root / "layout"
    shutil.copytree(busybox_formats["oci-dir"], layout)
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads((layout / "blobs/sha256" /
                           index["manifests"][0]["digest"].split(":")[1]).read_bytes())
    layer = layout / "blobs/sha256" / manifest["layers"][0]["digest"].split(":")[1]
    data = bytearray(layer.read_bytes())
    data[len(data) // 2] ^= 0xFF
    os.chmod(layer, 0o644)
    layer.write_bytes(bytes(data))
    err = berth.fails("load", "-i", layout)
    assert manifest["layers"][0]["digest"].split(":")[1][:12] in err
    assert berth.names() == []


def test_load_errors_name_the_input(berth, tmp_root):
    junk = tmp_root / "junk.tar"
    junk.write_bytes(b"not a tar at all")
    assert str(junk) in berth.fails("load", "-i", junk)
    assert "does not exist" in berth.fails("load", "-i", tmp_root / "missing.tar")
    d = tmp_root / "emptydir"
    d.mkdir()
    assert "oci-layout" in berth.fails("load", "-i", d)
    bad = tmp_root / "bad.tar"
    with tarfile.open(bad, "w") as t:
        data = b'[{"Config":"c.json","Layers":[1]}]'
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        import io
        t.addfile(info, io.BytesIO(data))
    assert "manifest.json[0].Layers[0]" in berth.fails("load", "-i", bad)
