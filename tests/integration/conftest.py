"""Shared fixtures for the integration tests in which real container managers
(containerd via ctr, podman via conmon) drive an OCI runtime.

Runtime under test: $BERTH_TEST_RUNTIME (a path, or a name looked up in PATH such
as "runc"); default <repo>/build/bin/berth-runtime.

Every runtime invocation goes through a tiny logging wrapper (same basename as the
real runtime, so managers that special-case runtime names behave the same); the
argv log is printed when a test fails, which shows exactly which runtime verbs and
flags the manager used.

Everything a test creates lives under one private temp dir and uses names and
cgroup paths that carry a per-session token ("berthtest-<token>"), so concurrent
runs do not collide and leftovers are easy to find.
"""

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from berth_itest import REPO, resolve_runtime, run, unmount_all_under


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def runtime_path():
    path, why = resolve_runtime()
    if not path:
        pytest.skip(why)
    return path


@pytest.fixture(scope="session")
def token():
    """Short unique token for names, cgroup paths and namespaces of this session."""
    return f"{os.getpid():x}{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def session_dir(token):
    d = Path(tempfile.mkdtemp(prefix=f"berthtest-{token}-", dir=os.environ.get("BERTH_TEST_TMPDIR", "/tmp")))
    yield d
    unmount_all_under(str(d))
    if os.environ.get("BERTH_TEST_KEEP") != "1":
        shutil.rmtree(d, ignore_errors=True)


class RuntimeWrapper:
    """A shell script with the same basename as the runtime that logs its argv
    (one line per call) and execs the real runtime."""

    def __init__(self, real, directory):
        self.real = real
        directory.mkdir(parents=True, exist_ok=True)
        self.path = str(directory / os.path.basename(real))
        self.log = directory / "argv.log"
        self.log.touch()
        with open(self.path, "w") as f:
            f.write("#!/bin/sh\n"
                    f"{{ printf '%s' \"$$\"; for a in \"$@\"; do printf ' %s' \"$a\"; done; echo; }} >> '{self.log}'\n"
                    f"exec '{real}' \"$@\"\n")
        os.chmod(self.path, 0o755)

    def calls(self):
        """List of argv lists (without the pid)."""
        return [line.split()[1:] for line in self.log.read_text().splitlines() if line.strip()]

    def verbs(self):
        """The runtime subcommand of every call, skipping global options."""
        takes_value = {"--root", "--log", "--log-format", "--criu", "--rootless"}
        out = []
        for argv in self.calls():
            i = 0
            while i < len(argv) and argv[i].startswith("-"):
                i += 1 if "=" in argv[i] or argv[i] not in takes_value else 2
            out.append(argv[i] if i < len(argv) else "")
        return out

    def tail(self, n=40):
        lines = self.log.read_text().splitlines()
        return "\n".join(lines[-n:])


@pytest.fixture(scope="session")
def runtime(runtime_path, session_dir):
    return RuntimeWrapper(runtime_path, session_dir / "wrap")


@pytest.fixture(scope="session")
def busybox_image(session_dir, token):
    """(tar path, fully-qualified name) of the busybox test image."""
    name = f"localhost/berthtest/busybox:{token}"
    out = session_dir / "busybox-image.tar"
    script = REPO / "scripts/make-busybox-image.sh"
    res = run(["bash", str(script), str(out), name], timeout=120)
    if res.returncode != 0:
        pytest.fail(f"make-busybox-image.sh failed: {res.stderr}")
    return str(out), name


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        rt = item.funcargs.get("runtime")
        if isinstance(rt, RuntimeWrapper):
            rep.sections.append(("runtime argv log (last calls)", rt.tail()))
