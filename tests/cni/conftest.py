"""Fixtures for the end-to-end CNI suite (tests/cni/test_network*.py).

Every test runs twice, once per implementation (fixture `impl`, ids "reference" and "berth"):
Debian's containernetworking-plugins in /usr/lib/cni and berth's plugins in build/bin (or
$BERTH_BIN). The plugins are driven as a CNI runtime drives them (CNI_* environment, config on
stdin, result on stdout; a chain is ADDed in order with prevResult, DELed in reverse with the ADD
result), each one inside a private "node" netns (`ip netns exec <node> plugin`) so the bridge,
veths, sysctls and NAT rules they make live there and go away with it.

Names are unique per test (bt-<6 hex>-...), state (host-local dataDir) lives under tmp_path, so
the suite runs under `pytest -n 2` and beside anything else on the machine.
"""
import functools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = "/usr/lib/cni"
BERTH_DIR = os.environ.get("BERTH_BIN") or str(REPO / "build/bin")
PLUGIN_PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PY = sys.executable or "/usr/bin/python3"
TIMEOUT = 5  # seconds, for every command that talks to the network
PLUGIN_TIMEOUT = 30  # a plugin call on a loaded 2-core machine, 100 of them in parallel

# Spec ("Error" section): 1-7 and 11 are the well-known codes, 100 and up are plugin-specific.
WELL_KNOWN_CODES = {1, 2, 3, 4, 5, 6, 7, 11}


def is_spec_code(code):
    return isinstance(code, int) and (code in WELL_KNOWN_CODES or code >= 100)


@dataclass(frozen=True)
class Impl:
    name: str
    cni_path: str
    types: dict  # role (bridge, ipam, portmap, loopback) -> plugin type name
    versions: tuple = ()  # what the bridge plugin's VERSION reports

    def plugin(self, role):
        return os.path.join(self.cni_path, self.types[role])

    @property
    def speaks_gc(self):
        return "1.1.0" in self.versions


IMPLS = {
    "reference": (REFERENCE_DIR, {"bridge": "bridge", "ipam": "host-local", "portmap": "portmap",
                                  "loopback": "loopback"}),
    "berth": (BERTH_DIR, {"bridge": "berth-bridge", "ipam": "berth-host-local",
                          "portmap": "berth-portmap", "loopback": "berth-loopback"}),
}


@functools.lru_cache(maxsize=None)
def _probe(name):
    """(supported versions, None) or ((), reason to skip)."""
    cni_path, types = IMPLS[name]
    bridge = os.path.join(cni_path, types["bridge"])
    if not os.access(bridge, os.X_OK):
        return (), f"{bridge} not found"
    try:
        p = subprocess.run([bridge], input=b'{"cniVersion":"1.0.0"}', capture_output=True,
                           env={"CNI_COMMAND": "VERSION", "PATH": PLUGIN_PATH_ENV}, timeout=10)
        versions = tuple(json.loads(p.stdout)["supportedVersions"]) if p.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        versions = None
    if versions is None:
        if name == "berth":
            return (), f"{bridge} is still a placeholder (its VERSION command fails)"
        return (), f"{bridge} VERSION failed"
    return versions, None


def _root_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if subprocess.run(["ip", "-V"], capture_output=True).returncode != 0:
        return "needs iproute2"
    return None


@pytest.fixture(params=["reference", "berth"])
def impl(request):
    reason = _root_reason()
    if reason:
        pytest.skip(reason)
    versions, reason = _probe(request.param)
    if reason:
        pytest.skip(reason)
    cni_path, types = IMPLS[request.param]
    return Impl(request.param, cni_path, types, versions)


# ---- commands ---------------------------------------------------------------------------------

def sh(*argv, ns=None, check=True, timeout=TIMEOUT, input=None):
    """Runs argv (in netns `ns` if given), returns stdout as text."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in argv]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}: "
                             f"{p.stderr.decode(errors='replace').strip()}")
    return p.stdout.decode(errors="replace")


class PluginError(Exception):
    def __init__(self, plugin, command, rc, out, stderr):
        super().__init__(f"{plugin} {command} exited {rc}: {out or stderr}")
        self.plugin, self.command, self.rc, self.out, self.stderr = plugin, command, rc, out, stderr

    @property
    def code(self):
        return self.out.get("code") if isinstance(self.out, dict) else None


# Peer-echo server: answers every TCP connection with the address it came from, so a test sees
# what source address (after any NAT) reached the server.
ECHO_SERVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(128)
print("ready", flush=True)
while True:
    c, peer = s.accept()
    try:
        c.sendall(peer[0].encode() + b"\n")
    finally:
        c.close()
"""

ECHO_CLIENT = r"""
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3) as s:
    print(s.makefile().readline().strip())
"""


@dataclass
class Container:
    id: str
    netns: str  # name under /var/run/netns

    @property
    def path(self):
        return f"/var/run/netns/{self.netns}"


@dataclass
class Attachment:
    container: Container
    ifname: str
    result: dict
    runtime_config: dict = field(default_factory=dict)

    @property
    def ip(self):
        return self.result["ips"][0]["address"].split("/")[0]


class Node:
    """A node netns (bridge, veths, NAT rules) and the container / outside netnses around it."""

    def __init__(self, tmp_path):
        self.tag = "bt-" + secrets.token_hex(3)
        self.tmp = Path(tmp_path)
        self.netnses = []
        self.procs = []
        self.name = self._netns("node")
        sh("ip", "link", "set", "lo", "up", ns=self.name)
        self.outside = None

    def _netns(self, suffix):
        name = f"{self.tag}-{suffix}"
        sh("ip", "netns", "add", name)
        self.netnses.append(name)
        return name

    def container(self, i):
        return Container(f"{self.tag}-ctr{i}", self._netns(f"c{i}"))

    def add_outside(self, node_ip="198.51.100.1", outside_ip="198.51.100.2", prefix=24):
        """An 'internet' host: a netns joined to the node by a veth pair, with no route back to
        the container subnet, so its replies reach a container only through the node's NAT."""
        self.outside = self._netns("out")
        self.node_ip, self.outside_ip = node_ip, outside_ip
        sh("ip", "link", "add", "up0", "netns", self.name, "type", "veth", "peer", "name", "eth0",
           "netns", self.outside)
        sh("ip", "addr", "add", f"{node_ip}/{prefix}", "dev", "up0", ns=self.name)
        sh("ip", "link", "set", "up0", "up", ns=self.name)
        sh("ip", "addr", "add", f"{outside_ip}/{prefix}", "dev", "eth0", ns=self.outside)
        sh("ip", "link", "set", "eth0", "up", ns=self.outside)
        sh("ip", "link", "set", "lo", "up", ns=self.outside)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=self.name)

    def del_netns(self, name):
        sh("ip", "netns", "del", name)
        self.netnses.remove(name)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for name in reversed(self.netnses):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)

    # ---- traffic -------------------------------------------------------------------------------

    def serve(self, ns, port):
        """Starts the peer-echo server on 0.0.0.0:port in netns ns (killed at cleanup)."""
        p = subprocess.Popen(["ip", "netns", "exec", ns, PY, "-c", ECHO_SERVER, str(port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(p)
        line = p.stdout.readline()  # server prints "ready" once listening (or dies)
        assert line == b"ready\n", p.stderr.read1().decode(errors="replace") if p.poll() else line
        return p

    def connect(self, ns, host, port):
        """Connects from netns ns to host:port; returns the peer address the server saw, or None
        when the connection fails."""
        p = subprocess.run(["ip", "netns", "exec", ns, "timeout", str(TIMEOUT), PY, "-c",
                            ECHO_CLIENT, host, str(port)], capture_output=True, timeout=TIMEOUT + 5)
        return p.stdout.decode().strip() if p.returncode == 0 else None

    def ping(self, ns, host):
        return subprocess.run(["ip", "netns", "exec", ns, "timeout", str(TIMEOUT), "busybox",
                               "ping", "-c", "1", "-W", "2", host], capture_output=True,
                              timeout=TIMEOUT + 5).returncode == 0

    # ---- what the kernel holds -------------------------------------------------------------------

    def links(self, ns=None):
        out = sh("ip", "-j", "-d", "link", "show", ns=ns or self.name)
        return {l["ifname"]: l for l in json.loads(out)}

    def veths(self, ns=None):
        return {name for name, l in self.links(ns).items()
                if l.get("linkinfo", {}).get("info_kind") == "veth"}

    def bridge_ports(self, bridge):
        out = sh("ip", "-j", "link", "show", "master", bridge, ns=self.name, check=False)
        return {l["ifname"] for l in json.loads(out or "[]")}

    def ruleset(self):
        """Every packet-filter rule in the node: nftables (berth, and iptables-nft as the
        reference uses it) and legacy iptables, should the reference be pointed at that."""
        text = sh("nft", "list", "ruleset", ns=self.name)
        for tool in ("iptables-legacy-save", "ip6tables-legacy-save"):
            if os.access(f"/usr/sbin/{tool}", os.X_OK):
                text += sh(tool, ns=self.name, check=False)
        # Counters are not rules: drop them so a byte count cannot look like a port.
        text = re.sub(r"counter packets \d+ bytes \d+", "counter", text)
        return re.sub(r"\[\d+:\d+\]", "", text)

    def rules_naming(self, *tokens):
        """Lines of the ruleset naming any of tokens (an address or a port) as a whole word."""
        pattern = re.compile("|".join(rf"(?<![\w.]){re.escape(str(t))}(?![\w])"
                                      for t in tokens))
        return [line for line in self.ruleset().splitlines() if pattern.search(line)]


@pytest.fixture
def node(tmp_path):
    if _root_reason():
        pytest.skip(_root_reason())
    n = Node(tmp_path)
    yield n
    n.cleanup()


class Runtime:
    """The runtime side of CNI for one network configuration list in a node."""

    def __init__(self, node, impl, name, plugins, version="1.0.0"):
        self.node, self.impl, self.name, self.plugins, self.version = (node, impl, name,
                                                                        plugins, version)

    def config(self, plugin, prev=None, runtime_config=None, extra=None):
        c = dict(plugin, name=self.name, cniVersion=self.version)
        wanted = {k: v for k, v in (runtime_config or {}).items()
                  if plugin.get("capabilities", {}).get(k)}
        if wanted:
            c["runtimeConfig"] = wanted
        if prev is not None:
            c["prevResult"] = prev
        c.update(extra or {})
        return c

    def env(self, command, container=None, ifname=None, args=""):
        env = {"CNI_COMMAND": command, "CNI_PATH": self.impl.cni_path, "PATH": PLUGIN_PATH_ENV}
        if container is not None:
            env.update(CNI_CONTAINERID=container.id, CNI_NETNS=container.path, CNI_IFNAME=ifname,
                       CNI_ARGS=args)
        return env

    def spawn(self, plugin, command, conf, container=None, ifname="eth0", args="", **popen):
        return subprocess.Popen(
            ["ip", "netns", "exec", self.node.name, self.impl.cni_path + "/" + plugin["type"]],
            env=self.env(command, container, ifname, args), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)

    def invoke(self, plugin, command, conf, container=None, ifname="eth0", args="", raw=None):
        """Runs one plugin; returns its parsed stdout or raises PluginError."""
        p = self.spawn(plugin, command, conf, container, ifname, args)
        try:
            stdout, stderr = p.communicate(raw if raw is not None else json.dumps(conf).encode(),
                                           timeout=PLUGIN_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        try:
            out = json.loads(stdout) if stdout.strip() else None
        except ValueError:
            out = stdout.decode(errors="replace")
        if p.returncode != 0:
            raise PluginError(plugin["type"], command, p.returncode, out,
                              stderr.decode(errors="replace"))
        return out

    def add(self, container, ifname="eth0", runtime_config=None, args=""):
        prev = None
        for plugin in self.plugins:
            prev = self.invoke(plugin, "ADD", self.config(plugin, prev, runtime_config),
                               container, ifname, args)
        return Attachment(container, ifname, prev, runtime_config or {})

    def add_killed_at(self, container, deadline, ifname="eth0", runtime_config=None):
        """ADD as a runtime that dies `deadline` seconds in: the plugin running then (and the IPAM
        plugin it delegated to, same process group) is SIGKILLed. Returns the Attachment, or None
        if the ADD was killed."""
        start, prev = time.monotonic(), None
        for plugin in self.plugins:
            conf = self.config(plugin, prev, runtime_config)
            p = self.spawn(plugin, "ADD", conf, container, ifname, start_new_session=True)
            try:
                stdout, stderr = p.communicate(json.dumps(conf).encode(),
                                               timeout=max(0.0, deadline - (time.monotonic() -
                                                                            start)))
            except subprocess.TimeoutExpired:
                kill_group(p)
                p.communicate()
                return None
            if p.returncode != 0:
                raise PluginError(plugin["type"], "ADD", p.returncode, stdout, stderr)
            prev = json.loads(stdout)
        return Attachment(container, ifname, prev, runtime_config or {})

    def delete(self, att):
        for plugin in reversed(self.plugins):
            self.invoke(plugin, "DEL", self.config(plugin, att.result, att.runtime_config),
                        att.container, att.ifname)

    def check(self, att):
        for plugin in self.plugins:
            self.invoke(plugin, "CHECK", self.config(plugin, att.result, att.runtime_config),
                        att.container, att.ifname)

    def gc(self, valid):
        """GC (CNI 1.1.0) with the valid attachments [(container id, ifname)]."""
        attachments = [{"containerID": cid, "ifname": ifname} for cid, ifname in valid]
        for plugin in self.plugins:
            self.invoke(plugin, "GC", self.config(
                plugin, extra={"cni.dev/valid-attachments": attachments}))


class Cluster:
    """Factory fixture: networks (bridge + host-local [+ portmap]) of one implementation."""

    def __init__(self, node, impl, tmp_path):
        self.node, self.impl, self.tmp = node, impl, Path(tmp_path)

    def bridge_plugin(self, subnet="10.88.0.0/24", ipam_extra=None, **extra):
        t = self.impl.types
        ipam = {"type": t["ipam"], "dataDir": str(self.tmp / "ipam"),
                "ranges": [[{"subnet": subnet}]], "routes": [{"dst": "0.0.0.0/0"}]}
        ipam.update(ipam_extra or {})
        plugin = {"type": t["bridge"], "bridge": self.node.tag + "-br", "isGateway": True,
                  "ipMasq": True, "hairpinMode": True, "ipam": ipam}
        plugin.update(extra)
        return plugin

    def portmap_plugin(self):
        return {"type": self.impl.types["portmap"], "capabilities": {"portMappings": True},
                "snat": True}

    def network(self, plugins=None, name=None, version="1.0.0", portmap=True, **bridge):
        if plugins is None:
            plugins = [self.bridge_plugin(**bridge)] + ([self.portmap_plugin()] if portmap else [])
        return Runtime(self.node, self.impl, name or self.node.tag, plugins, version)

    def loopback(self, version="1.0.0"):
        return Runtime(self.node, self.impl, self.node.tag + "-lo",
                       [{"type": self.impl.types["loopback"]}], version)

    @property
    def bridge(self):
        return self.node.tag + "-br"

    @property
    def data_dir(self):
        return self.tmp / "ipam" / self.node.tag

    def reservations(self):
        """host-local's reservations: one file per address (its documented on-disk state)."""
        d = self.data_dir
        if not d.exists():
            return {}
        return {p.name: p.read_text() for p in d.iterdir()
                if p.name != "lock" and not p.name.startswith("last_reserved_ip")}


@pytest.fixture
def cluster(node, impl, tmp_path):
    return Cluster(node, impl, tmp_path)


def kill_group(p):
    """SIGKILLs the process group p leads (the plugin and any IPAM plugin it delegated to)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


@pytest.fixture
def spec_code():
    return is_spec_code


@pytest.fixture
def cni():
    """This module, for the helpers and classes tests need by name (PluginError, sh, ...);
    `from conftest import` could pick up another directory's conftest under one pytest run."""
    return sys.modules[__name__]
