#!/usr/bin/env bash
# Lifecycle benchmark: berth-runtime vs crun vs runc, side by side, on /bin/true.
#
# Usage: bench/runtime.sh [-n ITERATIONS] [-w WARMUP] [-r RUNTIMES] [-R ROUNDS]
#   -n N        timed iterations per runtime and scenario (default $BENCH_ITERATIONS or 50)
#   -w N        untimed warm-up iterations (default $BENCH_WARMUP or 5)
#   -r LIST     comma-separated subset of berth,crun,runc (default all three)
#   -R N        rounds the iterations are split into, runtimes interleaved (default 5)
#   -t          keep the runtimes' --root (state) directories on a private tmpfs, as /run is on
#               production hosts, instead of on the filesystem of /tmp (ext4 on the project VM,
#               where creating a file in a directory with many recent deletions is slow)
# A runtime call that hangs longer than $BENCH_CALL_TIMEOUT s (default 30) is killed
# and that runtime is reported as failed.
# Environment: BERTH_RUNTIME (default <repo>/build/bin/berth-runtime),
#              CRUN (default crun), RUNC (default runc), BUSYBOX (default /bin/busybox).
#
# Scenarios, each timed per iteration with CLOCK_MONOTONIC:
#   lifecycle  create --bundle B --pid-file P ID; start ID; wait for exit; delete ID
#              (the loop is a child subreaper, so it reaps the container's init
#              exactly as containerd's shim or conmon do; no polling of `state`)
#   run        run --bundle B ID   (foreground; the runtime waits and deletes)
# CPU time (user+sys) per scenario is the loop's RUSAGE_CHILDREN delta: the runtime
# processes, their helpers and the container init (reaped by the subreaper loop); per
# verb it is wait4's rusage of that one runtime process.
# The runtime processes are started with posix_spawn and reaped with wait4. Peak
# RSS comes from 3 extra, untimed iterations run under GNU time (`time` package):
# the maximum %M over create/start/delete/run.
#
# Machine quirk handled here: this host has cgroup v1 controllers plus a cgroup2
# mount at /sys/fs/cgroup/unified (hugetlb only). crun 1.8 refuses that hybrid
# layout, so crun runs in a private mount namespace with a tmpfs over
# /sys/fs/cgroup/unified. berth-runtime and runc run as they are.
#
# To keep background load from favouring one runtime, the iterations are split into
# rounds (default 5) and the runtimes take turns within each round.
#
# Output: markdown tables on stdout (progress on stderr).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
iters=${BENCH_ITERATIONS:-50}
warmup=${BENCH_WARMUP:-5}
only=berth,crun,runc
rounds=${BENCH_ROUNDS:-5}
state_tmpfs=0
while getopts "n:w:r:R:th" opt; do
  case $opt in
    n) iters=$OPTARG ;;
    w) warmup=$OPTARG ;;
    r) only=$OPTARG ;;
    R) rounds=$OPTARG ;;
    t) state_tmpfs=1 ;;
    h) sed -n '2,36p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "runtime.sh: must run as root" >&2; exit 1; }
name=runtime.sh
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
find_runtimes

token=$$-$RANDOM
work=$(mktemp -d /tmp/berthbench.XXXXXX)
cg="berthbench-$token"
cleanup() {
  remove_cgroup_tree "$cg"
  mountpoint -q "$work/state" && umount "$work/state"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/state"
[ "$state_tmpfs" = 1 ] && mount -t tmpfs -o mode=0700 berthbench-state "$work/state"

# ---- bundle: busybox rootfs + `runc spec` running /bin/true --------------------
bundle=$work/bundle
mkdir -p "$bundle/rootfs"/{bin,dev,proc,sys,tmp,etc}
cp "$busybox" "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
ln -s busybox "$bundle/rootfs/bin/sh"
(cd "$bundle" && "$spec_tool" spec)
"$PY" - "$bundle/config.json" "/$cg/ctr" <<'EOF'
import json, sys
path, cgpath = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
c["root"]["readonly"] = True
c["hostname"] = "bench"
c["linux"]["cgroupsPath"] = cgpath
json.dump(c, open(path, "w"), indent=1)
EOF

# ---- timing loop (one process per runtime) --------------------------------------
cat > "$work/loop.py" <<'EOF'
import ctypes, json, os, resource, signal, sys, time

name, rt, bundle, state, iters, warmup, errlog, rss_iters = sys.argv[1:9]
iters, warmup, rss_iters = int(iters), int(warmup), int(rss_iters)
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
os.makedirs(state, exist_ok=True)
fa = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
      (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
      (os.POSIX_SPAWN_OPEN, 2, errlog, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)]
env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
now = time.monotonic_ns

TIME = "/usr/bin/time"
rssfile = os.path.join(state, "rss")

def children_cpu():
    """user+sys ns of every descendant reaped so far (ours, and orphans via the subreaper)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)

def call(*args, rss=False):
    """Runs the runtime, returns (ns, maxrss_kib or 0, cpu_ns).

    cpu_ns is user+sys of the runtime process and the children it waited for (wait4's
    rusage); the container init that outlives `create` is not among them.

    ru_maxrss from our own wait4 is useless here: posix_spawn vforks, and the
    kernel carries the high-water RSS of the mm replaced at exec (python's) into
    the child. So RSS is sampled in separate iterations under GNU time, whose
    fork child starts from time's own small footprint (~1-2 MiB floor)."""
    argv = [rt, "--root", state, *args]
    if rss:
        argv = [TIME, "-f", "%M", "-o", rssfile, *argv]
    t0 = now()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=fa)
    signal.setitimer(signal.ITIMER_REAL, CALL_TIMEOUT)
    try:
        _, status, ru = os.wait4(pid, 0)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        give_up(f"{' '.join(args)} hung for {CALL_TIMEOUT}s and was killed")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    dt = now() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        give_up(f"{' '.join(args)} exited {code}; see {errlog}")
    return dt, (int(open(rssfile).read().split()[-1]) if rss else 0), int((ru.ru_utime + ru.ru_stime) * 1e9)

CALL_TIMEOUT = float(os.environ.get("BENCH_CALL_TIMEOUT", "30"))
current = None  # container id in flight, deleted on failure

def on_alarm(signum, frame):
    raise TimeoutError()
signal.signal(signal.SIGALRM, on_alarm)

def give_up(msg):
    """Best effort: force-delete the container in flight, then fail this runtime."""
    if current:
        try:
            pid = os.posix_spawn(rt, [rt, "--root", state, "delete", "--force", current], env, file_actions=fa)
            signal.setitimer(signal.ITIMER_REAL, 10)
            try:
                os.waitpid(pid, 0)
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except OSError:
            pass
    sys.exit(f"{name}: {msg}")

def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return

res = {k: [] for k in ("lifecycle", "create", "start", "wait", "delete", "run",
                      "cpu_lifecycle", "cpu_run", "cpu_create", "cpu_start", "cpu_delete")}
rss = {k: 0 for k in ("create", "start", "delete", "run")}
pidfile = os.path.join(state, "pid")
if not os.access(TIME, os.X_OK):
    rss_iters = 0
for i in range(warmup + iters + rss_iters):
    keep = warmup <= i < warmup + iters
    sample = i >= warmup + iters
    cid = f"bench-{name}-{os.getpid()}-{i}"
    current = cid
    cpu0 = children_cpu()
    t0 = now()
    c, r1, cc = call("create", "--bundle", bundle, "--pid-file", pidfile, cid, rss=sample)
    pid = int(open(pidfile).read())
    s, r2, cs = call("start", cid, rss=sample)
    t1 = now()
    deadline = t1 + int(CALL_TIMEOUT * 1e9)
    while True:  # the container's init was reparented to us (subreaper)
        try:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                break
        except ChildProcessError:  # not our child (runtime kept it): poll /proc
            if not os.path.exists(f"/proc/{pid}"):
                break
        if now() > deadline:
            give_up(f"container init {pid} did not exit within {CALL_TIMEOUT}s after start")
        time.sleep(0.0001)
    w = now() - t1
    d, r3, cd = call("delete", cid, rss=sample)
    total = now() - t0
    reap_orphans()
    # Everything the lifecycle started, the container init included (its pre-execve setup
    # is runtime code): all of it has been reaped by now.
    cpu_total = children_cpu() - cpu0
    os.unlink(pidfile)
    current = cid + "r"
    cpu0 = children_cpu()
    r, r4, _ = call("run", "--bundle", bundle, cid + "r", rss=sample)
    current = None
    reap_orphans()
    cpu_run = children_cpu() - cpu0
    if keep:
        for k, v in (("lifecycle", total), ("create", c), ("start", s), ("wait", w), ("delete", d), ("run", r),
                     ("cpu_lifecycle", cpu_total), ("cpu_run", cpu_run), ("cpu_create", cc),
                     ("cpu_start", cs), ("cpu_delete", cd)):
            res[k].append(v)
    if sample:
        for k, v in (("create", r1), ("start", r2), ("delete", r3), ("run", r4)):
            rss[k] = max(rss[k], v)
print(json.dumps({"name": name, "path": rt, "ns": res, "rss_kib": rss}))
EOF

# ---- run ------------------------------------------------------------------------
results=$work/results.jsonl
: > "$results"
[ "$rounds" -ge 1 ] && [ "$rounds" -le "$iters" ] || rounds=1
declare -A missing=() path=()
for name in ${only//,/ }; do
  case $name in
    berth) rt=$berth ;;
    crun)  rt=$crun ;;
    runc)  rt=$runc ;;
    *) echo "runtime.sh: unknown runtime $name" >&2; exit 2 ;;
  esac
  if [ -z "$rt" ] || [ ! -x "$rt" ]; then
    missing[$name]="${rt:-$name} not found"
    echo "runtime.sh: $name missing (${rt:-not in PATH}), skipping" >&2
  else
    path[$name]=$rt
    echo "runtime.sh: $name = $rt" >&2
  fi
done
hybrid=0
if grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo && [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ]; then
  hybrid=1
fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
done_iters=0
for ((round = 0; round < rounds; round++)); do
  n=$(( (iters * (round + 1)) / rounds - done_iters ))
  done_iters=$((done_iters + n))
  w=0; rs=0; [ "$round" = 0 ] && { w=$warmup; rs=3; }
  echo "runtime.sh: round $((round + 1))/$rounds: $n iterations per runtime" >&2
  for name in ${only//,/ }; do
    [ -n "${path[$name]:-}" ] || continue
    args=("$name" "${path[$name]}" "$bundle" "$work/state/$name" "$n" "$w" "$work/stderr-$name.log" "$rs")
    if [ "$name" = crun ] && [ "$hybrid" = 1 ]; then
      # shellcheck disable=SC2016  # expanded by the inner sh
      # hybrid cgroup layout: hide the cgroup2 mount from crun in a private mount ns
      cmd=(unshare -m --propagation private -- sh -c
           'mount -t tmpfs berthbench /sys/fs/cgroup/unified && exec "$0" "$@"' "$PY" "$work/loop.py" "${args[@]}")
    else
      cmd=("$PY" "$work/loop.py" "${args[@]}")
    fi
    if ! "${cmd[@]}" >> "$results"; then
      echo "runtime.sh: $name failed:" >&2; tail -5 "$work/stderr-$name.log" >&2
      missing[$name]="failed (see stderr)"; unset "path[$name]"
    fi
  done
done

# ---- report ---------------------------------------------------------------------
missing_json=$(for k in "${!missing[@]}"; do printf '%s\t%s\n' "$k" "${missing[$k]}"; done)
STATE_FS=$(stat -f -c %T "$work/state") LOAD_START="$load_start" MISSING="$missing_json" ROUNDS="$rounds" ONLY="$only" ITERS="$iters" WARMUP="$warmup" "$PY" - "$results" <<'EOF'
import json, os, platform, statistics, sys

rows = {}
for line in open(sys.argv[1]):
    if line.strip():
        d = json.loads(line)
        if d["name"] not in rows:
            rows[d["name"]] = d
        else:
            r = rows[d["name"]]
            for k, v in d["ns"].items():
                r["ns"][k] += v
            for k, v in d["rss_kib"].items():
                r["rss_kib"][k] = max(r["rss_kib"][k], v)
missing = dict(l.split("\t", 1) for l in os.environ["MISSING"].splitlines() if l)
for n in missing:
    rows.pop(n, None)
order = [n for n in os.environ["ONLY"].split(",") if n]

def q(vals, p):
    s = sorted(vals)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return (s[lo] + (s[hi] - s[lo]) * (k - lo)) / 1e6  # ms

def ms(v):
    return f"{v:.2f}"

cpu = "?"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
except OSError:
    pass
print(f"## Runtime lifecycle benchmark ({os.environ['ITERS']} iterations, {os.environ['WARMUP']} warm-up, "
      f"{os.environ['ROUNDS']} interleaved rounds; state on {os.environ['STATE_FS']})\n")
load_end = open("/proc/loadavg").read().split()[:3]
print(f"Kernel {platform.release()}, {os.cpu_count()} CPUs ({cpu}); load average {os.environ['LOAD_START']} "
      f"before, {' '.join(load_end)} after; times in ms, wall clock.\n")
print("| runtime | lifecycle median | lifecycle p90 | run median | run p90 | peak RSS (KiB) |")
print("|---|---:|---:|---:|---:|---:|")
for n in order:
    if n in rows:
        d = rows[n]["ns"]
        print(f"| {n} | {ms(q(d['lifecycle'], .5))} | {ms(q(d['lifecycle'], .9))} | "
              f"{ms(q(d['run'], .5))} | {ms(q(d['run'], .9))} | {max(rows[n]['rss_kib'].values())} |")
    else:
        print(f"| {n} | {missing.get(n, 'missing')} | | | | |")

print("\nPer-verb medians (ms; `wait` = from `start` returning to the init being reaped):\n")
print("| runtime | create | start | wait | delete | RSS create/start/delete/run (KiB) |")
print("|---|---:|---:|---:|---:|---|")
for n in order:
    if n in rows:
        d, r = rows[n]["ns"], rows[n]["rss_kib"]
        print(f"| {n} | {ms(q(d['create'], .5))} | {ms(q(d['start'], .5))} | {ms(q(d['wait'], .5))} | "
              f"{ms(q(d['delete'], .5))} | {r['create']}/{r['start']}/{r['delete']}/{r['run']} |")

print("\nCPU time (user+sys, medians in ms; lifecycle and run include the container init and "
      "everything else they started; per verb: the runtime process and what it waited for):\n")
print("| runtime | lifecycle CPU | run CPU | create CPU | start CPU | delete CPU |")
print("|---|---:|---:|---:|---:|---:|")
for n in order:
    if n in rows:
        d = rows[n]["ns"]
        print(f"| {n} | " + " | ".join(ms(q(d["cpu_" + k], .5)) for k in
                                       ("lifecycle", "run", "create", "start", "delete")) + " |")

print("\nRatios (median; < 1 means berth is faster):\n")
print("| scenario | berth/crun | berth/runc |")
print("|---|---:|---:|")
for sc in ("lifecycle", "run", "cpu_lifecycle", "cpu_run"):
    cells = []
    for other in ("crun", "runc"):
        if "berth" in rows and other in rows:
            cells.append(f"{q(rows['berth']['ns'][sc], .5) / q(rows[other]['ns'][sc], .5):.2f}")
        else:
            cells.append("n/a" + (" (berth missing)" if "berth" not in rows else f" ({other} missing)"))
    label = {"cpu_lifecycle": "lifecycle CPU", "cpu_run": "run CPU"}.get(sc, sc + " wall")
    print(f"| {label} | {cells[0]} | {cells[1]} |")
EOF
