"""hooks: prestart, createRuntime, createContainer, startContainer, poststart, poststop."""

import json
import os
import time

import pytest

from conftest import expect_error, expect_ok

ALL_HOOKS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]


class HookRecorder:
    """Each hook appends its name to an order log and saves the state JSON it
    read from stdin.  startContainer runs inside the container (its path must
    resolve there), so the output dir is also bind-mounted at /hookout."""

    def __init__(self, rt, b):
        self.dir = rt.tmp / f"hooks-{b.id}"
        self.dir.mkdir()
        os.chmod(self.dir, 0o777)
        self.b = b
        b.add_mount("/hookout", "bind", self.dir, ["rbind", "rw"])

    def hook(self, name, extra_cmd="", **fields):
        inside = name == "startContainer"
        d = "/hookout" if inside else str(self.dir)
        script = f'echo {name} >> {d}/order; cat > {d}/{name}.json; {extra_cmd}'
        h = {"path": "/bin/sh", "args": ["sh", "-c", script]}
        h.update(fields)
        return h

    def install(self, names=ALL_HOOKS, **per_hook_extra):
        self.b.config["hooks"] = {n: [self.hook(n, per_hook_extra.get(n, ""))] for n in names}

    def order(self):
        p = self.dir / "order"
        return p.read_text().split() if p.exists() else []

    def state(self, name):
        return json.loads((self.dir / f"{name}.json").read_text())


def test_hooks_all_run_in_order(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install()
    b.checker("pid")
    expect_ok(rt.run(b))
    order = rec.order()
    assert sorted(order) == sorted(ALL_HOOKS), order
    pos = {n: order.index(n) for n in order}
    assert pos["prestart"] < pos["createContainer"]
    assert pos["createRuntime"] < pos["createContainer"]
    assert pos["createContainer"] < pos["startContainer"]
    assert pos["createContainer"] < pos["poststart"]
    assert order[-1] == "poststop"


@pytest.mark.berth_only  # runc 1.1.5 runs poststart and startContainer concurrently (order races)
def test_hooks_start_container_before_poststart(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install()
    b.checker("pid")
    expect_ok(rt.run(b))
    order = rec.order()
    assert order == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]


def test_hooks_receive_state_on_stdin(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install()
    b.config.setdefault("annotations", {})["org.berth.test"] = "hooks"
    b.checker("sleep", "2")
    assert rt.create(b).returncode == 0
    pid = rt.state(b.id)["pid"]
    for n in ("prestart", "createRuntime", "createContainer"):
        st = rec.state(n)
        assert st["id"] == b.id
        assert st["status"] == "creating", (n, st)
        assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path)
        assert st["ociVersion"]
        assert st.get("pid", 0) > 0, (n, st)
    # runtime-namespace hooks see the host pid of the container process
    assert rec.state("createRuntime")["pid"] == pid
    assert rec.state("prestart")["pid"] == pid
    assert rt.start(b.id).returncode == 0
    assert rt.wait_status(b.id, "stopped") == "stopped"
    st = rec.state("startContainer")
    assert st["id"] == b.id and st["status"] == "created"
    st = rec.state("poststart")
    assert st["id"] == b.id and st["status"] in ("created", "running")
    assert rt.delete(b.id).returncode == 0
    st = rec.state("poststop")
    assert st["id"] == b.id and st["status"] == "stopped"


def test_hooks_create_runs_create_hooks_only(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install()
    b.checker("sleep", "30")
    assert rt.create(b).returncode == 0
    order = rec.order()
    assert order[:3] == ["prestart", "createRuntime", "createContainer"], order
    assert "startContainer" not in order and "poststop" not in order
    assert rt.start(b.id).returncode == 0
    deadline = time.monotonic() + 5
    while "startContainer" not in rec.order() or "poststart" not in rec.order():
        assert time.monotonic() < deadline, rec.order()
        time.sleep(0.05)
    assert "poststop" not in rec.order()
    assert rt.delete(b.id, force=True).returncode == 0
    assert rec.order()[-1] == "poststop"


@pytest.mark.berth_only  # runc 1.1.5 runs poststart hooks during `create` (fixed in runc 1.2)
def test_poststart_not_run_by_create(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install(["poststart"])
    b.checker("sleep", "30")
    assert rt.create(b).returncode == 0
    assert rec.order() == []
    assert rt.start(b.id).returncode == 0
    assert rec.order() == ["poststart"], "poststart must have run before start returned"


def test_hook_args_and_env(rt):
    b = rt.bundle()
    out = rt.tmp / "hook-env"
    b.config["hooks"] = {"createRuntime": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", f'echo "$0|$1|$HOOKVAR|$PATH" > {out}', "arg-zero", "arg-one"],
        "env": ["HOOKVAR=hello", "PATH=/custom/bin:/bin:/usr/bin"],
    }]}
    b.checker("pid")
    expect_ok(rt.run(b))
    assert out.read_text().strip() == "arg-zero|arg-one|hello|/custom/bin:/bin:/usr/bin"


def test_create_container_hook_runs_in_container_mount_ns(rt):
    b = rt.bundle()
    out = rt.tmp / "ccns"
    b.config["hooks"] = {
        "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", f"readlink /proc/self/ns/mnt > {out}"]}],
    }
    b.checker("sleep", "30")
    assert rt.create(b).returncode == 0
    pid = rt.state(b.id)["pid"]
    assert out.read_text().strip() == os.readlink(f"/proc/{pid}/ns/mnt")
    assert out.read_text().strip() != os.readlink("/proc/self/ns/mnt")


def test_create_runtime_hook_runs_in_runtime_ns(rt):
    b = rt.bundle()
    out = rt.tmp / "crns"
    b.config["hooks"] = {
        "createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", f"readlink /proc/self/ns/mnt > {out}"]}],
    }
    b.checker("pid")
    expect_ok(rt.run(b))
    assert out.read_text().strip() == os.readlink("/proc/self/ns/mnt")


def test_start_container_hook_path_resolves_in_container(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    # /bin/busybox exists in the container, and the check looks at the container's hostname
    b.config["hooks"] = {"startContainer": [{"path": "/bin/busybox",
                                             "args": ["sh", "-c", "hostname > /hookout/hn"]}]}
    b.config["hostname"] = "inside-hook"
    b.checker("pid")
    expect_ok(rt.run(b))
    assert (rec.dir / "hn").read_text().strip() == "inside-hook"


@pytest.mark.parametrize("failing", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_fails_create_and_cleans_up(rt, failing):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install(["prestart", "createRuntime", "createContainer", "poststop"], **{failing: "exit 3"})
    b.checker("sleep", "30")
    res = rt.create(b)
    expect_error(res, failing)
    assert rt.status(b.id) is None, "failed create must not leave a container"
    rt.assert_nothing_left(b)


def test_failing_start_container_hook_stops_container(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install(["startContainer"], startContainer="exit 4")
    b.args("/bin/sh", "-c", "touch /hookout/user-process-ran")
    assert rt.create(b).returncode == 0
    res = rt.start(b.id)
    if rt.kind == "berth":
        expect_error(res, "startContainer")
    st = rt.wait_status(b.id, "stopped")
    assert st in ("stopped", None), st
    assert "startContainer" in rec.order()
    assert not (rec.dir / "user-process-ran").exists(), "user process ran although startContainer failed"


@pytest.mark.berth_only  # runc 1.1.5 fails `run` and kills the container when a poststart hook fails
def test_failing_poststart_hook_only_warns(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install(["poststart"], poststart="exit 5")
    b.checker("exit", "0")
    res = rt.run(b)
    assert res.returncode == 0, res
    assert "poststart" in (res.stderr + res.log_text).lower() or "hook" in (res.stderr + res.log_text).lower()


def test_failing_poststop_hook_does_not_fail_delete(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install(["poststop"], poststop="exit 6")
    b.checker("sleep", "30")
    assert rt.create(b).returncode == 0
    res = rt.delete(b.id, force=True)
    assert res.returncode == 0, res
    assert "poststop" in rec.order()
    assert rt.status(b.id) is None
    rt.assert_nothing_left(b)


def test_poststop_runs_for_run_command(rt):
    b = rt.bundle()
    rec = HookRecorder(rt, b)
    rec.install(["poststop"])
    b.checker("exit", "3")
    res = rt.run(b)
    assert res.returncode == 3
    assert rec.order() == ["poststop"]


def test_hook_timeout(rt):
    b = rt.bundle()
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "20"], "timeout": 1}]}
    b.checker("pid")
    t0 = time.monotonic()
    res = rt.run(b)
    elapsed = time.monotonic() - t0
    expect_error(res, "timeout")
    assert elapsed < 10, f"hook timeout not enforced ({elapsed:.1f}s)"
    rt.assert_nothing_left(b)


def test_hook_within_timeout_succeeds(rt):
    b = rt.bundle()
    out = rt.tmp / "ok"
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", f"sleep 0.2; touch {out}"],
                                            "timeout": 5}]}
    b.checker("pid")
    expect_ok(rt.run(b))
    assert out.exists()


def test_hooks_multiple_in_array_order(rt):
    b = rt.bundle()
    log = rt.tmp / "multi"
    b.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f"echo {i} >> {log}"]} for i in range(4)]}
    b.checker("pid")
    expect_ok(rt.run(b))
    assert log.read_text().split() == ["0", "1", "2", "3"]


def test_hook_missing_path_fails(rt):
    b = rt.bundle()
    b.config["hooks"] = {"createRuntime": [{"path": str(rt.tmp / "no-such-hook")}]}
    b.checker("pid")
    expect_error(rt.run(b), "no-such-hook")
    rt.assert_nothing_left(b)
