#!/usr/bin/env bash
# proxflow beside plain PyTorch eager references (Debian's python3-torch), same machine, same
# run, same thread count: training iterations/s (bench/reference/train_reference.py) and
# sampling images/s per batch size (bench/reference/sample_reference.py); the mnist preset too
# when PROXFLOW_MNIST_DIR is set, trained for MNIST_ITERATIONS per timed block. Prints every
# JSON line and one ratio line per workload.
#   bench/compare_reference.sh [THREADS] [ITERATIONS] [REPEATS] [BATCHES] [MNIST_ITERATIONS] [FAMILIES]
# FAMILIES (e.g. Zen,Haswell,SkylakeX) runs one table per OpenBLAS kernel family, with LibTorch and
# proxflow capped to that family's instruction set (ATEN_CPU_CAPABILITY, PROXFLOW_KERNEL_ISA).
# Both sides train PROXFLOW_BENCH_WARMUP (default 10) untimed iterations first.
set -euo pipefail
cd "$(dirname "$0")/.."
ratios=$(mktemp)  # "workload|proxflow|reference|ratio|target" lines for the summary
trap 'rm -f "$ratios"' EXIT
threads=${1:-2}
iterations=${2:-200}
repeats=${3:-3}
batches=${4:-1,16,256,4096}
mnist_iterations=${5:-10}
families=${6:-}
warmup=${PROXFLOW_BENCH_WARMUP:-10}
lab=${PROXFLOW_LAB:-build/tools/lab/proxflow-lab}
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "compare_reference: installing Debian's python3-torch for the reference"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi
# The reference runs on the OpenBLAS kernels proxflow runs on (proxflow-lab re-executes itself
# with OPENBLAS_CORETYPE when OpenBLAS falls back to its generic kernels; see
# core/base/blas_kernels.h), so the ratios measure the implementations, not the BLAS choice.
if [ -z "$families" ]; then
  blas=$("$lab" bench blas 2>/dev/null)
  echo "$blas"
  families=$(echo "$blas" | grep -oE '"openblas_core": "[A-Za-z0-9]*"' | grep -oE '[A-Za-z0-9]+"$' | tr -d '"')
  [ -n "${OPENBLAS_CORETYPE:-}" ] && families=$OPENBLAS_CORETYPE
fi
# Likewise the allocator: proxflow's binaries link tcmalloc (cmake/ProxflowTargets.cmake), so
# the reference's Python process gets the same library preloaded.
malloc=$(ldd "$lab" | grep -oE '/[^ ]*libtcmalloc[^ ]*' | head -1 || true)
ref_env=()
[ -n "$malloc" ] && ref_env=(env "LD_PRELOAD=$malloc")
echo "{\"reference_preload\": \"${malloc}\"}"
run_family() {
  : > "$ratios"
  workloads=("toy-2d $iterations" "manifold-12d $iterations")
  [ -n "${PROXFLOW_MNIST_DIR:-}" ] && workloads+=("mnist $mnist_iterations")
  for workload in "${workloads[@]}"; do
    set -- $workload
    ours=$("$lab" bench train --preset "$1" --threads "$threads" --iterations "$2" \
             --repeats "$repeats" --warmup "$warmup" --mnist_dir "${PROXFLOW_MNIST_DIR:-}" 2>/dev/null)
    ref=$("${ref_env[@]}" /usr/bin/python3 bench/reference/train_reference.py --preset "$1" \
            --threads "$threads" --iterations "$2" --repeats "$repeats" --warmup "$warmup" \
            --mnist_dir "${PROXFLOW_MNIST_DIR:-}")
    echo "$ours"
    echo "$ref"
    a=$(echo "$ours" | grep -oE '"iterations_per_second_median": [0-9.]+' | grep -oE '[0-9.]+$')
    b=$(echo "$ref" | grep -oE '"iterations_per_second_median": [0-9.]+' | grep -oE '[0-9.]+$')
    r=$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a/b}')
    echo "$1: proxflow $a it/s, reference $b it/s, ratio $r"
    target=2  # toy-2d, manifold-12d and (issue: same speed on every x86-64 machine) mnist
    echo "$1 training (it/s)|$a|$b|$r|$target" >> "$ratios"
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
    /usr/bin/python3 - "$preset" "$ours" "$ref" "$ratios" <<'PY'
import json, sys
preset, ours, ref, ratios = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rate = lambda text: {j["batch"]: j["images_per_second_median"]
                     for j in map(json.loads, text.splitlines())}
a, b = rate(ours), rate(ref)
for batch in sorted(a):
    print(f"sample {preset} batch {batch}: proxflow {a[batch]:.1f} images/s, "
          f"reference {b[batch]:.1f} images/s, ratio {a[batch] / b[batch]:.2f}")
    with open(ratios, "a") as f:
        f.write(f"{preset} sampling, batch {batch} (images/s)|{a[batch]:.1f}|{b[batch]:.1f}|"
                f"{a[batch] / b[batch]:.2f}|1.2\n")
PY
  done

  # Every ratio of this family in one table, against the issue's targets.
  echo
  echo "OpenBLAS kernels: $OPENBLAS_CORETYPE"
  echo "| workload | proxflow | reference | ratio | target | met |"
  echo "|---|---|---|---|---|---|"
  awk -F'|' '{ f = ($1 ~ /training/) ? "%.3f" : "%.1f"
               printf "| %s | " f " | " f " | %s | >= %s | %s |\n", $1, $2, $3, $4, $5, ($4 >= $5 ? "yes" : "no") }' "$ratios"
}

for family in ${families//,/ }; do
  # proxflow-lab only reports under the forced kernels (no matrix product runs).
  probe=$(OPENBLAS_CORETYPE=$family "$lab" bench blas 2>/dev/null || true)
  case "$probe" in
    *'"cpu_runs_core": true'*) ;;
    *)
      echo "OpenBLAS kernels: $family skipped: this CPU cannot execute them ($probe)"
      continue ;;
  esac
  export OPENBLAS_CORETYPE=$family
  # The whole machine of that family, not only its BLAS: an AVX2 CPU (Haswell, Zen) runs
  # LibTorch's and proxflow's AVX2 code too, an SSE-only one (Prescott) their portable code.
  case $family in
    SkylakeX|Cooperlake|SapphireRapids) unset PROXFLOW_KERNEL_ISA ATEN_CPU_CAPABILITY ;;
    Prescott|Nehalem|Core2|Atom) export PROXFLOW_KERNEL_ISA=portable ATEN_CPU_CAPABILITY=default ;;
    *) export PROXFLOW_KERNEL_ISA=avx2 ATEN_CPU_CAPABILITY=avx2 ;;
  esac
  echo "{\"openblas_coretype\": \"$family\", \"proxflow_kernel_isa\": \"${PROXFLOW_KERNEL_ISA:-cpu}\", \"aten_cpu_capability\": \"${ATEN_CPU_CAPABILITY:-cpu}\"}"
  run_family
done
