"""Small networks described as layer lists, shared by the fixture scripts.

A spec is {"input": (C, H, W), "layers": [(name, kind, params), ...]}. Kinds:
conv(out, k, s, pad, groups), relu, lrn(size, alpha, beta, k), maxpool(k, s, pad, ceil),
avgpool(k, s), gap, flatten, dense(units), dropout, softmax. The C++ tests rebuild the same
networks with NetBuilder from the index.json the scripts write.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F


def build_params(spec, gen):
    """He-normal weights and N(0, 0.1) biases for every conv and dense layer, drawn from `gen`."""
    params = {}
    shape = tuple(spec["input"])
    for name, kind, p in spec["layers"]:
        if kind == "conv":
            out, k, s, pad, groups = p
            fan_in = shape[0] // groups * k * k
            params[name] = (torch.randn(out, shape[0] // groups, k, k, generator=gen) * (2.0 / fan_in) ** 0.5,
                            torch.randn(out, generator=gen) * 0.1)
            shape = (out, (shape[1] + 2 * pad - k) // s + 1, (shape[2] + 2 * pad - k) // s + 1)
        elif kind == "maxpool":
            k, s, pad, ceil = p
            shape = tuple(F.max_pool2d(torch.zeros(1, *shape), k, s, pad, ceil_mode=ceil).shape[1:])
        elif kind == "avgpool":
            k, s = p
            shape = tuple(F.avg_pool2d(torch.zeros(1, *shape), k, s).shape[1:])
        elif kind == "gap":
            shape = (shape[0], 1, 1)
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
        elif kind == "dense":
            (units,) = p
            params[name] = (torch.randn(units, shape[0], generator=gen) * (2.0 / shape[0]) ** 0.5,
                            torch.randn(units, generator=gen) * 0.1)
            shape = (units,)
    return params


def save_params_and_input(out_dir, model, params, x0):
    """Writes the input and every layer's weight and bias as float32 .npy files."""
    np.save(os.path.join(out_dir, f"{model}.input.npy"), x0.numpy().astype(np.float32))
    for name, (wt, b) in params.items():
        np.save(os.path.join(out_dir, f"{model}.{name}.weight.npy"), wt.numpy().astype(np.float32))
        np.save(os.path.join(out_dir, f"{model}.{name}.bias.npy"), b.numpy().astype(np.float32))


def as_float32_double(params, x0):
    """The float32-rounded parameters and input in double precision, like the C++ side sees them."""
    params = {k: (torch.from_numpy(w.numpy().astype(np.float32)).double(),
                  torch.from_numpy(b.numpy().astype(np.float32)).double())
              for k, (w, b) in params.items()}
    return params, torch.from_numpy(x0.numpy().astype(np.float32)).double()


def forward(spec, params, x, relu=F.relu):
    """Every layer's output by name; a softmax also records its input as '<name>#scores'."""
    outs = {}
    for name, kind, p in spec["layers"]:
        if kind == "conv":
            out, k, s, pad, groups = p
            wt, b = params[name]
            x = F.conv2d(x, wt, b, stride=s, padding=pad, groups=groups)
        elif kind == "relu":
            x = relu(x)
        elif kind == "lrn":
            size, alpha, beta, kk = p
            x = F.local_response_norm(x, size, alpha, beta, kk)
        elif kind == "maxpool":
            k, s, pad, ceil = p
            x = F.max_pool2d(x, k, s, pad, ceil_mode=ceil)
        elif kind == "avgpool":
            k, s = p
            x = F.avg_pool2d(x, k, s)
        elif kind == "gap":
            x = x.mean(dim=(2, 3), keepdim=True)
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind == "dense":
            wt, b = params[name]
            x = F.linear(x, wt, b)
        elif kind == "dropout":
            pass
        elif kind == "softmax":
            outs[name + "#scores"] = x
            x = F.softmax(x, dim=1)
        outs[name] = x
    return outs


def index_entry(spec, cases):
    """A model's entry in index.json: its input, cases and layer list (rebuilt by the C++ tests)."""
    return {"input": list(spec["input"]), "cases": cases,
            "layers": [[n, k, list(p)] for n, k, p in spec["layers"]]}


def write_index(out_dir, index):
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
