#!/usr/bin/env bash
# CI's brief run of every benchmark program (issue "Performance": CI builds the benchmarks and
# runs each once briefly). Figures from such short runs mean nothing; the script checks that
# each program runs and reports what it should, and exits 1 naming the first one that did not.
#   bench/smoke.sh WHICH    WHICH: micro | compare | server | registry | sample
#   PROXFLOW_BUILD_DIR  build directory (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PROXFLOW_BUILD_DIR:-build}
export OMP_WAIT_POLICY=PASSIVE
out=$(mktemp)
trap 'rm -f "$out"' EXIT

expect() {  # expect PATTERN DESCRIPTION: the output must match PATTERN
  if ! grep -qE "$1" "$out"; then
    echo "bench smoke ($which): no $2 in the output:"
    cat "$out"
    exit 1
  fi
}

which=${1:?usage: bench/smoke.sh micro|compare|server|registry|sample}
case "$which" in
  micro)
    "$build/tools/bench/proxflow-micro-bench" --benchmark_min_time=0.001 \
      --benchmark_format=json > "$out"
    for name in Tanh/proxflow/200 EulerStep/grad_u/manifold-12d/200 EulerStep/forward/mnist/16 \
                TrainingIteration/toy-2d TrainingGrowth/manifold/batch:1600/steps:5/dim:12; do
      expect "\"name\": \"$name\"" "result for $name"
    done
    if grep -q '"error_occurred": true' "$out"; then
      echo "bench smoke (micro): a benchmark failed:"; grep -B3 -A3 error_message "$out"; exit 1
    fi
    ;;
  compare)
    PROXFLOW_BENCH_WARMUP=1 PROXFLOW_LAB="$build/tools/lab/proxflow-lab" \
      bench/compare_reference.sh 1 2 1 1,16 1 > "$out"
    expect '^toy-2d: proxflow [0-9.]+ it/s, reference [0-9.]+ it/s, ratio [0-9.]+' "toy-2d ratio"
    expect '^manifold-12d: proxflow [0-9.]+ it/s' "manifold-12d ratio"
    expect '^sample toy-2d batch 16: proxflow [0-9.]+ images/s' "sampling ratio"
    expect '^\| manifold-12d training \(it/s\) \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| >= 2 \| (yes|no) \|$' "summary table"
    expect '^OpenBLAS kernels: [A-Za-z0-9]+$' "the table's kernel family"
    if [ -n "${PROXFLOW_MNIST_DIR:-}" ]; then
      expect '^mnist: proxflow [0-9.]+ it/s, reference [0-9.]+ it/s' "mnist training ratio"
      expect '^sample mnist batch 16: proxflow [0-9.]+ images/s' "mnist sampling ratio"
    fi
    ;;
  server)
    "$build/tools/bench/proxflow-server-bench" --threads 1 --repeats 1 \
      --submit_jobs 5 --iterations 40 > "$out"
    expect '"server_it_per_s_median": [0-9]' "finite training rate in the server"
    ;;
  registry)
    "$build/tools/bench/proxflow-registry-bench" --threads 1 --repeats 1 --mnist_dir "" \
      --download_width 64 > "$out"
    expect '"grpc_loopback_mib_per_s": [0-9]' "download rate"
    ;;
  sample)
    "$build/tools/bench/proxflow-sample-bench" --threads 1 --repeats 1 --toy_samples 256 \
      --mnist_samples 16 --ttfi_requests 2 > "$out"
    expect '"loopback_images_per_s": [0-9]' "sampling rate"
    ;;
  *)
    echo "bench/smoke.sh: unknown benchmark \"$which\" (micro, compare, server, registry, sample)"
    exit 2
    ;;
esac
cat "$out"
