#!/usr/bin/env python3
"""Plots how a training iteration's cost grows, from proxflow-micro-bench's JSON.

    build/tools/bench/proxflow-micro-bench --benchmark_filter=TrainingGrowth \
        --benchmark_repetitions=3 --benchmark_format=json > growth.json
    bench/plot_growth.py growth.json docs/bench/training-growth.svg

Three log-log panels (batch size, Euler steps, dimension), each varying one factor from
manifold-12d's (200, 5, 12); a point is the median of the repetitions, the bar their min-max.
A dashed line through the base point shows linear growth for comparison. Standard library only.
"""
import json
import math
import re
import statistics
import sys
from collections import defaultdict

BASE = {"batch": 200, "steps": 5, "dim": 12}


def load(path):
    runs = defaultdict(list)
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        m = re.search(r"batch:(\d+)/steps:(\d+)/dim:(\d+)", b["name"])
        if not m:
            continue
        key = tuple(int(v) for v in m.groups())
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        runs[key].append(b["real_time"] * scale)
    return runs


def panel(runs, factor):
    index = list(BASE).index(factor)
    points = []
    for key, times in runs.items():
        others = [k for k in BASE if k != factor]
        if all(key[list(BASE).index(o)] == BASE[o] for o in others):
            points.append((key[index], statistics.median(times), min(times), max(times)))
    return sorted(points)


def svg(runs, out):
    w, h, pad = 300, 260, 48
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{3 * w}" height="{h + 30}" '
             'font-family="sans-serif" font-size="11">',
             f'<rect width="{3 * w}" height="{h + 30}" fill="white"/>',
             f'<text x="{1.5 * w}" y="16" text-anchor="middle" font-size="13">'
             'manifold-12d training iteration (ms, median of repeats; dashed: linear)</text>']
    for p, factor in enumerate(BASE):
        pts = panel(runs, factor)
        if not pts:
            continue
        x0 = p * w
        xs = [math.log10(v[0]) for v in pts]
        ys = [math.log10(t) for v in pts for t in v[1:]]
        base_t = next(v[1] for v in pts if v[0] == BASE[factor])
        lin = [math.log10(base_t * v[0] / BASE[factor]) for v in pts]
        xmin, xmax = min(xs), max(xs)
        ymin, ymax = min(ys + lin), max(ys + lin)
        xmin, xmax = xmin - 0.05 * (xmax - xmin + 1e-9), xmax + 0.05 * (xmax - xmin + 1e-9)
        ymin, ymax = ymin - 0.1, ymax + 0.1

        def sx(v):
            return x0 + pad + (math.log10(v) - xmin) / (xmax - xmin) * (w - pad - 10)

        def sy(v):
            return 30 + (h - pad) - (math.log10(v) - ymin) / (ymax - ymin) * (h - pad - 10)

        parts.append(f'<rect x="{x0 + pad}" y="30" width="{w - pad - 10}" height="{h - pad}" '
                     'fill="none" stroke="#999"/>')
        for e in range(math.floor(ymin), math.ceil(ymax) + 1):
            for m in (1, 2, 5):
                v = m * 10 ** e
                if ymin <= math.log10(v) <= ymax:
                    parts.append(f'<line x1="{x0 + pad}" x2="{x0 + w - 10}" y1="{sy(v):.1f}" '
                                 f'y2="{sy(v):.1f}" stroke="#eee"/>')
                    parts.append(f'<text x="{x0 + pad - 4}" y="{sy(v) + 4:.1f}" '
                                 f'text-anchor="end">{v:g}</text>')
        for v in pts:
            parts.append(f'<text x="{sx(v[0]):.1f}" y="{h + 28 - 14}" '
                         f'text-anchor="middle">{v[0]}</text>')
        parts.append(f'<text x="{x0 + pad + (w - pad) / 2}" y="{h + 28}" '
                     f'text-anchor="middle">{factor}</text>')
        line = " ".join(f"{sx(v[0]):.1f},{sy(base_t * v[0] / BASE[factor]):.1f}" for v in pts)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#999" '
                     'stroke-dasharray="4 3"/>')
        line = " ".join(f"{sx(v[0]):.1f},{sy(v[1]):.1f}" for v in pts)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
        for v in pts:
            parts.append(f'<line x1="{sx(v[0]):.1f}" x2="{sx(v[0]):.1f}" y1="{sy(v[2]):.1f}" '
                         f'y2="{sy(v[3]):.1f}" stroke="#1f77b4"/>')
            parts.append(f'<circle cx="{sx(v[0]):.1f}" cy="{sy(v[1]):.1f}" r="3" fill="#1f77b4">'
                         f'<title>{factor} {v[0]}: {v[1]:.2f} ms</title></circle>')
    parts.append("</svg>")
    open(out, "w").write("\n".join(parts) + "\n")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_growth.py GROWTH_JSON OUT_SVG")
    runs = load(sys.argv[1])
    if not runs:
        sys.exit(f"plot_growth: no TrainingGrowth results in {sys.argv[1]}")
    svg(runs, sys.argv[2])
    for factor in BASE:
        for v in panel(runs, factor):
            print(f"{factor} {v[0]}: {v[1]:.2f} ms ({v[2]:.2f}-{v[3]:.2f})")


if __name__ == "__main__":
    main()
