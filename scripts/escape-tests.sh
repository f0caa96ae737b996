#!/bin/bash
# Escape regression tests (tests/conformance/test_escapes.py), checked both ways: each test
# must FAIL against a runtime built with its defence left out and PASS against the real build.
# The weakened runtimes are targets of the normal build, made only when asked for:
# berth-runtime-weak-<name> (e.g. berth-runtime-weak-proc-exe for PROC_EXE) recompiles just the
# few src/runtime files guarded by #ifndef BERTH_WEAKEN_<NAME>, and links the rest from the
# build's own libraries (CMakeLists.txt), so building all five takes seconds.
#
#   scripts/escape-tests.sh [--build DIR] [--real PATH] [NAME...]     (default: every NAME)
#
# --build: the configured build directory to make the weakened targets in (default build/;
# configured like scripts/build.sh if it is not yet). --real: the real berth-runtime (default
# DIR/bin/berth-runtime). The real runtime must not carry the weakened builds' marker string.
# Exit status non-zero if any weakened build passes a test or the real build fails one.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$REPO/build"
REAL=""
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
        --build) BUILD=$(realpath "$2"); shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) [ -n "${TESTS[$1]:-}" ] || { echo "unknown defence: $1 (one of ${ALL[*]})" >&2; exit 2; }
           names+=("$1"); shift ;;
    esac
done
[ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")
REAL=${REAL:-$BUILD/bin/berth-runtime}
[ -x "$REAL" ] || { echo "real runtime not found: $REAL (build it, or pass --real)" >&2; exit 2; }

# PROC_EXE -> berth-runtime-weak-proc-exe
weak_target() { local t=${1,,}; echo "berth-runtime-weak-${t//_/-}"; }
targets=()
for name in "${names[@]}"; do targets+=("$(weak_target "$name")"); done
echo "== building ${targets[*]} in $BUILD" >&2
if [ -f "$BUILD/CMakeCache.txt" ]; then
    cmake --build "$BUILD" --target "${targets[@]}" -- --quiet >&2
else
    BUILD_TARGETS="${targets[*]}" "$REPO/scripts/build.sh" "$BUILD" >&2
fi

# Every object file compiled with a BERTH_WEAKEN_* define carries this string (CMakeLists.txt).
MARKER="BERTH-WEAKENED-BUILD"
if grep -qaF "$MARKER" "$REAL"; then
    echo "escape tests: FAILED: the real runtime $REAL contains weakened code ($MARKER)" >&2
    exit 1
fi

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
    weak_bin="$BUILD/bin/$(weak_target "$name")"
    if ! grep -qaF "$MARKER" "$weak_bin"; then
        echo "escape tests: FAILED: $weak_bin lacks the marker $MARKER" >&2
        exit 1
    fi
    echo "== running ${TESTS[$name]}* against both builds" >&2
    declare -A weak=() real=()
    while read -r outcome id; do weak[$id]=$outcome; done < <(run_tests "$weak_bin" "${TESTS[$name]}")
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
