"""berth-portmap end to end, on a real kernel, inside network namespaces made here.

Topology per test (names bt-pm<hex>-*): a "node" netns with bridge br0 (10.99.0.1/24) and an
uplink veth (192.168.99.1/24) to an "outside" netns (192.168.99.2); a "container" netns whose
eth0 (10.99.0.5/24, fd99::5/64) is a port of br0. A small Python server in the container answers
TCP and UDP with the address it saw the client come from. The plugin runs in the node netns as a
CNI runtime runs it (CNI_* environment, config on stdin); rules are inspected from outside with
`nft -j list ruleset`: the table's rules are static, each published port is an element of its
maps tagged with the attachment (see src/net/portmap/rules.h). Datapath tests run against berth and the reference portmap
(/usr/lib/cni/portmap, iptables) alike.

Needs root. BERTH_BIN: directory with berth-portmap (default build/bin).
"""
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BERTH_BIN = os.environ.get("BERTH_BIN") or str(REPO / "build/bin")
BERTH = os.path.join(BERTH_BIN, "berth-portmap")
REFERENCE = "/usr/lib/cni/portmap"
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
    pytest.mark.skipif(not os.access(BERTH, os.X_OK), reason=f"{BERTH} not built"),
]

SERVER = r"""
import socket, sys, threading
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 80)); s.listen(64)
    while True:
        c, a = s.accept(); c.sendall(("tcp %s\n" % a[0]).encode()); c.close()
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 53))
    while True:
        d, a = u.recvfrom(100); u.sendto(("udp %s\n" % a[0]).encode(), a)
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
tcp()
"""

CLIENT = r"""
import socket, sys
proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
sport = int(sys.argv[4]) if len(sys.argv) > 4 else 0
try:
    if proto == "tcp":
        s = socket.create_connection((host, port), timeout=2)
        print(s.recv(100).decode().strip())
    else:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(1)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); u.bind(("0.0.0.0", sport))
        u.sendto(b"x", (host, port)); print(u.recvfrom(100)[0].decode().strip())
except OSError as e:
    print("fail", type(e).__name__)
"""


def sh(*cmd, check=True, input=None):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, input=input,
                          timeout=30)


class Topo:
    def __init__(self):
        tag = secrets.token_hex(3)
        self.node, self.ctr, self.out = (f"bt-pm{tag}-{n}" for n in ("node", "ctr", "out"))
        self.net = f"pmnet-{tag}"
        self.server = None

    def up(self):
        n, c, o = self.node, self.ctr, self.out
        for ns in (n, c, o):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", n, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", n, "addr", "add", "10.99.0.1/24", "dev", "br0")
        sh("ip", "-n", n, "addr", "add", "fd99::1/64", "dev", "br0", "nodad")
        sh("ip", "-n", n, "link", "set", "br0", "up")
        sh("ip", "-n", n, "link", "add", "vethc", "type", "veth", "peer", "name", "eth0",
           "netns", c)
        # The reference bridge plugin's hairpinMode: needed for hairpin when br_netfilter is
        # loaded (the DNATed frame is bridged back out of the port it came in on).
        sh("ip", "-n", n, "link", "set", "vethc", "master", "br0", "up")
        sh("ip", "-n", n, "link", "set", "vethc", "type", "bridge_slave", "hairpin", "on")
        sh("ip", "-n", c, "addr", "add", "10.99.0.5/24", "dev", "eth0")
        sh("ip", "-n", c, "addr", "add", "fd99::5/64", "dev", "eth0", "nodad")
        sh("ip", "-n", c, "link", "set", "eth0", "up")
        sh("ip", "-n", c, "route", "add", "default", "via", "10.99.0.1")
        sh("ip", "-n", n, "link", "add", "vetho", "type", "veth", "peer", "name", "eth0",
           "netns", o)
        sh("ip", "-n", n, "addr", "add", "192.168.99.1/24", "dev", "vetho")
        sh("ip", "-n", n, "link", "set", "vetho", "up")
        sh("ip", "-n", o, "addr", "add", "192.168.99.2/24", "dev", "eth0")
        sh("ip", "-n", o, "link", "set", "eth0", "up")
        sh("ip", "-n", o, "route", "add", "default", "via", "192.168.99.1")
        sh("ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def start_server(self):
        self.server = subprocess.Popen(["ip", "netns", "exec", self.ctr, PY, "-c", SERVER],
                                       stdout=subprocess.PIPE, text=True)
        assert self.server.stdout.readline().strip() == "ready"

    def down(self):
        if self.server:
            self.server.kill()
            self.server.wait()
        for ns in (self.node, self.ctr, self.out):
            sh("ip", "netns", "del", ns, check=False)

    def config(self, version="1.0.0", mappings=None, **extra):
        if mappings is None:
            mappings = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                        {"hostPort": 5353, "containerPort": 53, "protocol": "udp"}]
        ip4 = {"address": "10.99.0.5/24", "gateway": "10.99.0.1", "interface": 2}
        ip6 = {"address": "fd99::5/64", "gateway": "fd99::1", "interface": 2}
        if version in ("0.3.0", "0.3.1", "0.4.0"):
            ip4["version"], ip6["version"] = "4", "6"
        prev = {"cniVersion": version,
                "interfaces": [{"name": "br0", "mac": "02:00:00:00:00:01"},
                               {"name": "vethc", "mac": "02:00:00:00:00:02"},
                               {"name": "eth0", "mac": "02:00:00:00:00:03",
                                "sandbox": f"/var/run/netns/{self.ctr}"}],
                "ips": [ip4, ip6], "dns": {}}
        conf = {"cniVersion": version, "name": self.net, "type": "portmap",
                "capabilities": {"portMappings": True},
                "runtimeConfig": {"portMappings": mappings}, "prevResult": prev}
        conf.update(extra)
        return conf

    def plugin(self, command, conf, container="ctr1", ifname="eth0", exe=BERTH, netns=None):
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_IFNAME": ifname,
               "CNI_NETNS": netns or f"/var/run/netns/{self.ctr}", "CNI_PATH": "/usr/lib/cni"}
        p = subprocess.run(["ip", "netns", "exec", self.node, exe], env=env,
                           input=json.dumps(conf), capture_output=True, text=True, timeout=30)
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, out

    def ruleset(self):
        return json.loads(sh("ip", "netns", "exec", self.node, "nft", "-j", "list",
                             "ruleset").stdout)["nftables"]

    def tables(self):
        return sorted((i["table"]["family"], i["table"]["name"]) for i in self.ruleset()
                      if "table" in i)

    def rules(self, table=None):
        table = table or f"berth-pm-{self.net}"
        return [i["rule"] for i in self.ruleset() if "rule" in i and i["rule"]["table"] == table]

    def elements(self, table=None):
        """{set or map name: [(key, value, comment)]} of the berth portmap table."""
        table = table or f"berth-pm-{self.net}"
        out = {}
        for i in self.ruleset():
            s = i.get("set") or i.get("map")
            if not s or s["table"] != table:
                continue
            elems = out.setdefault(s["name"], [])
            for e in s.get("elem", []):
                key, value = (e[0], e[1]) if "map" in i else (e, None)
                comment = None
                if isinstance(key, dict) and "elem" in key:
                    comment = key["elem"].get("comment")
                    key = key["elem"]["val"]
                elems.append((json.dumps(key), json.dumps(value), comment))
        return out

    def tagged(self, table=None):
        """Comment -> number of elements carrying it."""
        by_tag = {}
        for elems in self.elements(table).values():
            for _, _, c in elems:
                if c:
                    by_tag[c] = by_tag.get(c, 0) + 1
        return by_tag

    def client(self, ns, proto, host, port, sport=0):
        return sh("ip", "netns", "exec", ns, PY, "-c", CLIENT, proto, host, str(port),
                  str(sport)).stdout.strip()


@pytest.fixture
def topo():
    t = Topo()
    try:
        t.up()
        yield t
    finally:
        t.down()


@pytest.mark.parametrize("version", VERSIONS)
def test_add_check_del(topo, version):
    conf = topo.config(version)
    code, out = topo.plugin("ADD", conf)
    assert code == 0, out
    assert out == conf["prevResult"]  # passed on unchanged
    table = f"berth-pm-{topo.net}"
    assert ("inet", table) in topo.tables()
    rules = topo.rules()
    elements = topo.elements()
    dnat = elements["hp4_any"] + elements["hp6_any"]
    # tcp and udp, IPv4 and IPv6
    assert len(dnat) == 4 and all(c == "berth:ctr1:eth0" for _, _, c in dnat)
    assert not elements["hp4_ip"] and not elements["hp6_ip"]
    # hairpin and localhost masquerade: the container's subnets
    assert len(elements["subnets4"]) == 1 and len(elements["subnets6"]) == 1
    localnet = sh("ip", "netns", "exec", topo.node, "cat",
                  "/proc/sys/net/ipv4/conf/br0/route_localnet").stdout.strip()
    assert localnet == "1"
    if version not in ("0.3.0", "0.3.1"):
        assert topo.plugin("CHECK", conf) == (0, None)
    # Re-ADD replaces, never duplicates.
    assert topo.plugin("ADD", conf)[0] == 0
    assert topo.rules() == rules and topo.elements() == elements
    assert topo.plugin("DEL", conf) == (0, None)
    # DEL leaves the (static) table and removes every element of the attachment.
    assert topo.tagged() == {}
    if version not in ("0.3.0", "0.3.1"):
        code, out = topo.plugin("CHECK", conf)
        assert code == 1 and out["code"] == 999
    # DEL succeeds twice, and when the container's netns is gone.
    assert topo.plugin("DEL", conf) == (0, None)
    assert topo.plugin("DEL", conf, netns="/var/run/netns/does-not-exist") == (0, None)


def test_rest_of_ruleset_untouched(topo):
    sh("ip", "netns", "exec", topo.node, "nft", "-f", "-", input="""
table inet admin { chain c { type filter hook input priority 0; tcp dport 22 accept; }; }
table ip nat { chain POSTROUTING { type nat hook postrouting priority 100; }; }
""")
    before = [i for i in topo.ruleset() if "metainfo" not in i]
    conf = topo.config()
    assert topo.plugin("ADD", conf)[0] == 0
    assert topo.plugin("ADD", conf, container="ctr2")[0] == 0
    assert topo.plugin("DEL", conf)[0] == 0
    assert topo.plugin("DEL", conf, container="ctr2")[0] == 0
    after = [i for i in topo.ruleset() if "metainfo" not in i]
    # The table berth made stays (DEL never deletes it), empty of elements; nothing else moved.
    mine = f"berth-pm-{topo.net}"
    assert [i for i in after if mine not in json.dumps(i)] == before
    assert topo.tagged() == {}


def test_gc(topo):
    conf = topo.config("1.1.0")
    for i, ctr in enumerate(("a1", "a2", "a3")):
        ports = topo.config("1.1.0", mappings=[{"hostPort": 8080 + i, "containerPort": 80}])
        assert topo.plugin("ADD", ports, container=ctr)[0] == 0
        if ctr == "a2":
            conf = ports
    gc = dict(conf, **{"cni.dev/valid-attachments": [{"containerID": "a2", "ifname": "eth0"}]})
    gc.pop("prevResult")
    gc.pop("runtimeConfig")
    assert topo.plugin("GC", gc) == (0, None)
    assert set(topo.tagged()) == {"berth:a2:eth0"}
    assert topo.plugin("CHECK", conf, container="a2") == (0, None)
    gc["cni.dev/valid-attachments"] = []
    assert topo.plugin("GC", gc) == (0, None)
    assert ("inet", f"berth-pm-{topo.net}") not in topo.tables()
    assert topo.plugin("STATUS", gc) == (0, None)


def test_sigkilled_adds_leave_only_what_gc_cleans(topo):
    conf = topo.config("1.1.0")
    env = {"CNI_COMMAND": "ADD", "CNI_IFNAME": "eth0", "CNI_PATH": "/usr/lib/cni",
           "CNI_NETNS": f"/var/run/netns/{topo.ctr}", "PATH": "/usr/bin:/bin"}
    for i in range(30):
        p = subprocess.Popen(["ip", "netns", "exec", topo.node, BERTH], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, env=dict(env, CNI_CONTAINERID=f"k{i}"))
        # Host ports of its own per attachment, so that no two share an element.
        conf = topo.config("1.1.0", mappings=[
            {"hostPort": 10000 + i, "containerPort": 80, "protocol": "tcp"},
            {"hostPort": 11000 + i, "containerPort": 53, "protocol": "udp"}])
        p.stdin.write(json.dumps(conf).encode())
        p.stdin.close()
        time.sleep(0.0005 * i)
        p.send_signal(signal.SIGKILL)
        p.wait()
    # Each attachment has all of its elements or none (one transaction per ADD): 2 ports x 2
    # families, each a map entry and an ownership entry.
    by_tag = topo.tagged()
    assert all(n == 8 for n in by_tag.values()), by_tag
    gc = dict(conf, **{"cni.dev/valid-attachments": []})
    assert topo.plugin("GC", gc) == (0, None)
    assert ("inet", f"berth-pm-{topo.net}") not in topo.tables()


def test_errors(topo):
    conf = topo.config()
    no_prev = dict(conf)
    no_prev.pop("prevResult")
    code, out = topo.plugin("ADD", no_prev)
    assert code == 1 and out["code"] == 7
    code, out = topo.plugin("ADD", dict(conf, conditionsV4=["-s", "1.2.3.4"]))
    assert code == 1 and out["code"] == 2
    bad = topo.config(mappings=[{"hostPort": 0, "containerPort": 80}])
    code, out = topo.plugin("ADD", bad)
    assert code == 1 and out["code"] == 7
    code, out = topo.plugin("ADD", topo.config(version="0.2.0"))
    assert code == 1 and out["code"] == 1
    # A network name full of nft syntax is only ever a (hashed) table name.
    evil = dict(conf, name='x"; flush ruleset; add table ip pwn')
    assert topo.plugin("ADD", evil)[0] == 0
    names = [n for _, n in topo.tables()]
    assert "pwn" not in names and any(n.startswith("berth-pm-x___flush_ruleset") for n in names)
    assert topo.plugin("DEL", evil) == (0, None)
    assert topo.plugin("GC", dict(conf, cniVersion="1.1.0")) == (0, None)


@pytest.mark.parametrize("impl", ["berth", "reference"])
def test_datapath(topo, impl):
    exe = BERTH if impl == "berth" else REFERENCE
    if not os.access(exe, os.X_OK):
        pytest.skip(f"{exe} missing")
    topo.start_server()
    conf = topo.config()
    assert topo.plugin("ADD", conf, exe=exe)[0] == 0
    for proto, port in (("tcp", 8080), ("udp", 5353)):
        # From another host: its own address is kept.
        assert topo.client(topo.out, proto, "192.168.99.1", port) == f"{proto} 192.168.99.2"
        # From the node, to one of its addresses and to 127.0.0.1 (masqueraded to br0's).
        assert topo.client(topo.node, proto, "192.168.99.1", port) == f"{proto} 192.168.99.1"
        assert topo.client(topo.node, proto, "127.0.0.1", port) == f"{proto} 10.99.0.1"
        # Hairpin: the container to its own published port.
        assert topo.client(topo.ctr, proto, "192.168.99.1", port) == f"{proto} 10.99.0.1"
        assert topo.client(topo.ctr, proto, "10.99.0.1", port) == f"{proto} 10.99.0.1"
    assert topo.plugin("DEL", conf, exe=exe)[0] == 0
    assert topo.client(topo.out, "tcp", "192.168.99.1", 8080).startswith("fail")


def test_host_ip_and_snat_off(topo):
    topo.start_server()
    conf = topo.config(mappings=[{"hostPort": 8081, "containerPort": 80, "protocol": "tcp",
                                  "hostIP": "192.168.99.1"}], snat=False)
    assert topo.plugin("ADD", conf)[0] == 0
    assert topo.client(topo.out, "tcp", "192.168.99.1", 8081) == "tcp 192.168.99.2"
    assert topo.client(topo.node, "tcp", "10.99.0.1", 8081).startswith("fail")
    # snat off: no subnet to masquerade for.
    elements = topo.elements()
    assert not elements["subnets4"] and not elements["subnets6"]
    assert [c for _, _, c in elements["hp4_ip"]] == ["berth:ctr1:eth0"]
    assert topo.plugin("DEL", conf)[0] == 0
    assert topo.tagged() == {}


def test_del_without_runtime_config_and_host_port_conflict(topo):
    topo.start_server()
    conf = topo.config()
    assert topo.plugin("ADD", conf)[0] == 0
    # A runtime that lost runtimeConfig and prevResult still DELs everything of the attachment.
    bare = {k: v for k, v in conf.items() if k not in ("runtimeConfig", "prevResult")}
    assert topo.plugin("DEL", bare) == (0, None)
    assert topo.tagged() == {}
    assert topo.client(topo.out, "tcp", "192.168.99.1", 8080).startswith("fail")
    # A host port published by one container is refused to another one (another address)...
    assert topo.plugin("ADD", conf)[0] == 0
    other = topo.config()
    other["prevResult"]["ips"][0]["address"] = "10.99.0.6/24"
    other["prevResult"]["ips"][1]["address"] = "fd99::6/64"
    code, out = topo.plugin("ADD", other, container="ctr2")
    assert code == 1 and "already published" in out["msg"], out
    # ...and the DEL the runtime sends after that failed ADD leaves the first one's mapping.
    assert topo.plugin("DEL", other, container="ctr2") == (0, None)
    assert topo.client(topo.out, "tcp", "192.168.99.1", 8080) == "tcp 192.168.99.2"
    assert set(topo.tagged()) == {"berth:ctr1:eth0"}
    assert topo.plugin("DEL", conf)[0] == 0


def test_port_reused_at_once_and_stale_del_leaves_the_new_holder(topo):
    topo.start_server()
    conf = topo.config(mappings=[{"hostPort": 8082, "containerPort": 80, "protocol": "tcp"}])
    assert topo.plugin("ADD", conf)[0] == 0
    assert topo.plugin("DEL", conf) == (0, None)
    assert topo.tagged() == {}
    # The same host port for the next container (which got the same address) right away.
    assert topo.plugin("ADD", conf, container="ctr2")[0] == 0
    assert topo.tagged() == {"berth:ctr2:eth0": 4}  # hp4_any, hp6_any, own4, own6
    assert topo.client(topo.out, "tcp", "192.168.99.1", 8082) == "tcp 192.168.99.2"
    # A runtime retrying the teardown of the first container sends the same keys again: they
    # are ctr2's now, and stay.
    assert topo.plugin("DEL", conf) == (0, None)
    assert topo.tagged() == {"berth:ctr2:eth0": 4}
    assert topo.client(topo.out, "tcp", "192.168.99.1", 8082) == "tcp 192.168.99.2"
    assert topo.plugin("DEL", conf, container="ctr2") == (0, None)
    assert topo.tagged() == {}
    assert topo.client(topo.out, "tcp", "192.168.99.1", 8082).startswith("fail")


def test_many_mappings_are_removed_by_del(topo):
    # 200 mappings on a dual-stack attachment: far more elements than one socket buffer holds
    # answers for when DEL looks them all up at once.
    mappings = [{"hostPort": 20000 + i, "containerPort": 80, "protocol": "tcp"} for i in range(200)]
    conf = topo.config(mappings=mappings)
    assert topo.plugin("ADD", conf)[0] == 0
    held = topo.tagged()
    assert list(held) == ["berth:ctr1:eth0"] and held["berth:ctr1:eth0"] >= 400
    assert topo.plugin("DEL", conf) == (0, None)
    assert topo.tagged() == {}
    assert topo.plugin("DEL", conf) == (0, None)


def test_udp_conntrack_of_earlier_flows_cleared(topo):
    topo.start_server()
    # A UDP flow to the host port before the mapping exists: conntrack remembers it un-NATed.
    assert topo.client(topo.out, "udp", "192.168.99.1", 5353, sport=40000).startswith("fail")
    conf = topo.config()
    assert topo.plugin("ADD", conf)[0] == 0
    # The same flow (same source port) now reaches the container.
    assert topo.client(topo.out, "udp", "192.168.99.1", 5353, sport=40000) == "udp 192.168.99.2"
    assert topo.plugin("DEL", conf)[0] == 0
    # ...and after DEL the old DNATed entry no longer steers the flow to the container.
    assert topo.client(topo.out, "udp", "192.168.99.1", 5353, sport=40000).startswith("fail")
