#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds CloudAI and runs every test:
#   1. the optimised build of everything, all tests (Docker tests against a local dockerd,
#      which scripts/start-docker.sh installs and starts when it can);
#   2. the core (common, rm, scheduler, store) under ASan + UBSan;
#   3. the core under ThreadSanitizer.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# The Docker tests need an engine; under CI=true a missing one fails them.
if ! scripts/start-docker.sh; then
  echo "test: no Docker engine; the RealDocker tests will skip (or fail under CI=true)"
fi

run_suite() {
  local flavour="$1"
  echo "=== ${flavour}: build"
  scripts/build.sh "$flavour"
  echo "=== ${flavour}: test"
  ctest --test-dir "build/$flavour" --output-on-failure -j "$(nproc)" --timeout 600
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

run_suite release
run_suite asan
run_suite tsan
echo "=== all test suites passed"
