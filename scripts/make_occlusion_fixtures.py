#!/usr/bin/env python3
"""Regenerates tests/fixtures/occlusion: golden occlusion maps computed with PyTorch.

Two tiny networks (an AlexNet-like one with LRN, grouped convolution and average pooling, and a
NIN-like one with a 1x1 convolution, padded ceil-mode max pooling and global average pooling)
get deterministic weights and an input, saved as .npy. For each case the occlusion experiment is
run the obvious way, in double precision: a square of side `patch` filled with `fill` in every
channel is placed with its top-left corner at (i * stride, j * stride) for every
i * stride <= H - patch and j * stride <= W - patch; each occluded copy is run through the network
and the script records the probability of the target class (softmax of the output unless the
network ends in softmax; default target: the unoccluded top-1), the most probable class, the
margin between the two most probable classes (to document near-ties) and the total activation
(sum over the map) of one channel of one layer. index.json describes the networks (layer lists
that tests/occlusion/test_occlusion.cpp rebuilds with NetBuilder) and every case.

Run with Debian's python3:  /usr/bin/python3 scripts/make_occlusion_fixtures.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture_nets import (as_float32_double, build_params, forward, index_entry,
                          save_params_and_input, write_index)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "occlusion")

# (name, kind, params). Kinds: conv(out, k, s, pad, groups), relu, lrn(size, alpha, beta, k),
# maxpool(k, s, pad, ceil), avgpool(k, s), gap, flatten, dense(units), softmax.
MODELS = {
    "occ_alex": {
        "input": (3, 32, 32),
        "layers": [
            ("conv1", "conv", (8, 5, 1, 2, 1)), ("relu1", "relu", ()),
            ("norm1", "lrn", (5, 0.05, 0.75, 1.0)), ("pool1", "maxpool", (3, 2, 0, False)),
            ("conv2", "conv", (16, 3, 1, 1, 2)), ("relu2", "relu", ()),
            ("pool2", "avgpool", (2, 2)), ("flatten", "flatten", ()),
            ("fc", "dense", (10,)),
        ],
        "output_scale": 0.6,
        # (name, patch, stride, fill, target class or None, feature layer or None, channel)
        "cases": [
            ("default", 8, 4, 0.0, None, "relu2", 3),
            ("conv1_fill", 8, 4, -1.5, 3, "conv1", 2),
            ("odd_stride", 7, 5, 0.5, None, "pool2", 11),
        ],
    },
    "occ_nin": {
        "input": (3, 32, 32),
        "layers": [
            ("conv1", "conv", (8, 3, 2, 1, 1)), ("relu1", "relu", ()),
            ("cccp1", "conv", (8, 1, 1, 0, 1)), ("relu2", "relu", ()),
            ("pool1", "maxpool", (3, 2, 1, True)),
            ("conv2", "conv", (10, 3, 1, 1, 1)), ("relu3", "relu", ()),
            ("gap", "gap", ()), ("flatten", "flatten", ()), ("prob", "softmax", ()),
        ],
        "output_scale": 3.0,
        "cases": [
            ("default", 6, 5, 0.0, None, "pool1", 1),
            ("big_patch", 20, 3, 3.0, 2, None, 0),
        ],
    },
}


def build_scaled_params(spec, gen):
    params = build_params(spec, gen)
    # Scale the last layer with weights so the classes compete (labels change under occlusion).
    last = [n for n, k, _ in spec["layers"] if k in ("conv", "dense")][-1]
    params[last] = (params[last][0] * spec["output_scale"], params[last][1])
    return params


def probabilities(spec, out):
    return out if spec["layers"][-1][1] == "softmax" else F.softmax(out, dim=1)


def occlusion(spec, params, x0, patch, stride, fill, target, feature, channel):
    _, c, h, w = x0.shape
    rows, cols = (h - patch) // stride + 1, (w - patch) // stride + 1
    copies = x0.repeat(rows * cols, 1, 1, 1)
    for i in range(rows):
        for j in range(cols):
            copies[i * cols + j, :, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
    outs = forward(spec, params, copies)
    last = spec["layers"][-1][0]
    p = probabilities(spec, outs[last])
    top2 = torch.topk(p, 2, dim=1)
    result = {
        "prob": p[:, target].reshape(rows, cols),
        "labels": p.argmax(dim=1).reshape(rows, cols),
        "margin": (top2.values[:, 0] - top2.values[:, 1]).reshape(rows, cols),
    }
    if feature is not None:
        maps = outs[feature]
        result["feature"] = maps[:, channel].reshape(rows * cols, -1).sum(dim=1).reshape(rows, cols)
    return rows, cols, result


def main():
    os.makedirs(OUT, exist_ok=True)
    index = {"models": {}}
    torch.set_default_dtype(torch.float64)  # goldens in double precision
    for model, spec in MODELS.items():
        gen = torch.Generator().manual_seed(4321)
        params = build_scaled_params(spec, gen)
        x0 = torch.randn(1, *spec["input"], generator=gen)
        save_params_and_input(OUT, model, params, x0)
        # The goldens use the float32-rounded parameters and input, like the C++ side.
        params, x0 = as_float32_double(params, x0)
        base = probabilities(spec, forward(spec, params, x0)[spec["layers"][-1][0]])[0]
        base_class = int(base.argmax())
        cases = []
        for name, patch, stride, fill, target, feature, channel in spec["cases"]:
            t = base_class if target is None else target
            rows, cols, r = occlusion(spec, params, x0, patch, stride, fill, t, feature, channel)
            case = {"name": name, "patch": patch, "stride": stride, "fill": fill,
                    "requested_class": target, "class": t, "base_class": base_class,
                    "base_probability": float(base[t]), "rows": rows, "cols": cols,
                    "layer": feature, "channel": channel}
            stem = f"{model}.{name}"
            np.save(os.path.join(OUT, stem + ".prob.npy"), r["prob"].numpy().astype(np.float32))
            np.save(os.path.join(OUT, stem + ".labels.npy"), r["labels"].numpy().astype(np.int32))
            np.save(os.path.join(OUT, stem + ".margin.npy"), r["margin"].numpy().astype(np.float32))
            if feature is not None:
                np.save(os.path.join(OUT, stem + ".feature.npy"),
                        r["feature"].numpy().astype(np.float32))
                maps = forward(spec, params, x0)[feature]
                case["base_feature"] = float(maps[0, channel].sum())
            case["min_margin"] = float(r["margin"].min())
            cases.append(case)
        index["models"][model] = index_entry(spec, cases)
    write_index(OUT, index)


if __name__ == "__main__":
    main()
