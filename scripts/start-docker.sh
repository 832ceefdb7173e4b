#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine: installs Debian's docker.io (and
# busybox-static, from which the tests build their local image) when missing, and starts
# dockerd in the background when none is running. Needs root to install or start.
# Exits 0 when an engine answers, 1 (saying why) when none can be had.
set -uo pipefail
cd "$(dirname "$0")/.."

if docker info >/dev/null 2>&1; then
  exit 0
fi

missing=()
for pkg in docker.io busybox-static; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "start-docker: ${missing[*]} missing and not root; cannot install" >&2
    exit 1
  fi
  echo "start-docker: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "start-docker: no engine answers and only root can start dockerd" >&2
  exit 1
fi
mkdir -p build
log="build/dockerd.log"
echo "start-docker: starting dockerd (log: $log)"
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "start-docker: dockerd did not answer within 30 s; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
