#!/usr/bin/env bash
# Installs what berth needs, builds it, makes a busybox image from Debian's busybox-static, and
# runs it with `berth run` on berth's defaults: the image unpacked into shared layer snapshots,
# an overlay root, its own namespaces and cgroup, a berth-monitor as the task's parent,
# berth-runtime underneath, and the default network (eth0 on the bridge berth0, 10.88.0.0/16,
# NAT): as docker's first container does, it creates berth0 and turns on net.ipv4.ip_forward.
# Everything else lives in a temporary --root/--runroot removed at the end, with the container
# and, if the demo made it, berth0 (ip_forward stays on, as docker leaves it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
berth=(build/bin/berth --root "$work/root" --runroot "$work/run")
had_bridge=0
ip link show berth0 >/dev/null 2>&1 && had_bridge=1
cleanup() {
    "${berth[@]}" rm -f -a >/dev/null 2>&1 || true
    "${berth[@]}" system gc >/dev/null 2>&1 || true
    rm -rf "$work"
    [ "$had_bridge" = 1 ] || ip link del berth0 >/dev/null 2>&1 || true
}
trap cleanup EXIT
SOURCE_DATE_EPOCH=$(date +%s) scripts/make-busybox-image.sh "$work/busybox.tar" \
    localhost/demo/busybox:latest 2>/dev/null
"${berth[@]}" load -i "$work/busybox.tar"
"${berth[@]}" images
set +e
"${berth[@]}" run --rm --hostname demo localhost/demo/busybox sh -c '
echo "hello from a berth container"
echo "hostname: $(hostname)   pid: $$   user: $(id)"
echo "root: $(grep " / " /proc/self/mounts | cut -d" " -f1-3)"
echo "network: $(ip -o -4 addr show eth0 | awk "{print \$2, \$4}"), $(ip route | grep default)"
echo "capabilities: $(grep CapEff /proc/self/status)"
exit 7'
code=$?
set -e
echo "container exited with status $code (7 expected)"
[ "$code" = 7 ]
