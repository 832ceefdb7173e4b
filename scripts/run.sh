#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds CloudAI and runs its main job: the
# resource-manager library's examples and the scheduler benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh release --target cloudai-rm-examples cloudai-bench-scheduler

echo "=== resource-manager examples"
build/release/examples/cloudai-rm-examples
echo
echo "=== scheduler benchmark (placements per second)"
build/release/bench/cloudai-bench-scheduler --seconds="${CLOUDAI_BENCH_SECONDS:-1}"
