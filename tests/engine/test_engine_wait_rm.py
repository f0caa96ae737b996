"""`berth wait` racing the removal of a --rm container (root, real kernel): `run -d --rm` of a
container that exits at once, then `wait` on it, must print its exit status, as docker's does,
whether wait starts before the exit, between the exit and the exit command's removal, or after
the removal (the status is kept a while in <runroot>/<ns>/exits, engine/exit_record.h).

Same setup as the other engine tests (the `berth` fixture of conftest.py).
"""

from __future__ import annotations

import os
import time

from engine_helpers import REQUIREMENTS

pytestmark = list(REQUIREMENTS)

ROUNDS = int(os.environ.get("BERTH_WAIT_RM_ROUNDS", "20"))


def _gone(berth, cid: str, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cid not in {c["Id"] for c in berth.ps()}:
            return True
        time.sleep(0.05)
    return False


def test_wait_prints_the_status_of_a_removed_container(berth):
    for i in range(ROUNDS):
        # Exits at once, or after a moment (wait then starts before the exit), in turn.
        script = "exit 3" if i % 2 == 0 else "sleep 0.0%d; exit 3" % (i % 10)
        cid = berth.container("--rm", detach=True, cmd=["sh", "-c", script]).stdout.strip()
        p = berth.run("wait", cid, check=False)
        assert (p.returncode, p.stdout.strip()) == (0, "3"), (i, p.stdout, p.stderr)
        assert _gone(berth, cid), f"round {i}: {cid[:12]} not removed"
    # After the removal, by id, short id and name.
    cid = berth.container("--rm", "--name", "gone", detach=True,
                          cmd=["sh", "-c", "exit 5"]).stdout.strip()
    assert _gone(berth, cid)
    for ref in (cid, cid[:12], "gone"):
        p = berth.run("wait", ref, check=False)
        assert (p.returncode, p.stdout.strip()) == (0, "5"), (ref, p.stdout, p.stderr)
    # A name nobody ever had is still an error.
    p = berth.run("wait", "never-was", check=False)
    assert p.returncode == 125, p.stdout + p.stderr
