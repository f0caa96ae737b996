#!/usr/bin/env bash
# Configures and builds berth. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}; shift || true
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DBERTH_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -- --quiet
