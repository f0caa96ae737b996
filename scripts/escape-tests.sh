#!/bin/bash
# Escape regression tests (tests/conformance/test_escapes.py), checked both ways: each test
# must FAIL against a runtime built with its defence left out (cmake -DBERTH_WEAKEN=<NAME>,
# into build-weak-<name>/, only the berth-runtime target) and PASS against the real build.
#
#   scripts/escape-tests.sh [--real PATH] [NAME...]     (default: every NAME)
#
# --real: the real berth-runtime (default build/bin/berth-runtime). Build directories are kept,
# so a second run only recompiles what changed. Exit status non-zero if any weakened build
# passes a test or the real build fails one.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
REAL="$REPO/build/bin/berth-runtime"
PYTHON=/usr/bin/python3

# NAME -> the tests (pytest -k expression) that the weakened build must fail.
declare -A TESTS=(
    [PROC_EXE]="test_proc_exe_"
    [HOST_FDS]="test_host_fd_"
    [SYMLINK_MOUNT]="test_symlink_mount_"
    [PROC_OVER]="test_proc_over_"
    [MASKED]="test_masked_"
)
ALL=(PROC_EXE HOST_FDS SYMLINK_MOUNT PROC_OVER MASKED)

names=()
while [ $# -gt 0 ]; do
    case "$1" in
        --real) REAL=$(realpath "$2"); shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) [ -n "${TESTS[$1]:-}" ] || { echo "unknown defence: $1 (one of ${ALL[*]})" >&2; exit 2; }
           names+=("$1"); shift ;;
    esac
done
[ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")
[ -x "$REAL" ] || { echo "real runtime not found: $REAL (build it, or pass --real)" >&2; exit 2; }

# Runs the tests matching $2 against runtime $1; prints "<outcome> <test id>" lines.
run_tests() {
    local runtime=$1 filter=$2 out
    out=$(BERTH_TEST_RUNTIME="$runtime" "$PYTHON" -m pytest -q -rA -p no:cacheprovider \
              "$REPO/tests/conformance/test_escapes.py" -k "$filter" 2>&1) || true
    grep -E '^(PASSED|FAILED|ERROR|SKIPPED) ' <<<"$out" | sed -E 's/ - .*//; s/^(\w+) \S*::/\1 /' | sort -u -k2
}

declare -a rows
bad=0
for name in "${names[@]}"; do
    dir="$REPO/build-weak-$name"
    echo "== building $dir (BERTH_WEAKEN=$name)" >&2
    cmake -S "$REPO" -B "$dir" -G Ninja -DBERTH_WERROR=ON -DBERTH_TESTS=OFF \
          -DBERTH_WEAKEN="$name" >/dev/null 2>"$dir.cmake.log" || { cat "$dir.cmake.log" >&2; exit 1; }
    rm -f "$dir.cmake.log"
    cmake --build "$dir" --target berth-runtime -- --quiet >&2
    echo "== running ${TESTS[$name]}* against both builds" >&2
    declare -A weak=() real=()
    while read -r outcome id; do weak[$id]=$outcome; done < <(run_tests "$dir/bin/berth-runtime" "${TESTS[$name]}")
    while read -r outcome id; do real[$id]=$outcome; done < <(run_tests "$REAL" "${TESTS[$name]}")
    if [ ${#real[@]} -eq 0 ]; then
        rows+=("$name|${TESTS[$name]}*|-|-|NO TESTS")
        bad=1
    fi
    for id in $(printf '%s\n' "${!real[@]}" | sort); do
        w=${weak[$id]:-MISSING} r=${real[$id]}
        verdict=ok
        if [ "$w" != FAILED ] || [ "$r" != PASSED ]; then verdict=BAD; bad=1; fi
        rows+=("$name|$id|$w|$r|$verdict")
    done
    unset weak real
done

printf '\n%-14s %-58s %-9s %-9s %s\n' DEFENCE TEST WEAKENED REAL VERDICT
for row in "${rows[@]}"; do
    IFS='|' read -r n t w r v <<<"$row"
    printf '%-14s %-58s %-9s %-9s %s\n' "$n" "$t" "$w" "$r" "$v"
done
if [ $bad -ne 0 ]; then
    echo "escape tests: FAILED (a weakened build passed, or the real build failed)" >&2
    exit 1
fi
echo "escape tests: every test fails without its defence and passes with it" >&2
