#!/usr/bin/env bash
# Many containers: N detached containers (`sleep 3600`) created and started back to back,
# then all deleted, for berth-runtime, crun and runc in turn; then a check that nothing
# is left behind.
#
# Usage: bench/many.sh [-n COUNT] [-r RUNTIMES]
#   -n N        containers per runtime (default $BENCH_MANY or 200)
#   -r LIST     comma-separated subset of berth,crun,runc (default all three)
# Environment: BERTH_RUNTIME (default <repo>/build/bin/berth-runtime), CRUN, RUNC, BUSYBOX.
#
# Per container: `create --bundle B ID` + `start ID` (timed together: "up"), and later
# `delete --force ID` ("delete"; kills the init and removes everything). Each container
# has its own bundle (its own cgroupsPath /berthmany-<token>/cN); all share one read-only
# busybox rootfs. The timing loop is a child subreaper, so the inits are reparented to it
# and reaped as a shim would. CPU time is wait4's user+sys of each runtime call.
#
# Left-behind check, per runtime, after its last delete (any finding fails the run):
#   cgroups    directories below /sys/fs/cgroup/*/berthmany-<token>
#   mounts     /proc/self/mountinfo differs from before the first create, or names the work dir
#   state      anything in the runtime's --root
#   processes  children not reaped, or any process whose root or executable is in the work dir
#
# crun 1.8 refuses this host's hybrid cgroup layout, so (as in bench/runtime.sh) its loop
# runs in a private mount namespace with a tmpfs over /sys/fs/cgroup/unified.
# Output: a markdown table on stdout; exit 1 if a runtime failed or left something behind.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
count=${BENCH_MANY:-200}
only=berth,crun,runc
while getopts "n:r:h" opt; do
  case $opt in
    n) count=$OPTARG ;;
    r) only=$OPTARG ;;
    h) sed -n '2,26p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "many.sh: must run as root" >&2; exit 1; }
name=many.sh
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
find_runtimes

token=$$-$RANDOM
work=$(mktemp -d /tmp/berthmany.XXXXXX)
cg="berthmany-$token"
cleanup() {
  remove_cgroup_tree "$cg"
  rm -rf "$work"
}
trap cleanup EXIT

# ---- one shared rootfs, one bundle per container --------------------------------
mkdir -p "$work/rootfs"/{bin,dev,proc,sys,tmp,etc}
cp "$busybox" "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/sleep"
ln -s busybox "$work/rootfs/bin/sh"
(cd "$work" && "$spec_tool" spec)
"$PY" - "$work" "$cg" "$count" <<'EOF'
import json, os, sys
work, cg, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = json.load(open(os.path.join(work, "config.json")))
c["process"]["args"] = ["/bin/sleep", "3600"]
c["process"]["terminal"] = False
c["root"] = {"path": os.path.join(work, "rootfs"), "readonly": True}
c["hostname"] = "many"
for i in range(count):
    b = os.path.join(work, "bundles", f"c{i}")
    os.makedirs(b)
    c["linux"]["cgroupsPath"] = f"/{cg}/c{i}"
    json.dump(c, open(os.path.join(b, "config.json"), "w"))
EOF

# ---- the loop (one process per runtime) -------------------------------------------
cat > "$work/loop.py" <<'EOF'
import ctypes, glob, json, os, signal, sys, time

name, rt, work, cg, count, errlog = sys.argv[1:7]
count = int(count)
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
state = os.path.join(work, f"state-{name}")
os.makedirs(state, exist_ok=True)
fa = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
      (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
      (os.POSIX_SPAWN_OPEN, 2, errlog, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)]
env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
now = time.monotonic_ns
TIMEOUT = float(os.environ.get("BENCH_CALL_TIMEOUT", "30"))

def on_alarm(signum, frame):
    raise TimeoutError()
signal.signal(signal.SIGALRM, on_alarm)

def call(*args):
    """(wall ns, cpu ns) of one runtime call; exits on failure."""
    argv = [rt, "--root", state, *args]
    t0 = now()
    pid = os.posix_spawn(rt, argv, env, file_actions=fa)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
    try:
        _, status, ru = os.wait4(pid, 0)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.exit(f"{name}: {' '.join(args)} hung for {TIMEOUT}s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    dt = now() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{name}: {' '.join(args)} failed; see {errlog}")
    return dt, int((ru.ru_utime + ru.ru_stime) * 1e9)

def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return

mountinfo_before = open("/proc/self/mountinfo").read()
ids = [f"many-{name}-{i}" for i in range(count)]
up, up_cpu, down, down_cpu = [], [], [], []
t_all = now()
for i, cid in enumerate(ids):
    w1, c1 = call("create", "--bundle", os.path.join(work, "bundles", f"c{i}"), cid)
    w2, c2 = call("start", cid)
    up.append(w1 + w2)
    up_cpu.append(c1 + c2)
t_up = now() - t_all
t_all = now()
for cid in ids:
    w, c = call("delete", "--force", cid)
    down.append(w)
    down_cpu.append(c)
    reap()
t_down = now() - t_all

# ---- anything left? ---------------------------------------------------------------
left = []
deadline = time.monotonic() + 5
while True:  # killed inits may take a moment to be reparented and reaped
    reap()
    try:
        os.waitpid(-1, os.WNOHANG)
        children = True
    except ChildProcessError:
        children = False
    if not children or time.monotonic() > deadline:
        break
    time.sleep(0.01)
if children:
    left.append("processes: unreaped children of the loop")
# Only cgroup mounts that are visible: the last mount at a mount point hides the earlier
# ones (crun's loop has a tmpfs over /sys/fs/cgroup/unified).
top = {}
for l in open("/proc/self/mountinfo"):
    fields, super_fields = l.split(" - ", 1)
    top[fields.split()[4]] = super_fields.split()[0]
cgroup_mounts = [m for m, fstype in top.items() if fstype in ("cgroup", "cgroup2")]
for d in [os.path.join(m, cg) for m in cgroup_mounts if os.path.isdir(os.path.join(m, cg))]:
    for root, dirs, _ in os.walk(d):
        for sub in dirs:
            left.append(f"cgroup: {os.path.join(root, sub)}")
mountinfo_after = open("/proc/self/mountinfo").read()
if mountinfo_after != mountinfo_before:
    extra = set(mountinfo_after.splitlines()) - set(mountinfo_before.splitlines())
    left += [f"mount: {l}" for l in sorted(extra)] or ["mounts: mountinfo changed"]
left += [f"mount: {l}" for l in mountinfo_after.splitlines() if work in l]
left += [f"state: {os.path.join(state, e)}" for e in os.listdir(state)]
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    for link in ("root", "exe"):
        try:
            target = os.readlink(f"/proc/{p}/{link}")
        except OSError:
            continue
        if target.startswith(work):
            left.append(f"process: {p} ({link} -> {target})")
            break
print(json.dumps({"name": name, "up": up, "up_cpu": up_cpu, "down": down, "down_cpu": down_cpu,
                  "t_up": t_up, "t_down": t_down, "left": left[:50], "n_left": len(left)}))
EOF

# ---- run ----------------------------------------------------------------------------
results=$work/results.jsonl
: > "$results"
hybrid=0
if grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo && [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ]; then
  hybrid=1
fi
failed=0
declare -A missing=()
for name in ${only//,/ }; do
  case $name in
    berth) rt=$berth ;;
    crun)  rt=$crun ;;
    runc)  rt=$runc ;;
    *) echo "many.sh: unknown runtime $name" >&2; exit 2 ;;
  esac
  if [ -z "$rt" ] || [ ! -x "$rt" ]; then
    missing[$name]="${rt:-$name} not found"; echo "many.sh: $name missing, skipping" >&2; continue
  fi
  echo "many.sh: $name ($rt): $count containers" >&2
  args=("$name" "$rt" "$work" "$cg" "$count" "$work/stderr-$name.log")
  if [ "$name" = crun ] && [ "$hybrid" = 1 ]; then
    # shellcheck disable=SC2016  # expanded by the inner sh
    cmd=(unshare -m --propagation private -- sh -c
         'mount -t tmpfs berthmany /sys/fs/cgroup/unified && exec "$0" "$@"' "$PY" "$work/loop.py" "${args[@]}")
  else
    cmd=("$PY" "$work/loop.py" "${args[@]}")
  fi
  if ! "${cmd[@]}" >> "$results"; then
    echo "many.sh: $name failed:" >&2; tail -5 "$work/stderr-$name.log" >&2
    missing[$name]="failed"; failed=1
  fi
done

missing_text=$(for k in "${!missing[@]}"; do printf '%s\t%s\n' "$k" "${missing[$k]}"; done)
MISSING="$missing_text" ONLY="$only" COUNT="$count" "$PY" - "$results" <<'EOF' || failed=1
import json, os, platform, sys
rows = {}
for line in open(sys.argv[1]):
    if line.strip():
        d = json.loads(line)
        rows[d["name"]] = d
missing = dict(l.split("\t", 1) for l in os.environ["MISSING"].splitlines() if l)

def q(vals, p):
    s = sorted(vals)
    k = (len(s) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return (s[lo] + (s[hi] - s[lo]) * (k - lo)) / 1e6

n = os.environ["COUNT"]
load = " ".join(open("/proc/loadavg").read().split()[:3])
print(f"## {n} detached containers (`sleep 3600`), created+started back to back, then deleted\n")
print(f"Kernel {platform.release()}, {os.cpu_count()} CPUs; load average {load} at the end; ms.\n")
print("| runtime | up median (create+start) | up p90 | up CPU median | delete median | delete p90 "
      "| delete CPU median | all up (s) | all deleted (s) | left behind |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
bad = False
for name in [x for x in os.environ["ONLY"].split(",") if x]:
    if name not in rows:
        print(f"| {name} | {missing.get(name, 'missing')} | | | | | | | | |")
        continue
    d = rows[name]
    print(f"| {name} | {q(d['up'], .5):.2f} | {q(d['up'], .9):.2f} | {q(d['up_cpu'], .5):.2f} | "
          f"{q(d['down'], .5):.2f} | {q(d['down'], .9):.2f} | {q(d['down_cpu'], .5):.2f} | "
          f"{d['t_up'] / 1e9:.2f} | {d['t_down'] / 1e9:.2f} | {'nothing' if not d['n_left'] else d['n_left']} |")
    if d["n_left"]:
        bad = True
        for l in d["left"]:
            print(f"many.sh: {name} left {l}", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
exit $failed
