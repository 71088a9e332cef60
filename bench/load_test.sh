#!/usr/bin/env bash
# Starts proxflow-server on loopback with a fresh data directory and runs proxflow-load-test
# against it (32 sampling streams with slow and cancelling clients, 4 training jobs, a health
# check every 100 ms); prints the JSON report. Exit 1 on any unexpected error or failed
# health check.
#   bench/load_test.sh [SECONDS] [STREAMS] [JOBS]        (default 60 32 4)
#   PROXFLOW_BUILD_DIR  build directory (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PROXFLOW_BUILD_DIR:-build}
seconds=${1:-60}
streams=${2:-32}
jobs=${3:-4}
dir=$(mktemp -d /tmp/proxflow-load-XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
OMP_WAIT_POLICY=PASSIVE "$build/server/proxflow-server" --listen 127.0.0.1:0 \
  --data_dir "$dir/data" --port_file "$dir/port" --threads 1 --device cpu \
  --metrics_listen "" --max_concurrent_jobs "$jobs" > "$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ -s "$dir/port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log"; exit 1; }
  sleep 0.1
done
[ -s "$dir/port" ] || { echo "load_test: the server did not start"; cat "$dir/server.log"; exit 1; }
status=0
"$build/tools/bench/proxflow-load-test" --target "127.0.0.1:$(cat "$dir/port")" \
  --server_pid "$pid" --seconds "$seconds" --streams "$streams" --jobs "$jobs" || status=$?
grep -iE "error|fatal|sanitizer" "$dir/server.log" | head -5 || true
exit $status
