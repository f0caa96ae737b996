"""100 ADDs of the bridge + host-local + portmap chain at once on one bridge, then 100 DELs at once,
per implementation (fixture `impl`)."""
import concurrent.futures

COUNT = 100
WORKERS = 16


def test_parallel_adds_get_distinct_addresses_and_dels_free_them(node, cluster):
    net = cluster.network(subnet="10.66.0.0/24")
    containers = [node.container(i) for i in range(COUNT)]

    def add(i):
        return net.add(containers[i], runtime_config={"portMappings": [
            {"hostPort": 20000 + i, "containerPort": 80, "protocol": "tcp"}]})

    # The first ADD on a node makes the NAT chains; the reference portmap (1.1.1) races with
    # itself doing that ("CHAIN_USER_ADD failed (File exists)"), so one goes first, as on any
    # node already in use. The other 99 run 16 at a time.
    first = add(0)
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        atts = [first] + list(pool.map(add, range(1, COUNT)))
    ips = [a.ip for a in atts]
    assert len(set(ips)) == COUNT
    assert all(ip.startswith("10.66.0.") and ip != "10.66.0.1" for ip in ips)
    assert sorted(cluster.reservations()) == sorted(ips)
    assert len(node.bridge_ports(cluster.bridge)) == COUNT
    for a in atts[:: COUNT // 10]:
        assert "eth0" in node.links(a.container.netns)
    assert node.rules_naming(20000) and node.rules_naming(20000 + COUNT - 1)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(net.delete, atts))
    assert cluster.reservations() == {}
    assert node.bridge_ports(cluster.bridge) == set()
    assert node.rules_naming(*ips) == []
    assert node.rules_naming(*range(20000, 20000 + COUNT)) == []
