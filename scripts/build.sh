#!/usr/bin/env bash
# Configures and builds one CloudAI build flavour into build/<flavour>.
#   scripts/build.sh release   optimised build of everything (default)
#   scripts/build.sh asan      ASan + UBSan build of the core (common, rm, scheduler, store)
#   scripts/build.sh tsan      TSan build of the core
# Extra arguments are passed to `cmake --build` (e.g. --target rm_test).
set -euo pipefail
cd "$(dirname "$0")/.."

flavour="${1:-release}"
shift || true
case "$flavour" in
  release) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DCLOUDAI_SANITIZE=address -DCLOUDAI_CORE_ONLY=ON
               -DCLOUDAI_BUILD_BENCH=OFF) ;;
  tsan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLOUDAI_SANITIZE=thread
               -DCLOUDAI_CORE_ONLY=ON -DCLOUDAI_BUILD_BENCH=OFF) ;;
  *) echo "usage: $0 [release|asan|tsan] [cmake --build args...]" >&2; exit 2 ;;
esac

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
jobs="${CLOUDAI_JOBS:-$(nproc)}"

dir="build/$flavour"
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
fi
cmake --build "$dir" -j "$jobs" "$@"
