#!/usr/bin/env bash
# Configures and builds berth. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# BUILD_TARGETS="a b" builds only those targets (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}; shift || true
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DBERTH_WERROR=ON "$@" >/dev/null
# shellcheck disable=SC2086  # a list of target names
cmake --build "$dir" ${BUILD_TARGETS:+--target $BUILD_TARGETS} -- --quiet
