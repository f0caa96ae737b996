"""`features` (OCI features document) and berth-only behaviour."""

import json

import pytest



def features(rt):
    res = rt.cmd("features", log=False)
    assert res.returncode == 0, res
    return json.loads(res.stdout)


def test_features_document(rt):
    f = features(rt)
    assert f["ociVersionMin"].startswith("1.")
    assert f["ociVersionMax"].startswith("1.")
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                                "poststop"}
    assert {"bind", "rbind", "ro", "nosuid", "nodev", "noexec"} <= set(f["mountOptions"])
    lin = f["linux"]
    assert {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"} <= set(lin["namespaces"])
    assert "CAP_SYS_ADMIN" in lin["capabilities"]
    sec = lin["seccomp"]
    assert sec["enabled"] is True
    assert {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_TRAP", "SCMP_ACT_LOG"} <= set(
        sec["actions"])
    assert {"SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"} <= set(sec["operators"])
    assert "SCMP_ARCH_X86_64" in sec["archs"]


@pytest.mark.berth_only  # runc 1.1.5 has no time namespace
def test_features_berth_namespaces_and_fields(rt):
    f = features(rt)
    assert "time" in f["linux"]["namespaces"]
    assert f["linux"]["cgroup"]["v1"] is True


@pytest.mark.berth_only  # runc implements checkpoint through CRIU
def test_checkpoint_not_supported(rt):
    b = rt.bundle()
    b.checker("sleep", "30")
    assert rt.create(b).returncode == 0
    assert rt.start(b.id).returncode == 0
    res = rt.cmd("checkpoint", b.id)
    assert res.returncode != 0
    assert "not supported" in (res.stderr + res.log_text).lower()
    assert rt.status(b.id) == "running"


@pytest.mark.berth_only  # runc implements restore through CRIU
def test_restore_not_supported(rt):
    b = rt.bundle()
    b.write()
    res = rt.cmd("restore", "--bundle", b.path, b.id)
    assert res.returncode != 0
    assert "not supported" in (res.stderr + res.log_text).lower()
    rt.assert_nothing_left(b)
