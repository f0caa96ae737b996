#!/usr/bin/env bash
# Engine benchmark: `berth run` against `podman run` (Debian's podman and conmon), same image.
#
# Usage: bench/engine.sh [-n ITERATIONS] [-w WARMUP] [-c COUNT] [-s] [-D]
#   -n N        timed `run --rm` iterations per engine (default $BENCH_ITERATIONS or 30)
#   -w N        untimed warm-up iterations per engine (default $BENCH_WARMUP or 3)
#   -c N        detached containers per engine in the second part (default $BENCH_MANY or 200)
#   -s          skip the second part
#   -D          both engines' run roots on disk beside their roots, instead of on a tmpfs (where
#               /run/berth and /run/containers/storage are on a Debian host)
# Environment: BERTH_BIN (default <repo>/build/bin/berth; berth-monitor and berth-runtime next
#              to it), PODMAN (default podman), BUSYBOX (default /bin/busybox).
#
# Part 1: `run --rm --network none IMAGE true`, wall time from fork to exit, the engines
# interleaved iteration by iteration:
#   berth        berth's default runtime (berth-runtime)
#   berth+runc   berth --runtime runc: like for like with podman's runtime
#   podman       podman run with crun, or runc when crun fails (crun 1.8 refuses this host's
#                hybrid cgroup layout); the table says which
# Part 2: `run -d --network none IMAGE sleep 3600` COUNT times back to back per engine: time
# per container, then the summed VmRSS and PSS (/proc/PID/smaps_rollup) of all berth-monitor
# processes of this run root vs all conmon processes of this podman run root; then `rm -f` of
# all, timed.
#
# Both engines are hermetic: own --root/--runroot in a temp dir, the busybox archive from
# scripts/make-busybox-image.sh loaded into each. podman runs with --cgroup-manager cgroupfs,
# --events-backend none and a containers.conf (CONTAINERS_CONF) whose default_ulimits are the
# current hard limits: this machine lacks CAP_SYS_RESOURCE in the bounding set, so podman's
# defaults (nofile 1048576, nproc 1048576) cannot be set. podman lowers its own RLIMIT_NPROC to
# 32768 before starting the runtime, so nproc is capped there.
# On exit (also on failure) every container of both is removed, then anything still mounted
# below the temp dir is unmounted and the dir removed.
# Output: markdown tables on stdout (progress on stderr).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
iters=${BENCH_ITERATIONS:-30}
warmup=${BENCH_WARMUP:-3}
count=${BENCH_MANY:-200}
skip_many=0
run_on_disk=0
while getopts "n:w:c:sDh" opt; do
  case $opt in
    n) iters=$OPTARG ;;
    w) warmup=$OPTARG ;;
    c) count=$OPTARG ;;
    s) skip_many=1 ;;
    D) run_on_disk=1 ;;
    h) sed -n '2,34p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "engine.sh: must run as root" >&2; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
berth_bin=${BERTH_BIN:-$repo/build/bin/berth}
podman_bin=$(command -v "${PODMAN:-podman}" || true)
[ -x "$berth_bin" ] || { echo "engine.sh: no berth at $berth_bin" >&2; exit 1; }
[ -n "$podman_bin" ] || { echo "engine.sh: podman not found" >&2; exit 1; }
image=localhost/berthtest/busybox:1

work=$(mktemp -d /tmp/berthengine.XXXXXX)
# Run roots (live state: bundles, sockets, pid files) on a tmpfs, where both engines keep them on
# a real host (/run/berth, /run/containers/storage; /run is a tmpfs on Debian). -D: on the same
# disk as the roots instead (this VM's /run and /tmp are ext4).
runs=$work
[ "$run_on_disk" = 0 ] && runs=$work/run
berth=("$berth_bin" --root "$work/berth-root" --runroot "$runs/berth-run")
podman=("$podman_bin" --root "$work/podman-root" --runroot "$runs/podman-run"
        --tmpdir "$work/podman-tmp" --storage-driver overlay --cgroup-manager cgroupfs
        --events-backend none)
export CONTAINERS_CONF=$work/containers.conf

cleanup() {
  set +e
  local ids
  ids=$("${berth[@]}" ps -aq 2>/dev/null)
  # shellcheck disable=SC2086  # one id per word
  [ -n "$ids" ] && "${berth[@]}" rm -f $ids >/dev/null 2>&1
  "${berth[@]}" system gc >/dev/null 2>&1
  "${podman[@]}" rm -f -a -t 0 >/dev/null 2>&1
  # Whatever is still mounted below the work dir, deepest first.
  awk -v p="$work/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
if [ "$run_on_disk" = 0 ]; then
  mkdir -p "$runs"
  mount -t tmpfs -o mode=0700 berth-bench-run "$runs"
fi

nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
cat > "$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
EOF

"$repo/scripts/make-busybox-image.sh" "$work/busybox.tar" "$image" 2>/dev/null
"${berth[@]}" load -i "$work/busybox.tar" >/dev/null
"${podman[@]}" load -i "$work/busybox.tar" >/dev/null 2>&1

# podman's runtime: crun when it works here, else runc.
podman_runtime=crun
if ! "${podman[@]}" run --rm --network none --runtime crun "$image" true >/dev/null 2>"$work/crun.err"; then
  echo "engine.sh: podman with crun failed ($(tail -1 "$work/crun.err")); using runc" >&2
  podman_runtime=runc
  "${podman[@]}" run --rm --network none --runtime runc "$image" true >/dev/null ||
    { echo "engine.sh: podman with runc failed too" >&2; exit 1; }
fi
"${berth[@]}" run --rm --network none "$image" true
"${berth[@]}" run --rm --network none --runtime runc "$image" true

# ---- the measurements (python: fork/exec and waits are the same for every engine) ----------
cat > "$work/bench.py" <<'EOF'
import json, os, subprocess, sys, time

work, image, iters, warmup, count, skip_many, podman_runtime = sys.argv[1:8]
iters, warmup, count = int(iters), int(warmup), int(count)
berth = json.loads(os.environ["BERTH_ARGV"])
podman = json.loads(os.environ["PODMAN_ARGV"])
now = time.monotonic_ns
out = {"podman_runtime": podman_runtime}

def call(argv, capture=False):
    t0 = now()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    dt = now() - t0
    if p.returncode != 0:
        sys.exit(f"engine.sh: {' '.join(argv)} exited {p.returncode}: {p.stderr.strip()}")
    return dt, p.stdout

engines = {
    "berth": berth + ["run", "--rm", "--network", "none", image, "true"],
    "berth+runc": berth + ["run", "--rm", "--network", "none", "--runtime", "runc", image, "true"],
    f"podman ({podman_runtime})": podman + ["run", "--rm", "--network", "none", "--runtime",
                                            podman_runtime, image, "true"],
}
runs = {k: [] for k in engines}
for i in range(warmup + iters):
    for name, argv in engines.items():  # interleaved: background load hits all alike
        dt, _ = call(argv)
        if i >= warmup:
            runs[name].append(dt)
    print(f"engine.sh: run --rm {i + 1}/{warmup + iters}", file=sys.stderr, end="\r")
print(file=sys.stderr)
out["run"] = runs

def helper_memory(exe_name, marker):
    """Count, summed VmRSS and Pss (KiB) of live processes named exe_name whose command line
    mentions marker (this engine's run root)."""
    n = rss = pss = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            argv = open(f"/proc/{p}/cmdline", "rb").read().split(b"\0")
            if not argv[0].endswith(exe_name.encode()) or marker.encode() not in b" ".join(argv):
                continue
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
            n += 1
        except (OSError, IndexError):
            continue
    return n, rss, pss

if skip_many != "1":
    many = {}
    for name, base, helper, extra in (
            ("berth", berth, "berth-monitor", []),
            ("berth+runc", berth, "berth-monitor", ["--runtime", "runc"]),
            (f"podman ({podman_runtime})", podman, "conmon", ["--runtime", podman_runtime])):
        marker = base[base.index("--runroot") + 1]
        ups, ids = [], []
        t0 = now()
        for i in range(count):
            # --network none: podman's default network would make a bridge and firewall rules
            # in the host's own namespace.
            dt, cid = call(base + ["run", "-d", "--network", "none", *extra, image, "sleep", "3600"])
            ups.append(dt)
            ids.append(cid.strip())
            print(f"engine.sh: {name}: run -d {i + 1}/{count}", file=sys.stderr, end="\r")
        total_up = now() - t0
        print(file=sys.stderr)
        time.sleep(1)  # let the helpers settle
        n, rss, pss = helper_memory(helper, marker)
        t0 = now()
        if base is podman:
            call(base + ["rm", "-f", "-t", "0", *ids])
        else:
            call(base + ["rm", "-f", *ids])
        total_rm = now() - t0
        many[name] = {"up": ups, "total_up": total_up, "total_rm": total_rm, "helpers": n,
                      "helper": helper, "rss": rss, "pss": pss}
    out["many"] = many
print(json.dumps(out))
EOF

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
BERTH_ARGV=$("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "${berth[@]}") \
PODMAN_ARGV=$("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "${podman[@]}") \
  "$PY" "$work/bench.py" "$work" "$image" "$iters" "$warmup" "$count" "$skip_many" \
  "$podman_runtime" > "$work/results.json"

# ---- report ------------------------------------------------------------------------------
LOAD_START=$load_start ITERS=$iters WARMUP=$warmup COUNT=$count \
PODMAN_VERSION=$("$podman_bin" --version | awk '{print $3}') \
CONMON_VERSION=$(conmon --version 2>/dev/null | awk 'NR==1 {print $3}') \
  "$PY" - "$work/results.json" <<'EOF'
import json, os, platform, sys

d = json.load(open(sys.argv[1]))

def q(vals, p):
    s = sorted(vals)
    k = (len(s) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return (s[lo] + (s[hi] - s[lo]) * (k - lo)) / 1e6  # ms

podman = next(k for k in d["run"] if k.startswith("podman"))
print(f"## Engine benchmark: berth vs podman {os.environ['PODMAN_VERSION']} "
      f"(conmon {os.environ['CONMON_VERSION']}, podman's runtime: {d['podman_runtime']})\n")
load_end = " ".join(open("/proc/loadavg").read().split()[:3])
print(f"Kernel {platform.release()}, {os.cpu_count()} CPUs; load average "
      f"{os.environ['LOAD_START']} before, {load_end} after.\n")
print(f"`run --rm --network none busybox true`, {os.environ['ITERS']} iterations after "
      f"{os.environ['WARMUP']} warm-up, engines interleaved; wall ms:\n")
print("| engine | median | p90 | median / podman |")
print("|---|---:|---:|---:|")
pm = q(d["run"][podman], .5)
for name, vals in d["run"].items():
    print(f"| {name} | {q(vals, .5):.1f} | {q(vals, .9):.1f} | {q(vals, .5) / pm:.2f} |")
if "many" in d:
    m = d["many"]
    print(f"\n`run -d busybox sleep 3600` x {os.environ['COUNT']}, back to back; then one "
          "`rm -f` of all:\n")
    print("| engine | per container median (ms) | p90 | all up (s) | rm -f all (s) | "
          "helpers | helper VmRSS total (MiB) | PSS total (MiB) | PSS per helper (KiB) |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    for name, r in m.items():
        per = r["pss"] / r["helpers"] if r["helpers"] else 0
        print(f"| {name} | {q(r['up'], .5):.1f} | {q(r['up'], .9):.1f} | "
              f"{r['total_up'] / 1e9:.1f} | {r['total_rm'] / 1e9:.1f} | "
              f"{r['helpers']} {r['helper']} | {r['rss'] / 1024:.1f} | {r['pss'] / 1024:.1f} | "
              f"{per:.0f} |")
    pm = m[podman]
    print("\nRatios (berth / podman; < 1: berth is faster or smaller):\n")
    print("| engine | run -d median | helper VmRSS | helper PSS |")
    print("|---|---:|---:|---:|")
    for name, r in m.items():
        if name == podman:
            continue
        print(f"| {name} | {q(r['up'], .5) / q(pm['up'], .5):.2f} | "
              f"{r['rss'] / pm['rss']:.2f} | {r['pss'] / pm['pss']:.2f} |")
EOF
