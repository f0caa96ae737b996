"""berth-bridge on a real kernel, driven the way the CNI spec says a runtime drives a plugin, with
berth-host-local as its IPAM, and checked from outside with `ip -j`, `bridge -j` and `nft -j`.
Where the reference plugin (/usr/lib/cni/bridge, containernetworking-plugins 1.1.1) supports a
feature, the same configuration runs through it too and the two are compared.

Self-contained (no conftest.py). Needs root: each test works inside a "node" network namespace
of its own (the plugin's host side) with container namespaces next to it, all removed after.
BERTH_BIN_DIR overrides the directory holding berth-bridge and berth-host-local
(default: build/bin).
"""
import concurrent.futures
import json
import os
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("BERTH_BIN_DIR") or REPO / "build/bin")
BERTH = str(BIN / "berth-bridge")
REFERENCE_DIR = "/usr/lib/cni"
REFERENCE = REFERENCE_DIR + "/bridge"
ALL_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
SHARED_VERSIONS = ["0.3.1", "0.4.0", "1.0.0"]  # the reference (1.1.1) stops at 1.0.0

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
    pytest.mark.skipif(not os.access(BERTH, os.X_OK), reason=f"{BERTH} not built"),
]
have_reference = pytest.mark.skipif(not os.access(REFERENCE, os.X_OK),
                                    reason="containernetworking-plugins not installed")


def sh(*args, check=True, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd}: {p.returncode} {p.stderr}")
    return p


def ipj(ns, *args):
    out = sh("ip", "-j", "-n", ns, *args).stdout
    return json.loads(out) if out.strip() else []


class Node:
    """A node namespace (the plugin's host side) and the container namespaces beside it."""

    def __init__(self, tmp_path):
        self.tag = uuid.uuid4().hex[:6]
        self.name = f"bt-brn-{self.tag}"
        self.data_dir = tmp_path / "ipam"
        self.namespaces = [self.name]
        sh("ip", "netns", "add", self.name)
        sh("ip", "-n", self.name, "link", "set", "lo", "up")

    def container(self):
        name = f"bt-brc-{self.tag}-{len(self.namespaces)}"
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        return name

    def remove_container(self, name):
        sh("ip", "netns", "del", name)
        self.namespaces.remove(name)

    def cleanup(self):
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "del", ns, check=False)

    def conf(self, version="1.0.0", ipam="berth-host-local", ranges=None, **opts):
        c = {"cniVersion": version, "name": "bnet", "type": "bridge", "bridge": "tbr0"}
        c.update(opts)
        if ipam:
            c["ipam"] = {"type": ipam, "dataDir": str(self.data_dir),
                         "ranges": ranges or [[{"subnet": "10.88.0.0/24"}]]}
        else:
            c["ipam"] = {}
        return c

    def run(self, command, conf, container="c1", ifname="eth0", netns=None, plugin=BERTH,
            args="", popen=False):
        env = {"CNI_COMMAND": command, "CNI_CONTAINERID": container,
               "CNI_NETNS": f"/run/netns/{netns}" if netns else "", "CNI_IFNAME": ifname,
               "CNI_ARGS": args, "CNI_PATH": f"{BIN}:{REFERENCE_DIR}",
               "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        cmd = ["ip", "netns", "exec", self.name, plugin]
        data = conf if isinstance(conf, str) else json.dumps(conf)
        if popen:
            p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            p.stdin.write(data.encode())
            p.stdin.close()
            return p
        p = subprocess.run(cmd, input=data.encode(), env=env, capture_output=True, timeout=60)
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, out

    def add(self, conf, netns, **kw):
        rc, out = self.run("ADD", conf, netns=netns, **kw)
        assert rc == 0, out
        return out

    # What the node namespace holds, seen from outside.
    def links(self):
        return {l["ifname"]: l for l in ipj(self.name, "-d", "link", "show")}

    def ports(self, bridge="tbr0"):
        if bridge not in self.links():
            return {}
        return {l["ifname"]: l for l in ipj(self.name, "-d", "link", "show", "master", bridge)}

    def addrs(self, dev):
        return [f'{a["local"]}/{a["prefixlen"]}' for l in ipj(self.name, "addr", "show", "dev", dev)
                for a in l["addr_info"] if a.get("scope") == "global"]

    def reservations(self, network="bnet"):
        d = self.data_dir / network
        if not d.exists():
            return []
        return sorted(p.name for p in d.iterdir()
                      if p.name != "lock" and not p.name.startswith("last_reserved_ip"))

    def nft(self):
        return json.loads(sh("nft", "-j", "list", "ruleset", ns=self.name).stdout or "{}")


def ctr_addrs(ns, dev="eth0"):
    return [f'{a["local"]}/{a["prefixlen"]}' for l in ipj(ns, "addr", "show", "dev", dev)
            for a in l["addr_info"] if a.get("scope") == "global"]


def ctr_default_gw(ns, family="-4"):
    routes = ipj(ns, family, "route", "show", "default")
    return [r.get("gateway") for r in routes]


def ping(ns, addr):
    cmd = ["busybox", "ping6" if ":" in addr else "ping", "-c", "1", "-W", "2", addr]
    return sh(*cmd, ns=ns, check=False).returncode == 0


@pytest.fixture
def node(tmp_path):
    n = Node(tmp_path)
    try:
        yield n
    finally:
        n.cleanup()


def with_prev(conf, result):
    c = dict(conf)
    c["prevResult"] = result
    return c


# --- ADD: what it builds --------------------------------------------------------------------

@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_add_connects_container_to_bridge(node, version):
    ctr = node.container()
    conf = node.conf(version, isDefaultGateway=True)
    res = node.add(conf, ctr)
    assert res["cniVersion"] == version
    names = [i["name"] for i in res["interfaces"]]
    assert names[0] == "tbr0" and names[2] == "eth0"
    assert res["interfaces"][2]["sandbox"] == f"/run/netns/{ctr}"
    host = names[1]
    ip = res["ips"][0]
    assert ip["address"] == "10.88.0.2/24" and ip["gateway"] == "10.88.0.1"
    assert ip["interface"] == 2
    assert ("version" in ip) == (version < "1.0.0")
    assert {"dst": "0.0.0.0/0", "gw": "10.88.0.1"} in res["routes"]

    ports = node.ports()
    assert host in ports and ports[host]["linkinfo"]["info_kind"] == "veth"
    assert "UP" in ports[host]["flags"]
    assert node.addrs("tbr0") == ["10.88.0.1/24"]
    assert ctr_addrs(ctr) == ["10.88.0.2/24"]
    assert ctr_default_gw(ctr) == ["10.88.0.1"]
    eth0 = ipj(ctr, "link", "show", "eth0")[0]
    assert eth0["address"] == res["interfaces"][2]["mac"]
    assert node.links()["tbr0"]["address"] == res["interfaces"][0]["mac"]
    assert sh("cat", "/proc/sys/net/ipv4/ip_forward", ns=node.name).stdout.strip() == "1"


def test_containers_reach_each_other_and_the_gateway(node):
    a, b = node.container(), node.container()
    conf = node.conf(isDefaultGateway=True)
    ra = node.add(conf, a, container="ca")
    rb = node.add(conf, b, container="cb")
    addr_b = rb["ips"][0]["address"].split("/")[0]
    assert ping(a, addr_b)
    assert ping(b, ra["ips"][0]["address"].split("/")[0])
    assert ping(a, "10.88.0.1")


def test_ipv6_reachable_at_once(node):
    a, b = node.container(), node.container()
    conf = node.conf(isDefaultGateway=True, ranges=[[{"subnet": "fd88::/64"}]])
    node.add(conf, a, container="ca")
    rb = node.add(conf, b, container="cb")
    assert ctr_addrs(a) == ["fd88::2/64"]
    assert ctr_default_gw(a, "-6") == ["fd88::1"]
    assert "fd88::1/64" in node.addrs("tbr0")
    # No DAD wait: the addresses are usable as soon as ADD returns.
    flags = ipj(a, "-6", "addr", "show", "dev", "eth0")[0]["addr_info"]
    assert not any(f.get("tentative") for f in flags)
    assert ping(a, rb["ips"][0]["address"].split("/")[0])
    assert ping(a, "fd88::1")


def test_dual_stack(node):
    a, b = node.container(), node.container()
    conf = node.conf(isDefaultGateway=True,
                     ranges=[[{"subnet": "10.88.0.0/24"}], [{"subnet": "fd88::/64"}]])
    ra = node.add(conf, a, container="ca")
    rb = node.add(conf, b, container="cb")
    assert [i["address"] for i in ra["ips"]] == ["10.88.0.2/24", "fd88::2/64"]
    assert {"dst": "::/0", "gw": "fd88::1"} in ra["routes"]
    assert sorted(node.addrs("tbr0")) == ["10.88.0.1/24", "fd88::1/64"]
    for ip in rb["ips"]:
        assert ping(a, ip["address"].split("/")[0])


def test_enabledad_leaves_dad_on(node):
    a = node.container()
    conf = node.conf(enabledad=True, ranges=[[{"subnet": "fd88::/64"}]])
    node.add(conf, a)
    assert sh("cat", "/proc/sys/net/ipv6/conf/eth0/accept_dad", ns=a).stdout.strip() != "0"


def test_hairpin_promisc_mtu(node):
    a, b = node.container(), node.container()
    r = node.add(node.conf(hairpinMode=True, mtu=1400), a, container="ca")
    port = node.ports()[r["interfaces"][1]["name"]]
    assert port["linkinfo"]["info_slave_data"]["hairpin"] is True
    assert port["mtu"] == 1400
    assert ipj(a, "link", "show", "eth0")[0]["mtu"] == 1400

    node2_conf = node.conf(promiscMode=True, bridge="tbr1",
                           ranges=[[{"subnet": "10.89.0.0/24"}]], name="bnet2")
    r = node.add(node2_conf, b, container="cb")
    assert "PROMISC" in node.links()["tbr1"]["flags"]
    port = node.ports("tbr1")[r["interfaces"][1]["name"]]
    assert port["linkinfo"]["info_slave_data"]["hairpin"] is False


def test_hairpin_and_promisc_together_is_invalid(node):
    rc, out = node.run("ADD", node.conf(hairpinMode=True, promiscMode=True), netns=node.container())
    assert rc == 1 and out["code"] == 7
    assert "hairpinMode and promiscMode" in out["msg"]


def kernel_has_vlan_filtering():
    ns = f"bt-brv-{uuid.uuid4().hex[:6]}"
    sh("ip", "netns", "add", ns)
    try:
        return sh("ip", "-n", ns, "link", "add", "b", "type", "bridge", "vlan_filtering", "1",
                  check=False).returncode == 0
    finally:
        sh("ip", "netns", "del", ns, check=False)


needs_vlan_filtering = pytest.mark.skipif(
    os.geteuid() != 0 or not kernel_has_vlan_filtering(),
    reason="kernel built without CONFIG_BRIDGE_VLAN_FILTERING")


def bridge_vlans(node, dev):
    out = json.loads(sh("bridge", "-j", "vlan", "show", "dev", dev, ns=node.name).stdout)
    entries = out[0]["vlans"] if out else []
    return {v["vlan"]: set(v.get("flags", [])) for v in entries}


@needs_vlan_filtering
def test_vlan(node):
    a, b = node.container(), node.container()
    conf = node.conf(vlan=100, isGateway=True)
    ra = node.add(conf, a, container="ca")
    node.add(conf, b, container="cb")
    br = node.links()["tbr0"]
    assert br["linkinfo"]["info_data"]["vlan_filtering"] == 1
    vlans = bridge_vlans(node, ra["interfaces"][1]["name"])
    assert vlans[100] == {"PVID", "Egress Untagged"}
    # The gateway address sits on "<bridge>.<vlan>", whose peer is a port in the VLAN.
    assert node.addrs("tbr0.100") == ["10.88.0.1/24"]
    assert ping(a, "10.88.0.1")
    assert ping(a, "10.88.0.3")


@needs_vlan_filtering
def test_vlan_trunk_and_default_vlan(node):
    a = node.container()
    conf = node.conf(ipam=None, vlan=10, vlanTrunk=[{"id": 20}, {"minID": 30, "maxID": 32}],
                     preserveDefaultVlan=False)
    r = node.add(conf, a)
    vlans = bridge_vlans(node, r["interfaces"][1]["name"])
    assert set(vlans) == {10, 20, 30, 31, 32}
    assert vlans[10] == {"PVID", "Egress Untagged"}
    assert vlans[31] == set()


def test_l2_only_and_disabled_interface(node):
    a, b = node.container(), node.container()
    r = node.add(node.conf(ipam=None), a)
    assert "ips" not in r and len(r["interfaces"]) == 3
    assert "UP" in ipj(a, "link", "show", "eth0")[0]["flags"]
    r = node.add(node.conf(ipam=None, disableContainerInterface=True), b, container="c2")
    assert "UP" not in ipj(b, "link", "show", "eth0")[0]["flags"]
    rc, out = node.run("ADD", node.conf(disableContainerInterface=True), netns=node.container(),
                       container="c3")
    assert rc == 1 and out["code"] == 7


def test_mac_from_args_and_runtime_config(node):
    a, b = node.container(), node.container()
    node.add(node.conf(), a, args="IgnoreUnknown=1;MAC=02:11:22:33:44:55")
    assert ipj(a, "link", "show", "eth0")[0]["address"] == "02:11:22:33:44:55"
    conf = node.conf(runtimeConfig={"mac": "02:11:22:33:44:66"})
    r = node.add(conf, b, container="c2")
    assert r["interfaces"][2]["mac"] == "02:11:22:33:44:66"


def test_force_address(node):
    sh("ip", "link", "add", "tbr0", "type", "bridge", ns=node.name)
    sh("ip", "addr", "add", "10.99.0.1/24", "dev", "tbr0", ns=node.name)
    rc, out = node.run("ADD", node.conf(isGateway=True), netns=node.container())
    assert rc == 1 and "already has an IP address" in out["msg"]
    assert node.reservations() == [] and not node.ports()
    node.add(node.conf(isGateway=True, forceAddress=True), node.container(), container="c2")
    assert node.addrs("tbr0") == ["10.88.0.1/24"]


# --- ipMasq and macspoofchk (nftables) -------------------------------------------------------

def rules_of(ruleset, family):
    """The rules, sets and maps of `family`: berth's rules are static and each attachment's
    addresses, veths and MACs are set elements (src/net/nft/element_table.h)."""
    return [e for e in ruleset.get("nftables", [])
            for kind in ("rule", "set", "map") if kind in e and e[kind]["family"] == family]


def test_ip_masq(node):
    a = node.container()
    conf = node.conf(ipMasq=True, isGateway=True)
    node.add(conf, a)
    rules = rules_of(node.nft(), "inet")
    text = json.dumps(rules)
    assert "masquerade" in text and "fully-random" in text and "10.88.0.2" in text
    rc, _ = node.run("DEL", conf, netns=a)
    assert rc == 0
    assert "10.88.0.2" not in json.dumps(rules_of(node.nft(), "inet"))


def test_mac_spoof_check(node):
    a = node.container()
    conf = node.conf(macspoofchk=True)
    r = node.add(conf, a)
    text = json.dumps(rules_of(node.nft(), "bridge"))
    assert r["interfaces"][2]["mac"] in text and r["interfaces"][1]["name"] in text
    assert node.run("CHECK", with_prev(conf, r), netns=a)[0] == 0
    assert node.run("DEL", conf, netns=a)[0] == 0
    assert r["interfaces"][2]["mac"] not in json.dumps(rules_of(node.nft(), "bridge"))


# --- CHECK and DEL ---------------------------------------------------------------------------

def test_check_passes_then_fails_when_veth_deleted(node):
    a = node.container()
    conf = node.conf("1.0.0", isDefaultGateway=True, hairpinMode=True)
    r = node.add(conf, a)
    rc, out = node.run("CHECK", with_prev(conf, r), netns=a)
    assert rc == 0, out
    sh("ip", "link", "del", r["interfaces"][1]["name"], ns=node.name)
    rc, out = node.run("CHECK", with_prev(conf, r), netns=a)
    assert rc == 1 and out["msg"]


def test_check_fails_when_address_removed(node):
    a = node.container()
    conf = node.conf("1.0.0")
    r = node.add(conf, a)
    sh("ip", "addr", "del", r["ips"][0]["address"], "dev", "eth0", ns=a)
    rc, out = node.run("CHECK", with_prev(conf, r), netns=a)
    assert rc == 1 and "10.88.0.2" in out["msg"]


def test_check_needs_prev_result_and_040(node):
    a = node.container()
    rc, out = node.run("CHECK", node.conf("1.0.0"), netns=a)
    assert rc == 1 and out["code"] == 7 and "prevResult" in out["msg"]
    rc, out = node.run("CHECK", node.conf("0.3.1"), netns=a)
    assert rc == 1 and out["code"] == 1


def test_del_removes_everything_and_is_idempotent(node):
    a = node.container()
    conf = node.conf(isGateway=True)
    r = node.add(conf, a)
    assert node.reservations() == ["10.88.0.2"]
    for _ in range(2):
        rc, out = node.run("DEL", conf, netns=a)
        assert rc == 0 and out is None
    assert r["interfaces"][1]["name"] not in node.links()
    assert sh("ip", "-n", a, "link", "show", "eth0", check=False).returncode != 0
    assert node.reservations() == []


def test_del_with_netns_gone(node):
    a = node.container()
    conf = node.conf()
    r = node.add(conf, a)
    node.remove_container(a)
    rc, _ = node.run("DEL", conf, netns=a)
    assert rc == 0
    rc, _ = node.run("DEL", conf, netns=None)  # CNI_NETNS may be empty on DEL
    assert rc == 0
    assert r["interfaces"][1]["name"] not in node.links()
    assert node.reservations() == []


# --- errors ----------------------------------------------------------------------------------

def test_spec_error_codes(node):
    a = node.container()
    rc, out = node.run("ADD", "{not json", netns=a)
    assert rc == 1 and out["code"] == 6
    rc, out = node.run("ADD", node.conf("0.9.9"), netns=a)
    assert rc == 1 and out["code"] == 1
    rc, out = node.run("ADD", node.conf(vlan=5000), netns=a)
    assert rc == 1 and out["code"] == 7 and "vlan" in out["msg"]
    rc, out = node.run("ADD", node.conf(mtu="big"), netns=a)
    assert rc == 1 and out["code"] == 7 and "mtu" in out["msg"]
    rc, out = node.run("GC", node.conf("1.0.0"))
    assert rc == 1 and out["code"] == 1
    rc, out = node.run("ADD", node.conf(), netns=a, container="")
    assert rc == 1 and out["code"] == 4
    rc, out = node.run("ADD", node.conf(), netns="bt-does-not-exist")
    assert rc == 1 and out["code"] in (3, 4)
    rc, out = node.run("VERSION", {"cniVersion": "1.1.0"})
    assert rc == 0 and out["supportedVersions"] == ALL_VERSIONS
    # Nothing was left behind by any of them.
    assert not node.ports() and node.reservations() == []


def test_exhausted_range_cleans_up(node):
    conf = node.conf(ranges=[[{"subnet": "10.88.0.0/30"}]])  # one usable address
    node.add(conf, node.container())
    b = node.container()
    rc, out = node.run("ADD", conf, netns=b, container="c2")
    assert rc == 1 and out["code"] != 0 and out["msg"]
    assert len(node.ports()) == 1
    assert sh("ip", "-n", b, "link", "show", "eth0", check=False).returncode != 0


@have_reference
def test_delegated_ipam(node):
    """berth-host-local runs inside berth-bridge; any other IPAM type is exec'd from CNI_PATH."""
    a = node.container()
    conf = node.conf(ipam="host-local", isGateway=True)
    r = node.add(conf, a)
    assert ctr_addrs(a) == ["10.88.0.2/24"] and r["ips"][0]["address"] == "10.88.0.2/24"
    assert node.reservations() == ["10.88.0.2"]
    assert node.run("CHECK", with_prev(conf, r), netns=a)[0] == 0
    assert node.run("DEL", conf, netns=a)[0] == 0
    assert node.reservations() == [] and not node.ports()


def test_status(node):
    rc, out = node.run("STATUS", node.conf("1.1.0"))
    assert rc == 0, out


# --- parallelism, GC and killed ADDs ---------------------------------------------------------

def test_parallel_adds_get_distinct_addresses(node):
    n = 100
    ctrs = [node.container() for _ in range(n)]
    conf = node.conf("1.1.0", isGateway=True, ranges=[[{"subnet": "10.88.0.0/16"}]])
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: node.run("ADD", conf, container=f"p{i}",
                                                   netns=ctrs[i]), range(n)))
    assert all(rc == 0 for rc, _ in results), [o for rc, o in results if rc]
    addrs = {o["ips"][0]["address"] for _, o in results}
    assert len(addrs) == n
    assert len(node.ports()) == n and len(node.reservations()) == n
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        dels = list(pool.map(lambda i: node.run("DEL", conf, container=f"p{i}", netns=ctrs[i]),
                             range(n)))
    assert all(rc == 0 for rc, _ in dels)
    assert node.ports() == {} and node.reservations() == []


def test_gc_removes_invalid_attachments(node):
    conf = node.conf("1.1.0", isGateway=True, ipMasq=True, macspoofchk=True)
    ctrs = [node.container() for _ in range(3)]
    res = [node.add(conf, c, container=f"g{i}") for i, c in enumerate(ctrs)]
    gc = dict(conf)
    gc["cni.dev/valid-attachments"] = [{"containerID": "g1", "ifname": "eth0"}]
    rc, out = node.run("GC", gc)
    assert rc == 0, out
    assert set(node.ports()) == {res[1]["interfaces"][1]["name"]}
    assert node.reservations() == ["10.88.0.3"]
    ruleset = json.dumps(node.nft())
    assert "10.88.0.2" not in ruleset and "10.88.0.3" in ruleset
    rc, out = node.run("CHECK", with_prev(conf, res[1]), container="g1", netns=ctrs[1])
    assert rc == 0, out


def test_sigkilled_adds_leave_nothing_gc_does_not_clean(node):
    conf = node.conf("1.1.0", isGateway=True, ipMasq=True, macspoofchk=True,
                     ranges=[[{"subnet": "10.88.0.0/16"}]])
    rnd = random.Random(1234)
    for i in range(30):
        ctr = node.container()
        p = node.run("ADD", conf, container=f"k{i}", netns=ctr, popen=True)
        time.sleep(rnd.uniform(0, 0.012))
        p.send_signal(signal.SIGKILL)
        p.wait()  # `ip netns exec` execs the plugin: the pid signalled is the plugin's
    time.sleep(0.2)
    gc = dict(conf)
    gc["cni.dev/valid-attachments"] = []
    rc, out = node.run("GC", gc)
    assert rc == 0, out
    assert node.ports() == {}
    assert node.reservations() == []
    ruleset = json.dumps(node.nft())
    assert "10.88." not in ruleset


# --- the reference plugin, side by side ------------------------------------------------------

def shape(result):
    """What two plugins' results should share: everything but MACs and host veth names."""
    r = json.loads(json.dumps(result))
    for i in r.get("interfaces", []):
        i.pop("mac", None)
    r["interfaces"][1].pop("name", None)
    for ns_field in r["interfaces"]:
        if "sandbox" in ns_field:
            ns_field["sandbox"] = "<netns>"
    return r


def observe(node, ctr, result):
    host = result["interfaces"][1]["name"]
    port = node.ports()[host]
    br = node.links()["tbr0"]
    eth0 = ipj(ctr, "link", "show", "eth0")[0]
    return {
        "bridge_flags": sorted(set(br["flags"]) & {"UP", "PROMISC"}),
        "vlan_filtering": br["linkinfo"]["info_data"]["vlan_filtering"],
        "hairpin": port["linkinfo"]["info_slave_data"]["hairpin"],
        "port_mtu": port["mtu"],
        "ctr_mtu": eth0["mtu"],
        "ctr_up": "UP" in eth0["flags"],
        "ctr_addrs": ctr_addrs(ctr),
        "ctr_routes": sorted((r["dst"], r.get("gateway")) for r in ipj(ctr, "route")),
        "bridge_addrs": node.addrs("tbr0"),
        "vlans": bridge_vlans(node, host) if br["linkinfo"]["info_data"]["vlan_filtering"] else {},
    }


@have_reference
@pytest.mark.parametrize("version", SHARED_VERSIONS)
@pytest.mark.parametrize("opts", [
    {"isDefaultGateway": True},
    {"isGateway": True, "hairpinMode": True, "mtu": 1400},
    {"promiscMode": True},
    pytest.param({"vlan": 42}, marks=needs_vlan_filtering),
], ids=["default-gw", "hairpin-mtu", "promisc", "vlan"])
def test_matches_reference(tmp_path, version, opts):
    seen = []
    for plugin, ipam in ((BERTH, "berth-host-local"), (REFERENCE, "host-local")):
        node = Node(tmp_path / Path(plugin).name)
        try:
            ctr = node.container()
            conf = node.conf(version, ipam=ipam, **opts)
            res = node.add(conf, ctr, plugin=plugin)
            seen.append((shape(res), observe(node, ctr, res)))
            if version != "0.3.1":
                rc, out = node.run("CHECK", with_prev(conf, res), netns=ctr, plugin=plugin)
                assert rc == 0, (plugin, out)
            assert node.run("DEL", conf, netns=ctr, plugin=plugin)[0] == 0
            assert not node.ports() and node.reservations() == []
        finally:
            node.cleanup()
    (ours, our_view), (ref, ref_view) = seen
    assert ours == ref
    assert our_view == ref_view


@have_reference
def test_dual_stack_matches_reference(tmp_path):
    seen = []
    for plugin, ipam in ((BERTH, "berth-host-local"), (REFERENCE, "host-local")):
        node = Node(tmp_path / Path(plugin).name)
        try:
            ctr = node.container()
            conf = node.conf("1.0.0", ipam=ipam, isDefaultGateway=True,
                             ranges=[[{"subnet": "10.88.0.0/24"}], [{"subnet": "fd88::/64"}]])
            res = node.add(conf, ctr, plugin=plugin)
            seen.append((shape(res), observe(node, ctr, res)))
        finally:
            node.cleanup()
    assert seen[0] == seen[1]
