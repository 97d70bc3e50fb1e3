#!/usr/bin/env python3
"""The PyTorch peer for the training benchmark (docs/PERFORMANCE.md, tests/bench/bench_train.cpp).

Trains the same architectures as zfvis's built-ins, batch 64, 2 threads: one SGD step (forward,
softmax cross-entropy, backward, torch.optim.SGD with momentum 0.9 and weight decay 5e-4) per
iteration on fixed pseudo-images, and prints the median time per step and images per second.
  zf-small       1 x 28 x 28, conv1 32@5x5 stride 1, LRN, 5 convs, dropout dense layers
  alex-small     the same with conv1 32@9x9 stride 2
  caffe-alexnet  BVLC AlexNet 3 x 227 x 227 (grouped conv2/4/5, LRN, dropout fc6/fc7)
Also prints the time of one full Fashion-MNIST epoch (937 steps) at the measured rate.

With --zfvis BENCH (build/tests/bench/bench_train) it alternates, --rounds times, a zfvis run and a
PyTorch run of every model, so both see the same machine state, and prints the medians over the
rounds and their ratio (docs/PERFORMANCE.md):
  /usr/bin/python3 tests/bench/bench_pytorch_train.py --zfvis build/tests/bench/bench_train --rounds 5
Usage: /usr/bin/python3 tests/bench/bench_pytorch_train.py [--iters N] [--models a,b] [--zfvis B]
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def blas_in_use():
    """Which BLAS the process loaded (OpenBLAS with libopenblas0-pthread, else reference BLAS)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return ", ".join(sorted(libs)) or "none"


class SmallNet(nn.Module):
    """alex-small / zf-small (core/model/small_nets.cpp)."""

    def __init__(self, zf):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, 1, 2) if zf else nn.Conv2d(1, 32, 9, 2, 4)
        self.conv2 = nn.Conv2d(32, 48, 3, 1, 1)
        self.conv3 = nn.Conv2d(48, 48, 3, 1, 1)
        self.conv4 = nn.Conv2d(48, 48, 3, 1, 1)
        self.conv5 = nn.Conv2d(48, 32, 3, 1, 1)
        self.fc6 = nn.Linear(32 * 3 * 3 if zf else 32, 128)
        self.fc7 = nn.Linear(128, 128)
        self.fc8 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.local_response_norm(F.max_pool2d(F.relu(self.conv1(x)), 3, 2, 1), 5, 1e-4, 0.75, 2.0)
        x = F.local_response_norm(F.max_pool2d(F.relu(self.conv2(x)), 3, 2, 1), 5, 1e-4, 0.75, 2.0)
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = F.max_pool2d(F.relu(self.conv5(x)), 3, 2).flatten(1)
        x = F.dropout(F.relu(self.fc6(x)), 0.5, self.training)
        x = F.dropout(F.relu(self.fc7(x)), 0.5, self.training)
        return self.fc8(x)


class CaffeAlexNet(nn.Module):
    """caffe-alexnet (core/model/builtin_models.cpp); the final softmax is part of the loss."""

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

    def forward(self, x):
        x = F.max_pool2d(F.local_response_norm(F.relu(self.conv1(x)), 5, 1e-4, 0.75, 1.0), 3, 2)
        x = F.max_pool2d(F.local_response_norm(F.relu(self.conv2(x)), 5, 1e-4, 0.75, 1.0), 3, 2)
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = F.max_pool2d(F.relu(self.conv5(x)), 3, 2).flatten(1)
        x = F.dropout(F.relu(self.fc6(x)), 0.5, self.training)
        x = F.dropout(F.relu(self.fc7(x)), 0.5, self.training)
        return self.fc8(x)


MODELS = {
    "zf-small": (lambda: SmallNet(True), (1, 28, 28), 10),
    "alex-small": (lambda: SmallNet(False), (1, 28, 28), 10),
    "caffe-alexnet": (CaffeAlexNet, (3, 227, 227), 1000),
}


def pytorch_step(name, batch=64):
    """A function running one SGD step of `name` on fixed pseudo-images, after 3 warm-up steps."""
    make, shape, classes = MODELS[name]
    net = make().train()
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    n = batch * shape[0] * shape[1] * shape[2]
    x = (torch.arange(n, dtype=torch.int64) * 2654435761 % 255).float().reshape(batch, *shape) / 255
    y = torch.arange(batch) * 7 % classes

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    return step


def median_step(step, iters):
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def zfvis_step(bench, name, iters):
    """zfvis's median seconds per step of `name` (Google Benchmark, `iters` repetitions of 1 s)."""
    out = subprocess.run([bench, f"--benchmark_filter=^train/{name}/", "--benchmark_format=json",
                          f"--benchmark_repetitions={iters}", "--benchmark_min_time=1"],
                         check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    return statistics.median(b["real_time"] / 1000.0 for b in runs), runs[0].get("label", "")


def report(label, name, med, batch=64):
    epoch = f", Fashion-MNIST epoch (937 steps) {937 * med:.1f} s" if name != "caffe-alexnet" else ""
    print(f"{label}/{name}/{batch}: {med * 1000:.1f} ms/step, {batch / med:.1f} images/s{epoch}",
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--models", default="zf-small,alex-small,caffe-alexnet")
    ap.add_argument("--zfvis", help="build/tests/bench/bench_train, run interleaved with PyTorch")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"mkldnn {torch.backends.mkldnn.is_available()}, BLAS: {blas_in_use()}, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    names = args.models.split(",")
    steps = {name: pytorch_step(name) for name in names}
    iters = {name: args.iters if name != "caffe-alexnet" else max(3, args.iters // 4) for name in names}
    if not args.zfvis:
        for name in names:
            report("pytorch", name, median_step(steps[name], iters[name]))
        return
    ours = {name: [] for name in names}
    theirs = {name: [] for name in names}
    for r in range(args.rounds):
        for name in names:
            z, isa = zfvis_step(args.zfvis, name, 3)
            p = median_step(steps[name], iters[name])
            ours[name].append(z)
            theirs[name].append(p)
            print(f"round {r + 1} {name}: zfvis {64 / z:.1f} images/s ({isa}), "
                  f"pytorch {64 / p:.1f} images/s, load {os.getloadavg()[0]:.2f}", flush=True)
    for name in names:
        z, p = statistics.median(ours[name]), statistics.median(theirs[name])
        report("zfvis", name, z)
        report("pytorch", name, p)
        print(f"{name}: zfvis / pytorch = {p / z:.2f}x")


if __name__ == "__main__":
    main()
