"""Helpers for the `berth image` CLI tests (test_cli.py, test_archive.py): a berth with its own
--root/--runroot under the test's temp root, podman and skopeo with their own storage there too
(vfs: nothing mounted), and the busybox image of scripts/make-busybox-image.sh."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUSYBOX_NAME = "localhost/berthtest/busybox:1"

needs_podman = pytest.mark.skipif(not shutil.which("podman"), reason="needs podman")
needs_skopeo = pytest.mark.skipif(not shutil.which("skopeo"), reason="needs skopeo")


class Berth:
    def __init__(self, binary: Path, root: Path, name="berth"):
        self.root = root / f"{name}-root"
        self.runroot = root / f"{name}-run"
        self.base = [str(binary), "--root", str(self.root), "--runroot", str(self.runroot)]

    def run(self, *args, check=True, input=None):
        p = subprocess.run(self.base + [str(a) for a in args], capture_output=True, text=True,
                           input=input)
        if check and p.returncode != 0:
            raise AssertionError(f"berth {' '.join(map(str, args))} exited {p.returncode}:\n"
                                 f"{p.stdout}{p.stderr}")
        return p

    def fails(self, *args, code=125):
        p = self.run(*args, check=False)
        assert p.returncode == code, f"exit {p.returncode}, want {code}: {p.stdout}{p.stderr}"
        # Errors are printed once, on one "Error: " line.
        assert p.stderr.startswith("Error: "), p.stderr
        assert p.stderr.count("Error: ") == 1, p.stderr
        return p.stderr

    def json(self, *args):
        return json.loads(self.run(*args).stdout)

    def inspect(self, name):
        out = self.json("image", "inspect", name)
        assert len(out) == 1
        return out[0]

    def names(self):
        return sorted(n for img in self.json("image", "ls", "--format", "json")
                      for n in img["Names"])

    def blob_count(self):
        d = self.root / "blobs/sha256"
        return len(list(d.iterdir())) if d.exists() else 0


class Podman:
    def __init__(self, root: Path):
        self.base = ["podman", "--root", str(root / "podman-root"), "--runroot",
                     str(root / "podman-run"), "--storage-driver", "vfs",
                     "--cgroup-manager", "cgroupfs", "--events-backend", "none"]

    def run(self, *args):
        p = subprocess.run(self.base + [str(a) for a in args], capture_output=True, text=True)
        assert p.returncode == 0, f"podman {' '.join(map(str, args))}: {p.stdout}{p.stderr}"
        return p

    def image_ids(self):
        out = json.loads(self.run("images", "--format", "json").stdout)
        return {n: img["Id"] for img in out for n in (img.get("Names") or [])}


@pytest.fixture
def berth(berth_bin, tmp_root):
    return Berth(berth_bin, tmp_root)


@pytest.fixture
def podman(tmp_root):
    if not shutil.which("podman"):
        pytest.skip("needs podman")
    return Podman(tmp_root)


def make_busybox(out: Path, name=BUSYBOX_NAME, gzip=False):
    env = dict(os.environ)
    if gzip:
        env["BUSYBOX_IMAGE_GZIP"] = "1"
    subprocess.run([str(REPO / "scripts/make-busybox-image.sh"), str(out), name], check=True,
                   capture_output=True, env=env)
    return out


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory):
    """An oci-archive (with a docker manifest.json too) of BUSYBOX_NAME."""
    if not os.access("/bin/busybox", os.X_OK):
        pytest.skip("needs busybox-static")
    return make_busybox(tmp_path_factory.mktemp("busybox") / "busybox.tar")


@pytest.fixture(scope="session")
def busybox_formats(busybox_tar, tmp_path_factory):
    """The busybox image as oci-archive, docker-archive and an OCI layout directory, the last
    two written by skopeo (an independent implementation)."""
    if not shutil.which("skopeo"):
        pytest.skip("needs skopeo")
    d = tmp_path_factory.mktemp("busybox-formats")
    src = f"oci-archive:{busybox_tar}"
    subprocess.run(["skopeo", "copy", "-q", src, f"docker-archive:{d}/docker.tar:{BUSYBOX_NAME}"],
                   check=True, capture_output=True)
    subprocess.run(["skopeo", "copy", "-q", src, f"oci:{d}/layout:{BUSYBOX_NAME}"],
                   check=True, capture_output=True)
    return {"oci-archive": busybox_tar, "docker-archive": d / "docker.tar",
            "oci-dir": d / "layout"}
