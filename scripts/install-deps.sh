#!/usr/bin/env bash
# Installs every package CloudAI needs to build and test, from Debian 12's archive.
# Idempotent and quiet: when everything is already there it only checks and returns.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libsqlite3-dev libboost-dev nlohmann-json3-dev
  prometheus  # promtool and a Prometheus server, for the /metrics tests
  docker-registry  # a local registry on loopback, for the tests that pull images
  chromium  # the dashboard's browser tests (web/test/run.sh; node and npm come with the image)
  tmux  # the terminal test of `cloudai shell`
  python3  # the HTTP service the allocation tests start
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
