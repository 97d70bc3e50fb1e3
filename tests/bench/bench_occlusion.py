#!/usr/bin/env python3
"""PyTorch peer for the occlusion benchmark (zfvis-cli occlusion --time).

The built-in caffe-alexnet architecture (grouped conv2/4/5, LRN, ceil-free 3x3/2 max pooling,
softmax) with random weights, 2 threads, an input of 3 x 227 x 227, patch 50, stride 8: 23 x 23 =
529 occluded copies run in batches of 32. For each copy it records the probability of the
unoccluded top-1 class and the most probable class, like zfvis. Prints the median over --runs.

Run with Debian's python3 on a quiet machine (uptime load < 1.5), next to ours:
  /usr/bin/python3 tests/bench/bench_occlusion.py
  build/app/zfvis-cli occlusion --model caffe-alexnet --image resources/images/chelsea.png \
      --patch 50 --stride 8 --time
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def caffe_alexnet():
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, 4), nn.ReLU(inplace=True), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0),
        nn.MaxPool2d(3, 2),                                   # 96 x 27 x 27
        nn.Conv2d(96, 256, 5, 1, 2, groups=2), nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0), nn.MaxPool2d(3, 2),  # 256 x 13 x 13
        nn.Conv2d(256, 384, 3, 1, 1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, 1, 1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, 1, 1, groups=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2), nn.Flatten(),                     # 9216
        nn.Linear(9216, 4096), nn.ReLU(inplace=True), nn.Dropout(),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(),
        nn.Linear(4096, 1000), nn.Softmax(dim=1),
    ).eval()


def occlusion(net, x, patch, stride, batch, fill=0.0):
    _, c, h, w = x.shape
    rows, cols = (h - patch) // stride + 1, (w - patch) // stride + 1
    with torch.no_grad():
        base = net(x)[0]
        target = int(base.argmax())
        prob = torch.empty(rows * cols)
        top = torch.empty(rows * cols, dtype=torch.int64)
        total = rows * cols
        for first in range(0, total, batch):
            n = min(batch, total - first)
            xs = x.repeat(n, 1, 1, 1)
            for k in range(n):
                i, j = divmod(first + k, cols)
                xs[k, :, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
            p = net(xs)
            prob[first:first + n] = p[:, target]
            top[first:first + n] = p.argmax(dim=1)
    return prob.view(rows, cols), top.view(rows, cols)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--patch", type=int, default=50)
    ap.add_argument("--stride", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = caffe_alexnet()
    x = torch.randn(1, 3, 227, 227) * 50
    occlusion(net, x, a.patch, a.stride, a.batch)  # warm-up
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        prob, _ = occlusion(net, x, a.patch, a.stride, a.batch)
        times.append((time.perf_counter() - t0) * 1000)
    print("pytorch %s occlusion %d placements: median %.0f ms (runs: %s)" % (
        torch.__version__, prob.numel(), statistics.median(times),
        ", ".join("%.0f" % t for t in times)))


if __name__ == "__main__":
    main()
