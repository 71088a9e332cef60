#!/usr/bin/env bash
# MNIST fidelity study, factor 1: the Lipschitz bound actually held (penalty weight γ), through
# run-study.sh (one w1w2 run per seed, 300 iterations, the class monitor every 50).
#   usage: [SEEDS="0 1"] docs/repro/mnist-study/run-penalty.sh [LAB]   (from the repository root)
set -euo pipefail
for gamma in 10 0.1; do
  "$(dirname "$0")/run-study.sh" "penalty-g$gamma" \
    "{\"critic\": {\"penalty_weight\": $gamma}}" "${1:-build/tools/lab/proxflow-lab}"
done
