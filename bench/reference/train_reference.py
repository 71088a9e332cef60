#!/usr/bin/python3
"""Plain PyTorch (eager) reference of one proxflow training iteration, for speed comparisons.

Same math and shapes as core/trainer.cc on the toy/manifold presets (ALGORITHM.md §4): potential
MLP 5x48 tanh on (x, t), critic MLP 3x48 ReLU, Glorot-normal init, pools of 100,000 target and
source samples, batch 200 drawn without replacement, 5 critic steps (Euler x_T without graph to
theta, KL Donsker-Varadhan, one-sided gradient penalty, Adam), then one generator step (Euler
with gradients through every step, kinetic energy at the detached post-step points, Adam).

    python3 bench/reference/train_reference.py --dim 12 --iterations 300 --threads 2
prints one JSON line with iterations/s (median of --repeats timed blocks).
"""
import argparse
import json
import math
import random
import statistics
import time

import torch

from reference_nets import mlp, peak_rss_mib


def pinwheel(n, gen):
    f = torch.randn(n, 2, generator=gen, dtype=torch.float64) * torch.tensor([0.3, 0.1], dtype=torch.float64)
    f[:, 0] += 1.0
    arm = (torch.arange(n) % 5).double()
    angle = arm * (2 * math.pi / 5) + 0.25 * torch.exp(f[:, 0])
    c, s = torch.cos(angle), torch.sin(angle)
    x = f[:, 0] * c + f[:, 1] * s
    y = -f[:, 0] * s + f[:, 1] * c
    return (1.4 * torch.stack([x, y], 1)).float()


class Reference:
    def __init__(self, dim, lam, gamma, seed):
        torch.manual_seed(seed)
        random.seed(seed)
        gen = torch.Generator().manual_seed(seed)
        self.dim, self.lam, self.gamma = dim, lam, gamma
        self.dt, self.steps, self.batch, self.pool = 0.2, 5, 200, 100000
        target = torch.zeros(self.pool, dim)
        target[:, :2] = pinwheel(self.pool, gen)
        self.target = target
        self.source = torch.randn(self.pool, dim, generator=gen)
        self.potential = mlp(dim + 1, 5, 48, torch.nn.Tanh)
        self.critic = mlp(dim, 3, 48, torch.nn.ReLU)
        self.opt_u = torch.optim.Adam(self.potential.parameters(), lr=1e-4, betas=(0.5, 0.9))
        self.opt_phi = torch.optim.Adam(self.critic.parameters(), lr=2e-5, betas=(0.5, 0.9))

    def draw(self, pool):
        return pool[random.sample(range(self.pool), self.batch)]

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
        x_t = self.generate(self.draw(self.source))
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
        x = self.draw(self.source)
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
    p.add_argument("--dim", type=int, default=2)
    p.add_argument("--iterations", type=int, default=200, help="per timed block")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    lam, gamma = (0.5, 0.1) if a.dim == 2 else (0.1, 0.01)
    ref = Reference(a.dim, lam, gamma, a.seed)
    for _ in range(10):  # warm-up
        ref.iteration()
    rates = []
    for _ in range(a.repeats):
        start = time.perf_counter()
        for _ in range(a.iterations):
            ref.iteration()
        rates.append(a.iterations / (time.perf_counter() - start))
    print(json.dumps({"implementation": "pytorch-eager", "torch": torch.__version__, "dim": a.dim,
                      "threads": a.threads, "iterations_per_second_median": statistics.median(rates),
                      "min": min(rates), "max": max(rates), "repeats": a.repeats,
                      "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main()
