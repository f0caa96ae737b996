"""Regression tests for the runtime escapes of the past. Each one fails on a runtime built with
the matching defence left out (target berth-runtime-weak-<name>, see scripts/escape-tests.sh):

  test_proc_exe_*       PROC_EXE       CVE-2019-5736   the runtime binary through /proc/PID/exe
  test_host_fd_*        HOST_FDS       CVE-2024-21626  a leaked host directory fd as the cwd
  test_symlink_mount_*  SYMLINK_MOUNT  CVE-2021-30465  a symlink in the image as mount destination
  test_proc_over_*      PROC_OVER      CVE-2019-16884  /proc a symlink or covered by a later mount
  test_masked_*         MASKED         masked paths stay masked
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import RUNTIME, expect_error, expect_ok

# Masked files of the default spec that this kernel has (/proc/kcore needs CONFIG_PROC_KCORE).
MASKED_FILES = [p for p in ("/proc/kcore", "/proc/timer_list", "/proc/keys", "/proc/sched_debug")
                if os.path.exists(p)]

# --------------------------------------------------------------------------- CVE-2019-5736

# Watches the pids after its own in its pid namespace and tries to open each one's /proc/PID/exe
# until that process has exec'd something else; counts the times it got the runtime binary
# (given as dev and inode). Stops on SIGTERM and prints {"hits": N, "watched": M}.
RACER_C = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    unsigned long long dev = strtoull(argv[1], 0, 10), ino = strtoull(argv[2], 0, 10);
    signal(SIGTERM, on_term);
    int next = getpid() + 1, hits = 0, watched = 0, idle = 0;
    while (!stop) {
        for (int p = next; p < next + 4; ++p) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/exe", p);
            int fd = open(path, O_PATH | O_CLOEXEC);
            if (fd < 0 && errno != ENOENT) idle = 0;
            if (fd < 0) continue;
            idle = 0;
            struct stat st;
            if (fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino) {
                ++hits;
            } else {
                ++watched;
                next = p + 1;
            }
            close(fd);
        }
        // Nothing in the window for a while (a runtime whose threads take pids, processes that
        // came and went): move it to the lowest pid past it.
        if (++idle > 5000) {
            idle = 0;
            int lowest = 0;
            DIR* d = opendir("/proc");
            for (struct dirent* e; d && (e = readdir(d));) {
                int n = atoi(e->d_name);
                if (n >= next + 4 && (!lowest || n < lowest)) lowest = n;
            }
            if (d) closedir(d);
            if (lowest) next = lowest;
        }
    }
    printf("{\"hits\": %d, \"watched\": %d}\n", hits, watched);
    fflush(stdout);
    return 0;
}
"""

def build_racer(rt) -> str:
    src, out = rt.tmp / "racer.c", rt.tmp / "racer"
    src.write_text(RACER_C)
    subprocess.run(["gcc", "-O2", "-static", "-o", str(out), str(src)], check=True, stderr=subprocess.PIPE)
    return str(out)


def test_proc_exe_exec_runtime_not_openable_while_it_runs(rt):
    """While `exec` sets up a process in the container, that process still runs the runtime's
    binary. Another process of the container must not open it through /proc/PID/exe: with an
    O_PATH handle it could reopen it for writing once the runtime exits (CVE-2019-5736). The
    widest window is between dropping to the container's credentials and execve, which a large
    environment (copied by the kernel before the new image replaces the old) keeps open."""
    b = rt.bundle()
    shutil.copy(build_racer(rt), b.rootfs / "racer")
    st = os.stat(os.path.realpath(RUNTIME))
    b.args("/racer", st.st_dev, st.st_ino)
    expect_ok(rt.run_detached(b))
    big_env = [f"PAD{i}=" + "x" * 120000 for i in range(12)]
    proc = dict(b.process, args=["/bin/sleep", "5"], env=b.process["env"] + big_env, terminal=False)
    pj = rt.tmp / "process.json"
    pj.write_text(json.dumps(proc))
    execs = 0
    deadline = time.monotonic() + 20
    while execs < 25 and time.monotonic() < deadline:
        expect_ok(rt.exec(b.id, opts=("-d", "--process", pj), stdout_file=rt.tmp / "exec.out"))
        execs += 1
    rt.kill(b.id, "TERM")
    assert rt.wait_status(b.id, "stopped", timeout=15) == "stopped"
    out = rt.container_output(b, "run").strip().splitlines()
    assert out, "the racer printed nothing"
    j = json.loads(out[-1])
    assert j["hits"] == 0, f"a container process opened the runtime binary through /proc/PID/exe: {j}"
    # The racer did see the exec'd processes (else it proves nothing).
    assert j["watched"] >= 1, j


# --------------------------------------------------------------------------- CVE-2024-21626


def _host_dir_fd(rt):
    host = rt.tmp / "host-dir"
    host.mkdir()
    (host / "host-secret").write_text("HOST-SECRET\n")
    return os.open(host, os.O_RDONLY | os.O_DIRECTORY)  # pass_fds makes it inheritable


PROBE = "cat host-secret 2>/dev/null; /berth-checker cwd"


def _assert_no_host_view(rt, res):
    assert "HOST-SECRET" not in res.stdout, f"the container read a host file through its cwd: {res}"
    if res.ok:
        j = res.json()
        assert "cwd" in j and j["cwd"].startswith("/"), f"cwd outside the container's root: {res}"
        assert not j["cwd"].startswith(str(rt.tmp)), f"cwd is a host path: {res}"


def test_host_fd_leaked_dir_as_process_cwd(rt):
    """A directory fd the caller leaks into `run` (no --preserve-fds) must be closed before the
    init enters process.cwd, so cwd /proc/self/fd/N cannot land in the host."""
    fd = _host_dir_fd(rt)
    try:
        b = rt.bundle("/bin/sh", "-c", PROBE)
        b.process["cwd"] = f"/proc/self/fd/{fd}"
        b.write()
        res = rt.cmd("run", "--bundle", b.path, b.id, pass_fds=(fd,))
    finally:
        os.close(fd)
    _assert_no_host_view(rt, res)


def test_host_fd_leaked_dir_as_exec_cwd(rt):
    """The same through `exec --cwd /proc/self/fd/N` into a running container."""
    b = rt.bundle()
    b.checker("sleep", "30")
    expect_ok(rt.run_detached(b))
    fd = _host_dir_fd(rt)
    try:
        res = rt.cmd("exec", "--cwd", f"/proc/self/fd/{fd}", b.id, "/bin/sh", "-c", PROBE, pass_fds=(fd,))
    finally:
        os.close(fd)
    _assert_no_host_view(rt, res)


# --------------------------------------------------------------------------- CVE-2021-30465


@pytest.mark.parametrize("link", ["absolute", "relative"])
def test_symlink_mount_destination_stays_in_rootfs(rt, link):
    """The image has /evil -> <a host directory>. Mounts below /evil (tmpfs, a bind of a
    directory, a bind of a file) are resolved as if the rootfs were "/": they land in the
    rootfs, and nothing is created or mounted in the host directory."""
    host = rt.tmp / "host-target"
    host.mkdir()
    (host / "host-file").write_text("HOST\n")
    b = rt.bundle()
    target = str(host) if link == "absolute" else "../" * 16 + str(host).lstrip("/")
    os.symlink(target, b.rootfs / "evil")
    src_dir = rt.tmp / "bind-dir"
    src_dir.mkdir()
    (src_dir / "from-bind").write_text("BIND-DIR\n")
    src_file = rt.tmp / "bind-file"
    src_file.write_text("BIND-FILE\n")
    b.add_mount("/evil/tmp-sub", "tmpfs", "tmpfs", ["nosuid"])
    b.add_mount("/evil/dir-sub", "bind", src_dir, ["rbind"])
    b.add_mount("/evil/file-sub", "bind", src_file, ["bind"])
    b.args("/bin/sh", "-c", "stat -f -c 'tmpfs=%t' /evil/tmp-sub; cat /evil/dir-sub/from-bind /evil/file-sub")
    res = rt.run(b)
    assert sorted(os.listdir(host)) == ["host-file"], f"the runtime created entries in the host: {res}"
    assert not rt.mounts_mentioning(str(host)), "a mount landed on the host path"
    expect_ok(res)
    assert "tmpfs=1021994" in res.stdout and "BIND-DIR" in res.stdout and "BIND-FILE" in res.stdout, res


# --------------------------------------------------------------------------- CVE-2019-16884


def test_proc_over_symlinked_proc_refused(rt):
    """The image's /proc is a symlink: proc is mounted only onto an ordinary directory."""
    b = rt.bundle()
    (b.rootfs / "proc").rmdir()
    os.symlink("/tmp/elsewhere", b.rootfs / "proc")
    expect_error(rt.run(b), "ordinary directory")


@pytest.mark.parametrize("how", ["bind", "tmpfs"])
def test_proc_over_covered_proc(rt, how):
    """A later mount covers /proc (an image VOLUME /proc): the masked and read-only paths would
    land on the decoy. The run fails, or /proc is still procfs with its masked files masked."""
    b = rt.bundle("/bin/sh", "-c", f"stat -f -c 'fs=%t' /proc; stat -c 'masked=%F' {MASKED_FILES[0]}; exit 0")
    if how == "bind":
        fake = rt.tmp / "fake-proc"
        (fake / "sys").mkdir(parents=True)
        for f in MASKED_FILES:
            (fake / os.path.basename(f)).write_text("DECOY\n")
        b.add_mount("/proc", "bind", fake, ["rbind"])
    else:
        b.add_mount("/proc", "tmpfs", "tmpfs", ["nosuid"])
    res = rt.run(b)
    if res.ok:
        assert "fs=9fa0" in res.stdout and "masked=character special file" in res.stdout, \
            f"/proc is covered and the masks went onto the decoy: {res}"


# --------------------------------------------------------------------------- masked paths


def test_masked_paths_stay_masked(rt):
    """A process with the default capabilities cannot unmount or remount the masks, and what
    they hide stays hidden."""
    assert MASKED_FILES, "no masked file of the default spec exists on this kernel"
    f = MASKED_FILES[0]
    script = (f"umount {f} 2>/dev/null; echo umount=$?; "
              f"umount -l {f} 2>/dev/null; echo umount_l=$?; "
              f"mount -o remount,rw {f} 2>/dev/null; echo remount=$?; "
              "mount -o remount,rw /sys/firmware 2>/dev/null; echo remount_dir=$?; "
              f"stat -c 'masked=%F %t:%T' {f}; "
              f"echo size=$(wc -c < {f}); "
              "echo firmware=$(ls -A /sys/firmware | wc -l)")
    b = rt.bundle("/bin/sh", "-c", script)
    res = expect_ok(rt.run(b))
    out = res.stdout
    assert "umount=0" not in out and "umount_l=0" not in out, res
    assert "remount=0" not in out and "remount_dir=0" not in out, res
    assert "masked=character special file 1:3" in out, res
    assert "size=0" in out, res
    assert "firmware=0" in out, res


@pytest.mark.berth_only  # runc 1.1.5 follows the symlink and masks what it points to
def test_masked_symlink_not_redirected(rt):
    """A masked path that is a symlink in the image is masked itself: the mask neither moves
    onto the symlink's target nor leaves the path readable."""
    b = rt.bundle("/bin/sh", "-c", "echo link=$(cat /etc/hostile); echo target=$(cat /data/innocent)")
    (b.rootfs / "data").mkdir()
    (b.rootfs / "data/innocent").write_text("INNOCENT\n")
    os.symlink("/data/innocent", b.rootfs / "etc/hostile")
    b.linux["maskedPaths"] = b.linux["maskedPaths"] + ["/etc/hostile"]
    res = expect_ok(rt.run(b))
    assert "link=\n" in res.stdout + "\n" and "link=INNOCENT" not in res.stdout, res
    assert "target=INNOCENT" in res.stdout, res
