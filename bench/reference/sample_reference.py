#!/usr/bin/python3
"""Plain PyTorch (eager) reference of proxflow's sampler, for speed comparisons.

What a user would write: the potential network of the preset (toy-2d: MLP 5x48 tanh on (x, t);
mnist: the conv trunk of ALGORITHM.md §5 then 3x512 ReLU on (features, t)), Glorot-normal
weights, a batch of source points (toy-2d: N(0, I); mnist: U[0, 0.5]^784) from one generator,
then forward Euler x <- x - dt * grad_x U(x, t) / lambda with autograd for grad_x U and no graph
kept between steps. proxflow draws each sample's source point from its own seed instead (so a
sample does not depend on its batch); that cost is included on its side.

    python3 bench/reference/sample_reference.py --preset toy-2d --batches 1,16,256,4096
prints one JSON line per batch size with images/s (median of --repeats).
"""
import argparse
import json
import statistics
import time

import torch

from reference_nets import ConvPotential, mlp, peak_rss_mib


PRESETS = {
    # dim, network, lambda, dt, steps, source
    "toy-2d": (2, lambda: mlp(3, 5, 48, torch.nn.Tanh), 0.5, 0.2, 5, "gaussian"),
    "mnist": (784, ConvPotential, 0.05, 1.0, 5, "uniform"),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="toy-2d", choices=sorted(PRESETS))
    p.add_argument("--batches", default="1,16,256,4096")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dim, make, lam, dt, steps, source = PRESETS[a.preset]
    potential = make()  # Glorot-normal weights, zero biases (reference_nets)
    for p_ in potential.parameters():
        p_.requires_grad_(False)
    gen = torch.Generator().manual_seed(a.seed)

    def sample(n):
        x = torch.randn(n, dim, generator=gen) if source == "gaussian" else \
            torch.rand(n, dim, generator=gen) * 0.5
        for i in range(steps):
            x = x.detach().requires_grad_(True)
            t = torch.full((n, 1), i * dt)
            u = potential(torch.cat([x, t], 1)).sum()
            g = torch.autograd.grad(u, x)[0]
            x = x.detach() - dt * g / lam
        return x

    for batch in [int(b) for b in a.batches.split(",")]:
        sample(batch)  # warm-up
        rates = []
        for _ in range(a.repeats):
            start = time.perf_counter()
            sample(batch)
            rates.append(batch / (time.perf_counter() - start))
        print(json.dumps({"implementation": "pytorch-eager", "torch": torch.__version__,
                          "preset": a.preset, "batch": batch, "steps": steps,
                          "threads": a.threads,
                          "images_per_second_median": statistics.median(rates),
                          "min": min(rates), "max": max(rates), "repeats": a.repeats,
                          "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main()
