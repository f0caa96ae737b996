"""process.execCPUAffinity (runtime spec 1.2): the CPUs the container process runs on."""
import os

import pytest

from conftest import expect_error, expect_ok

pytestmark = pytest.mark.berth_only  # runc 1.1.5 predates execCPUAffinity


@pytest.fixture
def two_cpus():
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs")
    return cpus


def test_final_affinity_applies_to_process(rt, two_cpus):
    last = two_cpus[-1]
    b = rt.bundle()
    b.process["execCPUAffinity"] = {"initial": str(two_cpus[0]), "final": str(last)}
    j = rt.check(b, "affinity")
    assert j["cpus"] == [last], j


def test_final_affinity_applies_to_exec(rt, two_cpus):
    b = rt.bundle()
    b.checker("sleep", "30")
    expect_ok(rt.run_detached(b))
    pf = rt.tmp / f"{b.id}-proc.json"
    import json
    proc = dict(b.process)
    proc["args"] = ["/berth-checker", "affinity"]
    proc["execCPUAffinity"] = {"final": str(two_cpus[0])}
    pf.write_text(json.dumps(proc))
    res = expect_ok(rt.exec(b.id, opts=["--process", str(pf)]))
    assert json.loads(res.stdout)["cpus"] == [two_cpus[0]]
    rt.delete(b.id, force=True)


def test_bad_cpu_list_is_refused(rt):
    b = rt.bundle()
    b.process["execCPUAffinity"] = {"final": "1-x"}
    b.checker("affinity")
    expect_error(rt.run(b), "execCPUAffinity")
    rt.assert_nothing_left(b)
