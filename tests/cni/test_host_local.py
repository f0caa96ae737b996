"""berth-host-local driven the way the CNI spec says a runtime drives a plugin (CNI_* environment,
configuration on stdin, result or error JSON on stdout), side by side with Debian's reference
host-local (/usr/lib/cni/host-local, containernetworking-plugins) on the same configurations.

No root needed: host-local touches only its dataDir, here a fresh temporary directory per test.
BERTH_HOST_LOCAL overrides the plugin under test (default: build/bin/berth-host-local).
"""
import concurrent.futures
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BERTH = os.environ.get("BERTH_HOST_LOCAL") or str(REPO / "build/bin/berth-host-local")
REFERENCE = "/usr/lib/cni/host-local"
# The reference (1.1.1 in Debian 12) speaks up to 1.0.0; berth also 1.1.0 (GC, STATUS).
SHARED_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]

have_reference = pytest.mark.skipif(not os.access(REFERENCE, os.X_OK),
                                    reason="containernetworking-plugins not installed")


def run(plugin, command, conf, container="ctr1", ifname="eth0", args="", netns="/var/run/netns/x",
        path="/usr/lib/cni"):
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_NETNS": netns,
           "CNI_IFNAME": ifname, "CNI_ARGS": args, "CNI_PATH": path,
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env = {k: v for k, v in env.items() if v is not None}
    p = subprocess.run([plugin], input=json.dumps(conf).encode(), env=env, capture_output=True,
                       timeout=30)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    if p.returncode != 0 and out:
        out.pop("cniVersion", None)  # the reference (1.1.1) leaves it out of errors
    return p.returncode, out


def conf(data_dir, version="1.0.0", name="testnet", **ipam):
    ipam.setdefault("ranges", [[{"subnet": "10.9.0.0/24"}], [{"subnet": "fd09::/64"}]])
    return {"cniVersion": version, "name": name, "type": "host-local",
            "ipam": {"type": "host-local", "dataDir": str(data_dir), **ipam}}


def files(data_dir, name="testnet"):
    d = Path(data_dir) / name
    return {p.name: p.read_bytes().decode() for p in sorted(d.iterdir()) if p.name != "lock"}


@pytest.fixture
def dirs(tmp_path):
    return tmp_path / "berth", tmp_path / "reference"


def test_version_lists_every_supported_version():
    rc, out = run(BERTH, "VERSION", {"cniVersion": "1.0.0"})
    assert rc == 0
    assert out["supportedVersions"] == ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
    assert out["cniVersion"] == "1.1.0"


@have_reference
@pytest.mark.parametrize("version", SHARED_VERSIONS)
def test_add_matches_reference(dirs, version):
    routes = [{"dst": "0.0.0.0/0"}, {"dst": "192.168.0.0/16", "gw": "10.9.0.254"}]
    results = []
    for plugin, d in zip((BERTH, REFERENCE), dirs):
        c = conf(d, version, routes=routes)
        got = [run(plugin, "ADD", c, container=f"c{i}") for i in range(3)]
        results.append((got, files(d)))
    (ours, our_files), (ref, ref_files) = results
    assert [rc for rc, _ in ours] == [0, 0, 0]
    assert ours == ref
    assert our_files == ref_files
    # The shape each version asks for: 0.3.x and 0.4.0 tag IPs with "version", 1.x does not.
    ip = ours[0][1]["ips"][0]
    assert ("version" in ip) == (version != "1.0.0")
    assert ip["address"] == "10.9.0.2/24" and ip["gateway"] == "10.9.0.1"


@have_reference
def test_legacy_single_range_range_bounds_and_gateway_match_reference(dirs):
    ipam = {"subnet": "10.10.0.0/16", "rangeStart": "10.10.1.10", "rangeEnd": "10.10.1.11",
            "gateway": "10.10.1.10"}
    outs = []
    for plugin, d in zip((BERTH, REFERENCE), dirs):
        c = conf(d, ranges=None, **ipam)
        del c["ipam"]["ranges"]
        outs.append([run(plugin, "ADD", c, container=f"c{i}") for i in range(2)])
    assert outs[0] == outs[1]
    assert outs[0][0][1]["ips"][0]["address"] == "10.10.1.11/16"
    assert outs[0][1][0] != 0  # exhausted: the gateway is skipped


@have_reference
def test_requested_addresses_match_reference(dirs):
    for plugin, d in zip((BERTH, REFERENCE), dirs):
        c = conf(d)
        rc, out = run(plugin, "ADD", c, args="IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.9.0.77")
        assert rc == 0, out
        assert [i["address"] for i in out["ips"]] == ["10.9.0.77/24", "fd09::2/64"]
        c["runtimeConfig"] = {"ips": ["10.9.0.88/24"]}
        rc, out = run(plugin, "ADD", c, container="c2")
        assert rc == 0, out
        assert out["ips"][0]["address"] == "10.9.0.88/24"
        c["runtimeConfig"] = {"ips": ["10.9.0.99/24", "fd09::99/64"]}
        rc, out = run(plugin, "ADD", c, container="c4")
        assert [i["address"] for i in out["ips"]] == ["10.9.0.99/24", "fd09::99/64"], out
        rc, out = run(plugin, "ADD", conf(d), container="c3", args="IP=10.9.0.77")
        assert rc != 0 and out["code"] and "10.9.0.77" in out["msg"], (plugin, out)


@have_reference
@pytest.mark.parametrize("version", ["0.4.0", "1.0.0"])
def test_del_and_check_match_reference(dirs, version):
    for plugin, d in zip((BERTH, REFERENCE), dirs):
        c = conf(d, version)
        assert run(plugin, "ADD", c)[0] == 0
        assert run(plugin, "CHECK", c) == (0, None), plugin
        assert run(plugin, "DEL", c) == (0, None), plugin
        assert files(d).keys() == {"last_reserved_ip.0", "last_reserved_ip.1"}
        assert run(plugin, "DEL", c) == (0, None), plugin  # DEL twice succeeds
        rc, out = run(plugin, "CHECK", c)
        assert rc != 0 and "Failed to find address" in out["msg"], (plugin, out)
        # DEL needs no netns.
        assert run(plugin, "DEL", c, netns=None)[0] == 0


@have_reference
def test_exhausted_range_matches_reference(dirs):
    codes = []
    for plugin, d in zip((BERTH, REFERENCE), dirs):
        c = conf(d, ranges=[[{"subnet": "10.11.0.0/30"}]])
        assert run(plugin, "ADD", c, container="c1")[0] == 0  # .2 is the only host
        rc, out = run(plugin, "ADD", c, container="c2")
        assert rc == 1
        assert "no IP addresses available in range set: 10.11.0.1-10.11.0.2" in out["msg"]
        codes.append(out["code"])
    assert codes[0] == codes[1]


@have_reference
def test_environment_errors_match_reference(dirs):
    for plugin, d in zip((BERTH, REFERENCE), dirs):
        rc, out = run(plugin, "ADD", conf(d), netns=None, path=None)
        assert rc == 1 and out["code"] == 4
        assert out["msg"] == "required env variables [CNI_NETNS,CNI_PATH] missing"
        rc, out = run(plugin, "FROB", conf(d))
        assert rc == 1 and out["code"] == 4, (plugin, out)


def test_spec_error_codes(tmp_path):
    rc, out = run(BERTH, "ADD", conf(tmp_path, "9.9.9"))
    assert rc == 1 and out["code"] == 1 and "incompatible CNI versions" in out["msg"]
    p = subprocess.run([BERTH], input=b"{not json",
                       env={"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c", "CNI_NETNS": "/x",
                            "CNI_IFNAME": "eth0", "CNI_PATH": "/x"}, capture_output=True)
    assert p.returncode == 1 and json.loads(p.stdout)["code"] == 6
    rc, out = run(BERTH, "ADD", conf(tmp_path, ranges=[[{"subnet": "10.1.2.5/24"}]]))
    assert rc == 1 and out["code"] == 7 and "host bits set" in out["msg"]
    rc, out = run(BERTH, "CHECK", conf(tmp_path, "0.3.1"))
    assert rc == 1 and out["code"] == 1
    rc, out = run(BERTH, "GC", conf(tmp_path, "1.0.0"))
    assert rc == 1 and out["code"] == 1
    rc, out = run(BERTH, "ADD", conf(tmp_path), container="../x")
    assert rc == 1 and out["code"] == 4


@have_reference
def test_takes_over_reference_state(dirs):
    d = dirs[0]
    c = conf(d)
    assert run(REFERENCE, "ADD", c, container="c1")[0] == 0
    rc, out = run(BERTH, "ADD", c, container="c2")
    assert rc == 0 and out["ips"][0]["address"] == "10.9.0.3/24"  # continues the round-robin
    assert run(BERTH, "CHECK", c, container="c1") == (0, None)
    assert run(BERTH, "DEL", c, container="c1") == (0, None)
    assert "10.9.0.2" not in files(d)


def test_gc_releases_attachments_not_listed(tmp_path):
    c = conf(tmp_path, "1.1.0")
    for i in range(3):
        assert run(BERTH, "ADD", c, container=f"c{i}")[0] == 0
    gc = dict(c, **{"cni.dev/valid-attachments": [{"containerID": "c1", "ifname": "eth0"}]})
    assert run(BERTH, "GC", gc, container=None, ifname=None, netns=None) == (0, None)
    left = {k: v for k, v in files(tmp_path).items() if not k.startswith("last_")}
    assert sorted(left.values()) == ["c1\r\neth0", "c1\r\neth0"]
    assert run(BERTH, "STATUS", c, container=None, ifname=None, netns=None) == (0, None)


def test_parallel_adds_get_distinct_addresses_and_dels_free_them(tmp_path):
    c = conf(tmp_path, ranges=[[{"subnet": "10.12.0.0/24"}]])
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        adds = list(pool.map(lambda i: run(BERTH, "ADD", c, container=f"c{i}"), range(100)))
    assert all(rc == 0 for rc, _ in adds)
    assert len({out["ips"][0]["address"] for _, out in adds}) == 100
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        dels = list(pool.map(lambda i: run(BERTH, "DEL", c, container=f"c{i}"), range(100)))
    assert all(rc == 0 for rc, _ in dels)
    assert files(tmp_path).keys() == {"last_reserved_ip.0"}
