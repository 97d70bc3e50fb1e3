#!/usr/bin/env python3
"""The PyTorch peer for the deconvnet benchmark (docs/PERFORMANCE.md).

Runs the same caffe-alexnet architecture as zfvis's built-in (227x227, LRN, grouped convs; random
He-normal weights, the values do not matter for timing) on 2 threads and measures, with autograd and
a custom deconvnet ReLU:
  - the forward pass at batch 1,
  - forward + one conv5 projection (and the backward part alone),
  - projecting all 256 conv5 channels one backward pass at a time (each from its own argmax).
Compare with `zfvis-cli bench --model caffe-alexnet --deconv conv5 --top 256` run in the same
session. Usage: /usr/bin/python3 tests/bench/bench_pytorch_deconv.py [--iters N]
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class DeconvRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        return g.clamp(min=0)


class CaffeAlexNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 96, 11, 4)
        self.conv2 = nn.Conv2d(96, 256, 5, 1, 2, groups=2)
        self.conv3 = nn.Conv2d(256, 384, 3, 1, 1)
        self.conv4 = nn.Conv2d(384, 384, 3, 1, 1, groups=2)
        self.conv5 = nn.Conv2d(384, 256, 3, 1, 1, groups=2)
        self.fc6 = nn.Linear(9216, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, 1000)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x, relu=F.relu):
        x = F.max_pool2d(F.local_response_norm(relu(self.conv1(x)), 5, 1e-4, 0.75, 1.0), 3, 2)
        x = F.max_pool2d(F.local_response_norm(relu(self.conv2(x)), 5, 1e-4, 0.75, 1.0), 3, 2)
        x = relu(self.conv3(x))
        x = relu(self.conv4(x))
        conv5 = self.conv5(x)
        x = F.max_pool2d(relu(conv5), 3, 2).flatten(1)
        x = F.dropout(relu(self.fc6(x)), training=False)
        x = F.dropout(relu(self.fc7(x)), training=False)
        return F.softmax(self.fc8(x), dim=1), conv5


def blas_in_use():
    """Which BLAS the process loaded (Debian's torch uses the libblas.so.3 alternative:
    OpenBLAS when libopenblas0 is installed, else the slow reference BLAS)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return ", ".join(sorted(libs)) or "none"


def median_ms(fn, iters, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--channels", type=int, default=256)
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = CaffeAlexNet().eval()
    for p in net.parameters():
        p.requires_grad_(False)
    image = (torch.rand(1, 3, 227, 227) * 255.0 - 120.0)
    relu = DeconvRelu.apply

    def forward_only():
        with torch.no_grad():
            net(image)

    def seed_for(conv5, c):
        plane = conv5[0, c].reshape(-1)
        at = int(torch.argmax(plane))
        seed = torch.zeros_like(conv5)
        seed[0, c].view(-1)[at] = plane[at]
        return seed

    def forward_and_project():
        x = image.clone().requires_grad_(True)
        _, conv5 = net(x, relu)
        c = int(torch.argmax(conv5[0].reshape(256, -1).max(dim=1).values))
        conv5.backward(seed_for(conv5.detach(), c))
        return x.grad

    x = image.clone().requires_grad_(True)
    _, conv5_graph = net(x, relu)
    c0 = int(torch.argmax(conv5_graph[0].reshape(256, -1).max(dim=1).values))
    seed0 = seed_for(conv5_graph.detach(), c0)

    def backward_only():
        x.grad = None
        conv5_graph.backward(seed0, retain_graph=True)

    def all_channels():
        for c in range(args.channels):
            x.grad = None
            conv5_graph.backward(seed_for(conv5_graph.detach(), c), retain_graph=True)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: {blas_in_use()}")
    m, lo = median_ms(forward_only, args.iters)
    print(f"pytorch forward batch 1: median {m:.2f} ms, min {lo:.2f} ms")
    m, lo = median_ms(forward_and_project, args.iters)
    print(f"pytorch forward + conv5 projection: median {m:.2f} ms, min {lo:.2f} ms")
    m, lo = median_ms(backward_only, args.iters)
    print(f"pytorch conv5 projection (backward only): median {m:.2f} ms, min {lo:.2f} ms")
    m, lo = median_ms(all_channels, max(1, args.iters // 10), warmup=1)
    print(f"pytorch conv5 all {args.channels} channels one backward at a time: median {m:.1f} ms, "
          f"min {lo:.1f} ms")


if __name__ == "__main__":
    main()
