#!/usr/bin/env bash
# Network benchmark: TCP throughput and connection rate between two containers on one bridge and
# through a published port, berth's default network against podman's (netavark) and against
# bare network namespaces (the floor); then the time from `run -d -p HOSTPORT:80 ... httpd` to
# the port answering, berth against podman.
#
# Usage: bench/network.sh [-t SECONDS] [-c SECONDS] [-r ROUNDS] [-n STARTS] [-s]
#   -t N   iperf3 seconds per throughput measurement, after 1 s omitted (default 5)
#   -c N   seconds per connection-rate measurement (default 3)
#   -r N   rounds: every path is measured once per round, paths interleaved (default 3)
#   -n N   `run -d -p` starts per engine for the time to the port (default 10; 0 skips)
#   -s     skip the throughput and connection-rate part
# Environment: BERTH_BIN (default <repo>/build/bin/berth; berth-monitor, berth-runtime and the
#              CNI plugins next to it), PODMAN (default podman), IPERF3 (default iperf3).
#
# Everything happens in network namespaces made here (names btnet-<pid>-<rand>-*); nothing
# touches the host's interfaces or ruleset, no traffic leaves the machine:
#   floor         two bare netnses joined by one veth pair: no bridge, no netfilter
#   floor+bridge  two netnses on a plain Linux bridge in a third (no rules), diagnostic
#   floor+router  client - router - server netnses, two veth pairs, forwarding, no rules: what a
#                 published port's path costs without NAT (diagnostic floor for "published")
#   berth c2c     container A -> container B on berth's default network (berth0)
#   berth pub     "outside" netns -> node address:15201 -> DNAT -> container B
#   podman ...    the same with podman's default network (netavark 1.4, iptables-nft)
# Each engine runs in its own "node" netns (`nsenter --net=<node> berth ...`; not `ip netns
# exec`, whose private mount namespace would take berth's netns bind mounts with it), joined by a
# veth pair to its own "outside" netns (node 198.51.100.1/24, outside 198.51.100.2/24). podman
# also runs in a mount namespace of its own, kept for the whole run (nsenter --mount): tmpfs
# over /run/containers (netavark's IPAM database), /run/netns (podman's netns files) and, on a
# hybrid cgroup host, /sys/fs/cgroup/unified (crun 1.8 refuses hybrid layouts; see
# tests/engine/crun-hybrid). podman: --cgroup-manager cgroupfs, --events-backend file, its own
# --root/--runroot, a CONTAINERS_CONF with default_ulimits at the current hard limits (this VM
# lacks CAP_SYS_RESOURCE), runtime crun (runc when crun fails). berth: its own --root/--runroot,
# default runtime.
#
# The load generators are the host's binaries (iperf3 from Debian, and a small C helper for
# connects, compiled here with cc) started with `nsenter --net=/proc/<container pid>/ns/net`: a
# socket's path depends only on the netns it lives in, so this measures the container's
# network exactly; busybox has no iperf3. The helper's `serve` accepts and closes at once; its
# `rate` connects one at a time and waits for the server's FIN (the server keeps the TIME_WAIT),
# counting connects per second.
#
# Time to the port: `run -d -p HOSTPORT:80 busybox httpd -f -p 80 -h /` (fresh host port and
# container each time, engines interleaved) until an HTTP reply comes back over a TCP connection
# from the outside netns to 198.51.100.1:HOSTPORT (a new connection every ~2 ms; a bare connect
# is not enough: podman's conmon holds the host port open itself).
#
# On exit (also on failure): servers killed, every container of both engines removed, the
# netnses deleted, podman's mount namespace released, the temp dir removed.
# Output: markdown on stdout (progress on stderr).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
iperf_secs=5
conn_secs=3
rounds=3
starts=10
skip_traffic=0
while getopts "t:c:r:n:sh" opt; do
  case $opt in
    t) iperf_secs=$OPTARG ;;
    c) conn_secs=$OPTARG ;;
    r) rounds=$OPTARG ;;
    n) starts=$OPTARG ;;
    s) skip_traffic=1 ;;
    h) sed -n '2,50p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "network.sh: must run as root" >&2; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
berth_bin=${BERTH_BIN:-$repo/build/bin/berth}
podman_bin=$(command -v "${PODMAN:-podman}" || true)
iperf3=$(command -v "${IPERF3:-iperf3}" || true)
[ -x "$berth_bin" ] || { echo "network.sh: no berth at $berth_bin" >&2; exit 1; }
[ -n "$podman_bin" ] || { echo "network.sh: podman not found" >&2; exit 1; }
[ -n "$iperf3" ] || { echo "network.sh: iperf3 not found (apt-get install iperf3)" >&2; exit 1; }
for t in nsenter unshare cc ip; do
  command -v $t >/dev/null || { echo "network.sh: $t not found" >&2; exit 1; }
done
image=localhost/berthtest/busybox:1
node_ip=198.51.100.1
out_ip=198.51.100.2

tag=btnet-$$-$RANDOM
work=$(mktemp -d /tmp/berthbench-net.XXXXXX)
mntns=$work/ns/mnt
berth=(nsenter "--net=/run/netns/$tag-bnode" "$berth_bin" --root "$work/berth-root"
       --runroot "$work/berth-run")
podman=(nsenter "--mount=$mntns" "--net=/run/netns/$tag-pnode" "$podman_bin"
        --root "$work/podman-root" --runroot "$work/podman-run" --tmpdir "$work/podman-tmp"
        --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
export CONTAINERS_CONF=$work/containers.conf
servers=()

cleanup() {
  set +e
  local p ids ns
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${servers[@]}"; do wait "$p" 2>/dev/null; done
  if [ -e "/run/netns/$tag-bnode" ]; then
    ids=$("${berth[@]}" ps -aq 2>/dev/null)
    # shellcheck disable=SC2086  # one id per word
    [ -n "$ids" ] && "${berth[@]}" rm -f $ids >/dev/null 2>&1
    "${berth[@]}" system gc >/dev/null 2>&1
  fi
  if [ -e "/run/netns/$tag-pnode" ] && mountpoint -q "$mntns" 2>/dev/null; then
    "${podman[@]}" rm -f -a -t 0 >/dev/null 2>&1
  fi
  mountpoint -q "$mntns" 2>/dev/null && umount "$mntns"
  # Whatever is still mounted below the work dir, deepest first.
  awk -v p="$work/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
  mountpoint -q "$work/ns" 2>/dev/null && umount -l "$work/ns"
  for ns in $(ip netns list | awk -v t="$tag-" 'index($1, t) == 1 {print $1}'); do
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "network.sh: $*" >&2; }

# ---- the C helper -------------------------------------------------------------------------------
cat > "$work/tcpbench.c" <<'EOF'
/* serve PORT: accept and close at once, forever.
 * rate HOST PORT SECONDS: one connect at a time for SECONDS, each waiting for the server's FIN
 * (the server closes first and keeps the TIME_WAIT); prints "connects/s ok failed". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "serve") == 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, (void *)&a, sizeof a) || listen(s, 4096)) { perror("serve"); return 1; }
        for (;;) {
            int c = accept(s, NULL, NULL);
            if (c >= 0) close(c);
        }
    }
    if (argc == 5 && strcmp(argv[1], "rate") == 0) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
        if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) { fputs("bad host\n", stderr); return 2; }
        double t0 = now(), end = t0 + atof(argv[4]), t;
        long ok = 0, failed = 0;
        struct timeval tmo = {2, 0};
        char buf[64];
        while ((t = now()) < end) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof tmo);  /* bounds connect() */
            setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
            if (connect(s, (void *)&a, sizeof a) == 0 && read(s, buf, sizeof buf) == 0) {
                ok++;
            } else if (++failed > 50) {
                perror("rate");
                return 1;
            }
            close(s);
        }
        printf("%.1f %ld %ld\n", ok / (t - t0), ok, failed);
        return 0;
    }
    fputs("usage: tcpbench serve PORT | rate HOST PORT SECONDS\n", stderr);
    return 2;
}
EOF
cc -O2 -o "$work/tcpbench" "$work/tcpbench.c"

# ---- namespaces -----------------------------------------------------------------------------------
mkns() { ip netns add "$tag-$1"; ip -n "$tag-$1" link set lo up; }
# veth NS1 IF1 ADDR1 NS2 IF2 ADDR2 (addresses with prefix, or - for none)
veth() {
  ip link add "$2" netns "$tag-$1" type veth peer name "$5" netns "$tag-$4"
  [ "$3" = - ] || ip -n "$tag-$1" addr add "$3" dev "$2"
  [ "$6" = - ] || ip -n "$tag-$4" addr add "$6" dev "$5"
  ip -n "$tag-$1" link set "$2" up
  ip -n "$tag-$4" link set "$5" up
}
ns() { echo "/run/netns/$tag-$1"; }

# floor: a - b
mkns fa; mkns fb
veth fa eth0 10.200.0.1/24 fb eth0 10.200.0.2/24
# floor+bridge: f1 - br0 (in fn) - f2
mkns fn; mkns f1; mkns f2
ip -n "$tag-fn" link add br0 type bridge
ip -n "$tag-fn" link set br0 up
veth f1 eth0 10.201.0.1/24 fn p1 -
veth f2 eth0 10.201.0.2/24 fn p2 -
ip -n "$tag-fn" link set p1 master br0
ip -n "$tag-fn" link set p2 master br0
# floor+router: r1 - rr - r2
mkns r1; mkns rr; mkns r2
veth r1 eth0 10.202.1.2/24 rr e1 10.202.1.1/24
veth r2 eth0 10.202.2.2/24 rr e2 10.202.2.1/24
ip -n "$tag-r1" route add default via 10.202.1.1
ip -n "$tag-r2" route add default via 10.202.2.1
ip netns exec "$tag-rr" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
# the engines' nodes and outsides
for e in b p; do
  mkns "${e}node"; mkns "${e}out"
  veth "${e}node" up0 "$node_ip/24" "${e}out" eth0 "$out_ip/24"
done

# podman's mount namespace, kept by a bind mount of it on $mntns (which needs a private parent).
mkdir -p "$work/ns"
mount --bind "$work/ns" "$work/ns"
mount --make-private "$work/ns"
touch "$mntns"
# shellcheck disable=SC2016  # expanded by the inner sh
unshare "--mount=$mntns" --propagation private sh -c '
  mkdir -p /run/containers
  mount -t tmpfs -o mode=0755 berthbench /run/containers
  mount -t tmpfs -o mode=0755 berthbench /run/netns
  if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
    mount -t tmpfs -o mode=0755 berthbench /sys/fs/cgroup/unified
  fi'

nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
mkdir -p "$work/podman-networks"
cat > "$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[network]
network_backend = "netavark"
network_config_dir = "$work/podman-networks"
[engine]
events_logfile_path = "$work/podman-events.log"
EOF

"$repo/scripts/make-busybox-image.sh" "$work/busybox.tar" "$image" 2>/dev/null
"${berth[@]}" load -i "$work/busybox.tar" >/dev/null
"${podman[@]}" load -i "$work/busybox.tar" >/dev/null 2>&1
podman_runtime=crun
if ! "${podman[@]}" run --rm --network none --runtime crun "$image" true >/dev/null \
    2>"$work/crun.err"; then
  log "podman with crun failed ($(tail -1 "$work/crun.err")); using runc"
  podman_runtime=runc
fi

# ---- containers and servers -------------------------------------------------------------------
# inspect_field ENGINE... -- NAME EXPR: a python expression over the first inspect object `c`.
inspect_field() {
  local expr=${*: -1} name=${*: -2:1}
  "${@:1:$#-2}" inspect "$name" | "$PY" -c "import json,sys; c=json.load(sys.stdin)[0]; print($expr)"
}
serve_in() {  # serve_in NETNS_PATH: iperf3 on 5201 and the connect server on 8000
  nsenter "--net=$1" "$iperf3" -s -p 5201 >/dev/null 2>&1 &
  servers+=($!)
  nsenter "--net=$1" "$work/tcpbench" serve 8000 &
  servers+=($!)
}
declare -A client_ns server_ip
if [ "$skip_traffic" = 0 ]; then
  log "starting containers and servers"
  "${berth[@]}" run -d --name a --network bridge "$image" sleep 3600 >/dev/null
  "${berth[@]}" run -d --name b --network bridge -p 15201:5201 -p 18000:8000 \
    "$image" sleep 3600 >/dev/null
  "${podman[@]}" run -d --name a --network bridge --runtime "$podman_runtime" \
    "$image" sleep 3600 >/dev/null
  "${podman[@]}" run -d --name b --network bridge --runtime "$podman_runtime" \
    -p 15201:5201 -p 18000:8000 "$image" sleep 3600 >/dev/null
  for e in berth podman; do
    if [ $e = berth ]; then eng=("${berth[@]}"); else eng=("${podman[@]}"); fi
    pid_a=$(inspect_field "${eng[@]}" a 'c["State"]["Pid"]')
    pid_b=$(inspect_field "${eng[@]}" b 'c["State"]["Pid"]')
    client_ns[$e]=/proc/$pid_a/ns/net
    server_ip[$e]=$(nsenter "--net=/proc/$pid_b/ns/net" ip -o -4 addr show eth0 |
                    awk '{print $4}' | cut -d/ -f1)
    serve_in "/proc/$pid_b/ns/net"
  done
  serve_in "$(ns fb)"
  serve_in "$(ns f2)"
  serve_in "$(ns r2)"
  sleep 0.5
fi

# ---- measurements (python) --------------------------------------------------------------------
cat > "$work/bench.py" <<'EOF'
import ctypes, json, os, socket, subprocess, sys, threading, time

cfg = json.loads(sys.argv[1])
out = {"load": [" ".join(open("/proc/loadavg").read().split()[:3])]}

def run(argv):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"network.sh: {' '.join(argv)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout

if cfg["paths"]:
    tput = {p["name"]: [] for p in cfg["paths"]}
    rate = {p["name"]: [] for p in cfg["paths"]}
    cost = {p["name"]: [] for p in cfg["paths"]}
    for r in range(cfg["rounds"]):
        for p in cfg["paths"]:  # interleaved: a burst of background load hits all alike
            print(f"network.sh: round {r + 1}/{cfg['rounds']}: {p['name']}        ",
                  file=sys.stderr, end="\r")
            nse = ["nsenter", "--net=" + p["ns"]]
            j = json.loads(run(nse + [cfg["iperf3"], "-c", p["host"], "-p", str(p["iperf"]),
                                      "-t", str(cfg["iperf_secs"]), "-O", "1", "-J"]))
            recv, cpu = j["end"]["sum_received"], j["end"]["cpu_utilization_percent"]
            tput[p["name"]].append(recv["bits_per_second"] / 1e9)
            # Client + server CPU (getrusage: user+sys, which on a kernel without
            # IRQ_TIME_ACCOUNTING includes the softirq work done in their context) per GB.
            cost[p["name"]].append((cpu["host_total"] + cpu["remote_total"]) / 100 *
                                   recv["seconds"] / (recv["bytes"] / 1e9))
            fields = run(nse + [cfg["tcpbench"], "rate", p["host"], str(p["conn"]),
                                str(cfg["conn_secs"])]).split()
            rate[p["name"]].append(float(fields[0]))
        out["load"].append(" ".join(open("/proc/loadavg").read().split()[:3]))
    print(file=sys.stderr)
    out["tput"], out["rate"], out["cost"] = tput, rate, cost

# Time to the port: the prober thread lives in the engine's outside netns (setns moves only the
# calling thread), berth/podman are spawned from the main thread.
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000

def answered(port):
    s = socket.socket()
    s.settimeout(0.2)
    try:
        s.connect((cfg["node_ip"], port))
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        return s.recv(16).startswith(b"HTTP/")
    except OSError:
        return False
    finally:
        s.close()

def probe(outside, port, t0, result, stop):
    fd = os.open(outside, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        result["error"] = os.strerror(ctypes.get_errno())
        return
    os.close(fd)
    while not stop.is_set():
        if answered(port):
            result["t"] = time.monotonic_ns() - t0
            return
        time.sleep(0.002)

if cfg["starts"]:
    ttp = {e: {"cli": [], "port": []} for e in cfg["engines"]}
    for i in range(cfg["starts"] + 1):  # the first round is a warm-up
        for e, eng in cfg["engines"].items():
            port, name = 20000 + i, f"ttp{i}"
            print(f"network.sh: time to port {i}/{cfg['starts']}: {e}   ", file=sys.stderr,
                  end="\r")
            result, stop = {}, threading.Event()
            t0 = time.monotonic_ns()
            th = threading.Thread(target=probe, args=(eng["outside"], port, t0, result, stop))
            th.start()
            run(eng["argv"] + ["run", "-d", "--name", name, "--network", "bridge"] +
                eng["extra"] + ["-p", f"{port}:80", cfg["image"], "httpd", "-f", "-p", "80",
                                "-h", "/"])
            cli = time.monotonic_ns() - t0
            th.join(30)
            stop.set()
            th.join()
            if "t" not in result:
                sys.exit(f"network.sh: {e}: port {port} never answered {result}")
            if i > 0:
                ttp[e]["cli"].append(cli)
                ttp[e]["port"].append(result["t"])
            run(eng["argv"] + ["rm", "-f"] + eng["rm_extra"] + [name])
    print(file=sys.stderr)
    out["ttp"] = ttp
out["load"].append(" ".join(open("/proc/loadavg").read().split()[:3]))
print(json.dumps(out))
EOF

paths=()
if [ "$skip_traffic" = 0 ]; then
  paths=(
    "floor|$(ns fa)|10.200.0.2|5201|8000"
    "floor+bridge|$(ns f1)|10.201.0.2|5201|8000"
    "floor+router|$(ns r1)|10.202.2.2|5201|8000"
    "berth c2c|${client_ns[berth]}|${server_ip[berth]}|5201|8000"
    "podman c2c|${client_ns[podman]}|${server_ip[podman]}|5201|8000"
    "berth pub|$(ns bout)|$node_ip|15201|18000"
    "podman pub|$(ns pout)|$node_ip|15201|18000"
  )
fi
tojson() { "$PY" -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"; }
cfg=$(PATHS=$(tojson "${paths[@]}") BERTH_ARGV=$(tojson "${berth[@]}") \
      PODMAN_ARGV=$(tojson "${podman[@]}") "$PY" - <<EOF
import json, os
paths = []
for p in json.loads(os.environ["PATHS"]):
    n, ns, host, ip, conn = p.split("|")
    paths.append({"name": n, "ns": ns, "host": host, "iperf": int(ip), "conn": int(conn)})
print(json.dumps({
    "paths": paths, "rounds": $rounds, "iperf_secs": $iperf_secs, "conn_secs": $conn_secs,
    "starts": $starts, "iperf3": "$iperf3", "tcpbench": "$work/tcpbench", "image": "$image",
    "node_ip": "$node_ip",
    "engines": {
        "berth": {"argv": json.loads(os.environ["BERTH_ARGV"]), "outside": "$(ns bout)",
                  "extra": [], "rm_extra": []},
        "podman ($podman_runtime)": {"argv": json.loads(os.environ["PODMAN_ARGV"]),
                                     "outside": "$(ns pout)",
                                     "extra": ["--runtime", "$podman_runtime"],
                                     "rm_extra": ["-t", "0"]}}}))
EOF
)

uptime_start=$(uptime)
"$PY" "$work/bench.py" "$cfg" > "$work/results.json"
uptime_end=$(uptime)

# ---- report ---------------------------------------------------------------------------------------
UPTIME_START=$uptime_start UPTIME_END=$uptime_end IPERF_SECS=$iperf_secs CONN_SECS=$conn_secs \
ROUNDS=$rounds STARTS=$starts PODMAN_RUNTIME=$podman_runtime \
PODMAN_VERSION=$("$podman_bin" --version | awk '{print $3}') \
NETAVARK_VERSION=$(/usr/lib/podman/netavark --version 2>/dev/null | awk '{print $2}') \
IPERF_VERSION=$("$iperf3" --version | awk 'NR==1 {print $2}') \
  "$PY" - "$work/results.json" <<'EOF'
import json, os, platform, statistics, sys

d = json.load(open(sys.argv[1]))
env = os.environ
med = statistics.median

def q(vals, p):
    s = sorted(vals)
    k = (len(s) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)

print(f"## Network benchmark: berth vs podman {env['PODMAN_VERSION']} "
      f"(netavark {env['NETAVARK_VERSION']}, podman's runtime: {env['PODMAN_RUNTIME']})\n")
print(f"Kernel {platform.release()}, {os.cpu_count()} CPUs, iperf3 {env['IPERF_VERSION']}.\n")
print(f"- uptime before: `{env['UPTIME_START'].strip()}`")
print(f"- uptime after:  `{env['UPTIME_END'].strip()}`")
print(f"- load average after each round: {'; '.join(d['load'])}\n")
if "tput" in d:
    print(f"TCP, one stream, `iperf3 -t {env['IPERF_SECS']} -O 1`; connects: one at a time for "
          f"{env['CONN_SECS']} s; {env['ROUNDS']} rounds, paths interleaved; medians "
          "(min-max):\n")
    print("| path | Gbit/s | × floor | × podman | CPU s/GB | floor's / this | "
          "connects/s | × floor | × podman |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    floor_t, floor_r = med(d["tput"]["floor"]), med(d["rate"]["floor"])
    floor_c = med(d["cost"]["floor"])
    for name in d["tput"]:
        t, r, c = d["tput"][name], d["rate"][name], med(d["cost"][name])
        other = name.replace("berth", "podman")
        vs_t = vs_r = ""
        if name.startswith("berth") and other in d["tput"]:
            vs_t = f"{med(t) / med(d['tput'][other]):.2f}"
            vs_r = f"{med(r) / med(d['rate'][other]):.2f}"
        print(f"| {name} | {med(t):.2f} ({min(t):.2f}-{max(t):.2f}) | {med(t) / floor_t:.2f} | "
              f"{vs_t} | {c:.3f} | {floor_c / c:.2f} | {med(r):.0f} ({min(r):.0f}-{max(r):.0f}) "
              f"| {med(r) / floor_r:.2f} | {vs_r} |")
    print("\nc2c: container A -> container B on the engine's default bridge; pub: outside netns "
          "-> node:15201 (published) -> container B. floor: two netnses, one veth pair. CPU s/GB: "
          "user+sys seconds of the iperf3 client and server per GB received (less sensitive to "
          "other load than Gbit/s); \"floor's / this\" is the throughput the path would reach, "
          "as a fraction of the floor's, if CPU were the only limit.\n")
if "ttp" in d:
    print(f"`run -d -p HOSTPORT:80 busybox httpd -f -p 80 -h /` until an HTTP reply from the "
          f"outside netns, {env['STARTS']} starts per engine after 1 warm-up, interleaved; ms:\n")
    print("| engine | CLI returned, median | port answers, median | p90 | min | × podman |")
    print("|---|---:|---:|---:|---:|---:|")
    podman = next(k for k in d["ttp"] if k.startswith("podman"))
    pm = med(d["ttp"][podman]["port"])
    for e, v in d["ttp"].items():
        p = [x / 1e6 for x in v["port"]]
        print(f"| {e} | {med(v['cli']) / 1e6:.1f} | {med(p):.1f} | {q(p, .9):.1f} | "
              f"{min(p):.1f} | {med(v['port']) / pm:.2f} |")
EOF
