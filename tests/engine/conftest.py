"""Fixtures of the engine tests (tests/engine); the helpers they use are in engine_helpers.py.

busybox_tar: the busybox test image (scripts/make-busybox-image.sh), built once per session.
berth: a `Berth` with its own temp --root and --runroot; its finalizer removes every container
(`rm -f`, `system gc`) and checks that no mount, cgroup or container row is left.
"""

from __future__ import annotations

import subprocess

import pytest

from engine_helpers import IMAGE, REPO, _cgroup_dirs, temp_berth


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory):
    out = tmp_path_factory.mktemp("engine-image") / "busybox.tar"
    subprocess.run([str(REPO / "scripts/make-busybox-image.sh"), str(out), IMAGE], check=True,
                   capture_output=True)
    return out


@pytest.fixture
def berth(busybox_tar):
    with temp_berth(busybox_tar, "beng") as b:
        yield b
        ids = [c["Id"] for c in b.ps()]
        b.cleanup()
        for cid in ids:
            assert not _cgroup_dirs(cid), f"cgroups left for {cid}: {_cgroup_dirs(cid)}"
        assert b.ps() == []
