#!/usr/bin/env bash
# proxflow beside plain PyTorch eager references (Debian's python3-torch), same machine, same
# run, same thread count: training iterations/s (bench/reference/train_reference.py) and
# sampling images/s per batch size (bench/reference/sample_reference.py; mnist too when
# PROXFLOW_MNIST_DIR is set). Prints every JSON line and one ratio line per workload.
#   bench/compare_reference.sh [THREADS] [ITERATIONS] [REPEATS] [BATCHES]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
iterations=${2:-200}
repeats=${3:-3}
batches=${4:-1,16,256,4096}
lab=${PROXFLOW_LAB:-build/tools/lab/proxflow-lab}
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "compare_reference: installing Debian's python3-torch for the reference"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi
# The reference runs on the OpenBLAS kernels proxflow runs on (proxflow-lab re-executes itself
# with OPENBLAS_CORETYPE when OpenBLAS falls back to its generic kernels; see
# core/base/blas_kernels.h), so the ratios measure the implementations, not the BLAS choice.
blas=$("$lab" bench blas 2>/dev/null)
echo "$blas"
core=$(echo "$blas" | grep -oE '"openblas_core": "[A-Za-z0-9]*"' | grep -oE '[A-Za-z0-9]+"$' | tr -d '"')
[ -n "$core" ] && [ -z "${OPENBLAS_CORETYPE:-}" ] && export OPENBLAS_CORETYPE="$core"
# Likewise the allocator: proxflow's binaries link tcmalloc (cmake/ProxflowTargets.cmake), so
# the reference's Python process gets the same library preloaded.
malloc=$(ldd "$lab" | grep -oE '/[^ ]*libtcmalloc[^ ]*' | head -1 || true)
ref_env=()
[ -n "$malloc" ] && ref_env=(env "LD_PRELOAD=$malloc")
echo "{\"reference_preload\": \"${malloc}\"}"
for workload in "toy-2d 2" "manifold-12d 12"; do
  set -- $workload
  ours=$("$lab" bench train --preset "$1" --threads "$threads" --iterations "$iterations" \
           --repeats "$repeats" 2>/dev/null)
  ref=$("${ref_env[@]}" /usr/bin/python3 bench/reference/train_reference.py --dim "$2" --threads "$threads" \
          --iterations "$iterations" --repeats "$repeats")
  echo "$ours"
  echo "$ref"
  a=$(echo "$ours" | grep -oE '"iterations_per_second_median": [0-9.]+' | grep -oE '[0-9.]+$')
  b=$(echo "$ref" | grep -oE '"iterations_per_second_median": [0-9.]+' | grep -oE '[0-9.]+$')
  echo "$1: proxflow $a it/s, reference $b it/s, ratio $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a/b}')"
done

# Sampling: images/s per batch size, joined on the batch.
presets=(toy-2d)
[ -n "${PROXFLOW_MNIST_DIR:-}" ] && presets+=(mnist)
for preset in "${presets[@]}"; do
  ours=$("$lab" bench sample --preset "$preset" --threads "$threads" --batches "$batches" \
           --repeats "$repeats" --mnist_dir "${PROXFLOW_MNIST_DIR:-}" 2>/dev/null)
  ref=$("${ref_env[@]}" /usr/bin/python3 bench/reference/sample_reference.py --preset "$preset" \
          --threads "$threads" --batches "$batches" --repeats "$repeats")
  echo "$ours"
  echo "$ref"
  /usr/bin/python3 - "$preset" "$ours" "$ref" <<'PY'
import json, sys
preset, ours, ref = sys.argv[1], sys.argv[2], sys.argv[3]
rate = lambda text: {j["batch"]: j["images_per_second_median"]
                     for j in map(json.loads, text.splitlines())}
a, b = rate(ours), rate(ref)
for batch in sorted(a):
    print(f"sample {preset} batch {batch}: proxflow {a[batch]:.1f} images/s, "
          f"reference {b[batch]:.1f} images/s, ratio {a[batch] / b[batch]:.2f}")
PY
done
