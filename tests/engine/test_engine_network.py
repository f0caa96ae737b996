"""Engine networking end to end (root, real kernel): the default and user networks, published
ports, `--network container:|none`, internal networks, the /etc files, `berth port`, `berth
network ...`, and that rm / --rm leave no veth, address reservation, nftables element or cache
file behind.

Everything happens in network namespaces made here: a "node" netns in which every berth command
runs (`nsenter --net=/run/netns/<node> berth ...`: not `ip netns exec`, whose private mount
namespace would take berth's netns bind mounts with it), and an "outside" netns joined to the node
by a veth pair (node 198.51.100.1/24, outside 198.51.100.2/24), standing for another host. The
host's own interfaces, ruleset and net.ipv4.ip_forward are never touched (checked).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from engine_helpers import (IMAGE, NODE_IP, OUTSIDE_IP, REQUIREMENTS, RUNTIME, NodeNet,
                            _cgroup_dirs, _wait_for, sh)

pytestmark = list(REQUIREMENTS) + [
    pytest.mark.skipif(shutil.which("nsenter") is None, reason="needs nsenter"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2"),
    pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl"),
]

HOST_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


class Net(NodeNet):
    """The node and outside netnses, the berth that runs in the node, and web servers outside
    (their directories in self.dirs)."""

    def __init__(self, tmp, busybox_tar):
        super().__init__(tmp, busybox_tar, "bt-h5")
        self.dirs = []

    def fetch(self, ns, url):
        """The body at url fetched from netns ns, or None."""
        p = self.in_ns(ns, "curl", "-s", "-m", "5", url)
        return p.stdout if p.returncode == 0 else None

    def serve_outside(self, port, text):
        d = Path(tempfile.mkdtemp(prefix="bt-h5-www-"))
        (d / "index.html").write_text(text)
        p = subprocess.Popen(["ip", "netns", "exec", self.outside, "busybox", "httpd", "-f", "-p",
                              str(port), "-h", str(d)])
        self.procs.append(p)
        self.dirs.append(d)
        _wait_for(lambda: self.fetch(self.outside, f"http://127.0.0.1:{port}/") == text,
                  what="the outside server")

    def nft(self):
        return self.in_ns(self.node, "nft", "list", "ruleset").stdout

    def cleanup(self):
        super().cleanup()
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def net(busybox_tar):
    forward_before = HOST_FORWARD.read_text()
    tmp = Path(tempfile.mkdtemp(prefix=f"bt-h5-{secrets.token_hex(3)}-"))
    n = Net(tmp, busybox_tar)
    try:
        yield n
        ids = [c["Id"] for c in n.berth.ps()]
        n.berth.cleanup()
        for cid in ids:
            assert not _cgroup_dirs(cid)
        assert n.berth.ps() == []
        assert_nothing_left(n, ids)
    finally:
        n.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        assert HOST_FORWARD.read_text() == forward_before, "the host's ip_forward changed"


def run(n, *args, cmd=(), check=True, detach=False):
    return n.berth.container(*args, cmd=list(cmd), check=check, detach=detach)


def cexec(n, name, *cmd, check=True):
    return n.berth.run("exec", name, *cmd, check=check)


def addr_of(n, name, family="-4", ifname="eth0"):
    out = cexec(n, name, "ip", "-o", family, "addr", "show", ifname).stdout
    m = re.search(r"inet6? ([0-9a-f.:]+)/\d+", out)
    assert m, out
    return m.group(1)


def cfetch(n, name, host, port):
    """The HTTP body from host:port fetched inside container `name` (busybox nc: Debian's static
    busybox wget crashes), or "" when nothing answers."""
    script = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {host} {port}"
    out = cexec(n, name, "sh", "-c", script, check=False).stdout
    # (Text mode has turned the CRLFs into newlines.)
    return out.split("\n\n", 1)[1] if "\n\n" in out else ""


def sleeper(n, name, *flags):
    run(n, "--name", name, "--cap-add", "NET_RAW", *flags, cmd=["sleep", "300"], detach=True)


def httpd(n, name, *flags, port=80):
    script = (f"mkdir -p /www && echo hello-from-{name} > /www/index.html && "
              f"exec httpd -f -p {port} -h /www")
    run(n, "--name", name, *flags, cmd=["sh", "-c", script], detach=True)


def assert_nothing_left(n, ids):
    """No veth, host-local reservation, nft element or CNI cache entry of the containers."""
    links = json.loads(sh("ip", "-j", "-d", "-n", n.node, "link", "show").stdout)
    veths = [l["ifname"] for l in links
             if l.get("linkinfo", {}).get("info_kind") == "veth" and l["ifname"] != "up0"]
    assert veths == [], veths
    ipam = n.berth.runroot / "cni" / "networks"
    if ipam.exists():
        for d in ipam.iterdir():
            leases = [f.name for f in d.iterdir()
                      if re.fullmatch(r"[0-9a-f.:]+", f.name) and f.name.count(".") == 3
                      or ":" in f.name and not f.name.startswith("last_reserved")]
            assert leases == [], (d, leases)
    ruleset = n.nft()
    for cid in ids:
        assert cid not in ruleset, ruleset
    results = n.berth.runroot / "cni" / "results"
    assert not results.exists() or list(results.iterdir()) == []


# --- the default network --------------------------------------------------------------------------

def test_default_network_ping_and_gateway(net):
    sleeper(net, "a", "--network", "bridge")
    sleeper(net, "b", "--network", "bridge")
    a, b = addr_of(net, "a"), addr_of(net, "b")
    assert a.startswith("10.88.") and b.startswith("10.88.") and a != b
    assert cexec(net, "a", "ping", "-c", "1", "-W", "5", b, check=False).returncode == 0
    assert cexec(net, "b", "ping", "-c", "1", "-W", "5", a, check=False).returncode == 0
    assert cexec(net, "a", "ping", "-c", "1", "-W", "5", "10.88.0.1", check=False).returncode == 0
    # An IPv6 ULA too.
    assert addr_of(net, "a", "-6").startswith("fd")
    # The node forwards (the bridge plugin set it in the node netns, not on the host).
    fwd = net.in_ns(net.node, "cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip()
    assert fwd == "1"
    # The default network is a standard conflist.
    conf = json.loads((net.berth.root / "networks" / "berth.conflist").read_text())
    assert conf["name"] == "berth" and conf["plugins"][0]["bridge"] == "berth0"
    assert [p["type"] for p in conf["plugins"]] == ["berth-bridge", "berth-portmap"]
    ls = json.loads(net.berth.run("network", "ls", "--format", "json").stdout)
    assert [x["name"] for x in ls] == ["berth"]
    # Outgoing traffic is masqueraded: the outside host sees the node's address.
    net.serve_outside(8000, "outside-ok")
    assert cfetch(net, "a", OUTSIDE_IP, 8000) == "outside-ok"


def test_no_network_flag_is_the_default_network(net):
    """As docker's: a container made without --network is on the default network."""
    b = net.berth
    sleeper(net, "plain")
    assert addr_of(net, "plain").startswith("10.88.")
    route = cexec(net, "plain", "ip", "route").stdout
    assert "default via 10.88.0.1 dev eth0" in route, route
    info = b.inspect("plain")
    assert info["HostConfig"]["NetworkMode"] == "bridge"
    # Its veth is on the node's berth0.
    ports = json.loads(sh("ip", "-j", "-n", net.node, "link", "show", "master", "berth0").stdout)
    assert len(ports) == 1, ports
    cid = b.run("create", "--runtime", RUNTIME, IMAGE, "true").stdout.strip()
    assert b.inspect(cid)["HostConfig"]["NetworkMode"] == "bridge"


def test_user_network(net):
    b = net.berth
    assert b.run("network", "create", "--subnet", "10.77.0.0/24", "mynet").stdout == "mynet\n"
    auto = b.run("network", "create", "auto").stdout.strip()
    info = {x["name"]: x for x in json.loads(b.run("network", "ls", "--format", "json").stdout)}
    assert info["mynet"]["subnets"] == [{"subnet": "10.77.0.0/24", "gateway": "10.77.0.1"}]
    assert info["mynet"]["network_interface"] == "berth1"
    assert info[auto]["subnets"][0]["subnet"] == "10.89.0.0/24"
    assert info[auto]["network_interface"] == "berth2"
    assert set(b.run("network", "ls", "-q").stdout.split()) == {"berth", "mynet", "auto"}
    # Overlaps and taken names are refused.
    p = b.run("network", "create", "--subnet", "10.77.0.128/25", "other", check=False)
    assert p.returncode == 125 and "overlaps" in p.stderr, p.stderr
    assert b.run("network", "create", "mynet", check=False).returncode == 125

    sleeper(net, "a", "--network", "mynet", "--ip", "10.77.0.50",
            "--mac-address", "02:42:0a:4d:00:32")
    sleeper(net, "b", "--network", "mynet")
    assert addr_of(net, "a") == "10.77.0.50"
    link = cexec(net, "a", "ip", "link", "show", "eth0").stdout
    assert "02:42:0a:4d:00:32" in link
    bip = addr_of(net, "b")
    assert bip.startswith("10.77.0.")
    assert cexec(net, "a", "ping", "-c", "1", "-W", "5", bip, check=False).returncode == 0
    # In use: rm refuses, unless -f (which removes the containers).
    p = b.run("network", "rm", "mynet", check=False)
    assert p.returncode == 125 and "being used" in p.stderr, p.stderr
    inspect = json.loads(b.run("network", "inspect", "mynet").stdout)
    assert inspect[0]["name"] == "mynet" and inspect[0]["driver"] == "bridge"

    # connect/disconnect a running container.
    sleeper(net, "c", "--network", "bridge")
    b.run("network", "connect", "mynet", "c")
    assert addr_of(net, "c", ifname="eth1").startswith("10.77.0.")
    assert cexec(net, "c", "ping", "-c", "1", "-W", "5", bip, check=False).returncode == 0
    b.run("network", "disconnect", "mynet", "c")
    assert cexec(net, "c", "ip", "link", "show", "eth1", check=False).returncode != 0

    assert b.run("network", "rm", "-f", "mynet").stdout == "mynet\n"
    assert {c["Names"][0] if isinstance(c["Names"], list) else c["Names"]
            for c in b.ps()} == {"c"}
    assert not (b.root / "networks" / "mynet.conflist").exists()


# --- published ports ------------------------------------------------------------------------------

def test_published_ports(net):
    b = net.berth
    httpd(net, "web", "--network", "bridge", "-p", "8080:80", "-p", "9000-9001:90-91/udp")
    out = b.run("port", "web").stdout.splitlines()
    assert out == ["80/tcp -> 0.0.0.0:8080", "90/udp -> 0.0.0.0:9000",
                   "91/udp -> 0.0.0.0:9001"], out
    assert b.run("port", "web", "80").stdout == "0.0.0.0:8080\n"
    want = "hello-from-web\n"
    # From the outside host, through the node's address.
    _wait_for(lambda: net.fetch(net.outside, f"http://{NODE_IP}:8080/") == want, timeout=15,
              what="the published port from outside")
    # From the node itself: on localhost and on its own address.
    assert net.fetch(net.node, "http://127.0.0.1:8080/") == want
    assert net.fetch(net.node, f"http://{NODE_IP}:8080/") == want
    # From the container itself (hairpin) and from another container.
    assert cfetch(net, "web", NODE_IP, 8080) == want
    sleeper(net, "client", "--network", "bridge")
    assert cfetch(net, "client", NODE_IP, 8080) == want

    # -p with no host port: a free one, shown by `port`.
    httpd(net, "rand", "--network", "bridge", "-p", "80")
    line = b.run("port", "rand").stdout.strip()
    m = re.fullmatch(r"80/tcp -> 0\.0\.0\.0:(\d+)", line)
    assert m, line
    _wait_for(lambda: net.fetch(net.outside, f"http://{NODE_IP}:{m.group(1)}/") ==
              "hello-from-rand\n", timeout=15, what="the random port")

    # A stopped container no longer answers, and its attachment is gone.
    b.run("stop", "-t", "0", "web")
    assert net.fetch(net.outside, f"http://{NODE_IP}:8080/") is None
    web_id = b.inspect("web")["Id"]
    assert web_id not in net.nft()
    # Started again: attached again.
    b.run("start", "web")
    _wait_for(lambda: net.fetch(net.outside, f"http://{NODE_IP}:8080/") == want, timeout=15,
              what="the port after a restart")


def test_bad_publish_flags(net):
    for flags, word in [(["--network", "bridge", "-p", "70000:80"], "-p"),
                        (["--network", "bridge", "-p", "80/xyz"], "protocol"),
                        (["--network", "bridge", "-p", "8000-8002:80-81"], "ranges"),
                        (["--network", "none", "-p", "80"], "bridge network"),
                        (["--network", "nosuch"], "network not found"),
                        (["--network", "bridge", "--ip", "x"], "--ip"),
                        (["--add-host", "nocolon"], "--add-host")]:
        p = run(net, "--rm", *flags, cmd=["true"], check=False)
        assert p.returncode == 125 and word in p.stderr, (flags, p.stderr)


# --- other modes ------------------------------------------------------------------------------------

def test_container_mode_shares_interfaces(net):
    sleeper(net, "first", "--network", "bridge")
    mine = cexec(net, "first", "ip", "-o", "addr").stdout
    theirs = run(net, "--rm", "--network", "container:first", cmd=["ip", "-o", "addr"]).stdout
    assert mine == theirs and "10.88." in theirs
    # Its owner must be running.
    net.berth.run("stop", "-t", "0", "first")
    p = run(net, "--rm", "--network", "container:first", cmd=["true"], check=False)
    assert p.returncode == 125 and "not running" in p.stderr, p.stderr


def test_none_has_only_loopback(net):
    out = run(net, "--rm", "--network", "none", cmd=["ip", "-o", "link"]).stdout
    assert [l.split(":")[1].strip() for l in out.splitlines()] == ["lo"], out


def test_internal_network_has_no_way_out(net):
    b = net.berth
    b.run("network", "create", "--internal", "--subnet", "10.66.0.0/24", "closed")
    net.serve_outside(8000, "outside-ok")
    sleeper(net, "in", "--network", "closed")
    sleeper(net, "in2", "--network", "closed")
    # Other containers of the network: yes. The outside host: no route at all.
    assert cexec(net, "in", "ping", "-c", "1", "-W", "5", addr_of(net, "in2"),
                 check=False).returncode == 0
    assert cfetch(net, "in", OUTSIDE_IP, 8000) == ""
    assert "default" not in cexec(net, "in", "ip", "route").stdout
    # The same from the default network works (the control).
    sleeper(net, "out", "--network", "bridge")
    assert cfetch(net, "out", OUTSIDE_IP, 8000) == "outside-ok"


# --- /etc files -------------------------------------------------------------------------------------

def test_etc_files(net):
    out = run(net, "--rm", "--name", "etcs", "--network", "bridge", "--hostname", "myhost",
              "--add-host", "db.example:192.0.2.7", "--dns", "192.0.2.53",
              "--dns-search", "example.com",
              cmd=["sh", "-c", "cat /etc/hosts; echo ==; cat /etc/hostname; echo ==; "
                   "cat /etc/resolv.conf; echo ==; hostname; ip -o -4 addr show eth0"]).stdout
    hosts, hostname, resolv, rest = out.split("==\n")
    addr = re.search(r"inet ([0-9.]+)/", rest).group(1)
    assert "127.0.0.1\tlocalhost\n" in hosts
    assert "192.0.2.7\tdb.example\n" in hosts
    assert f"{addr}\tmyhost etcs\n" in hosts
    assert hostname == "myhost\n"
    assert resolv == "search example.com\nnameserver 192.0.2.53\n"
    assert rest.startswith("myhost\n")
    # Without --dns: the host's resolv.conf without loopback nameservers.
    resolv = run(net, "--rm", "--network", "bridge", cmd=["cat", "/etc/resolv.conf"]).stdout
    assert "nameserver 127." not in resolv and "nameserver" in resolv
    # --network none: the name still resolves (to loopback).
    hosts = run(net, "--rm", "--network", "none", "--hostname", "solo",
                cmd=["cat", "/etc/hosts"]).stdout
    assert "127.0.1.1\tsolo" in hosts


# --- teardown ---------------------------------------------------------------------------------------

def test_rm_and_autoremove_leave_nothing(net):
    b = net.berth
    httpd(net, "gone", "--network", "bridge", "-p", "8081:80")
    cid = b.inspect("gone")["Id"]
    _wait_for(lambda: net.fetch(net.outside, f"http://{NODE_IP}:8081/") is not None, timeout=15,
              what="the published port")
    assert cid in net.nft()
    assert list((b.runroot / "cni" / "results").iterdir())
    b.run("rm", "-f", "gone")
    assert_nothing_left(net, [cid])
    # --rm, foreground.
    p = run(net, "--rm", "--network", "bridge", "-p", "8082:80", cmd=["ip", "-o", "-4", "addr"])
    assert "10.88." in p.stdout
    assert_nothing_left(net, [])
    assert b.ps() == []
    # gc DELs an attachment whose container row is gone (here: its state dir's record).
    sleeper(net, "leak", "--network", "bridge")
    leak = b.inspect("leak")["Id"]
    (b.root / "containers" / leak / "network.json").unlink()
    gc = b.run("system", "gc").stdout
    assert f"network attachment berth/{leak}/eth0" in gc, gc
    b.run("rm", "-f", "leak")
    assert_nothing_left(net, [leak])


def test_exit_releases_attachment(net):
    """A task that ends on its own (no --rm) gives its attachment back: the monitor's exit
    command; a new start attaches it again."""
    b = net.berth
    run(net, "--name", "brief", "--network", "bridge", "-p", "8084:80",
        cmd=["sh", "-c", "ip -o -4 addr show eth0; sleep 1"], detach=True)
    cid = b.inspect("brief")["Id"]
    b.run("wait", "brief", timeout=60)
    _wait_for(lambda: not (b.runroot / "cni" / "results").exists() or
              not list((b.runroot / "cni" / "results").iterdir()), timeout=20,
              what="the exit command's DEL")
    assert_nothing_left(net, [cid])
    assert not (b.runroot / "netns" / cid).exists()
    b.run("start", "brief")
    b.run("wait", "brief", timeout=60)
    assert "10.88." in b.run("logs", "brief").stdout


@pytest.fixture(scope="session")
def exposed_tar(busybox_tar, tmp_path_factory):
    """The busybox image with ExposedPorts 80/tcp and 53/udp (umoci config), as an OCI archive
    named localhost/berthtest/exposed:1."""
    if shutil.which("umoci") is None:
        pytest.skip("needs umoci")
    d = tmp_path_factory.mktemp("exposed")
    layout = d / "layout"
    layout.mkdir()
    sh("tar", "-xf", busybox_tar, "-C", layout)
    sh("umoci", "config", "--image", f"{layout}:1", "--config.exposedports", "80/tcp",
       "--config.exposedports", "53/udp", "--tag", "exposed")
    index = json.loads((layout / "index.json").read_text())
    m = [x for x in index["manifests"]
         if x["annotations"]["org.opencontainers.image.ref.name"] == "exposed"][0]
    m["annotations"] = {"io.containerd.image.name": "localhost/berthtest/exposed:1",
                        "org.opencontainers.image.ref.name": "1"}
    index["manifests"] = [m]
    (layout / "index.json").write_text(json.dumps(index))
    (layout / "manifest.json").unlink(missing_ok=True)
    out = d / "exposed.tar"
    sh("tar", "-C", layout, "-cf", out, ".")
    return out


def test_publish_all(net, exposed_tar):
    b = net.berth
    b.run("load", "-i", exposed_tar)
    script = "mkdir -p /www && echo exposed > /www/index.html && exec httpd -f -p 80 -h /www"
    b.run("run", "-d", "--runtime", RUNTIME, "--name", "pub", "--network", "bridge", "-P",
          "-p", "8085:53/udp", "localhost/berthtest/exposed:1", "sh", "-c", script)
    lines = b.run("port", "pub").stdout.splitlines()
    # -p given for 53/udp wins; 80/tcp gets a free port.
    assert "53/udp -> 0.0.0.0:8085" in lines, lines
    tcp = [l for l in lines if l.startswith("80/tcp -> 0.0.0.0:")]
    assert len(tcp) == 1 and len(lines) == 2, lines
    port = tcp[0].rsplit(":", 1)[1]
    _wait_for(lambda: net.fetch(net.outside, f"http://{NODE_IP}:{port}/") == "exposed\n",
              timeout=15, what="the -P port")
