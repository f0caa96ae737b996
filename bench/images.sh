#!/usr/bin/env bash
# Image benchmark: import (load an oci-archive) and pull (from a registry on loopback) of a
# multi-layer image of about 130 MB, berth (build/bin/berth or $BERTH_BIN) against podman side
# by side, and skopeo copy + umoci unpack as a second pull anchor.
#
# Usage: bench/images.sh [-n iterations] [-s layer_megabytes] [-l data_layers]
#
# The image is built deterministically here: busybox-static (as scripts/make-busybox-image.sh
# lays it out) plus L layers (default 4) of S MB (default 32) of seeded pseudo-random files
# (AES-CTR keystream; incompressible, like real binaries at worst), gzip-compressed. A Debian
# docker-registry serves it over plain HTTP on 127.0.0.1 at a free port (pushed once with skopeo).
# Every tool gets a fresh root (berth --root/--runroot; podman --root/--runroot, overlay driver)
# per iteration, so every run imports or pulls and unpacks everything:
#   import: berth load -i X.tar               vs  podman load -i X.tar
#   pull:   berth pull --tls-verify=false R   vs  podman pull --tls-verify=false R
#                                             vs  skopeo copy docker://R oci:D + umoci unpack
# Everything (registry, roots, image) lives in one temp dir removed on exit (trap), mounts
# below it included. Target: berth's medians <= 0.5x podman's.
#
# Output: a markdown table on stdout (progress on stderr).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
iters=${BENCH_ITERATIONS:-5}
layer_mb=${BENCH_LAYER_MB:-32}
layers=${BENCH_LAYERS:-4}
while getopts "n:s:l:h" opt; do
  case $opt in
    n) iters=$OPTARG ;;
    s) layer_mb=$OPTARG ;;
    l) layers=$OPTARG ;;
    h) sed -n '2,22p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "images.sh: must run as root" >&2; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
berth=${BERTH_BIN:-$repo/build/bin/berth}
[ -x "$berth" ] || { echo "images.sh: $berth not built" >&2; exit 1; }
for tool in podman skopeo openssl /usr/bin/docker-registry /bin/busybox; do
  command -v "$tool" >/dev/null || { echo "images.sh: needs $tool" >&2; exit 1; }
done
have_umoci=0
command -v umoci >/dev/null && have_umoci=1

work=$(mktemp -d /var/tmp/berthbench-images.XXXXXX)
registry_pid=
cleanup() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  # podman's overlay driver may leave its storage mounted.
  awk -v p="$work/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the image -----------------------------------------------------------------------------------
echo "images.sh: building a $((layers * layer_mb + 2)) MB image ($((layers + 1)) layers)" >&2
"$repo/scripts/make-busybox-image.sh" "$work/busybox.tar" localhost/bench/busybox:1 2>/dev/null
mkdir -p "$work/layout" && tar -C "$work/layout" -xf "$work/busybox.tar"
for i in $(seq 1 "$layers"); do
  d=$work/layer$i
  mkdir -p "$d/data/l$i"
  # Eight files per layer, each a seeded AES-CTR keystream: the same bytes every run.
  for f in $(seq 1 8); do
    (set +o pipefail  # head closes the pipe: openssl's SIGPIPE is expected
     openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' $((i * 100 + f)))" -iv 0 \
       -in /dev/zero 2>/dev/null | head -c $((layer_mb * 1024 * 1024 / 8)) > "$d/data/l$i/f$f")
  done
done
"$PY" - "$work" "$layers" <<'EOF'
import gzip, hashlib, json, os, subprocess, sys
work, n = sys.argv[1], int(sys.argv[2])
lay = os.path.join(work, "layout")
blobs = os.path.join(lay, "blobs/sha256")
def put(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(data)
    return "sha256:" + h
index = json.load(open(os.path.join(lay, "index.json")))
mdesc = index["manifests"][0]
manifest = json.load(open(os.path.join(blobs, mdesc["digest"].split(":")[1])))
config = json.load(open(os.path.join(blobs, manifest["config"]["digest"].split(":")[1])))
for i in range(1, n + 1):
    tar = subprocess.run(["tar", "--sort=name", "--format=gnu", "--owner=0", "--group=0",
                          "--numeric-owner", "--mtime=@0", "-C", f"{work}/layer{i}", "-cf", "-",
                          "."], check=True, capture_output=True).stdout
    gz = gzip.compress(tar, compresslevel=1, mtime=0)
    manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                               "digest": put(gz), "size": len(gz)})
    config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(tar).hexdigest())
    config["history"].append({"created": "1970-01-01T00:00:00Z", "created_by": f"data {i}"})
cfg = json.dumps(config, separators=(",", ":")).encode()
manifest["config"] = {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": put(cfg), "size": len(cfg)}
m = json.dumps(manifest, separators=(",", ":")).encode()
mdesc.update(digest=put(m), size=len(m))
mdesc["annotations"] = {"io.containerd.image.name": "localhost/bench/big:1",
                        "org.opencontainers.image.ref.name": "1"}
json.dump(index, open(os.path.join(lay, "index.json"), "w"))
os.remove(os.path.join(lay, "manifest.json"))  # the busybox docker manifest no longer applies
EOF
rm -rf "$work"/layer*
(cd "$work/layout" && tar --sort=name -cf "$work/big.tar" oci-layout index.json blobs)
echo "images.sh: image archive $(du -m "$work/big.tar" | cut -f1) MB" >&2

# ---- the registry --------------------------------------------------------------------------------
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<EOF
{"version":0.1,"log":{"level":"error","accesslog":{"disabled":true}},
 "storage":{"filesystem":{"rootdirectory":"$work/registry/storage"}},
 "http":{"addr":"127.0.0.1:$port","secret":"berth-bench"}}
EOF
env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY \
  /usr/bin/docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/')" \
    2>/dev/null && break
  sleep 0.1
done
ref=127.0.0.1:$port/bench/big:1
skopeo copy -q --dest-tls-verify=false "oci-archive:$work/big.tar" "docker://$ref"
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

# ---- timing --------------------------------------------------------------------------------------
results=$work/results.tsv
: > "$results"
now() { date +%s.%N; }
timed() {  # timed LABEL CMD...: appends LABEL<TAB>seconds
  local label=$1 t0 t1
  shift
  t0=$(now)
  "$@" >/dev/null 2>"$work/last.err" || { echo "images.sh: $label failed:" >&2; cat "$work/last.err" >&2; exit 1; }
  t1=$(now)
  printf '%s\t%s\n' "$label" "$(echo "$t1 - $t0" | bc -l)" >> "$results"
}
fresh() { rm -rf "$work/root"; mkdir -p "$work/root"; }
B() { "$berth" --root "$work/root/berth" --runroot "$work/root/berth-run" "$@"; }
P() { podman --root "$work/root/podman" --runroot "$work/root/podman-run" --storage-driver overlay \
        --events-backend none --cgroup-manager cgroupfs "$@"; }
skopeo_umoci() {
  skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$work/root/oci:1" &&
    umoci unpack --image "$work/root/oci:1" "$work/root/bundle"
}

for i in $(seq 1 "$iters"); do
  echo "images.sh: iteration $i/$iters" >&2
  # Interleaved, each with a cold root, so background load falls on all alike.
  fresh; sync; timed "import berth" B load -i "$work/big.tar"
  fresh; sync; timed "import podman" P load -i "$work/big.tar"
  fresh; sync; timed "pull berth" B pull --tls-verify=false "$ref"
  fresh; sync; timed "pull podman" P pull -q --tls-verify=false "$ref"
  if [ "$have_umoci" = 1 ]; then fresh; sync; timed "pull skopeo+umoci" skopeo_umoci; fi
done
fresh

"$PY" - "$results" "$iters" "$((layers * layer_mb + 2))" <<'EOF'
import statistics, sys
from collections import defaultdict
path, iters, mb = sys.argv[1], sys.argv[2], sys.argv[3]
t = defaultdict(list)
for line in open(path):
    label, s = line.rstrip("\n").split("\t")
    t[label].append(float(s))
med = {k: statistics.median(v) for k, v in t.items()}
print(f"## Image import and pull (~{mb} MB, {iters} iterations, cold roots)\n")
print("| operation | tool | median (s) | min (s) | max (s) |")
print("|---|---|---|---|---|")
for k in t:
    op, tool = k.split(" ", 1)
    print(f"| {op} | {tool} | {med[k]:.2f} | {min(t[k]):.2f} | {max(t[k]):.2f} |")
print("\nRatios (berth median / anchor median; target <= 0.5):\n")
for op in ("import", "pull"):
    for anchor in ("podman", "skopeo+umoci"):
        a = med.get(f"{op} {anchor}")
        if a:
            print(f"- {op}: berth / {anchor} = {med[f'{op} berth'] / a:.2f}")
EOF
