"""berth-init and tini on the host: argument errors, subreaper mode, parent-death signal."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import termios
import subprocess
import tempfile
import time

import pytest

from conftest import proc_state, wait_for


def run(init, *args, timeout=30):
    return subprocess.run([init.host_path, *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args,code", [
    (["-x", "true"], 1),                       # unknown flag
    ([], 1),                                   # missing command
    (["-s"], 1),                               # flags but no command
    (["-e", "300", "true"], 1),                # exit code out of range
    (["-p", "SIGNOPE", "true"], 1),            # unknown signal
    (["-s", "--", "/nonexistent/cmd"], 127),   # not found, as a shell
    (["-s", "--", "/etc/initsuite-noexec"], 126),  # found, not executable
], ids=["unknown-flag", "no-command", "flags-only", "bad-e", "bad-p", "enoent", "eacces"])
def test_bad_arguments(init, args, code, tmp_path):
    args = [str(tmp_path / "noexec") if a == "/etc/initsuite-noexec" else a for a in args]
    (tmp_path / "noexec").write_text("not a program\n")
    os.chmod(tmp_path / "noexec", 0o644)
    r = run(init, *args)
    assert r.returncode == code, r.stderr
    assert r.stderr.strip(), "a usage error must say what is wrong"


def test_version(init):
    r = run(init, "--version")
    assert r.returncode == 0
    assert "version" in r.stdout


def test_help(init):
    r = run(init, "-h")
    assert r.returncode == 0
    assert "-s" in r.stdout and "-g" in r.stdout


def test_subreaper_storm_outside_pid_namespace(init, helper):
    """-s on the host: the orphans come to the init, which reaps all 2,000."""
    r = run(init, "-s", "--", str(helper), "storm", "2000", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "orphans 2000, reaped 2000" in r.stdout
    assert "subreaper" not in r.stderr  # no warning with -s


def test_warns_when_neither_pid1_nor_subreaper(init):
    r = run(init, "true")
    assert r.returncode == 0
    assert "subreaper" in r.stderr


def test_verbose_names_the_child_exit(init):
    r = run(init, "-s", "-vv", "--", "/bin/sh", "-c", "exit 3")
    assert r.returncode == 3
    # tini prints its info lines on stdout; berth-init keeps stdout for the child alone.
    messages = r.stdout + r.stderr if init.is_tini else r.stderr
    assert "status '3'" in messages or "exited with status 3" in messages, messages
    if not init.is_tini:
        assert r.stdout == ""
    r = run(init, "-s", "-vv", "--", "/bin/sh", "-c", "kill -TERM $$")
    assert r.returncode == 143
    if not init.is_tini:
        assert "was killed by SIGTERM" in r.stderr, r.stderr


def test_parent_death_signal(init):
    """-p SIGTERM: when the init's parent dies the init gets SIGTERM, passes it on, and ends."""
    with tempfile.TemporaryDirectory() as d:
        pidfile = os.path.join(d, "pid")
        # The shell starts the init in the background and exits: the init's parent is gone.
        subprocess.run(["/bin/sh", "-c", f'"$0" -s -p SIGTERM -- sleep 1000 </dev/null '
                        f'>/dev/null 2>&1 & echo $! > {pidfile}; sleep 0.3', init.host_path],
                       check=True, timeout=10)
        pid = int(open(pidfile).read())
        assert wait_for(lambda: proc_state(pid) in ("", "Z"), timeout=5), \
            f"{init} still running after its parent died"


def test_signal_forwarding_on_host(init):
    """Not PID 1: SIGTERM is still passed to the child and its death reported as 143."""
    p = subprocess.Popen([init.host_path, "-s", "--", "sleep", "1000"],
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=5) == 128 + signal.SIGTERM


def test_warn_on_reap(init):
    """-w names each zombie that is not the child (an orphan re-parented to the subreaper)."""
    r = run(init, "-s", "-w", "--", "/bin/sh", "-c", '(sh -c "exit 5" &); sleep 0.5')
    assert r.returncode == 0
    messages = (r.stdout + r.stderr).lower()
    assert "reaped zombie" in messages, messages


def test_child_gets_the_terminal_foreground(init):
    """With a terminal on stdin the child runs in its own process group, which is the
    terminal's foreground group, as tini does; the init is not stopped by SIGTTOU."""
    leader, follower = pty.openpty()
    try:
        def own_session_with_tty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        # Fields 5 and 8 of stat(5): process group and the terminal's foreground group.
        script = 'set -- $(cat /proc/$$/stat); echo "$$ $5 $8"'
        r = subprocess.run([init.host_path, "-s", "--", "/bin/sh", "-c", script],
                           stdin=follower, capture_output=True, text=True, timeout=10,
                           preexec_fn=own_session_with_tty)
    finally:
        os.close(leader)
        os.close(follower)
    assert r.returncode == 0, r.stderr
    pid, pgrp, foreground = r.stdout.split()
    assert pgrp == pid, "the child leads its own process group"
    assert foreground == pgrp, "the child's group has the terminal's foreground"
