"""The CNI driver (src/net/cnidriver) in the CNI suite. The driver is a library, so its tests are
GoogleTest cases in the unit-test binary; this runs those that need root and real plugins
(CniDriverExec*: reference bridge/host-local/portmap/loopback and berth-host-local/
berth-loopback chained in namespaces the tests make) along with the fake-plugin chain tests,
and fails if any fails or if the real-plugin ones were all skipped while they could run.

BERTH_UNIT_TESTS overrides the binary (default: build/bin/berth-unit-tests); the berth plugins
are looked for next to it, or in BERTH_CNI_BIN.
"""
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = os.environ.get("BERTH_UNIT_TESTS") or str(REPO / "build/bin/berth-unit-tests")

pytestmark = pytest.mark.skipif(not os.access(UNIT, os.X_OK), reason=f"{UNIT} not built")


def gtest(filter_):
    p = subprocess.run([UNIT, f"--gtest_filter={filter_}", "--gtest_brief=0"],
                       capture_output=True, text=True, timeout=600)
    ran = len(re.findall(r"^\[       OK \]", p.stdout, re.M))
    skipped = len(re.findall(r"^\[  SKIPPED \]", p.stdout, re.M))
    return p, ran, skipped


def test_chain_with_fake_plugins():
    p, ran, _ = gtest("CniDriverChain.*")
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert ran > 0


def test_config_and_cache():
    p, ran, _ = gtest("CniDriverConfig.*:CniDriverFiles.*:CniDriverInject.*:CniDriverCache.*")
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert ran > 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)")
@pytest.mark.skipif(not os.access("/usr/lib/cni/bridge", os.X_OK),
                    reason="containernetworking-plugins not installed")
def test_real_plugins():
    p, ran, skipped = gtest("*CniDriverExec*")
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-2000:]
    assert ran > 0, p.stdout[-4000:]
    # Only the berth-plugin cases may skip (when those plugins are not built).
    assert skipped <= 2, p.stdout[-4000:]
