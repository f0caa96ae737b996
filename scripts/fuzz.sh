#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for a bounded time on its
# checked-in seed corpus.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 30
#   TARGET              spec process resources cli_args mount_options image_manifest
#                       layer_unpack dns_message (default: all; a "_fuzz" suffix is accepted)
# Targets run side by side, one per CPU (FUZZ_JOBS overrides). The seed corpus fuzz/corpus/<t>/ is
# only read; new inputs go to build-fuzz/corpus/<t>/, logs to build-fuzz/logs/<t>.log and any
# crash, leak or timeout to build-fuzz/artifacts/<t>/. Prints one line per target and exits
# non-zero if any target failed, with the reproducer's path and how to rerun it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }
shift $(($# > 0 ? 1 : 0))
all=(spec process resources cli_args mount_options image_manifest layer_unpack dns_message)
(($# > 0)) || set -- "${all[@]}"
targets=()
for t in "$@"; do
    t=${t%_fuzz}
    [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target $t (${all[*]})" >&2; exit 2; }
    targets+=("$t")
done
dir=build-fuzz
jobs=${FUZZ_JOBS:-$(nproc)}

mkdir -p "$dir/logs"
if ! { CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DBERTH_FUZZ=ON -DBERTH_TESTS=OFF && cmake --build "$dir" --target fuzzers; } \
        >"$dir/logs/build.log" 2>&1; then
    tail -40 "$dir/logs/build.log"
    echo "fuzz: build failed (full log: $dir/logs/build.log)"
    exit 1
fi

dict_for() {
    case $1 in
        spec | process | resources) echo fuzz/spec.dict ;;
        *) echo "fuzz/$1.dict" ;;
    esac
}

run_target() {
    local t=$1 max_len=16384
    [[ $t == cli_args || $t == mount_options || $t == dns_message ]] && max_len=4096
    mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
    rm -f "$dir/artifacts/$t"/*
    "$dir/bin/${t}_fuzz" -max_total_time="$seconds" -max_len=$max_len -timeout=10 \
        -rss_limit_mb=2048 -dict="$(dict_for "$t")" -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/$t/" "$dir/corpus/$t" "fuzz/corpus/$t" \
        >"$dir/logs/$t.log" 2>&1
}

for t in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    (
        rc=0
        run_target "$t" || rc=$?
        echo $rc >"$dir/logs/$t.rc"
    ) &
done
wait

# libFuzzer's closing lines: "#123 DONE cov: 1 ft: 2 corp: 3/4b ..." and "stat::name: value".
final_stat() { sed -n "s/^stat::$2: *//p" "$dir/logs/$1.log" | tail -1; }
status=0
for t in "${targets[@]}"; do
    log=$dir/logs/$t.log
    rc=$(cat "$dir/logs/$t.rc")
    if [ "$rc" = 0 ]; then
        done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
        cov=$(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)\/.*/cov \1, features \2, corpus \3/p' <<<"$done_line")
        printf 'fuzz %-14s ok: %s runs in %ss, %s new units, %s, peak %s MB\n' "$t" \
            "$(final_stat "$t" number_of_executed_units)" "$seconds" \
            "$(final_stat "$t" new_units_added)" "${cov:-no coverage line}" \
            "$(final_stat "$t" peak_rss_mb)"
        continue
    fi
    status=1
    kind=$(grep -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer): [a-z-]+|runtime error: .*|deadly signal' "$log" | head -1 || true)
    repro=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -1)
    printf 'fuzz %-14s FAILED (exit %s): %s\n' "$t" "$rc" "${kind:-see $log}"
    # The sanitizer's report: from its first ERROR/runtime error line, at most 40 lines.
    awk '/==[0-9]+==ERROR|runtime error:|ERROR: libFuzzer/ {on=1} on && n++ < 40' "$log" | sed 's/^/    /'
    if [ -n "$repro" ]; then
        echo "    reproducer: $repro"
        echo "    rerun:      $dir/bin/${t}_fuzz $repro"
    else
        echo "    full log: $log"
    fi
done
exit $status
