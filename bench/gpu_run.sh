#!/usr/bin/env bash
# The GPU figures of docs/PERFORMANCE.md and docs/REPRODUCTION.md, on a machine with an NVIDIA
# GPU and a CUDA-enabled PyTorch (whose LibTorch the build uses; scripts/build-cuda).
#   bench/gpu_run.sh bench OUT_DIR      build, GPU tests, matmul rate, training and sampling
#   bench/gpu_run.sh train OUT_DIR [ITERATIONS] [SECONDS]
#                                       the long mnist w1w2 run with its quality report
# PROXFLOW_DEBS / PROXFLOW_MNIST_DIR as for scripts/build-cuda and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:?usage: bench/gpu_run.sh bench|train OUT_DIR}
out=${2:?usage: bench/gpu_run.sh bench|train OUT_DIR}
mkdir -p "$out"
build=${PROXFLOW_BUILD_DIR:-build-cuda}
lab=$build/tools/lab/proxflow-lab

scripts/build-cuda proxflow-lab core_tests proxflow-server proxflow > "$out/build.log" 2>&1 ||
  { tail -40 "$out/build.log"; exit 1; }
# shellcheck disable=SC1091
source "$build/env.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$out/gpu.txt"

if [ "$what" = bench ]; then
  "$build/tests/core_tests" --gtest_filter='Gpu.*:Classifier.*:Frechet.*:KernelDistance.*' 2>&1 |
    tail -25 | tee "$out/gpu_tests.txt"
  "$lab" bench matmul --device cuda --n 8192 2>/dev/null | tee "$out/matmul.jsonl"
  for preset in mnist manifold-12d toy-2d; do
    for precision in fp32 bf16; do
      iterations=200; [ "$preset" = mnist ] || iterations=300
      "$lab" bench train --device cuda --threads 4 --preset "$preset" --precision "$precision" \
        --iterations "$iterations" --repeats 3 2>/dev/null | tee -a "$out/train.jsonl"
    done
  done
  for precision in fp32 bf16; do
    "$lab" bench sample --device cuda --threads 4 --preset mnist --precision "$precision" \
      --batches 1,16,256,1024,4096,16384,65536 --repeats 3 2>/dev/null | tee -a "$out/sample.jsonl"
  done
  "$lab" bench sample --device cpu --threads 16 --preset mnist --precision fp32 \
    --batches 1,256,4096 --repeats 3 2>/dev/null | tee -a "$out/sample.jsonl"
else
  iterations=${3:-5000}
  seconds=${4:-480}
  # SIGTERM at the deadline: the lab measures and reports the run as it stands.
  timeout -s TERM "$seconds" "$lab" repro mnist --device cuda --threads 8 --methods w1w2 \
    --precision "${PROXFLOW_PRECISION:-fp32}" \
    --iterations "$iterations" --eval_samples 4000 --out_dir "$out/mnist-w1w2" \
    2> "$out/train.log" || true
  tail -5 "$out/train.log"
  cat "$out/mnist-w1w2/report.md"
fi
