#!/bin/sh
# Size and idle memory of berth-init against Debian's tini-static (package `tini`).
# Usage: bench/init.sh [BERTH_INIT] [TINI]   (defaults: build/bin/berth-init, /usr/bin/tini-static)
# Prints a markdown table for docs/PERFORMANCE.md. Idle RSS is VmRSS of the init process
# (not its child) half a second after start, the median of RUNS runs. Needs no root: the inits
# run as subreapers (-s) with `sleep` as their child; berth-init --pause is measured alone too.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
berth_init=${1:-$repo/build/bin/berth-init}
tini=${2:-/usr/bin/tini-static}
runs=${RUNS:-5}

for bin in "$berth_init" "$tini"; do
    [ -x "$bin" ] || { echo "not found: $bin" >&2; exit 1; }
done

# VmRSS (kB) of an idle init started as "$@", median over $runs runs.
idle_rss() {
    samples=""
    i=0
    while [ "$i" -lt "$runs" ]; do
        "$@" </dev/null >/dev/null 2>&1 &
        pid=$!
        sleep 0.5
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null || true
        samples="$samples $rss"
        i=$((i + 1))
    done
    echo $samples | tr ' ' '\n' | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

# Idle CPU: utime+stime ticks of --pause over 5 seconds.
pause_ticks() {
    "$berth_init" --pause </dev/null >/dev/null 2>&1 &
    pid=$!
    sleep 0.2
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    sleep 5
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    echo $((after - before))
}

row() {  # name, binary, rss
    printf '| %-30s | %10s | %12s |\n' "$1" "$(stat -c %s "$2")" "$3"
}

echo "| init                           | size bytes | idle RSS kB |"
echo "|--------------------------------|-----------:|------------:|"
row "berth-init -s -- sleep" "$berth_init" "$(idle_rss "$berth_init" -s -- sleep 60)"
row "berth-init --pause" "$berth_init" "$(idle_rss "$berth_init" --pause)"
row "tini-static -s -- sleep" "$tini" "$(idle_rss "$tini" -s -- sleep 60)"
echo
echo "berth-init --pause CPU over 5 s idle: $(pause_ticks) ticks"
echo "($(uname -r), $(ldd --version 2>/dev/null | head -1 | sed 's/.* //') glibc static; tini $("$tini" --version | awk '{print $3}'))"
