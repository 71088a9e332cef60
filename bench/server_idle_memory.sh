#!/usr/bin/env bash
# Resident memory of an idle proxflow-server: started on a fresh data directory, measured
# once it reports its port (storage open, recovery done), then stopped with SIGTERM.
#   bench/server_idle_memory.sh [path/to/proxflow-server]
set -euo pipefail
bin=${1:-build/server/proxflow-server}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" --listen 127.0.0.1:0 --data_dir "$dir/data" --threads 1 2>"$dir/log" &
pid=$!
for _ in $(seq 1 600); do
  grep -q "serving on port" "$dir/log" && break
  sleep 0.1
done
grep -q "serving on port" "$dir/log" || { echo "server did not start" >&2; cat "$dir/log" >&2; exit 1; }
rss_kib=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid"
echo "{\"idle_rss_mib\": $(awk "BEGIN {printf \"%.1f\", $rss_kib/1024}"), \"peak_rss_mib\": $(awk "BEGIN {printf \"%.1f\", $hwm_kib/1024}"), \"threads\": $threads}"
