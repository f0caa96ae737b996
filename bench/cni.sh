#!/usr/bin/env bash
# CNI plugin benchmark: ADD and DEL of the bridge + host-local + portmap chain for N containers
# (default 100), one at a time and four at a time, berth's plugins (build/bin or $BERTH_BIN)
# against Debian's reference plugins (/usr/lib/cni, containernetworking-plugins) side by side.
#
# Usage: bench/cni.sh [-n containers] [-j "1 4"] [-w warmup] [-r reference,berth]
#
# Each implementation and concurrency gets its own fresh "node" network namespace (the bridge,
# veths and NAT rules live there), N container netnses and a host-local dataDir under a temporary
# directory; everything is removed on exit (trap). The timing loop runs inside the node netns and
# spawns the plugins directly the way a CNI runtime does (CNI_* environment, config on stdin,
# prevResult passed along the chain), so no `ip netns exec` is timed. Each container publishes
# one port (portMappings capability). Warm-up attachments (added and deleted untimed) make the
# bridge and the NAT chains exist before timing starts, as on a node already in use.
#
# ADD = bridge ADD + portmap ADD for one container; DEL = portmap DEL + bridge DEL (reverse order,
# the ADD result as prevResult). Target: berth's median ADD and DEL each <= 0.1x the reference's.
#
# Output: markdown tables on stdout (progress on stderr).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
count=${BENCH_CONTAINERS:-100}
jobs_list=${BENCH_PARALLEL:-"1 4"}
warmup=${BENCH_WARMUP:-3}
only=reference,berth
while getopts "n:j:w:r:h" opt; do
  case $opt in
    n) count=$OPTARG ;;
    j) jobs_list=$OPTARG ;;
    w) warmup=$OPTARG ;;
    r) only=$OPTARG ;;
    h) sed -n '2,20p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "cni.sh: must run as root" >&2; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
berth_dir=${BERTH_BIN:-$repo/build/bin}
reference_dir=/usr/lib/cni

tag=btb-$$-$RANDOM
work=$(mktemp -d /tmp/berthbench-cni.XXXXXX)
cleanup() {
  local ns
  for ns in $(ip netns list | awk -v t="$tag-" 'index($1, t) == 1 {print $1}'); do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- timing loop (runs inside the node netns) --------------------------------------------------
cat > "$work/loop.py" <<'EOF'
import concurrent.futures, json, os, subprocess, sys, time

impl, cni_path, prefix, tag, count, jobs, warmup, data_dir = sys.argv[1:9]
count, jobs, warmup = int(count), int(jobs), int(warmup)
env_base = {"CNI_PATH": cni_path,
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
name = tag
plugins = [
    {"type": prefix + "bridge", "bridge": tag[:11] + "-br", "isGateway": True, "ipMasq": True,
     "hairpinMode": True,
     "ipam": {"type": prefix + "host-local", "dataDir": data_dir,
              "ranges": [[{"subnet": "10.80.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": prefix + "portmap", "capabilities": {"portMappings": True}, "snat": True},
]

def config(plugin, prev, rc):
    c = dict(plugin, name=name, cniVersion="1.0.0")
    if plugin.get("capabilities", {}).get("portMappings"):
        c["runtimeConfig"] = rc
    if prev is not None:
        c["prevResult"] = prev
    return json.dumps(c).encode()

def invoke(plugin, command, conf, i):
    env = dict(env_base, CNI_COMMAND=command, CNI_CONTAINERID=f"{tag}-ctr{i}",
               CNI_NETNS=f"/var/run/netns/{tag}-c{i}", CNI_IFNAME="eth0")
    p = subprocess.run([os.path.join(cni_path, plugin["type"])], input=conf, env=env,
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        sys.exit(f"{impl}: {plugin['type']} {command} for container {i} exited {p.returncode}: "
                 f"{p.stdout.decode()} {p.stderr.decode()}")
    return json.loads(p.stdout) if p.stdout.strip() else None

def rc_for(i):
    return {"portMappings": [{"hostPort": 30000 + i, "containerPort": 80, "protocol": "tcp"}]}

def add(i):
    t0 = time.monotonic_ns()
    prev = None
    for plugin in plugins:
        prev = invoke(plugin, "ADD", config(plugin, prev, rc_for(i)), i)
    return time.monotonic_ns() - t0, prev

def delete(i, result):
    t0 = time.monotonic_ns()
    for plugin in reversed(plugins):
        invoke(plugin, "DEL", config(plugin, result, rc_for(i)), i)
    return time.monotonic_ns() - t0

for i in range(count, count + warmup):  # warm-up containers: numbered after the timed ones
    _, r = add(i)
    delete(i, r)

with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
    t0 = time.monotonic_ns()
    adds = list(pool.map(add, range(count)))
    add_wall = time.monotonic_ns() - t0
    t0 = time.monotonic_ns()
    dels = list(pool.map(lambda i: delete(i, adds[i][1]), range(count)))
    del_wall = time.monotonic_ns() - t0
ips = {r["ips"][0]["address"] for _, r in adds}
if len(ips) != count:
    sys.exit(f"{impl}: {len(ips)} distinct addresses for {count} containers")
left = [f for f in os.listdir(os.path.join(data_dir, name))
        if f != "lock" and not f.startswith("last_reserved_ip")]
if left:
    sys.exit(f"{impl}: {len(left)} reservations left after DEL")
print(json.dumps({"impl": impl, "jobs": jobs, "add": [t for t, _ in adds], "del": dels,
                  "add_wall": add_wall, "del_wall": del_wall}))
EOF

# ---- which implementations ---------------------------------------------------------------------
declare -A dir=() prefix=() missing=()
for impl in ${only//,/ }; do
  case $impl in
    reference) d=$reference_dir; p= ;;
    berth) d=$berth_dir; p=berth- ;;
    *) echo "cni.sh: unknown implementation $impl" >&2; exit 2 ;;
  esac
  ok=1
  for plugin in bridge host-local portmap; do
    [ -x "$d/$p$plugin" ] || { missing[$impl]="$d/$p$plugin not found"; ok=0; break; }
    # A here-string, not a pipe: a plugin that exits before reading stdin would fail the
    # pipeline (pipefail) through echo's SIGPIPE.
    if ! CNI_COMMAND=VERSION "$d/$p$plugin" <<<'{"cniVersion":"1.0.0"}' >/dev/null 2>&1; then
      missing[$impl]="$p$plugin VERSION fails (placeholder?)"; ok=0; break
    fi
  done
  if [ "$ok" = 1 ]; then
    dir[$impl]=$d; prefix[$impl]=$p
    echo "cni.sh: $impl = $d/${p}{bridge,host-local,portmap}" >&2
  else
    echo "cni.sh: $impl skipped: ${missing[$impl]}" >&2
  fi
done

# ---- run -----------------------------------------------------------------------------------------
results=$work/results.jsonl
: > "$results"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
run=0
for jobs in $jobs_list; do
  for impl in ${only//,/ }; do
    [ -n "${dir[$impl]:-}" ] || continue
    run=$((run + 1))
    t="$tag-$run"
    echo "cni.sh: $impl, $count containers, $jobs at a time" >&2
    ip netns add "$t-node"
    ip -n "$t-node" link set lo up
    for ((i = 0; i < count + warmup; i++)); do ip netns add "$t-c$i"; done
    if ! ip netns exec "$t-node" "$PY" "$work/loop.py" "$impl" "${dir[$impl]}" \
        "${prefix[$impl]}" "$t" "$count" "$jobs" "$warmup" "$work/ipam-$run" >> "$results"; then
      missing[$impl]="failed (see stderr)"; unset "dir[$impl]"
    fi
    # Deleting the node netns takes its bridge, veths and rules with it.
    for ((i = 0; i < count + warmup; i++)); do ip netns del "$t-c$i"; done
    ip netns del "$t-node"
  done
done

# ---- report --------------------------------------------------------------------------------------
missing_tsv=$(for k in "${!missing[@]}"; do printf '%s\t%s\n' "$k" "${missing[$k]}"; done)
MISSING="$missing_tsv" ONLY="$only" COUNT="$count" WARMUP="$warmup" LOAD_START="$load_start" \
  "$PY" - "$results" <<'EOF'
import json, os, platform, sys

rows = {}
for line in open(sys.argv[1]):
    if line.strip():
        d = json.loads(line)
        rows[(d["impl"], d["jobs"])] = d
missing = dict(l.split("\t", 1) for l in os.environ["MISSING"].splitlines() if l)
order = [n for n in os.environ["ONLY"].split(",") if n]
jobs_seen = sorted({j for _, j in rows})

def q(vals, p):
    s = sorted(vals)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return (s[lo] + (s[hi] - s[lo]) * (k - lo)) / 1e6  # ms

cpu = "?"
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip()
        break
print(f"## CNI chain benchmark: bridge + host-local + portmap, {os.environ['COUNT']} containers "
      f"({os.environ['WARMUP']} warm-up)\n")
print(f"Kernel {platform.release()}, {os.cpu_count()} CPUs ({cpu}); load average "
      f"{os.environ['LOAD_START']} before, {' '.join(open('/proc/loadavg').read().split()[:3])} "
      "after; times in ms, wall clock per container (ADD = bridge+portmap ADD, "
      "DEL = portmap+bridge DEL); totals for all containers in s.\n")
print("| plugins | at a time | ADD median | ADD p90 | DEL median | DEL p90 | all ADDs (s) "
      "| all DELs (s) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for j in jobs_seen:
    for n in order:
        d = rows.get((n, j))
        if d:
            print(f"| {n} | {j} | {q(d['add'], .5):.2f} | {q(d['add'], .9):.2f} | "
                  f"{q(d['del'], .5):.2f} | {q(d['del'], .9):.2f} | {d['add_wall'] / 1e9:.2f} | "
                  f"{d['del_wall'] / 1e9:.2f} |")
for n in order:
    if n in missing:
        print(f"| {n} | {missing[n]} | | | | | | |")

print("\nRatios (median; < 1 means berth is faster; target <= 0.10):\n")
print("| at a time | ADD berth/reference | DEL berth/reference | meets target |")
print("|---:|---:|---:|---|")
for j in jobs_seen or [1]:
    b, r = rows.get(("berth", j)), rows.get(("reference", j))
    if b and r:
        ra = q(b["add"], .5) / q(r["add"], .5)
        rd = q(b["del"], .5) / q(r["del"], .5)
        print(f"| {j} | {ra:.3f} | {rd:.3f} | {'yes' if ra <= 0.1 and rd <= 0.1 else 'no'} |")
    else:
        gone = "berth" if not b else "reference"
        print(f"| {j} | n/a ({gone} missing) | n/a | |")
EOF
