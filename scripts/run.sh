#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds CloudAI and starts a working local cluster:
# a master with an SQLite store and two workers on this machine, registered, running a
# sample workload. The cluster keeps running when the script ends; it prints how to use
# it and how to stop it (scripts/run.sh stop).
#
# Workers use the Docker driver when an engine runs here (the script installs and
# starts one when it can, and builds the local image cloudai-test:busybox); otherwise
# they fall back to the exec driver and say so.
#
#   scripts/run.sh         install, build, start the cluster, run the sample tasks
#   scripts/run.sh stop    stop the cluster this script started
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
demo="$root/build/demo"
bin="$root/build/release/src"

stop_cluster() {
  for name in worker-2 worker-1 master; do
    if [ -f "$demo/$name.pid" ]; then
      kill "$(cat "$demo/$name.pid")" 2>/dev/null || true
      rm -f "$demo/$name.pid"
    fi
  done
}

if [ "${1:-}" = "stop" ]; then
  stop_cluster
  echo "cluster stopped (its state stays in $demo/state)"
  exit 0
fi

scripts/install-deps.sh
scripts/build.sh release --target cloudai-master cloudai-worker cloudai

driver=exec
image=busybox
if scripts/start-docker.sh; then
  if sh src/worker/docker/testdata/build-test-image.sh cloudai-test:busybox >/dev/null; then
    driver=docker
    image=cloudai-test:busybox
  else
    echo "run: could not build the local test image; workers use the exec driver" >&2
  fi
else
  echo "run: no Docker engine can run here; workers use the exec driver (tasks run as" \
       "processes in their own process group and, where possible, cgroup)" >&2
fi

stop_cluster
rm -rf "$demo"
mkdir -p "$demo"
master_port="${CLOUDAI_DEMO_PORT:-50051}"
master="127.0.0.1:$master_port"

wait_for() {  # wait_for FILE TEXT: until FILE holds TEXT (30 s)
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run: timed out waiting for \"$2\" in $1:" >&2
  tail -n 20 "$1" >&2
  exit 1
}

# The service catalog allocations may name: a small web server on the port it is given.
if [ "$driver" = docker ]; then
  web_command='httpd -f -p $PORT'
else
  web_command='exec python3 -m http.server $PORT --bind 127.0.0.1'
fi
cat >"$demo/services.json" <<JSON
{"services": [{"name": "web", "docker_image": "$image", "command": "$web_command",
               "cpu": 100, "memory": 256}]}
JSON

echo "=== starting the master on $master (state in $demo/state)"
"$bin/master/cloudai-master" --grpc-port "$master"\
  --state-dir "$demo/state" --queue-interval 1s --services-file "$demo/services.json" \
  >"$demo/master.log" 2>&1 &
echo $! >"$demo/master.pid"
wait_for "$demo/master.log" "serving gRPC on"

declare -A address
for n in 1 2; do
  id="worker-$n"
  echo "=== starting $id (driver $driver)"
  "$bin/worker/agent/cloudai-worker" --id "$id" --port $((50052 + 10 * (n - 1))) \
    --listen-host 127.0.0.1 --advertise-host 127.0.0.1 --driver "$driver" \
    --work-dir "$demo/$id" >"$demo/$id.log" 2>&1 &
  echo $! >"$demo/$id.pid"
  wait_for "$demo/$id.log" "serving on"
  address[$id]="$(sed -n 's/.*serving on \([0-9.]*:[0-9]*\).*/\1/p' "$demo/$id.log" | head -n1)"
done

export CLOUDAI_MASTER="$master" CLOUDAI_STATE_DIR="$demo/state"
cloudai() { "$bin/cli/cloudai" "$@"; }

echo "=== registering the workers"
for id in worker-1 worker-2; do
  cloudai register "$id" "${address[$id]}"
done
for _ in $(seq 1 100); do
  [ "$(cloudai workers -o json | grep -c '"is_active": true')" -ge 2 ] && break
  sleep 0.1
done

echo "=== sample tasks"
cloudai task worker-1 "$image" -cpu_cores 0.5 -mem 0.25 -- \
  'echo "hello from $(hostname)"; for i in 1 2 3; do echo "step $i"; sleep 1; done'
cloudai submit "$image" -cpu_cores 1 -mem 0.5 -- 'echo small job; sleep 2'
cloudai submit "$image" -cpu_cores 1.5 -mem 1 -- 'echo bigger job; sleep 3'
cloudai submit "$image" -cpu_cores 0.25 -mem 0.1 -- 'echo tiny job'
echo "--- a task that fails (exit code 3)"
cloudai submit "$image" -cpu_cores 0.25 -mem 0.1 -- 'echo about to fail >&2; exit 3'
echo "--- a task no worker could ever hold (1000 CPUs)"
cloudai submit "$image" -cpu_cores 1000 -- 'echo never'
echo "--- a direct assignment that does not fit"
cloudai task worker-2 "$image" -cpu_cores 64 -- 'echo never' || true

echo
echo "=== workers while the tasks run: Total / Allocated / Available"
cloudai workers
echo "=== following the first task's logs"
cloudai logs -f task-1 || true
for _ in $(seq 1 150); do
  cloudai tasks --status running | grep -q '^task-' || cloudai tasks --status scheduled |
    grep -q '^task-' || break
  sleep 0.2
done
echo
echo "=== tasks"
cloudai tasks
echo "=== workers after the tasks ended"
cloudai workers

echo
echo "=== an allocation: two slots for job demo-job for an hour, with the web service"
cloudai alloc request demo-job -workers 2 -cpu_cores 0.5 -mem 0.25 -ttl 1h -service web \
  -meta owner=demo
alloc="$(cloudai -o json alloc list -job demo-job |
  sed -n 's/.*"allocation_id": "\(alloc-[0-9a-f]*\)".*/\1/p' | head -n1)"
echo "--- a task inside it (it runs in the allocation's slots, not the general pool)"
cloudai submit --alloc "$alloc" --id in-allocation "$image" -cpu_cores 0.25 -mem 0.1 -- \
  'echo running inside the allocation'
cloudai logs -f in-allocation || true
echo "=== cluster capacity with the allocation"
cloudai alloc capacity
cat <<EOF

The cluster is running: master $master, workers worker-1 and worker-2 ($driver driver).
Dashboard: http://127.0.0.1:8080/ (it asks for the admin token: $demo/state/admin.token).
Logs are in $demo/*.log. Try:
  export CLOUDAI_MASTER=$master CLOUDAI_STATE_DIR=$demo/state
  $bin/cli/cloudai submit $image -cpu_cores 0.5 -- 'echo hi'
  $bin/cli/cloudai logs -f task-1
  $bin/cli/cloudai shell
  $bin/cli/cloudai alloc get $alloc
  $bin/cli/cloudai alloc release $alloc
Agents: $bin/cli/cloudai mcp (MCP over stdio), or http://127.0.0.1:8080/mcp (docs/mcp.md).
Stop it with: scripts/run.sh stop
EOF
