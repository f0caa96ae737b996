"""Interactive containers end to end (root, real kernel): `run -i`, `run -t`, `-it`, `create -i
-t` + `start -a -i`, `attach` with stdin, the detach keys, window sizes and our terminal's mode.

A real terminal is driven through os.openpty(): berth runs in a session of its own with the pty's
slave as its controlling terminal and stdio, and the test types on the master and reads what the
container's pty echoes back. Same `berth` fixture as the other engine tests (conftest.py).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
import uuid

from engine_helpers import IMAGE, REQUIREMENTS, RUNTIME, _wait_for, processes

pytestmark = list(REQUIREMENTS)


def _set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Terminal:
    """berth with a pty as its controlling terminal and stdio."""

    def __init__(self, berth, *args, rows=24, cols=80):
        self.master, self.slave = os.openpty()
        _set_size(self.slave, rows, cols)
        self.saved = termios.tcgetattr(self.slave)
        self.buf = b""

        def make_controlling():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(berth.base + [str(a) for a in args], stdin=self.slave,
                                     stdout=self.slave, stderr=self.slave, start_new_session=True,
                                     preexec_fn=make_controlling, close_fds=True)

    def send(self, data: bytes | str) -> None:
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def _read(self, timeout: float) -> bool:
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: nobody holds the slave any more
            return False
        self.buf += chunk
        return bool(chunk)

    def expect(self, pattern: str, timeout=15.0) -> re.Match:
        """Waits for pattern in what was output since the last match; consumes up to it."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern.encode())
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} in {self.buf!r}")
            self._read(min(left, 0.5))

    def resize(self, rows: int, cols: int) -> None:
        # The kernel sends SIGWINCH to the terminal's foreground process group: berth.
        _set_size(self.master, rows, cols)

    def wait(self, timeout=20.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"berth did not exit; output {self.buf!r}")
            self._read(0.1)
        return self.proc.returncode

    def mode_restored(self) -> bool:
        return termios.tcgetattr(self.slave) == self.saved

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


def _run(berth, *args):
    """`run` with the test's runtime: the argument list for Terminal or berth.run."""
    return ["run", "--runtime", RUNTIME, *args]


def _name():
    return f"c-{uuid.uuid4().hex[:6]}"


def _running(berth, name) -> bool:
    return berth.inspect(name)["State"]["Running"]


# --- without a terminal on our side ----------------------------------------------------------

def test_run_i_passes_stdin_and_its_end(berth):
    p = berth.run(*_run(berth, "--rm", "-i", IMAGE, "cat"), input="hi\n", timeout=30)
    assert (p.returncode, p.stdout) == (0, "hi\n"), p.stderr
    # Streams stay apart without -t; the status is the container's.
    p = berth.run(*_run(berth, "--rm", "-i", IMAGE, "sh", "-c",
                        "read x; echo got $x; echo err >&2; exit 7"),
                  input="abc\n", check=False, timeout=30)
    assert (p.returncode, p.stdout, p.stderr) == (7, "got abc\n", "err\n")
    # Nothing on stdin at all: cat sees its end at once.
    p = berth.run(*_run(berth, "--rm", "-i", IMAGE, "cat"), stdin=subprocess.DEVNULL,
                  timeout=30)
    assert (p.returncode, p.stdout) == (0, "")


def test_run_i_large_input_both_ways(berth, tmp_path):
    """More than every socket and pipe buffer in both directions at once: nothing is lost and
    nothing deadlocks (the foreground client is never dropped, the monitor holds output back)."""
    data = os.urandom(4 << 20)
    src = tmp_path / "in"
    src.write_bytes(data)
    with open(src, "rb") as f:
        p = subprocess.run(berth.base + _run(berth, "--rm", "-i", IMAGE, "cat"), stdin=f,
                           capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == data


def test_run_without_i_has_no_stdin(berth):
    p = berth.run(*_run(berth, "--rm", IMAGE, "cat"), input="ignored\n", timeout=30)
    assert (p.returncode, p.stdout) == (0, "")
    # -t alone: a pty, but ours is not its input either.
    p = berth.run(*_run(berth, "--rm", "-t", IMAGE, "sh", "-c", "tty; echo done"),
                  input="ignored\n", timeout=30)
    assert p.returncode == 0
    # (text mode: the pty's CR LF reads as \n)
    assert re.fullmatch(r"/dev/(pts/\d+|console)\ndone\n", p.stdout), p.stdout


def test_run_t_without_our_terminal(berth):
    """docker allows -t with pipes: the output is the pty's, stderr merged into it."""
    p = subprocess.run(berth.argv(*_run(berth, "--rm", "-t", IMAGE, "sh", "-c",
                                        "echo out; echo err >&2; test -t 0 && test -t 2 && "
                                        "echo tty; exit 3")),
                       capture_output=True, timeout=30)
    assert p.returncode == 3, p.stderr
    assert p.stdout == b"out\r\nerr\r\ntty\r\n"
    assert p.stderr == b""
    # EOF on a pipe into -it is the pty's ^D.
    p = berth.run(*_run(berth, "--rm", "-i", "-t", IMAGE, "cat"), input="hello\n", timeout=30)
    assert p.returncode == 0
    assert p.stdout.count("hello") == 2, p.stdout  # the pty's echo, then cat's


def test_exit_codes(berth):
    p = berth.run(*_run(berth, "--rm", "-i", IMAGE, "no-such-binary"), check=False,
                  stdin=subprocess.DEVNULL)
    assert p.returncode == 127 and "no-such-binary" in p.stderr, p.stderr
    p = berth.run(*_run(berth, "--rm", "-t", IMAGE, "/etc"), check=False)
    assert p.returncode == 126, p.stderr
    p = berth.run(*_run(berth, "--rm", "-it", IMAGE, "sh", "-c", "exit 42"), check=False,
                  stdin=subprocess.DEVNULL)
    assert p.returncode == 42
    p = berth.run(*_run(berth, "--rm", "-i", "--detach-keys", "ctrl-", IMAGE, "true"),
                  check=False)
    assert p.returncode == 125 and "--detach-keys" in p.stderr
    assert berth.ps() == []


def test_tty_output_is_logged_as_stdout(berth):
    name = _name()
    berth.run(*_run(berth, "--name", name, "-t", IMAGE, "sh", "-c", "echo to-log; echo e >&2"))
    logs = berth.run("logs", name)
    assert logs.stdout.replace("\r", "") == "to-log\ne\n" and logs.stderr == ""
    log_path = berth.root / "containers" / berth.inspect(name)["Id"] / "ctr.log"
    if log_path.exists():
        streams = {line.split()[1] for line in log_path.read_text().splitlines()}
        assert streams == {"stdout"}


def test_create_i_then_start_a_i(berth):
    name = _name()
    berth.run("create", "--runtime", RUNTIME, "--name", name, "-i", IMAGE, "sh", "-c",
              "read x; echo got:$x; exit 4")
    p = berth.run("start", "-a", "-i", name, input="abc\n", check=False, timeout=30)
    assert (p.returncode, p.stdout) == (4, "got:abc\n"), p.stderr
    assert berth.inspect(name)["State"]["ExitCode"] == 4
    # And again: a second start is a new task with a new stdin.
    p = berth.run("start", "-ai", name, input="def\n", check=False, timeout=30)
    assert (p.returncode, p.stdout) == (4, "got:def\n"), p.stderr


def test_detached_i_then_attach_with_stdin(berth):
    name = _name()
    berth.run(*_run(berth, "-d", "-i", "--name", name, IMAGE, "sh", "-c",
                    "while read x; do echo got:$x; done; echo eof"))
    p = subprocess.Popen(berth.base + ["attach", name], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"one\n")
        p.stdin.flush()
        assert p.stdout.readline() == b"got:one\n"
        # The end of attach's stdin is not the container's (docker's StdinOnce is run's).
        p.stdin.close()
        time.sleep(0.5)
        assert p.poll() is None and _running(berth, name)
        p.send_signal(signal.SIGINT)  # detaches
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert _running(berth, name)
    # A second client's input reaches the same stdin.
    p = subprocess.Popen(berth.base + ["attach", name], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"two\n")
        p.stdin.flush()
        assert p.stdout.readline() == b"got:two\n"
        berth.run("kill", name)
        assert p.wait(timeout=10) == 137
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


# --- with a terminal ---------------------------------------------------------------------------

def test_run_it_terminal_size_and_mode(berth):
    t = Terminal(berth, *_run(berth, "--rm", "-it", IMAGE, "sh"), rows=33, cols=97)
    try:
        t.expect(r"# ")
        t.send("stty size; tty\r")
        t.expect(r"33 97\r\n/dev/(pts/\d+|console)\r\n")
        # While attached, our terminal is raw: the container's pty does the echoing.
        assert not t.mode_restored()
        mode = termios.tcgetattr(t.slave)
        assert not mode[3] & termios.ECHO and not mode[3] & termios.ICANON
        t.resize(40, 120)
        time.sleep(0.3)
        t.send("stty size\r")
        t.expect(r"40 120\r\n")
        # ^C is a byte for the container's line discipline: sh stays, berth stays.
        # Only once sleep runs: a ^C between the shell's fork and the child's reset of SIGINT to
        # the default is lost, and sleep would outlive the test.
        naps = str(1000 + uuid.uuid4().int % 9000)
        t.send(f"sleep {naps}\r")
        _wait_for(lambda: any(argv[:2] == ["sleep", naps] for _, argv in processes()),
                  what=f"sleep {naps} running")
        t.send(b"\x03")
        t.expect(r"\^C")
        t.expect(r"# ")
        t.send("exit 5\r")
        assert t.wait() == 5
        assert t.mode_restored()
    finally:
        t.close()
    assert berth.ps() == []


def test_sigwinch_reaches_the_container(berth):
    script = 'trap "echo WINCH; stty size" WINCH; echo ready; while true; do sleep 0.1; done'
    name = _name()
    t = Terminal(berth, *_run(berth, "--name", name, "-it", IMAGE, "sh", "-c", script),
                 rows=20, cols=70)
    try:
        t.expect(r"ready")
        t.resize(25, 90)
        t.expect(r"WINCH\r\n25 90\r\n")
        berth.run("kill", name)
        assert t.wait() == 137
        assert t.mode_restored()
    finally:
        t.close()


def test_detach_keys_and_reattach(berth):
    name = _name()
    t = Terminal(berth, *_run(berth, "--name", name, "-it", IMAGE, "sh"))
    try:
        t.expect(r"# ")
        t.send("echo one\r")
        t.expect(r"one\r\n")
        # ctrl-p alone is held back, then passed on with what follows.
        t.send(b"\x10")
        time.sleep(0.2)
        t.send(b"\x10\x11")
        assert t.wait() == 0
        assert t.mode_restored()
    finally:
        t.close()
    assert _running(berth, name)

    # attach again, with our own keys this time.
    t = Terminal(berth, "attach", "--detach-keys", "ctrl-a,x", name, rows=30, cols=100)
    try:
        time.sleep(0.5)
        t.send("stty size\r")
        t.expect(r"30 100\r\n")  # attach passes its size on at once
        t.send(b"\x01x")
        assert t.wait() == 0
        assert t.mode_restored()
    finally:
        t.close()
    assert _running(berth, name)

    # SIGTERM to attach detaches too, and gives the terminal back.
    t = Terminal(berth, "attach", name)
    try:
        time.sleep(0.5)
        t.send("echo two\r")
        t.expect(r"two\r\n")
        t.proc.send_signal(signal.SIGTERM)
        assert t.wait() == 0
        assert t.mode_restored()
    finally:
        t.close()
    assert _running(berth, name)

    # Once more, and the container's exit status comes back through attach.
    t = Terminal(berth, "attach", name)
    try:
        time.sleep(0.5)
        t.send("exit 6\r")
        assert t.wait() == 6
        assert t.mode_restored()
    finally:
        t.close()
    _wait_for(lambda: not _running(berth, name), what="the container's exit")


def test_start_a_i_on_a_terminal(berth):
    name = _name()
    berth.run("create", "--runtime", RUNTIME, "--name", name, "-i", "-t", IMAGE, "sh")
    t = Terminal(berth, "start", "-a", "-i", name, rows=50, cols=132)
    try:
        t.expect(r"# ")
        t.send("stty size\r")
        t.expect(r"50 132\r\n")
        t.send("exit 9\r")
        assert t.wait() == 9
        assert t.mode_restored()
    finally:
        t.close()
    assert berth.inspect(name)["State"]["ExitCode"] == 9


def test_run_i_without_tty_from_a_terminal(berth):
    """-i alone from a terminal: no raw mode (our line discipline echoes), ^D ends the input."""
    t = Terminal(berth, *_run(berth, "--rm", "-i", IMAGE, "sh", "-c",
                              "while read x; do echo got:$x; done; exit 2"))
    try:
        time.sleep(0.5)
        assert t.mode_restored()
        t.send("abc\n")
        t.expect(r"got:abc")
        t.send(b"\x04")
        assert t.wait() == 2
        assert t.mode_restored()
    finally:
        t.close()


def test_interrupt_is_passed_on_without_tty(berth):
    """Without -t, ^C on our terminal is a SIGINT to berth, which passes it to the container."""
    t = Terminal(berth, *_run(berth, "--rm", "-i", IMAGE, "sh", "-c",
                              "trap 'echo INT; exit 3' INT; echo ready; "
                              "while true; do sleep 0.1; done"))
    try:
        t.expect(r"ready")
        t.send(b"\x03")
        t.expect(r"INT")
        assert t.wait() == 3
    finally:
        t.close()
