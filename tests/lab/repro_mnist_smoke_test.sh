#!/usr/bin/env bash
# The MNIST study in miniature, run by CI to keep it working: the quality classifier (one
# epoch), floor and ceiling, one w1w2 run of 10 iterations measured on 200 images with the
# class monitor's coverage at iterations 5 and 10, then checks of the report. Skips (exit 77) when PROXFLOW_MNIST_DIR is unset.
#   usage: repro_mnist_smoke_test.sh PATH/TO/proxflow-lab
set -euo pipefail
lab=$1
if [ -z "${PROXFLOW_MNIST_DIR:-}" ]; then
  echo "PROXFLOW_MNIST_DIR is unset: MNIST lab smoke test skipped"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$lab" repro mnist --threads 1 --methods w1w2 --iterations 10 --eval_samples 200 \
  --classifier_epochs 1 --eval_interval 5 --seed 1 --cache_dir "$out/cache" --out_dir "$out/report" \
  2>"$out/stderr.log"

fail() { echo "FAIL: $*"; tail -5 "$out/stderr.log"; exit 1; }
json=$out/report/report.json
[ -f "$json" ] || fail "no report.json"
grep -q '"iterations_completed": 10, "outcome": "completed"' "$json" || fail "run not completed"
grep -qE '"frechet": [0-9]' "$json" || fail "no Fréchet distance"
grep -qE '"kid": -?[0-9]' "$json" || fail "no KID"
grep -qE '"classes_covered": [0-9]+' "$json" || fail "no coverage"
grep -qE 'held-out accuracy 0\.(8|9)[0-9]*' "$json" || fail "classifier accuracy missing or below 0.8"
grep -q 'Floor (training pool' "$json" || fail "no floor"
grep -q 'Ceiling (200 source draws' "$json" || fail "no ceiling"
# The floor must be far below the ceiling: the classifier's features separate digits from noise.
floor=$(grep -oE 'Floor[^"]*Fréchet [0-9.]+' "$json" | grep -oE '[0-9.]+$')
ceiling=$(grep -oE 'Ceiling[^"]*Fréchet [0-9.]+' "$json" | grep -oE '[0-9.]+$')
awk -v f="$floor" -v c="$ceiling" 'BEGIN{exit !(f * 5 < c)}' ||
  fail "floor $floor is not far below ceiling $ceiling"
# The coverage curve: the class monitor at iterations 5 and 10, classes within 0..10.
grep -qE '"evaluations": \[\{"iteration": 5, [^]]*"class_coverage": ([0-9]|10)(\.0)?, "largest_class_share": (0\.[0-9]+|1(\.0)?), "class_entropy": [0-9.e-]+, "frechet": [0-9]' "$json" ||
  fail "no class coverage at iteration 5 in report.json"
grep -qE '\{"iteration": 10, [^}]*"class_coverage"' "$json" || fail "no class coverage at iteration 10"
grep -qE '^- w1w2 seed 1: 5: ([0-9]|10) cls, top [01]\.[0-9]{2}, F [0-9]+; 10: ' "$out/report/report.md" ||
  fail "report.md has no coverage-while-training line"
head -c 8 "$out/report/w1w2_mnist_coverage.png" | od -An -tx1 | grep -q '89 50 4e 47' ||
  fail "no coverage curve PNG"
png=$out/report/w1w2_mnist.png
[ -s "$png" ] || fail "no sample grid"
head -c 8 "$png" | od -An -tx1 | grep -q '89 50 4e 47' || fail "grid is not a PNG"
grep -qE '^\| w1w2 finite \| [0-9]+ \| \*\*met\*\* \| 1/1 \| finite \|$' "$out/report/report.md" ||
  fail "report.md has no check that w1w2 stayed finite"
ls "$out/cache"/mnist-classifier-*.pt >/dev/null || fail "classifier weights not cached"
echo "repro mnist smoke: floor Fréchet $floor, ceiling $ceiling; report, grid and cache checked"
