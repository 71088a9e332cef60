#!/usr/bin/env bash
# MNIST fidelity study: one factor of the mnist preset changed by a config patch. One w1w2 run
# per seed, 300 iterations, the class monitor every 50 (coverage curve), 1,000 generated images
# measured at the end. One thread each, seeds in sequence; two shells with SEEDS="0" and
# SEEDS="1" use both cores. Completed runs are skipped.
#   usage: [SEEDS="0 1"] [ITERATIONS=300] docs/repro/mnist-study/run-study.sh NAME PATCH [LAB]
#   e.g.   docs/repro/mnist-study/run-study.sh reverse-kl '{"critic": {"divergence": "DIVERGENCE_REVERSE_KL"}}'
# Output: docs/repro/mnist-study/NAME-sSEED/ (report.md, report.json, train.log, plots).
set -euo pipefail
name=${1:?usage: run-study.sh NAME PATCH [LAB]}
patch=${2:?usage: run-study.sh NAME PATCH [LAB]}
lab=${3:-build/tools/lab/proxflow-lab}
out=docs/repro/mnist-study
for seed in ${SEEDS:-0 1}; do
  dir=$out/$name-s$seed
  [ -f "$dir/report.json" ] && grep -q '"outcome": "completed"' "$dir/report.json" && continue
  mkdir -p "$dir"
  "$lab" repro mnist --threads 1 --methods w1w2 --iterations "${ITERATIONS:-300}" \
    --eval_interval 50 --eval_samples 1000 --seed "$seed" --mnist_dir ../shared/data/mnist \
    --cache_dir /tmp/proxflow-lab-classifier-cache --out_dir "$dir" \
    --config_patch "$patch" 2> "$dir/train.log"
done
