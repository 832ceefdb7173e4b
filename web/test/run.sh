#!/usr/bin/env bash
# Runs the dashboard's browser tests in headless Chromium (Debian's chromium, driven by
# playwright-core from npm; installed with `npm ci` here when missing).
#
#   web/test/run.sh MASTER_BIN WORKER_BIN   end to end: a real cloudai-master and
#                                           cloudai-worker (dashboard.test.mjs)
#   web/test/run.sh --ui                    fast UI and scale tests against the stub
#                                           master (stub.test.mjs)
#
# Screenshots: $DASHBOARD_SCREENSHOTS (default web/test/screenshots/). Chromium:
# $CHROMIUM_BIN (default /usr/bin/chromium). Exit 77 (ctest's SKIP_RETURN_CODE) when node
# or Chromium is not installed, except under CI=true, where that is a failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  echo "usage: $0 MASTER_BIN WORKER_BIN | $0 --ui" >&2
  exit 2
}

files=()
if [ "${1:-}" = "--ui" ]; then
  [ $# -eq 1 ] || usage
  files=(stub.test.mjs)
else
  [ $# -eq 2 ] || usage
  for bin in "$1" "$2"; do
    [ -x "$bin" ] || { echo "run.sh: $bin is not an executable" >&2; exit 2; }
  done
  CLOUDAI_MASTER_BIN="$(realpath "$1")"
  CLOUDAI_WORKER_BIN="$(realpath "$2")"
  export CLOUDAI_MASTER_BIN CLOUDAI_WORKER_BIN
  files=(dashboard.test.mjs)
fi

skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "run.sh: FAILED (CI=true): $1" >&2
    exit 1
  fi
  echo "run.sh: skipped: $1" >&2
  exit 77
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  skip "node and npm are not installed"
fi
chromium_bin="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [ ! -x "$chromium_bin" ]; then
  skip "no Chromium at $chromium_bin (scripts/install-deps.sh installs Debian's chromium)"
fi

# npm dependencies, from the committed package-lock.json; again when the lock changed.
if [ ! -f "$here/node_modules/.package-lock.json" ] ||
   [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

export DASHBOARD_SCREENSHOTS="${DASHBOARD_SCREENSHOTS:-$here/screenshots}"
mkdir -p "$DASHBOARD_SCREENSHOTS"
echo "run.sh: screenshots in $DASHBOARD_SCREENSHOTS"
cd "$here"
exec node --test --test-concurrency=1 "${files[@]}"
