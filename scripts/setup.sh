#!/usr/bin/env bash
# Installs everything berth needs to build, run and test, from Debian's archive.
# Usage: scripts/setup.sh [--tests]
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (apt-get install)" >&2; exit 1; }

build_pkgs=(cmake ninja-build g++ pkg-config libseccomp-dev nlohmann-json3-dev libc6-dev
            busybox-static libmnl-dev libnftables-dev libssl-dev libsqlite3-dev
            libarchive-dev libcurl4-openssl-dev libcli11-dev)
test_pkgs=(libgtest-dev libgmock-dev python3 python3-pytest python3-pytest-xdist runc crun
           containerd podman iproute2 clang libclang-rt-14-dev clang-format procps util-linux
           tini linux-libc-dev time containernetworking-plugins uidmap
           docker-registry umoci skopeo conmon iperf3)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--tests" ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
