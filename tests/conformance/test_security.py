"""Defences on the start path: the runtime binary is out of the container's reach while a
container process still runs it (the CVE-2019-5736 class)."""
import json

import pytest

from conftest import expect_ok

EACCES, ETXTBSY, EPERM = 13, 26, 1


def _open_init_exe(rt, b, mode):
    """While the container is created but not started, its PID 1 is still the runtime's own
    image; another process of the container tries to open it through /proc/1/exe."""
    b.checker("sleep", "30")
    expect_ok(rt.create(b))
    try:
        res = expect_ok(rt.exec(b.id, "/berth-checker", "open", "/proc/1/exe", mode))
        return json.loads(res.stdout)
    finally:
        rt.delete(b.id, force=True)


def test_runtime_binary_not_writable_through_proc_exe(rt):
    b = rt.bundle()
    j = _open_init_exe(rt, b, "w")
    assert j["ok"] is False, j
    assert j["errno"] in (EACCES, ETXTBSY, EPERM), j


@pytest.mark.berth_only  # runc 1.1.5 runs its init from a sealed memfd copy instead
def test_runtime_binary_not_even_readable_through_proc_exe(rt):
    # The init is not dumpable until execve: /proc/1/exe is closed to the container's
    # other processes, so no O_PATH handle can be kept for a write after the runtime exits.
    b = rt.bundle()
    j = _open_init_exe(rt, b, "r")
    assert j["ok"] is False and j["errno"] == EACCES, j
