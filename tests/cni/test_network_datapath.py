"""Traffic through a bridge + host-local + portmap chain, per implementation (fixture `impl`).

Topology (all netnses private to the test):

    ctr1, ctr2 --veth-- [node: bridge 10.88.0.1/24, NAT rules, up0 198.51.100.1] --veth-- outside
                                                                            (198.51.100.2, no route
                                                                             back to 10.88.0.0/24)
"""
import pytest

HOST_PORT = 8080


@pytest.fixture
def net(node, cluster):
    node.add_outside()
    network = cluster.network()
    lo = cluster.loopback()
    c1, c2 = node.container(1), node.container(2)
    for c in (c1, c2):
        lo.add(c, ifname="lo")
    a1 = network.add(c1, runtime_config={"portMappings": [
        {"hostPort": HOST_PORT, "containerPort": 80, "protocol": "tcp"}]})
    a2 = network.add(c2)
    return node, a1, a2


def test_result_describes_the_attachment(net, cluster):
    node, a1, a2 = net
    r = a1.result
    assert r["cniVersion"] == "1.0.0"
    assert [ip["address"] for ip in r["ips"]] == ["10.88.0.2/24"]
    assert r["ips"][0]["gateway"] == "10.88.0.1"
    container_ifs = [i for i in r["interfaces"] if i.get("sandbox")]
    assert [(i["name"], i["sandbox"]) for i in container_ifs] == [("eth0", a1.container.path)]
    assert r["interfaces"][r["ips"][0]["interface"]]["name"] == "eth0"
    links = node.links(a1.container.netns)
    assert links["eth0"]["address"] == container_ifs[0]["mac"]
    assert "UP" in links["lo"]["flags"]  # the loopback plugin
    assert len(node.bridge_ports(cluster.bridge)) == 2


def test_containers_reach_each_other_and_the_gateway(net):
    node, a1, a2 = net
    c1, c2 = a1.container.netns, a2.container.netns
    assert node.ping(c1, a2.ip)
    assert node.ping(c2, a1.ip)
    assert node.ping(c1, "10.88.0.1")
    assert node.ping(c1, "127.0.0.1")  # lo is up
    node.serve(c2, 7000)
    assert node.connect(c1, a2.ip, 7000) == a1.ip  # same subnet: no NAT


def test_outside_sees_the_node_address(net):
    node, a1, a2 = net
    node.serve(node.outside, 9000)
    # The outside host has no route to 10.88.0.0/24: an answer means masquerade happened.
    assert node.connect(a1.container.netns, node.outside_ip, 9000) == node.node_ip
    assert node.connect(a2.container.netns, node.outside_ip, 9000) == node.node_ip


def test_published_port_answers_from_outside_node_and_hairpin(net):
    node, a1, a2 = net
    node.serve(a1.container.netns, 80)
    # From the outside host to the node's address: the client address is kept.
    assert node.connect(node.outside, node.node_ip, HOST_PORT) == node.outside_ip
    # From the node itself, to its own address and to localhost.
    assert node.connect(node.name, node.node_ip, HOST_PORT)
    assert node.connect(node.name, "127.0.0.1", HOST_PORT)
    # From another container, and from the container behind the port itself (hairpin).
    assert node.connect(a2.container.netns, node.node_ip, HOST_PORT)
    assert node.connect(a1.container.netns, node.node_ip, HOST_PORT)
    # Only the mapped port is forwarded.
    assert node.connect(node.outside, node.node_ip, HOST_PORT + 1) is None


def test_published_port_stops_answering_after_del(net, cluster):
    node, a1, a2 = net
    node.serve(a1.container.netns, 80)
    assert node.connect(node.outside, node.node_ip, HOST_PORT) == node.outside_ip
    cluster.network().delete(a1)
    assert node.connect(node.outside, node.node_ip, HOST_PORT) is None
    assert node.connect(node.name, "127.0.0.1", HOST_PORT) is None
