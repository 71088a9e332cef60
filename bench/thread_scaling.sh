#!/usr/bin/env bash
# Training iterations/s on 1 and on 2 LibTorch threads, interleaved (1, 2, 1, 2, ...) so a slow
# moment of the host hits both, with the machine idle and then beside one busy neighbour (a
# single-threaded shell loop, the "one other busy process" of issue 28), under the OpenMP wait
# policy the process gets by default (proxflow-lab, like proxflow-server, makes it PASSIVE
# unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set). Prints every JSON line and a table of
# medians: 2 over 1 thread idle, and busy over idle on 2 threads.
#   bench/thread_scaling.sh [PRESETS] [ROUNDS] [ITERATIONS] [MNIST_ITERATIONS]
# mnist needs PROXFLOW_MNIST_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
presets=${1:-toy-2d,manifold-12d,mnist}
rounds=${2:-5}
iterations=${3:-100}
mnist_iterations=${4:-3}
lab=${PROXFLOW_LAB:-build/tools/lab/proxflow-lab}
results=$(mktemp)
neighbour=
cleanup() { [ -n "$neighbour" ] && kill "$neighbour" 2>/dev/null; rm -f "$results"; }
trap cleanup EXIT

rate() {  # preset threads -> iterations/s (median of the lab's 3 blocks)
  local preset=$1 threads=$2 n=$iterations extra=()
  if [ "$preset" = mnist ]; then
    n=$mnist_iterations
    extra=(--mnist_dir "${PROXFLOW_MNIST_DIR:?mnist needs PROXFLOW_MNIST_DIR}")
  fi
  local line
  line=$("$lab" bench train --preset "$preset" --threads "$threads" --iterations "$n" \
    --repeats 3 --warmup 2 "${extra[@]}" 2>/dev/null | grep '"iterations_per_second_median"')
  echo "$line" >&2
  echo "$line" | grep -oE '"iterations_per_second_median": [0-9.]+' | grep -oE '[0-9.]+$'
}

measure() {  # condition
  local preset
  for preset in ${presets//,/ }; do
    for ((r = 0; r < rounds; r++)); do
      echo "$1 $preset 1 $(rate "$preset" 1)" >>"$results"
      echo "$1 $preset 2 $(rate "$preset" 2)" >>"$results"
    done
  done
}

measure idle
sh -c 'while :; do :; done' &
neighbour=$!
measure busy
kill "$neighbour"
neighbour=

/usr/bin/python3 - "$results" "$rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = lambda c, p, t: statistics.median(float(r[3]) for r in rows if r[:3] == [c, p, t])
span = lambda c, p, t: [float(r[3]) for r in rows if r[:3] == [c, p, t]]
print(f"\nmedians of {sys.argv[2]} rounds, iterations/s:")
print("| preset | idle, 1 thread | idle, 2 threads | 2 over 1 | busy neighbour, 1 thread | busy, 2 threads | busy over idle (2 threads) |")
print("|---|---|---|---|---|---|---|")
for p in dict.fromkeys(r[1] for r in rows):
    i1, i2, b1, b2 = med("idle", p, "1"), med("idle", p, "2"), med("busy", p, "1"), med("busy", p, "2")
    lo, hi = min(span("idle", p, "2")), max(span("idle", p, "2"))
    print(f"| {p} | {i1:.3g} | {i2:.3g} ({lo:.3g}–{hi:.3g}) | **{i2 / i1:.2f}×** | {b1:.3g} | {b2:.3g} | **{b2 / i2:.2f}** |")
PY
