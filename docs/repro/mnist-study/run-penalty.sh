#!/usr/bin/env bash
# MNIST fidelity study, factor 1: the Lipschitz bound actually held (penalty weight γ).
# One w1w2 run per (γ, seed), 300 iterations, the class monitor every 50 (coverage curve),
# 1,000 generated images measured at the end. One thread each, runs in sequence; SEEDS="0"
# and SEEDS="1" in two shells use both cores. Completed runs are skipped.
#   usage: [SEEDS="0 1"] docs/repro/mnist-study/run-penalty.sh [LAB]   (from the repository root)
set -euo pipefail
lab=${1:-build/tools/lab/proxflow-lab}
out=docs/repro/mnist-study
for seed in ${SEEDS:-0 1}; do
  for gamma in 10 0.1; do
    dir=$out/penalty-g${gamma}-s${seed}
    [ -f "$dir/report.json" ] && grep -q '"outcome": "completed"' "$dir/report.json" && continue
    mkdir -p "$dir"
    "$lab" repro mnist --threads 1 --methods w1w2 --iterations 300 --eval_interval 50 \
      --eval_samples 1000 --seed "$seed" --mnist_dir ../shared/data/mnist \
      --cache_dir /tmp/proxflow-lab-classifier-cache --out_dir "$dir" \
      --config_patch "{\"critic\": {\"penalty_weight\": $gamma}}" 2> "$dir/train.log"
  done
done
