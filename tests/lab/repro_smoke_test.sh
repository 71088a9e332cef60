#!/usr/bin/env bash
# A short version of the reproduction study, run by CI to keep the lab working: two methods at
# d=2 and d=7, two seeds each, for 150 iterations, then checks of the report's content.
#   usage: repro_smoke_test.sh PATH/TO/proxflow-lab
set -euo pipefail
lab=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$lab" repro manifold --threads 1 --dims 2,7 --methods w1w2,w2 --iterations 150 \
  --eval_samples 300 --seeds 3,4 --out_dir "$out" 2>"$out/stderr.log"

fail() { echo "FAIL: $*"; cat "$out/stderr.log" | tail -5; exit 1; }
[ -f "$out/report.json" ] || fail "no report.json"
[ -f "$out/report.md" ] || fail "no report.md"
runs=$(grep -c '"iterations_requested":' "$out/report.json")
[ "$runs" = 8 ] || fail "expected 8 runs in report.json, found $runs"
completed=$(grep -c '"iterations_completed": 150, "outcome": "completed"' "$out/report.json")
[ "$completed" = 8 ] || fail "expected 8 completed runs of 150 iterations, found $completed"
# Every completed run has a measured (non-null) Sinkhorn divergence and straightness.
nulls=$(grep -c '"sinkhorn": null' "$out/report.json" || true)
[ "$nulls" = 0 ] || fail "$nulls runs without a Sinkhorn value"
grep -q '"off_manifold_std": [0-9]' "$out/report.json" || fail "no off-manifold spread for d=7"
for png in w1w2_d2_s3.png w2_d2_s4.png w1w2_d7_s3.png w2_d7_s4.png w1w2_d2_s4_curves.png \
           w2_d7_s3_curves.png w1w2_d7_s4_offmanifold.png w2_d7_s3_offmanifold.png; do
  [ -s "$out/$png" ] || fail "missing plot $png"
  head -c 8 "$out/$png" | od -An -tx1 | grep -q '89 50 4e 47' || fail "$png is not a PNG"
done
grep -q '| w1w2 | pinwheel | 7 | 4 | 150/150 | completed |' "$out/report.md" || fail "report.md table row"
[ ! -e "$out/w1w2_d2_s3_offmanifold.png" ] || fail "an off-manifold density for d=2"
grep -q '(w2_d7_s4_offmanifold.png)' "$out/report.md" || fail "report.md does not show the density plot"
# The paper's checks, counted over both seeds, and the spread across seeds per (method, d).
grep -qE '^\| w1w2 Sinkhorn at or below the paper.s \| 7 \| [^|]+ \| [0-2]/2 \| [^|]+ \(paper 0.01\) \|$' \
  "$out/report.md" || fail "report.md has no Sinkhorn check for d=7"
grep -qE '^\| w2 diverges \| 7 \| [^|]+ \| [0-2]/2 \|' "$out/report.md" || fail "no w2 check for d=7"
grep -q '| w2 diverges | 2 |' "$out/report.md" && fail "a w2 divergence check for 2-D data"
summaries=$(grep -cE '^\| (w1w2|w2) \| (2|7) \| 2 \| [0-2] \| [0-9.e+-]+ \(' "$out/report.md" || true)
[ "$summaries" = 4 ] || fail "expected 4 across-seed rows, found $summaries"
grep -q '"seed_summary": \[' "$out/report.json" || fail "report.json has no seed_summary"
# The Lipschitz-bounded runs stay far below the blow-up threshold; straightness is in (0, 1].
healthy=$(grep -c '"method": "w1w2".*"diverged": false, "diverged_at": null, "blowup_iteration": null' \
  "$out/report.json" || true)
[ "$healthy" = 4 ] || fail "expected all 4 w1w2 runs without a blow-up, found $healthy"
grep -oE '"straightness": [0-9.e+-]+' "$out/report.json" | awk '{ if ($2 <= 0 || $2 > 1) bad = 1 }
  END { exit bad }' || fail "straightness outside (0, 1]"
# Every run has its per-step profile: 5 speeds and 4 turns at the preset's dt = 0.2.
profiles=$(grep -cE '"step_speed": \[[^],]+(, [^],]+){4}\], "step_turn_degrees": \[[^],]+(, [^],]+){3}\]' \
  "$out/report.json" || true)
[ "$profiles" = 8 ] || fail "expected 8 runs with a 5-step profile, found $profiles"
grep -q '^- w1w2 d=7 seed 3: speed [0-9.]* / ' "$out/report.md" || fail "report.md has no step profile"
# Bad flags are refused before any run: exit 2, a message naming the flag and the value, and
# no report. refused NAME MESSAGE_REGEX ARGS...
refused() {
  local name=$1 message=$2 rc=0
  shift 2
  "$lab" repro manifold --dims 2 --methods w1w2 --iterations 1 --out_dir "$out/$name" "$@" \
    2>"$out/$name.log" || rc=$?
  [ "$rc" = 2 ] || fail "$name: exit $rc, expected 2"
  grep -q -- "$message" "$out/$name.log" || fail "$name: no '$message' in $(cat "$out/$name.log")"
  [ ! -e "$out/$name/report.json" ] || fail "$name still wrote a report"
}
refused patch '--config_patch: not a TrainingConfig' --config_patch '{"critic": {"learning_rate": "fast"}}'
# The ablation wins over a patch: w1 stays without kinetic energy under a PG patch, and the
# report records each run's whole config.
"$lab" repro manifold --threads 1 --dims 2 --methods w1,w1w2 --iterations 1 --eval_samples 10 \
  --out_dir "$out/order" --config_patch '{"flow":{"loss_case":"LOSS_CASE_PG"}}' 2>"$out/order.log"
grep -q '"method": "w1".*"config": {[^}]*.*"loss_case":"LOSS_CASE_NO_OT"' "$out/order/report.json" ||
  fail "w1 under a PG patch is not NO_OT: $(grep -o '"loss_case":"[A-Z_]*"' "$out/order/report.json")"
grep -q '"method": "w1w2".*"loss_case":"LOSS_CASE_PG"' "$out/order/report.json" ||
  fail "w1w2 did not take the PG patch"
# The documented patch of docs/REPRODUCTION.md, read from its file (@FILE), is a TrainingConfig.
patch_file=$(dirname "$0")/../../tools/lab/patches/lipschitz-held.json
"$lab" repro manifold --threads 1 --dims 7 --methods w1w2 --iterations 1 --eval_samples 10 \
  --out_dir "$out/file" --config_patch "@$patch_file" 2>"$out/file.log" || fail "@FILE patch refused"
grep -q '"penalty_weight":0.1,.*"kinetic_energy_point":"KINETIC_ENERGY_POINT_TRAJECTORY"' \
  "$out/file/report.json" || fail "the @FILE patch did not reach the run's config"
refused nofile "--config_patch @$out/missing.json: .*No such file" --config_patch "@$out/missing.json"
# Seeds: a bad list and --seed with --seeds are refused, naming the flag and the value.
refused seeds '--seeds: each seed must be a non-negative integer, got "x"' --seeds 0,x
refused both 'give --seed or --seeds, not both' --seed 2 --seeds 0,1
echo "repro smoke: 8 runs (2 seeds), report.json/report.md, 8 plots, checks, spread across seeds," \
  "blow-up and straightness fields, ablation over patch, @FILE patch, --config_patch and --seeds refusals checked"
