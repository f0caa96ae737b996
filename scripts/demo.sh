#!/usr/bin/env bash
# Installs what berth needs, builds it, and runs a busybox container with berth-runtime on its
# built-in defaults: its own namespaces, cgroup, pivot_root, masked paths, capabilities.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'build/bin/berth-runtime --root "$work/state" delete --force demo >/dev/null 2>&1; rm -rf "$work"' EXIT
scripts/make-bundle.sh "$work/bundle" sh -c '
echo "hello from a berth container"
echo "hostname: $(hostname)   pid: $$   user: $(id)"
echo "cgroup:"; cat /proc/self/cgroup | head -4
echo "mounts:"; cat /proc/self/mounts | cut -d" " -f1-3 | head -8
echo "capabilities: $(grep CapEff /proc/self/status)"
exit 7'
set +e
build/bin/berth-runtime --root "$work/state" run --bundle "$work/bundle" demo
code=$?
set -e
echo "container exited with status $code (7 expected)"
[ "$code" = 7 ]
