"""Name resolution on user networks (root, real kernel): berth-dns, one responder per network.

Containers on a user network reach each other by name and short id; unknown names under
dns.berth are NXDOMAIN; other names go to the network's upstream (--dns), here a tiny DNS stub
in an "outside" netns; a query sent to a second address on the bridge is answered from that
address (IP_PKTINFO); entries and responders go with rm, the last container, `system gc` after a
killed monitor, and `network rm`. The default network has no responder.

As in test_engine_network.py, berth runs in a "node" netns joined to an "outside" netns by a veth
pair (node 198.51.100.1/24, outside 198.51.100.2/24); nothing touches the host's namespace.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from engine_helpers import (OUTSIDE_IP, REQUIREMENTS, NodeNet, _alive,
                            _wait_for, berth_monitors, processes, sh)

pytestmark = list(REQUIREMENTS) + [
    pytest.mark.skipif(shutil.which("nsenter") is None, reason="needs nsenter"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2"),
]

STUB_ANSWER = "192.0.2.99"

# The upstream: answers every A query with STUB_ANSWER, logs each name it was asked.
STUB = r"""
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
log = open(sys.argv[2], "a", buffering=1)
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    end = i + 5
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    log.write(".".join(labels) + "\n")
    answers = b""
    if qtype == 1:
        answers = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(sys.argv[3])
    head = q[:2] + struct.pack(">HHHHH", 0x8180, 1, 1 if answers else 0, 0, 0)
    s.sendto(head + q[12:end] + answers, peer)
"""

# Run in a container's netns by the host's python: one query on an unconnected UDP socket, and
# where the answer came from.
ASK = r"""
import socket, struct, sys
name, server = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", 0x5151, 0x0100, 1, 0, 0, 0)
for l in name.split("."):
    q += bytes([len(l)]) + l.encode()
q += b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, (server, 53))
data, peer = s.recvfrom(4096)
print(peer[0], data[:2].hex(), data[-4:] and socket.inet_ntoa(data[-4:]))
"""


class Net(NodeNet):
    def __init__(self, tmp, busybox_tar):
        super().__init__(tmp, busybox_tar, "bt-dns")
        self.tmp = tmp
        self.stub_log = tmp / "stub.log"

    def start_stub(self):
        p = subprocess.Popen(["ip", "netns", "exec", self.outside, sys.executable, "-c", STUB,
                              OUTSIDE_IP, str(self.stub_log), STUB_ANSWER],
                             stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        assert p.stdout.readline().strip() == "ready"


def responders(runroot: Path) -> list[int]:
    """Pids of the live berth-dns processes of this run root."""
    return [pid for pid, argv in processes()
            if argv[0].endswith("berth-dns") and str(runroot) in " ".join(argv)]


@pytest.fixture
def net(busybox_tar):
    tmp = Path(tempfile.mkdtemp(prefix=f"bt-dns-{secrets.token_hex(3)}-"))
    n = Net(tmp, busybox_tar)
    try:
        yield n
        n.berth.cleanup()
        assert n.berth.ps() == []
        _wait_for(lambda: responders(n.berth.runroot) == [], timeout=10,
                  what="no berth-dns left")
    finally:
        for pid in responders(n.berth.runroot):
            os.kill(pid, signal.SIGKILL)
        n.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def sleeper(n, name, *flags):
    n.berth.container("--name", name, "--cap-add", "NET_RAW", *flags, cmd=["sleep", "300"],
                      detach=True)


def cexec(n, name, *cmd, check=True):
    return n.berth.run("exec", name, *cmd, check=check)


def addr_of(n, name, ifname="eth0"):
    out = cexec(n, name, "ip", "-o", "-4", "addr", "show", ifname).stdout
    m = re.search(r"inet ([0-9.]+)/\d+", out)
    assert m, out
    return m.group(1)


def lookup(n, name, host):
    """busybox nslookup's addresses for host in container `name` (None: it failed), and its
    output."""
    p = cexec(n, name, "nslookup", host, check=False)
    answers = p.stdout.split("\n\n", 1)[1] if "\n\n" in p.stdout else ""
    addrs = re.findall(r"Address(?: \d+)?:\s+([0-9a-f.:]+)", answers)
    return (addrs if p.returncode == 0 else None), p.stdout + p.stderr


def records(n, network) -> str:
    f = n.berth.runroot / "dns" / f"{network}.records"
    return f.read_text() if f.exists() else ""


def ask_from(n, container, qname, server):
    """(source address of the reply, id hex, last answer) for a query sent from the container's
    netns by the host's python on an unconnected socket."""
    pid = n.berth.inspect(container)["State"]["Pid"]
    p = sh("nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c", ASK, qname, server,
           check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout.split()


# --- resolution -----------------------------------------------------------------------------------

def test_names_resolve_on_a_user_network(net):
    b = net.berth
    b.run("network", "create", "--subnet", "10.77.5.0/24", "app")
    info = json.loads(b.run("network", "inspect", "app").stdout)[0]
    assert info["dns_enabled"] is True
    sleeper(net, "alpha", "--network", "app")
    sleeper(net, "beta", "--network", "app")
    a, bb = addr_of(net, "alpha"), addr_of(net, "beta")
    beta_id = b.inspect("beta")["Id"]
    resolv = cexec(net, "alpha", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 10.77.5.1\n" in resolv and resolv.startswith("search dns.berth"), resolv
    assert "nameserver" not in resolv.replace("nameserver 10.77.5.1", ""), resolv
    for host in ("beta", "beta.dns.berth", "BETA.DNS.BERTH", beta_id[:12]):
        addrs, out = lookup(net, "alpha", host)
        assert addrs == [bb], (host, out)
    addrs, out = lookup(net, "beta", "alpha")
    assert addrs == [a], out
    # The records file has both, with the short ids.
    text = records(net, "app")
    assert beta_id in text and beta_id[:12] in text and bb in text
    # Reverse.
    rev = cexec(net, "alpha", "nslookup", bb, check=False).stdout
    assert "beta.dns.berth" in rev, rev
    # ping by name, through the C library's resolver.
    p = cexec(net, "alpha", "ping", "-c", "1", "-W", "5", "beta", check=False)
    assert p.returncode == 0 and bb in p.stdout, p.stdout + p.stderr
    # Unknown names under dns.berth: NXDOMAIN from the responder.
    addrs, out = lookup(net, "alpha", "nosuch.dns.berth")
    assert addrs is None and "NXDOMAIN" in out, out


def test_default_network_has_no_responder(net):
    b = net.berth
    sleeper(net, "plain", "--network", "bridge")
    resolv = cexec(net, "plain", "cat", "/etc/resolv.conf").stdout
    assert "10.88.0.1" not in resolv and "dns.berth" not in resolv, resolv
    info = json.loads(b.run("network", "inspect", "berth").stdout)[0]
    assert info["dns_enabled"] is False
    assert responders(b.runroot) == []
    # --disable-dns: none either.
    b.run("network", "create", "--disable-dns", "--subnet", "10.77.6.0/24", "quiet")
    sleeper(net, "q", "--network", "quiet")
    assert "10.77.6.1" not in cexec(net, "q", "cat", "/etc/resolv.conf").stdout
    assert json.loads(b.run("network", "inspect", "quiet").stdout)[0]["dns_enabled"] is False
    assert responders(b.runroot) == []


def test_other_names_are_forwarded_upstream(net):
    b = net.berth
    net.start_stub()
    b.run("network", "create", "--subnet", "10.77.7.0/24", "--dns", OUTSIDE_IP, "fwd")
    info = json.loads(b.run("network", "inspect", "fwd").stdout)[0]
    assert info["network_dns_servers"] == [OUTSIDE_IP]
    sleeper(net, "c", "--network", "fwd")
    addrs, out = lookup(net, "c", "www.example.test")
    assert addrs == [STUB_ANSWER], out
    assert "www.example.test" in net.stub_log.read_text()
    # Our own names never leave the node.
    sleeper(net, "d", "--network", "fwd")
    assert lookup(net, "c", "d.dns.berth")[0] == [addr_of(net, "d")]
    assert "d.dns.berth" not in net.stub_log.read_text()
    # With the upstream gone: SERVFAIL (or a timeout), never a wrong answer.
    for p in net.procs:
        p.kill()
    addrs, out = lookup(net, "c", "other.example.test")
    assert addrs is None, out


def test_reply_comes_from_the_address_queried(net):
    """Two addresses on the bridge: each query's answer comes back from the address it was sent
    to, so a client on an unconnected socket (or one that checks, like glibc) takes it."""
    b = net.berth
    b.run("network", "create", "--subnet", "10.77.8.0/24", "two")
    bridge = json.loads(b.run("network", "inspect", "two").stdout)[0]["network_interface"]
    sleeper(net, "e", "--network", "two")
    sleeper(net, "f", "--network", "two")
    sh("ip", "-n", net.node, "addr", "add", "10.77.8.254/24", "dev", bridge)
    f = addr_of(net, "f")
    for server in ("10.77.8.1", "10.77.8.254"):
        src, qid, answer = ask_from(net, "e", "f", server)
        assert (src, qid, answer) == (server, "5151", f), server
    # The container's own resolver, pointed at the second address.
    p = cexec(net, "e", "nslookup", "f", "10.77.8.254", check=False)
    assert f in p.stdout, p.stdout + p.stderr


# --- teardown -------------------------------------------------------------------------------------

def test_entries_and_responders_go(net):
    b = net.berth
    b.run("network", "create", "--subnet", "10.77.9.0/24", "life")
    sleeper(net, "g", "--network", "life")
    sleeper(net, "h", "--network", "life")
    h_id = b.inspect("h")["Id"]
    pids = responders(b.runroot)
    assert len(pids) == 1
    pid_file = b.runroot / "dns" / "life.pid"
    assert int(pid_file.read_text()) == pids[0]
    # rm: the name goes at once.
    b.run("rm", "-f", "h")
    assert h_id not in records(net, "life")
    addrs, out = lookup(net, "g", "h")
    assert addrs is None, out
    # A --rm container's exit command removes its entry.
    b.container("--rm", "--name", "brief", "--network", "life",
                cmd=["sh", "-c", "nslookup g && sleep 1"])
    _wait_for(lambda: "brief" not in records(net, "life"), what="the --rm exit's removal")
    # The last container gone: the responder exits.
    b.run("stop", "-t", "0", "g")
    _wait_for(lambda: not _alive(pids[0]), timeout=10, what="the responder's exit")
    assert records(net, "life") == ""
    assert not pid_file.exists()
    # Started again: served again, by a new responder.
    b.run("start", "g")
    sleeper(net, "i", "--network", "life")
    assert lookup(net, "i", "g")[0] == [addr_of(net, "g")]
    assert len(responders(b.runroot)) == 1 and responders(b.runroot) != pids


def test_gc_after_a_killed_monitor(net):
    b = net.berth
    b.run("network", "create", "--subnet", "10.77.10.0/24", "crash")
    sleeper(net, "j", "--network", "crash")
    sleeper(net, "k", "--network", "crash")
    k_id = b.inspect("k")["Id"]
    assert k_id in records(net, "crash")
    monitor = [pid for pid, argv in berth_monitors().items() if k_id in argv]
    assert len(monitor) == 1
    os.kill(monitor[0], signal.SIGKILL)
    _wait_for(lambda: not _alive(monitor[0]), what="the monitor's death")
    gc = b.run("system", "gc").stdout
    assert k_id not in records(net, "crash"), gc
    assert lookup(net, "j", "k")[0] is None
    assert lookup(net, "j", "j")[0] == [addr_of(net, "j")]
    # A responder killed with containers left: gc starts it again.
    pids = responders(b.runroot)
    assert len(pids) == 1
    os.kill(pids[0], signal.SIGKILL)
    _wait_for(lambda: not _alive(pids[0]), what="the responder's death")
    assert lookup(net, "j", "j")[0] is None
    gc = b.run("system", "gc").stdout
    assert "dns responder of crash restarted" in gc, gc
    assert lookup(net, "j", "j")[0] == [addr_of(net, "j")]


def test_network_rm_stops_the_responder(net):
    b = net.berth
    b.run("network", "create", "--subnet", "10.77.11.0/24", "gone")
    sleeper(net, "l", "--network", "gone")
    assert len(responders(b.runroot)) == 1
    b.run("network", "rm", "-f", "gone")
    assert responders(b.runroot) == []
    assert not (b.runroot / "dns" / "gone.records").exists()
    assert not (b.runroot / "dns" / "gone.pid").exists()


def test_connect_and_disconnect(net):
    b = net.berth
    b.run("network", "create", "--subnet", "10.77.12.0/24", "late")
    sleeper(net, "m", "--network", "late")
    sleeper(net, "n", "--network", "bridge")
    n_id = b.inspect("n")["Id"]
    assert n_id not in records(net, "late")
    b.run("network", "connect", "late", "n")
    assert n_id in records(net, "late")
    assert lookup(net, "m", "n")[0] == [addr_of(net, "n", "eth1")]
    assert "nameserver 10.77.12.1" in cexec(net, "n", "cat", "/etc/resolv.conf").stdout
    b.run("network", "disconnect", "late", "n")
    assert n_id not in records(net, "late")
    assert lookup(net, "m", "n")[0] is None


def test_ipv6_network(net):
    """A dual-stack network: AAAA answers, and the responder on the IPv6 gateway too."""
    b = net.berth
    b.run("network", "create", "--ipv6", "--subnet", "10.77.13.0/24", "--subnet",
          "fd77:13::/64", "six")
    sleeper(net, "o", "--network", "six")
    sleeper(net, "p", "--network", "six")
    p6 = re.search(r"inet6 (fd77:13:[0-9a-f:]+)/64",
                   cexec(net, "p", "ip", "-o", "-6", "addr", "show", "eth0").stdout).group(1)
    out = cexec(net, "o", "nslookup", "-type=AAAA", "p").stdout
    assert p6 in out, out
    # Asked at the IPv6 gateway (the address may need a moment to leave DAD).
    _wait_for(lambda: p6 in cexec(net, "o", "nslookup", "-type=AAAA", "p", "fd77:13::1",
                                  check=False).stdout, timeout=10, what="an answer over IPv6")
    rev = cexec(net, "o", "nslookup", p6, check=False).stdout
    assert "p.dns.berth" in rev, rev
