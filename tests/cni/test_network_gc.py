"""Crash safety: ADDs of the bridge + host-local + portmap chain SIGKILLed at points spread over
the whole ADD leave nothing that GC (CNI 1.1.0) with the list of valid attachments does not clean:
no reservation, veth or rule in the node for an attachment that is not valid, and the valid ones
untouched. The killed containers' netnses are kept (the runtime died too), so the node's GC must
find the host ends of their veths itself.

GC is CNI 1.1.0; the reference plugins (1.1.1) speak up to 1.0.0, so this runs for berth only.
"""
import os
import random
import re
import time

import pytest

COUNT = 30
SUBNET = "10.55.0"


def port(i):
    return 21000 + i


def test_killed_adds_leave_nothing_gc_does_not_clean(node, cluster, impl):
    if not impl.speaks_gc:
        pytest.skip(f"GC is CNI 1.1.0; the {impl.name} plugins speak {list(impl.versions)}")
    net = cluster.network(version="1.1.0", subnet=f"{SUBNET}.0/24")
    mappings = lambda i: {"portMappings": [{"hostPort": port(i), "containerPort": 80,
                                            "protocol": "tcp"}]}
    # How long a whole ADD takes here, to spread the kills over it.
    c0 = node.container(0)
    t = time.monotonic()
    first = net.add(c0, runtime_config=mappings(0))
    typical = time.monotonic() - t

    seed = int(os.environ.get("BERTH_TEST_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    print(f"seed {seed} (BERTH_TEST_SEED reproduces), typical ADD {typical * 1000:.1f} ms")
    valid, killed = [first], []
    for i in range(1, COUNT):
        c = node.container(i)
        deadline = typical * (i / COUNT) * rng.uniform(0.5, 1.5)
        att = net.add_killed_at(c, deadline, runtime_config=mappings(i))
        (valid.append(att) if att else killed.append(i))
    assert killed, f"no ADD was killed (typical ADD {typical:.4f} s)"

    net.gc([(a.container.id, a.ifname) for a in valid])

    valid_ips = {a.ip for a in valid}
    assert set(cluster.reservations()) == valid_ips, f"seed {seed}"
    host_ends = {n for a in valid for i in a.result["interfaces"]
                 if not i.get("sandbox") and (n := i["name"]) != cluster.bridge}
    assert node.veths() == host_ends, f"seed {seed}"
    rules = node.ruleset()
    in_rules = {m for m in re.findall(rf"\b{re.escape(SUBNET)}\.\d+\b", rules)}
    assert in_rules - valid_ips - {f"{SUBNET}.0", f"{SUBNET}.1"} == set(), f"seed {seed}"
    assert node.rules_naming(*map(port, killed)) == [], f"seed {seed}"
    assert node.rules_naming(*(port(i) for i in range(COUNT) if i not in killed))
    for a in valid:
        net.check(a)

    # The valid ones DEL as usual, and then nothing is left.
    for a in valid:
        net.delete(a)
    assert cluster.reservations() == {} and node.veths() == set()
    assert not re.search(rf"\b{re.escape(SUBNET)}\.([2-9]|\d\d+)\b", node.ruleset())
