"""berth-loopback driven the way the CNI spec says a runtime drives a plugin, side by side with
Debian's reference loopback (/usr/lib/cni/loopback, containernetworking-plugins 1.1.1) on the
same cases; the state of lo is read from outside with `ip -n <ns> link show lo`.

Root only: each test makes its own network namespace (bt-lo-<pid>-<n>) and removes it.
BERTH_LOOPBACK overrides the plugin under test (default: build/bin/berth-loopback).
"""
import itertools
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BERTH = os.environ.get("BERTH_LOOPBACK") or str(REPO / "build/bin/berth-loopback")
REFERENCE = "/usr/lib/cni/loopback"
# The reference (1.1.1) speaks up to 1.0.0; berth also 1.1.0.
SHARED_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]
ALL_VERSIONS = SHARED_VERSIONS + ["1.1.0"]

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
    pytest.mark.skipif(not os.access(BERTH, os.X_OK), reason=f"{BERTH} not built"),
]
have_reference = pytest.mark.skipif(not os.access(REFERENCE, os.X_OK),
                                    reason="containernetworking-plugins not installed")
_counter = itertools.count()


def run(plugin, command, version="1.0.0", netns=None, extra=None, container="ctr1"):
    conf = {"cniVersion": version, "name": "lo", "type": "loopback", **(extra or {})}
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_NETNS": netns or "",
           "CNI_IFNAME": "lo", "CNI_ARGS": "", "CNI_PATH": "/usr/lib/cni",
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    p = subprocess.run([plugin], input=json.dumps(conf).encode(), env=env, capture_output=True,
                       timeout=30)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    if p.returncode != 0 and out:
        out.pop("cniVersion", None)  # the reference (1.1.1) leaves it out of errors
    return p.returncode, out


@pytest.fixture
def netns():
    """A fresh namespace per plugin under test: (berth's, the reference's)."""
    names = [f"bt-lo-{os.getpid()}-{next(_counter)}" for _ in range(2)]
    for n in names:
        subprocess.run(["ip", "netns", "add", n], check=True)
    yield [f"/var/run/netns/{n}" for n in names]
    for n in names:
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


def lo_up(ns_path):
    name = os.path.basename(ns_path)
    out = subprocess.run(["ip", "-n", name, "-o", "link", "show", "lo"], capture_output=True,
                         text=True, check=True).stdout
    flags = out.split("<", 1)[1].split(">", 1)[0].split(",")
    return "UP" in flags


def without_ip_versions(result):
    """0.3.x/0.4.0 results tag each IP with "version" (the spec); the reference leaves it out."""
    r = json.loads(json.dumps(result))
    for ip in r.get("ips", []):
        ip.pop("version", None)
    return r


def test_version_lists_every_supported_version():
    rc, out = run(BERTH, "VERSION")
    assert rc == 0
    assert out["supportedVersions"] == ALL_VERSIONS


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_add_brings_lo_up_and_del_down(netns, version):
    ns = netns[0]
    assert not lo_up(ns)
    rc, out = run(BERTH, "ADD", version, ns)
    assert rc == 0, out
    assert lo_up(ns)
    assert out["cniVersion"] == version
    assert out["interfaces"] == [{"name": "lo", "mac": "00:00:00:00:00:00", "sandbox": ns}]
    assert [ip["address"] for ip in out["ips"]] == ["127.0.0.1/8", "::1/128"]
    assert all(ip["interface"] == 0 for ip in out["ips"])
    # 0.3.x and 0.4.0 tag IPs with "version", 1.x does not.
    assert all(("version" in ip) == (version < "1.0.0") for ip in out["ips"])
    rc, out = run(BERTH, "DEL", version, ns)
    assert (rc, out) == (0, None)
    assert not lo_up(ns)


@have_reference
@pytest.mark.parametrize("version", SHARED_VERSIONS)
def test_add_check_del_match_reference(netns, version):
    for step in ("ADD", "CHECK", "DEL", "CHECK", "DEL"):
        got = [run(plugin, step, version, ns) for plugin, ns in zip((BERTH, REFERENCE), netns)]
        (rc_b, out_b), (rc_r, out_r) = got
        assert rc_b == rc_r, (step, got)
        if step == "ADD":
            out_b["interfaces"][0]["sandbox"] = out_r["interfaces"][0]["sandbox"]
            assert without_ip_versions(out_b) == without_ip_versions(out_r)
        elif rc_b != 0:
            assert out_b["code"] == out_r["code"], (step, got)
            if version >= "0.4.0":
                assert out_b["msg"] == out_r["msg"] == "loopback interface is down"
        else:
            assert out_b == out_r
        assert lo_up(netns[0]) == lo_up(netns[1]), step


@have_reference
@pytest.mark.parametrize("version", SHARED_VERSIONS)
def test_chained_passes_prev_result_like_reference(netns, version):
    prev = {"cniVersion": version, "ips": [{"address": "10.0.0.2/24"}], "dns": {}}
    if version < "1.0.0":
        prev["ips"][0]["version"] = "4"
    outs = [run(plugin, "ADD", version, ns, {"prevResult": prev})
            for plugin, ns in zip((BERTH, REFERENCE), netns)]
    assert outs[0][0] == outs[1][0] == 0
    assert without_ip_versions(outs[0][1]) == without_ip_versions(outs[1][1])
    assert outs[0][1]["ips"] == prev["ips"]
    assert lo_up(netns[0])


@have_reference
def test_del_when_netns_is_gone_succeeds(netns):
    for plugin, ns in zip((BERTH, REFERENCE), netns):
        assert run(plugin, "ADD", "1.0.0", ns)[0] == 0
        subprocess.run(["ip", "netns", "del", os.path.basename(ns)], check=True)
        assert run(plugin, "DEL", "1.0.0", ns) == (0, None), plugin
        # An empty CNI_NETNS on DEL too: the runtime no longer knows it.
        assert run(plugin, "DEL", "1.0.0", "") == (0, None), plugin
        # ADD and CHECK need the namespace.
        assert run(plugin, "ADD", "1.0.0", ns)[0] == 1, plugin
        assert run(plugin, "CHECK", "1.0.0", ns)[0] == 1, plugin


@have_reference
def test_missing_netns_on_add_is_an_error_like_reference():
    for plugin in (BERTH, REFERENCE):
        rc, out = run(plugin, "ADD", "1.0.0", "")
        assert rc == 1 and out["code"] == 4, (plugin, out)  # required env variables missing


@have_reference
@pytest.mark.parametrize("version", ["0.3.0", "0.3.1"])
def test_check_before_040_is_refused(netns, version):
    codes = [run(plugin, "CHECK", version, ns)[1]["code"]
             for plugin, ns in zip((BERTH, REFERENCE), netns)]
    assert codes[0] == codes[1]


def test_status_and_gc_in_110(netns):
    assert run(BERTH, "STATUS", "1.1.0") == (0, None)
    assert run(BERTH, "GC", "1.1.0", extra={"cni.dev/valid-attachments": []}) == (0, None)
    rc, out = run(BERTH, "STATUS", "1.0.0")
    assert rc == 1 and out["code"] == 1


def test_add_is_idempotent_and_check_sees_down_lo(netns):
    ns = netns[0]
    for _ in range(2):
        assert run(BERTH, "ADD", "1.1.0", ns)[0] == 0
    assert run(BERTH, "CHECK", "1.1.0", ns) == (0, None)
    subprocess.run(["ip", "-n", os.path.basename(ns), "link", "set", "lo", "down"], check=True)
    rc, out = run(BERTH, "CHECK", "1.1.0", ns)
    assert rc == 1 and out["msg"] == "loopback interface is down"
