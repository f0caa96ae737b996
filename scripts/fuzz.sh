#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs the config.json fuzzer.
# Usage: scripts/fuzz.sh [SECONDS]   (default 60). New inputs go to build-fuzz/corpus/spec; crashes
# to build-fuzz/ as crash-*. The seed corpus fuzz/corpus/spec/ is read, never written.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dir=build-fuzz

CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DBERTH_FUZZ=ON -DBERTH_TESTS=OFF >/dev/null
cmake --build "$dir" --target spec_fuzz

mkdir -p "$dir/corpus/spec"
cd "$dir"
./bin/spec_fuzz -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -dict=../fuzz/spec.dict -print_final_stats=1 corpus/spec ../fuzz/corpus/spec
