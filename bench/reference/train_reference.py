#!/usr/bin/python3
"""Plain PyTorch (eager) reference of one proxflow training iteration, for speed comparisons.

Same math and shapes as core/trainer.cc on the presets (ALGORITHM.md §4-5). toy-2d and
manifold-12d: potential MLP 5x48 tanh on (x, t), critic MLP 3x48 ReLU, pools of 100,000 target
(pinwheel) and N(0, I) source samples. mnist: the conv potential (trunk + 3x512 ReLU on
(features, t)) and conv critic (trunk + 3x256 ReLU), the first 6,000 MNIST images as the target
pool, fresh U[0, 0.5]^784 source batches. Glorot-normal init, batch 200 drawn without
replacement, 5 critic steps (Euler x_T without graph to theta, KL Donsker-Varadhan, one-sided
gradient penalty, Adam), then one generator step (Euler with gradients through every step,
kinetic energy at the detached post-step points, Adam).

    python3 bench/reference/train_reference.py --preset manifold-12d --iterations 300 --threads 1
    python3 bench/reference/train_reference.py --preset mnist --mnist_dir DIR --iterations 10
prints one JSON line with iterations/s (median of --repeats timed blocks).
"""
import argparse
import json
import math
import os
import random
import statistics
import time

import torch

from reference_nets import ConvCritic, ConvPotential, mlp, mnist_images, peak_rss_mib


def pinwheel(n, gen):
    f = torch.randn(n, 2, generator=gen, dtype=torch.float64) * torch.tensor([0.3, 0.1], dtype=torch.float64)
    f[:, 0] += 1.0
    arm = (torch.arange(n) % 5).double()
    angle = arm * (2 * math.pi / 5) + 0.25 * torch.exp(f[:, 0])
    c, s = torch.cos(angle), torch.sin(angle)
    x = f[:, 0] * c + f[:, 1] * s
    y = -f[:, 0] * s + f[:, 1] * c
    return (1.4 * torch.stack([x, y], 1)).float()


# preset: dim, lambda, gamma, dt, steps, lr critic, lr potential
PRESETS = {
    "toy-2d": (2, 0.5, 0.1, 0.2, 5, 2e-5, 1e-4),
    "manifold-12d": (12, 0.1, 0.01, 0.2, 5, 2e-5, 1e-4),
    "mnist": (784, 0.05, 0.1, 1.0, 5, 1e-4, 5e-4),
}


class Reference:
    def __init__(self, preset, seed, mnist_dir):
        torch.manual_seed(seed)
        random.seed(seed)
        gen = torch.Generator().manual_seed(seed)
        dim, self.lam, self.gamma, self.dt, self.steps, lr_phi, lr_u = PRESETS[preset]
        self.dim, self.batch = dim, 200
        if preset == "mnist":
            self.target = mnist_images(mnist_dir, 6000)
            self.source = None  # fresh U[0, 0.5] batches
            self.potential, self.critic = ConvPotential(), ConvCritic()
        else:
            pool = 100000
            self.target = torch.zeros(pool, dim)
            self.target[:, :2] = pinwheel(pool, gen)
            self.source = torch.randn(pool, dim, generator=gen)
            self.potential = mlp(dim + 1, 5, 48, torch.nn.Tanh)
            self.critic = mlp(dim, 3, 48, torch.nn.ReLU)
        self.opt_u = torch.optim.Adam(self.potential.parameters(), lr=lr_u, betas=(0.5, 0.9))
        self.opt_phi = torch.optim.Adam(self.critic.parameters(), lr=lr_phi, betas=(0.5, 0.9))

    def draw_source(self):
        if self.source is None:
            return torch.rand(self.batch, self.dim) * 0.5
        return self.draw(self.source)

    def draw(self, pool):
        return pool[random.sample(range(pool.shape[0]), self.batch)]

    def grad_u(self, x, t, create_graph):
        if not create_graph or not x.requires_grad:
            x = x.detach().requires_grad_(True)
        tt = torch.full((x.shape[0], 1), t)
        u = self.potential(torch.cat([x, tt], 1)).sum()
        return torch.autograd.grad(u, x, create_graph=create_graph)[0]

    def generate(self, x):
        for i in range(self.steps):
            x = (x - self.dt * self.grad_u(x, i * self.dt, False) / self.lam).detach()
        return x

    def critic_step(self):
        x_t = self.generate(self.draw_source())
        y = self.draw(self.target)
        phi_x, phi_y = self.critic(x_t).squeeze(1), self.critic(y).squeeze(1)
        estimate = phi_x.mean() - (torch.logsumexp(phi_y, 0) - math.log(self.batch))
        u = torch.rand(self.batch, 1)
        x_hat = (u * y + (1 - u) * x_t).detach().requires_grad_(True)
        g = torch.autograd.grad(self.critic(x_hat).sum(), x_hat, create_graph=True)[0]
        penalty = torch.relu(g.pow(2).sum(1) - 1.0).mean()
        loss = -estimate + self.gamma * penalty
        self.opt_phi.zero_grad()
        loss.backward()
        self.opt_phi.step()

    def generator_step(self):
        x = self.draw_source()
        ke = 0.0
        for i in range(self.steps):
            t = i * self.dt
            x = x - self.dt * self.grad_u(x, t, True) / self.lam
            v = self.grad_u(x.detach(), t, True) / self.lam
            ke = ke + self.dt * 0.5 * v.pow(2).sum(1).mean()
        loss = self.critic(x).mean() + self.lam * ke
        self.opt_u.zero_grad()
        loss.backward()
        self.opt_u.step()

    def iteration(self):
        for _ in range(5):
            self.critic_step()
        self.generator_step()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="toy-2d", choices=sorted(PRESETS))
    p.add_argument("--mnist_dir", default=os.environ.get("PROXFLOW_MNIST_DIR", ""))
    p.add_argument("--iterations", type=int, default=200, help="per timed block")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=10, help="untimed iterations first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.preset == "mnist" and not a.mnist_dir:
        raise SystemExit("--mnist_dir (or PROXFLOW_MNIST_DIR) must name the MNIST directory")
    ref = Reference(a.preset, a.seed, a.mnist_dir)
    for _ in range(a.warmup):
        ref.iteration()
    rates = []
    for _ in range(a.repeats):
        start = time.perf_counter()
        for _ in range(a.iterations):
            ref.iteration()
        rates.append(a.iterations / (time.perf_counter() - start))
    print(json.dumps({"implementation": "pytorch-eager", "torch": torch.__version__, "preset": a.preset,
                      "threads": a.threads, "iterations_per_second_median": statistics.median(rates),
                      "min": min(rates), "max": max(rates), "repeats": a.repeats,
                      "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main()
