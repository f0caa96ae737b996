"""Fixtures of the engine tests (tests/engine); the helpers they use are in engine_helpers.py.

busybox_tar: the busybox test image (scripts/make-busybox-image.sh), built once per session.
berth: a `Berth` with its own temp --root and --runroot; its finalizer removes every container
(`rm -f`, `system gc`) and checks that no mount, cgroup or container row is left.
host_network_untouched (every session): the host's interfaces, nftables ruleset and
net.ipv4.ip_forward are the same at the end as at the start (berth runs in node netnses), and
no node netns of the session is left (one is, when a Berth was made outside temp_berth).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from engine_helpers import IMAGE, REPO, _cgroup_dirs, made_node_netnses, temp_berth


def _host_network() -> dict:
    """What no engine test may change in the host's own network namespace."""
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    names = sorted(line.split(":")[1].strip().split("@")[0] for line in links.splitlines())
    ruleset = ""
    if shutil.which("nft"):
        # -s: without counters, which a host's own rules may bump meanwhile.
        ruleset = subprocess.run(["nft", "-s", "list", "ruleset"], capture_output=True,
                                 text=True).stdout
    forward = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    return {"interfaces": names, "nftables": ruleset, "ip_forward": forward}


@pytest.fixture(scope="session", autouse=True)
def host_network_untouched():
    before = _host_network()
    yield
    left = [ns for ns in made_node_netnses if Path("/run/netns", ns).exists()]
    for ns in left:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
    assert not left, f"node netnses left (a Berth made outside temp_berth?): {left}"
    assert _host_network() == before, "the engine tests changed the host's network namespace"


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
