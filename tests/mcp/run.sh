#!/usr/bin/env bash
# Runs CloudAI's MCP server under the official TypeScript SDK's client (from npm,
# installed with `npm ci` here when missing).
#
#   tests/mcp/run.sh MASTER_BIN WORKER_BIN CLI_BIN   end to end (agent.test.mjs): a real
#                                                    cloudai-master and cloudai-worker
#                                                    (exec driver), one agent session over
#                                                    stdio (`cloudai mcp`) and one over
#                                                    Streamable HTTP (the master's /mcp)
#   tests/mcp/run.sh --fake FAKE_BIN                 the server over a fake backend
#                                                    (fake.test.mjs), stdio and HTTP
#
# Exit 77 (ctest's SKIP_RETURN_CODE) when node or npm is not installed, except under
# CI=true, where that is a failure. KEEP_TEST_DIR=1 keeps the cluster's files and logs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  echo "usage: $0 MASTER_BIN WORKER_BIN CLI_BIN | $0 --fake FAKE_BIN" >&2
  exit 2
}

files=()
if [ "${1:-}" = "--fake" ]; then
  [ $# -eq 2 ] || usage
  [ -x "$2" ] || { echo "run.sh: $2 is not an executable" >&2; exit 2; }
  MCP_FAKE_SERVER_BIN="$(realpath "$2")"
  export MCP_FAKE_SERVER_BIN
  files=(fake.test.mjs)
else
  [ $# -eq 3 ] || usage
  for bin in "$1" "$2" "$3"; do
    [ -x "$bin" ] || { echo "run.sh: $bin is not an executable" >&2; exit 2; }
  done
  CLOUDAI_MASTER_BIN="$(realpath "$1")"
  CLOUDAI_WORKER_BIN="$(realpath "$2")"
  CLOUDAI_CLI_BIN="$(realpath "$3")"
  export CLOUDAI_MASTER_BIN CLOUDAI_WORKER_BIN CLOUDAI_CLI_BIN
  files=(agent.test.mjs)
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
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  skip "node $(node --version) is older than 18, which the MCP SDK needs"
fi

# npm dependencies, from the committed package-lock.json; again when the lock changed.
if [ ! -f "$here/node_modules/.package-lock.json" ] ||
   [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

cd "$here"
exec node --test --test-concurrency=1 "${files[@]}"
