#!/usr/bin/python3
"""Markdown tables of MNIST study runs, as docs/REPRODUCTION.md shows them.

usage: docs/repro/mnist-study/tables.py RUN_DIR [RUN_DIR ...]

Each RUN_DIR holds a run-study.sh output (report.json, train.log). Prints two tables: coverage
while training (the class monitor's classes >= 5 % / largest share / Frechet at every
evaluation; for runs with a moving average of the generator's weights, a second row of the
live weights' values) and the lab's end measure (mean penalty term over the second half of the logged
iterations, Frechet, KID, classes >= 1 %, predicted counts 0..9, kinetic energy).
"""
import json
import pathlib
import re
import sys


def load(run_dir):
    path = pathlib.Path(run_dir)
    run = json.loads((path / "report.json").read_text())["runs"][0]
    penalties = []
    for line in (path / "train.log").read_text().splitlines():
        m = re.search(r"iter (\d+)/(\d+) .*gradient_penalty=([0-9.eE+-]+)", line)
        if m and int(m.group(1)) > int(m.group(2)) / 2:
            penalties.append(float(m.group(3)))
    run["penalty_second_half"] = sum(penalties) / len(penalties) if penalties else float("nan")
    run["label"] = path.name
    return run


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    runs = [load(d) for d in argv[1:]]
    iterations = sorted({e["iteration"] for r in runs for e in r["evaluations"]})
    print("| run | " + " | ".join(str(i) for i in iterations) + " |")
    print("|---|" + "---|" * len(iterations))
    for r in runs:
        by_iteration = {e["iteration"]: e for e in r["evaluations"]}
        # Runs with a moving average (generator.ema_decay) also log the live weights' values.
        for prefix, suffix in (("", ""), ("live_", " (live weights)")):
            if not any(prefix + "class_coverage" in e for e in r["evaluations"]):
                continue
            cells = []
            for i in iterations:
                e = by_iteration.get(i)
                cells.append("" if e is None else "%d / %.2f / %.0f" % (
                    e[prefix + "class_coverage"], e[prefix + "largest_class_share"],
                    e[prefix + "frechet"]))
            print("| %s%s | %s |" % (r["label"], suffix, " | ".join(cells)))
    print()
    print("| run | penalty term, 2nd half | Fréchet | KID | classes ≥ 1 % | predicted counts 0..9 "
          "| KE (paper 12.2) | it/s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        print("| %s | %.3g | %.0f | %.1f | %d/10 | %s | %.1f | %.2f |" % (
            r["label"], r["penalty_second_half"], r["frechet"], r["kid"], r["classes_covered"],
            " ".join(str(c) for c in r["class_counts"]), r["kinetic_energy"],
            r["iterations_per_second"]))


if __name__ == "__main__":
    main(sys.argv)
