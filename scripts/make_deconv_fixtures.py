#!/usr/bin/env python3
"""Regenerates tests/fixtures/deconv: golden back-projections computed with PyTorch autograd.

Three small networks shaped like AlexNet (grouped convs, LRN, 11x11 stride 4), ZFNet (7x7 stride 2,
padded pooling, pool-then-LRN) and NIN (1x1 mlpconv, ceil-mode pooling, global average pooling).
For each, deterministic weights and an input are saved as .npy, and projections of chosen units
are computed with custom ReLU backward rules:

  deconvnet  relu(g)              (Zeiler & Fergus: rectify the signal)
  guided     relu(g) * [x > 0]    (guided backpropagation)
  saliency   g * [x > 0]          (the plain gradient)

Max pooling routes through F.max_pool2d's own backward (the switches), convolutions and linear
layers use their true input gradients, LRN its true gradient. The seed is a tensor shaped like the
layer's output, zero except the unit's own value. A softmax output is projected from its score
(the signal passes the softmax unchanged). index.json lists every case.

Run with Debian's python3:  /usr/bin/python3 scripts/make_deconv_fixtures.py
"""
import os

import numpy as np
import torch

from fixture_nets import (as_float32_double, build_params, forward, index_entry,
                          save_params_and_input, write_index)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "deconv")
MODE = {"deconvnet": 0, "guided": 1, "saliency": 2}


class Relu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mode):
        ctx.save_for_backward(x)
        ctx.mode = mode
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.mode == "deconvnet":
            return g.clamp(min=0), None
        if ctx.mode == "guided":
            return g.clamp(min=0) * (x > 0).to(g.dtype), None
        return g * (x > 0).to(g.dtype), None


# Layer specs mirror NetBuilder calls in tests/core/test_projector.cpp. Each entry:
# (name, kind, params). Kinds: conv(out, k, s, pad, groups), relu, lrn(size, alpha, beta, k),
# maxpool(k, s, pad, ceil), gap, flatten, dense(units), dropout, softmax.
MODELS = {
    "alex_small": {
        "input": (3, 67, 67),
        "layers": [
            ("conv1", "conv", (8, 11, 4, 0, 1)), ("relu1", "relu", ()),
            ("norm1", "lrn", (5, 0.05, 0.75, 1.0)), ("pool1", "maxpool", (3, 2, 0, False)),
            ("conv2", "conv", (16, 5, 1, 2, 2)), ("relu2", "relu", ()),
            ("norm2", "lrn", (5, 0.05, 0.75, 1.0)), ("pool2", "maxpool", (3, 2, 0, False)),
            ("conv3", "conv", (24, 3, 1, 1, 1)), ("relu3", "relu", ()),
            ("conv4", "conv", (24, 3, 1, 1, 2)), ("relu4", "relu", ()),
            ("conv5", "conv", (16, 3, 1, 1, 2)), ("relu5", "relu", ()),
            ("pool5", "maxpool", (3, 2, 0, False)), ("flatten", "flatten", ()),
            ("fc6", "dense", (32,)), ("relu6", "relu", ()), ("drop6", "dropout", ()),
            ("fc7", "dense", (32,)), ("relu7", "relu", ()), ("fc8", "dense", (10,)),
            ("prob", "softmax", ()),
        ],
        "cases": [("relu1", None), ("norm2", None), ("conv5", 2), ("prob", None)],
    },
    "zf_small": {
        "input": (3, 43, 43),
        "layers": [
            ("conv1", "conv", (8, 7, 2, 1, 1)), ("relu1", "relu", ()),
            ("pool1", "maxpool", (3, 2, 1, False)), ("norm1", "lrn", (5, 0.05, 0.75, 1.0)),
            ("conv2", "conv", (16, 5, 2, 0, 1)), ("relu2", "relu", ()),
            ("pool2", "maxpool", (3, 2, 1, False)), ("norm2", "lrn", (5, 0.05, 0.75, 1.0)),
            ("conv3", "conv", (16, 3, 1, 1, 1)), ("relu3", "relu", ()),
            ("conv4", "conv", (16, 3, 1, 1, 1)), ("relu4", "relu", ()),
            ("flatten", "flatten", ()), ("fc5", "dense", (10,)), ("prob", "softmax", ()),
        ],
        "cases": [("norm1", 5), ("relu4", None), ("prob", None)],
    },
    "nin_small": {
        "input": (3, 35, 35),
        "layers": [
            ("conv1", "conv", (8, 5, 2, 0, 1)), ("relu1", "relu", ()),
            ("cccp1", "conv", (8, 1, 1, 0, 1)), ("relu2", "relu", ()),
            ("pool1", "maxpool", (3, 2, 0, True)),
            ("conv2", "conv", (12, 3, 1, 1, 1)), ("relu3", "relu", ()),
            ("cccp2", "conv", (12, 1, 1, 0, 1)), ("relu4", "relu", ()),
            ("pool2", "maxpool", (3, 2, 0, True)), ("drop", "dropout", ()),
            ("conv3", "conv", (10, 3, 1, 1, 1)), ("relu5", "relu", ()),
            ("gap", "gap", ()), ("flatten", "flatten", ()), ("prob", "softmax", ()),
        ],
        "cases": [("relu2", None), ("pool2", None), ("relu5", None), ("prob", None)],
    },
}


def main():
    os.makedirs(OUT, exist_ok=True)
    index = {"models": {}}
    torch.set_default_dtype(torch.float64)  # goldens in double precision
    for model, spec in MODELS.items():
        gen = torch.Generator().manual_seed(1234)
        params = build_params(spec, gen)
        x0 = torch.randn(1, *spec["input"], generator=gen) * 40.0
        save_params_and_input(OUT, model, params, x0)
        # The goldens use the float32-rounded parameters and input, like the C++ side; the
        # projection passes a softmax unchanged, so a softmax layer is seeded at its scores.
        params, x0 = as_float32_double(params, x0)
        cases = []
        for layer, channel in spec["cases"]:
            for mode in MODE:
                x = x0.clone().requires_grad_(True)
                outs = forward(spec, params, x, lambda t: Relu.apply(t, mode))
                act = outs[layer].detach()
                if channel is None:  # default: the channel holding the layer's largest activation
                    flat = act[0].reshape(act.shape[1], -1)
                    channel_used = int(torch.argmax(flat.max(dim=1).values))
                else:
                    channel_used = channel
                if act.dim() == 4:
                    plane = act[0, channel_used].reshape(-1)
                    at = int(torch.argmax(plane))
                    y, xx = divmod(at, act.shape[3])
                    seed = torch.zeros_like(act)
                    seed[0, channel_used, y, xx] = act[0, channel_used, y, xx]
                    value = float(act[0, channel_used, y, xx])
                else:
                    y = xx = 0
                    seed = torch.zeros_like(act)
                    seed[0, channel_used] = act[0, channel_used]
                    value = float(act[0, channel_used])
                target = outs[layer + "#scores"] if layer + "#scores" in outs else outs[layer]
                target.backward(seed)
                g = x.grad[0].numpy().astype(np.float32)
                fname = f"{model}.{layer}.c{channel_used}.{mode}.npy"
                np.save(os.path.join(OUT, fname), g)
                cases.append({"layer": layer, "channel": channel_used, "requested_channel": channel,
                              "y": y, "x": xx, "value": value, "mode": mode, "file": fname})
        index["models"][model] = index_entry(spec, cases)
    write_index(OUT, index)


if __name__ == "__main__":
    main()
