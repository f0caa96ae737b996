"""berth-init (and tini, for comparison) as PID 1 of a container."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from conftest import cpu_ticks, proc_state, wait_for

# Signals tini (0.19) leaves alone: the synchronous fault signals it keeps at their default
# action (so a PID 1 drops them), and SIGTTIN/SIGTTOU, which it ignores. berth-init blocks and
# forwards these too.
TINI_NOT_FORWARDED = {signal.SIGFPE, signal.SIGILL, signal.SIGSEGV, signal.SIGBUS,
                      signal.SIGABRT, signal.SIGTRAP, signal.SIGSYS, signal.SIGTTIN,
                      signal.SIGTTOU}
SENTINEL = signal.SIGRTMAX
CATCHABLE = sorted(
    [s for s in range(1, 32) if s not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD)] +
    [signal.SIGRTMIN, signal.SIGRTMIN + 1, signal.SIGRTMIN + 15, signal.SIGRTMAX - 1, SENTINEL])


def recorded(path: Path) -> list[int]:
    try:
        return [int(x) for x in path.read_text().split()]
    except FileNotFoundError:
        return []


def start_recorder(container, init, mode="record", flags=()):
    c = container([init.path, *flags, "--", "/helper", mode, "/out"])
    ready = ["ready"] + (["ready.grandchild"] if mode == "group" else [])
    assert wait_for(lambda: all((c.out / r).exists() for r in ready)), c.output()
    return c


@pytest.mark.container
def test_zombie_storm_all_reaped(container, init):
    """2,000 orphans exit at once; the helper sees PID 1 reap every one."""
    c = container([init.path, "--", "/helper", "storm", "2000"], wait_running=False)
    assert c.wait(60) == 0, c.output()
    assert "orphans 2000, reaped 2000" in c.output()
    print(f"{init}: {c.output().strip()}")


@pytest.mark.container
def test_every_catchable_signal_forwarded(container, init):
    """Table test: each signal sent to PID 1 from the host, then a sentinel; the child records
    what it got. Standard signals are dequeued before real-time ones, so a forwarded signal is
    recorded before the sentinel that follows it."""
    c = start_recorder(container, init)
    log = c.out / "signals.child"
    results = {}
    for sig in CATCHABLE:
        before = len(recorded(log))
        os.kill(c.pid, sig)
        if sig != SENTINEL:
            os.kill(c.pid, SENTINEL)
        assert wait_for(lambda: SENTINEL in recorded(log)[before:], timeout=5), \
            f"sentinel after {signal.Signals(sig).name} never arrived: {c.output()}"
        results[sig] = sig in recorded(log)[before:]
    expected = {sig: not (init.is_tini and sig in TINI_NOT_FORWARDED) for sig in CATCHABLE}
    def missing(table):
        return sorted(signal.Signals(s).name if s < 32 else f"SIG{s}"
                      for s, forwarded in table.items() if not forwarded)
    assert results == expected, \
        f"not forwarded: {missing(results)}, expected not forwarded: {missing(expected)}"
    assert proc_state(c.pid), "PID 1 died of a signal it should have forwarded"


@pytest.mark.container
@pytest.mark.parametrize("group", [False, True], ids=["child", "group"])
def test_process_group_delivery(container, init, group):
    """-g: a signal reaches every process in the child's group; without it only the child."""
    c = start_recorder(container, init, "group", ["-g"] if group else [])
    os.kill(c.pid, signal.SIGUSR1)
    assert wait_for(lambda: signal.SIGUSR1 in recorded(c.out / "signals.child")), c.output()
    grandchild = lambda: signal.SIGUSR1 in recorded(c.out / "signals.grandchild")
    if group:
        assert wait_for(grandchild)
    else:
        time.sleep(0.3)
        assert not grandchild()


@pytest.mark.container
@pytest.mark.parametrize("script,flags,code", [
    ("exit 0", [], 0),
    ("exit 1", [], 1),
    ("exit 7", [], 7),
    ("exit 255", [], 255),
    ("kill -TERM $$", [], 128 + signal.SIGTERM),
    ("kill -KILL $$", [], 128 + signal.SIGKILL),
    ("kill -SEGV $$", [], 128 + signal.SIGSEGV),
    ("exit 7", ["-e", "7"], 0),
    ("exit 8", ["-e", "7"], 8),
    ("exit 8", ["-e", "7", "-e", "8"], 0),
    ("kill -TERM $$", ["-e", "143"], 0),
], ids=lambda v: str(v).replace(" ", "_") if isinstance(v, str) else None)
def test_exit_codes(container, init, script, flags, code):
    c = container([init.path, *flags, "--", "/bin/sh", "-c", script], wait_running=False)
    assert c.wait() == code, c.output()


@pytest.mark.container
def test_sigterm_to_handlerless_program(container, init):
    """A program without a SIGTERM handler as PID 1 survives SIGTERM (the kernel gives PID 1 no
    default action); under an init it ends at once. Prints both timings."""
    bare = container(["/bin/sleep", "1000"])
    os.kill(bare.pid, signal.SIGTERM)
    time.sleep(1)
    assert proc_state(bare.pid) not in ("", "Z"), "sleep as PID 1 should ignore SIGTERM"
    bare.cleanup()

    c = container([init.path, "--", "/bin/sleep", "1000"])
    # The init blocks signals before it forks: once `sleep` runs, SIGTERM cannot be lost.
    assert wait_for(lambda: any(_ppid(p) == c.pid and _comm(p) == "sleep" for p in _procs()))
    start = time.monotonic()
    os.kill(c.pid, signal.SIGTERM)
    assert wait_for(lambda: proc_state(c.pid) in ("", "Z"), timeout=5, interval=0.0005)
    pid1_gone = time.monotonic() - start
    assert c.wait() == 128 + signal.SIGTERM
    run_done = time.monotonic() - start
    print(f"\n{init}: SIGTERM to PID 1 exit {pid1_gone * 1e3:.1f} ms, "
          f"`run` returned after {run_done * 1e3:.1f} ms; bare sleep still alive after 1 s")
    assert pid1_gone < 1


@pytest.mark.container
@pytest.mark.berth_only
def test_pause_idle_and_sigterm(container, init):
    """--pause uses no CPU while idle, reaps what is re-parented to it, exits 0 on SIGTERM."""
    c = container([init.path, "--pause"])
    time.sleep(0.2)
    before = cpu_ticks(c.pid)
    time.sleep(5)
    assert cpu_ticks(c.pid) == before, "pause used CPU while idle"

    # An exec'd shell that leaves a background child: the orphan goes to PID 1 on exit.
    r = c.exec(["/bin/sh", "-c", "sleep 0.2 & echo $!"])
    assert r.returncode == 0, r.stderr
    def no_zombies():
        return not any(_ppid(p) == c.pid for p in _procs())
    assert wait_for(no_zombies, timeout=5), "orphan not reaped by the pause process"

    os.kill(c.pid, signal.SIGTERM)
    assert c.wait(10) == 0, c.output()


@pytest.mark.container
@pytest.mark.berth_only
def test_pause_exits_on_sigint_and_ignores_others(container, init):
    c = container([init.path, "--pause"])
    os.kill(c.pid, signal.SIGHUP)
    os.kill(c.pid, signal.SIGUSR1)
    time.sleep(0.2)
    assert proc_state(c.pid) not in ("", "Z")
    os.kill(c.pid, signal.SIGINT)
    assert c.wait(10) == 0, c.output()


def _ppid(proc_dir: Path) -> int:
    try:
        stat = (proc_dir / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(stat[stat.rindex(")") + 2:].split()[1])


def _procs() -> list[Path]:
    return [p for p in Path("/proc").iterdir() if p.name.isdigit()]


def _comm(proc_dir: Path) -> str:
    try:
        return (proc_dir / "comm").read_text().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""
