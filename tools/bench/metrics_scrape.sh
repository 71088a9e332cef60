#!/usr/bin/env bash
# Scrape size and time of proxflow-server's /metrics after N finished jobs (default 10):
# starts a server on a temporary data directory, runs N short toy jobs through the CLI, then
# times R scrapes (default 21) and prints the size and the median/min/max time.
#   tools/bench/metrics_scrape.sh [BUILD_DIR] [JOBS] [REPEATS]     (needs curl)
set -euo pipefail
build=${1:-build}
jobs=${2:-10}
repeats=${3:-21}
dir=$(mktemp -d /tmp/proxflow-scrape-XXXXXX)
trap 'kill $server_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
"$build/server/proxflow-server" --listen 127.0.0.1:0 --metrics_listen 127.0.0.1:0 \
  --data_dir "$dir/data" --threads 2 2> "$dir/server.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "serving on port" "$dir/server.log" && break; sleep 0.1; done
port=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$dir/server.log")
metrics=$(grep -o "http://[^ ]*" "$dir/server.log")
for i in $(seq 1 "$jobs"); do
  "$build/client/proxflow" --server "127.0.0.1:$port" train --preset toy-2d --set model=bench \
    --set iterations=20 --set eval_batch_size=256 --follow > /dev/null 2>&1
done
curl -s "$metrics" > "$dir/scrape.txt"
bytes=$(wc -c < "$dir/scrape.txt")
series=$(grep -vc '^#' "$dir/scrape.txt")
times=()
for _ in $(seq 1 "$repeats"); do
  times+=("$(curl -s -o /dev/null -w '%{time_total}' "$metrics")")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (repeats + 1) / 2 ))p")
echo "jobs finished: $jobs"
echo "scrape size: $bytes bytes, $series series"
echo "scrape time over $repeats scrapes: median ${median} s, min $(echo "$sorted" | head -1) s, max $(echo "$sorted" | tail -1) s"
