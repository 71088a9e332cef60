"""Networks shared by the plain PyTorch references: Glorot-normal weights and zero biases, as
core/networks.h initialises them."""
import resource

import torch


def glorot(net):
    for m in net.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
            torch.nn.init.xavier_normal_(m.weight)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    return net


def mlp(inputs, depth, width, activation, outputs=1):
    """`depth` hidden layers of `width` units with `activation`, then a linear output."""
    layers, size = [], inputs
    for _ in range(depth):
        layers += [torch.nn.Linear(size, width), activation()]
        size = width
    layers.append(torch.nn.Linear(size, outputs))
    return glorot(torch.nn.Sequential(*layers))


def peak_rss_mib():
    """The process's peak resident memory so far, in MiB (as proxflow-lab bench reports it)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
