"""ADD / CHECK / DEL of a bridge + host-local + portmap chain and the spec's error results, per
implementation (fixture `impl`). What the kernel holds is read from outside: links in the node and
container netnses, the node's nftables/iptables ruleset, host-local's reservation files."""
import json
import subprocess

import pytest

PORTS = {"portMappings": [{"hostPort": 8081, "containerPort": 80, "protocol": "tcp"}]}


def host_veth(att, bridge):
    """The host end of the attachment's veth, as the result reports it."""
    names = [i["name"] for i in att.result["interfaces"]
             if not i.get("sandbox") and i["name"] != bridge]
    assert len(names) == 1, att.result
    return names[0]


def traces(node, cluster, att):
    """What the attachment left: (host veth present, container eth0 present, rules naming its
    address, its reservation)."""
    veth = host_veth(att, cluster.bridge)
    ctr_links = (node.links(att.container.netns) if att.container.netns in node.netnses else {})
    rules = node.rules_naming(att.ip)
    return (veth in node.bridge_ports(cluster.bridge), att.ifname in ctr_links, rules,
            att.ip in cluster.reservations())


def test_check_passes_after_add_and_fails_without_the_veth(node, cluster, spec_code, cni):
    net = cluster.network(portmap=False)
    att = net.add(node.container(1))
    net.check(att)
    net.check(att)  # CHECK changes nothing
    veth = host_veth(att, cluster.bridge)
    assert veth in node.links()
    cni.sh("ip", "link", "del", veth, ns=node.name)  # takes the container end with it
    with pytest.raises(cni.PluginError) as e:
        net.check(att)
    assert e.value.plugin == cluster.impl.types["bridge"]
    assert spec_code(e.value.code) and e.value.out["msg"], e.value.out


def test_check_with_published_ports(node, cluster, request):
    if cluster.impl.name == "reference":
        request.applymarker(pytest.mark.xfail(strict=True, reason=(
            "reference portmap 1.1.1: CHECK of an IPv4-only result looks for an ip6tables "
            "chain that ADD never made")))
    net = cluster.network()
    att = net.add(node.container(1), runtime_config=PORTS)
    net.check(att)


def test_del_removes_veth_rules_and_reservation(node, cluster):
    net = cluster.network()
    keep = net.add(node.container(0))
    att = net.add(node.container(1), runtime_config=PORTS)
    veth, ctr_if, rules, reserved = traces(node, cluster, att)
    assert veth and ctr_if and reserved
    assert rules, "no NAT rule names the container's address"  # so the check below means something
    assert node.rules_naming(8081)

    net.delete(att)
    assert traces(node, cluster, att) == (False, False, [], False)
    assert not node.rules_naming(8081)
    net.delete(att)  # a second DEL succeeds and changes nothing
    assert traces(node, cluster, att) == (False, False, [], False)
    # The other attachment is untouched.
    assert traces(node, cluster, keep)[:2] == (True, True) and keep.ip in cluster.reservations()
    net.check(keep)


def test_del_succeeds_when_the_netns_is_gone(node, cluster):
    net = cluster.network()
    att = net.add(node.container(1), runtime_config=PORTS)
    node.del_netns(att.container.netns)  # the veth pair goes with it
    net.delete(att)
    veth, ctr_if, _, reserved = traces(node, cluster, att)
    assert (veth, ctr_if, reserved) == (False, False, False)
    assert not node.rules_naming(8081)  # portmap's rules
    net.delete(att)


def test_del_with_the_netns_gone_removes_the_masquerade_rule(node, cluster, request):
    if cluster.impl.name == "reference":
        request.applymarker(pytest.mark.xfail(strict=True, reason=(
            "reference bridge 1.1.1 reads the addresses to un-masquerade from the container "
            "netns, so with the netns gone it leaks the rule")))
    net = cluster.network()
    att = net.add(node.container(1), runtime_config=PORTS)
    node.del_netns(att.container.netns)
    net.delete(att)
    assert traces(node, cluster, att) == (False, False, [], False)


def test_del_without_prev_result_after_a_lost_add(node, cluster):
    """A runtime that lost the ADD result still DELs: no prevResult, same cleanup."""
    net = cluster.network()
    att = net.add(node.container(1))
    att.result, saved = None, att.result
    net.delete(att)
    att.result = saved
    assert traces(node, cluster, att) == (False, False, [], False)


def test_loopback_add_del(node, cluster):
    lo = cluster.loopback()
    c = node.container(1)
    assert "UP" not in node.links(c.netns)["lo"]["flags"]
    att = lo.add(c, ifname="lo")
    assert att.result["cniVersion"] == "1.0.0"
    assert "UP" in node.links(c.netns)["lo"]["flags"]
    lo.delete(att)
    assert "UP" not in node.links(c.netns)["lo"]["flags"]
    node.del_netns(c.netns)
    lo.delete(att)  # netns gone: still succeeds


# ---- errors --------------------------------------------------------------------------------------

def single(cluster, role):
    """A one-plugin network for `role`, with whatever config that plugin needs."""
    if role == "bridge":
        plugin = cluster.bridge_plugin()
    elif role == "ipam":
        plugin = dict(cluster.bridge_plugin()["ipam"])
    elif role == "portmap":
        plugin = cluster.portmap_plugin()
    else:
        plugin = {"type": cluster.impl.types["loopback"]}
    return cluster.network(plugins=[plugin])


def error_of(cni, call):
    with pytest.raises(cni.PluginError) as e:
        call()
    out = e.value.out
    assert e.value.rc == 1 and isinstance(out, dict), (e.value.rc, out, e.value.stderr)
    assert isinstance(out.get("msg"), str) and out["msg"], out
    if "cniVersion" in out:  # the reference (1.1.1) leaves it out of errors
        assert isinstance(out["cniVersion"], str)
    return out


ROLES = ["bridge", "ipam", "portmap", "loopback"]


@pytest.mark.parametrize("role", ROLES)
def test_malformed_json_is_a_decode_error(node, cluster, role, cni):
    net = single(cluster, role)
    c = node.container(1)
    for raw in (b"{not json", b"", b"[1, 2]"):
        out = error_of(cni, lambda: net.invoke(net.plugins[0], "ADD", None, c, raw=raw))
        assert out["code"] in (6, 7), (raw, out)


@pytest.mark.parametrize("role", ROLES)
def test_unknown_version_is_code_1(node, cluster, role, cni):
    net = single(cluster, role)
    net.version = "9.9.9"
    out = error_of(cni, lambda: net.add(node.container(1)))
    assert out["code"] == 1, out


@pytest.mark.parametrize("field,value", [("ipMasq", "yes"), ("mtu", "big"), ("bridge", 7)])
def test_invalid_config_is_a_spec_error(node, cluster, spec_code, field, value, cni):
    net = cluster.network(portmap=False, **{field: value})
    c = node.container(1)
    out = error_of(cni, lambda: net.add(c))
    # 7 (invalid config) is the well-known code; the reference answers 999 (plugin-specific).
    assert out["code"] == 7 or (spec_code(out["code"]) and out["code"] >= 100), out
    assert set(node.links(c.netns)) == {"lo"}  # nothing half-made in the container


def test_exhausted_range(node, cluster, spec_code, cni):
    net = cluster.network(subnet="10.77.0.0/30")  # .1 is the gateway, .2 the only host
    first = net.add(node.container(1))
    assert first.ip == "10.77.0.2"
    c2 = node.container(2)
    out = error_of(cni, lambda: net.add(c2))
    assert spec_code(out["code"]), out
    assert "no IP addresses available" in out["msg"] or "10.77.0." in out["msg"], out
    # The runtime DELs the failed attachment (no prevResult); afterwards nothing of it is left.
    net.delete(cni.Attachment(c2, "eth0", None))
    assert node.bridge_ports(cluster.bridge) == {host_veth(first, cluster.bridge)}
    assert set(node.links(c2.netns)) == {"lo"}
    assert list(cluster.reservations()) == ["10.77.0.2"]


def test_missing_environment_is_code_4(node, cluster):
    net = cluster.network(portmap=False)
    plugin = net.plugins[0]
    c = node.container(1)
    for missing in ("CNI_CONTAINERID", "CNI_IFNAME", "CNI_NETNS"):
        env = net.env("ADD", c, "eth0")
        del env[missing]
        p = subprocess.run(["ip", "netns", "exec", node.name, cluster.impl.plugin("bridge")],
                           input=json.dumps(net.config(plugin)).encode(), env=env,
                           capture_output=True, timeout=30)
        out = json.loads(p.stdout)
        assert p.returncode == 1 and out["code"] == 4 and missing in out["msg"], out
