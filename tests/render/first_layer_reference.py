#!/usr/bin/env python3
"""Reference statistics for the real first layers in ../shared/data/weights (NumPy FFT, independent
of zfvis). Prints the numbers hard-coded in tests/render/test_shared_first_layers.cpp.
Run with Debian's python: /usr/bin/python3 tests/render/first_layer_reference.py [SHARED_DIR]"""
import sys
import numpy as np

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
N = 32
f = np.fft.fftfreq(N) * N
rho = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2) / (N / 2)  # fraction of Nyquist
low, high = rho < 1 / 3, rho >= 2 / 3

for name in ["alexnet_conv1_weight", "resnet152_conv1_weight"]:
    w = np.load(f"{shared}/data/weights/{name}.npy").astype(np.float64)
    rms = np.sqrt((w ** 2).reshape(w.shape[0], -1).mean(axis=1))
    med = np.median(rms)
    dead = (rms < 0.1 * med) | (rms == 0)
    power = np.zeros((w.shape[0], N, N))
    for c in range(w.shape[1]):
        power += np.abs(np.fft.fft2(w[:, c], s=(N, N))) ** 2
    total = power.sum(axis=(1, 2))
    lo = (power * low).sum(axis=(1, 2)) / total
    hi = (power * high).sum(axis=(1, 2)) / total
    mid = 1 - lo - hi
    live = ~dead
    shares = np.stack([lo, mid, hi], axis=1)[live]
    dominant = np.bincount(shares.argmax(axis=1), minlength=3)
    print(f"{name}: filters {w.shape[0]} median_rms {med:.9f} dead {dead.sum()} "
          f"above_0.1 {(rms > 0.1).sum()} low {lo[live].mean():.9f} mid {mid[live].mean():.9f} "
          f"high {hi[live].mean():.9f} dominant low/mid/high {dominant.tolist()}")
