"""Shared fixtures for the image tests (tests/images): where the build is, a private temp root
cleaned up after each test (mounts under it included), and the test images of
scripts/make-test-images.sh, built once per session.

Binaries: $BERTH_BUILD_DIR (default <repo>/build)/bin; $BERTH_UNIT_TESTS overrides the unit test
binary and $BERTH_BIN the berth executable.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def build_dir() -> Path:
    return Path(os.environ.get("BERTH_BUILD_DIR") or REPO / "build")


def unit_tests_path() -> Path:
    return Path(os.environ.get("BERTH_UNIT_TESTS") or build_dir() / "bin/berth-unit-tests")


def unmount_under(root: Path):
    """Detaches every mount below root, deepest first."""
    prefix = str(root).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for p in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", p], check=False)


@pytest.fixture(scope="session")
def berth_repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def berth_bin() -> Path:
    path = Path(os.environ.get("BERTH_BIN") or build_dir() / "bin/berth")
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} not built")
    return path


@pytest.fixture(scope="session")
def berth_unit_tests() -> Path:
    path = unit_tests_path()
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} not built")
    return path


@pytest.fixture
def tmp_root():
    """A fresh directory under /var/tmp (a real filesystem: overlayfs needs one under its
    upper directories), removed with whatever was mounted below it."""
    root = Path(tempfile.mkdtemp(prefix="berth-images-", dir="/var/tmp"))
    try:
        yield root
    finally:
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def test_images(tmp_path_factory) -> Path:
    """OUTDIR of scripts/make-test-images.sh: OUTDIR/NAME/ (OCI layout, tag "latest") and
    OUTDIR/NAME.tar (oci-archive + docker manifest.json) for layers, layers-zstd, many and the
    evil-* images."""
    for tool in ("/bin/busybox", "zstd"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    out = tmp_path_factory.mktemp("test-images")
    subprocess.run([str(REPO / "scripts/make-test-images.sh"), str(out)], check=True,
                   capture_output=True)
    return out
