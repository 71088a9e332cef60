#!/usr/bin/env bash
# Training iterations/s of proxflow beside the plain PyTorch eager reference
# (bench/reference/train_reference.py, Debian's python3-torch), same machine, same run, same
# thread count; prints both JSON lines and the ratio per workload.
#   bench/compare_reference.sh [THREADS] [ITERATIONS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
iterations=${2:-200}
repeats=${3:-3}
lab=${PROXFLOW_LAB:-build/tools/lab/proxflow-lab}
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "compare_reference: installing Debian's python3-torch for the reference"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi
for workload in "toy-2d 2" "manifold-12d 12"; do
  set -- $workload
  ours=$("$lab" bench train --preset "$1" --threads "$threads" --iterations "$iterations" \
           --repeats "$repeats" 2>/dev/null)
  ref=$(/usr/bin/python3 bench/reference/train_reference.py --dim "$2" --threads "$threads" \
          --iterations "$iterations" --repeats "$repeats")
  echo "$ours"
  echo "$ref"
  a=$(echo "$ours" | grep -oE '"iterations_per_second_median": [0-9.]+' | grep -oE '[0-9.]+$')
  b=$(echo "$ref" | grep -oE '"iterations_per_second_median": [0-9.]+' | grep -oE '[0-9.]+$')
  echo "$1: proxflow $a it/s, reference $b it/s, ratio $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a/b}')"
done
