"""Networks and data shared by the plain PyTorch references: Glorot-normal weights and zero
biases, as core/networks.h initialises them."""
import gzip
import os
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


def conv_trunk():
    """The conv trunk of ALGORITHM.md §5: 1x28x28 -> 392 features."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 7, padding=3, bias=False), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 8, 7, padding=3, bias=False), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten())


class ConvPotential(torch.nn.Module):
    """mnist potential U(x, t): conv trunk, then 3x512 ReLU on (features, t)."""

    def __init__(self):
        super().__init__()
        self.trunk = conv_trunk()
        self.head = mlp(392 + 1, 3, 512, torch.nn.ReLU)
        glorot(self)

    def forward(self, xt):
        x, t = xt[:, :-1], xt[:, -1:]
        return self.head(torch.cat([self.trunk(x.view(-1, 1, 28, 28)), t], 1))


class ConvCritic(torch.nn.Module):
    """mnist critic phi(x): conv trunk, then 3x256 ReLU."""

    def __init__(self):
        super().__init__()
        self.trunk = conv_trunk()
        self.head = mlp(392, 3, 256, torch.nn.ReLU)
        glorot(self)

    def forward(self, x):
        return self.head(self.trunk(x.view(-1, 1, 28, 28)))


def mnist_images(directory, count):
    """The first `count` images of t10k-images-idx3-ubyte[.gz] in `directory`, pixels in [0, 1],
    shape (count, 784): the training pool of the project's convention."""
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            magic, n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in range(0, 16, 4))
            if magic != 2051 or rows * cols != 784 or n < count:
                raise SystemExit(f"{path}: not an IDX image file of >= {count} 28x28 images")
            raw = torch.frombuffer(bytearray(data[16:16 + count * 784]), dtype=torch.uint8)
            return raw.view(count, 784).float() / 255.0
    raise SystemExit(f"{directory}: no t10k-images-idx3-ubyte[.gz]")


def peak_rss_mib():
    """The process's peak resident memory so far, in MiB (as proxflow-lab bench reports it)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
