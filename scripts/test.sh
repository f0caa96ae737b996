#!/usr/bin/env bash
# Installs what the tests need, builds berth (warnings as errors), and runs every test:
# unit tests (also under ASan+UBSan), the OCI conformance suite against berth-runtime and,
# to prove the suite itself right, against Debian's runc; containerd and podman driving
# berth-runtime; berth-init as PID 1; berth's CNI plugins beside the reference ones; images
# (archives, a registry on loopback, unpacking against umoci); the task monitor and the engine,
# with berth-runtime and again with crun; short fuzz runs of every parser of outside input.
# Usage: scripts/test.sh            (as root; exits non-zero if anything failed)
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test.sh: the integration tests need root" >&2; exit 1; }

scripts/setup.sh --tests || exit 1
scripts/build.sh build || exit 1
# The sanitizer build is for the unit tests, and the helpers they run from their own directory.
BUILD_TARGETS="berth-unit-tests berth-init berth-host-local berth-loopback" scripts/build.sh \
    build-asan -DBERTH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug || exit 1

results=$(mktemp -d /tmp/berth-test-results.XXXXXX)
trap 'rm -rf "$results"' EXIT
status=0
step() {
    local name=$1; shift
    printf '\n== %s\n' "$name"
    local start=$SECONDS
    "$@" || { status=1; printf '== %s: FAILED\n' "$name"; }
    printf '== %s: %ss\n' "$name" $((SECONDS - start))
}
py=/usr/bin/python3  # Debian's, with Debian's pytest; not any other python on PATH

step "unit tests" build/bin/berth-unit-tests --gtest_brief=1 --gtest_output="xml:$results/unit.xml"
step "unit tests under ASan+UBSan" build-asan/bin/berth-unit-tests --gtest_brief=1 \
    --gtest_output="xml:$results/unit-asan.xml"
step "conformance: berth-runtime" $py -m pytest -q tests/conformance -n 2 \
    --junitxml="$results/conformance.xml"
step "conformance: runc (checks the suite)" env BERTH_TEST_RUNTIME=runc $py -m pytest -q \
    tests/conformance -n 2 --junitxml="$results/conformance-runc.xml"
step "escape regression tests: weakened builds fail, the real one passes" scripts/escape-tests.sh \
    --real build/bin/berth-runtime
[ -d tests/integration ] && step "containerd and podman drive berth-runtime" $py -m pytest -q \
    tests/integration --junitxml="$results/integration.xml"
[ -d tests/cni ] && step "CNI plugins against the reference plugins" $py -m pytest -q tests/cni \
    -n 2 --junitxml="$results/cni.xml"
[ -d tests/initsuite ] && step "berth-init as PID 1" $py -m pytest -q tests/initsuite \
    --junitxml="$results/initsuite.xml"
[ -d tests/images ] && step "images: archives, registry, unpacking, the berth image commands" $py -m \
    pytest -q tests/images -n 2 --junitxml="$results/images.xml"
# Two at a time: each engine test has its own roots and network namespace, and mostly waits.
[ -d tests/engine ] && step "engine: monitor, containers, tasks, networks, resources, faults" \
    $py -m pytest -q -n 2 tests/engine --junitxml="$results/engine.xml"
# The same engine tests with crun as every container's runtime (through tests/engine/crun-hybrid,
# which copes with this host's hybrid cgroup layout): berth must not lean on berth-runtime's ways.
# Every command and flag file; the random-SIGKILL fault test runs once, with berth-runtime above.
crun_engine_tests=(test_monitor.py test_engine_containers.py test_engine_exec.py
                   test_engine_flags.py test_engine_commands.py test_engine_interactive.py
                   test_engine_lifecycle.py test_engine_network.py test_engine_resources.py
                   test_engine_dns.py test_engine_wait_rm.py)
[ -d tests/engine ] && [ -x /usr/bin/crun ] && step "engine with crun" \
    env BERTH_TEST_ENGINE_RUNTIME="$PWD/tests/engine/crun-hybrid" $py -m pytest -q -n 2 \
    "${crun_engine_tests[@]/#/tests/engine/}" --junitxml="$results/engine-crun.xml"
step "fuzz the parsers of outside input (8 targets, 15 s each)" scripts/fuzz.sh 15

printf '\n'
$py scripts/junit_summary.py "$results"/*.xml || status=1
exit $status
