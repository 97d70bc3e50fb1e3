#!/usr/bin/python3
"""Writes the Keras HDF5 fixtures in tests/fixtures/keras/ and their reference outputs.

Run with Debian's /usr/bin/python3 (h5py + NumPy; TensorFlow/Keras is NOT needed):

    /usr/bin/python3 scripts/make_keras_fixtures.py

The files follow the Keras 2 HDF5 layout written by keras/saving/legacy/hdf5_format.py:

  model.save("x.h5"):
    /                  attrs keras_version (str), backend (str), model_config (JSON bytes:
                       {"class_name": "Sequential" | "Functional", "config": {...}})
    /model_weights     attrs layer_names (bytes array), backend, keras_version (bytes)
    /model_weights/<layer>                 attr weight_names (bytes array, or an empty float array)
    /model_weights/<layer>/<layer>/kernel:0, bias:0
    /model_weights/top_level_model_weights attr weight_names = []
  model.save_weights("x.h5"): the same as /model_weights, at the root.

Layer groups list every layer of `model.layers` (Sequential: without the InputLayer; Functional:
with it, in Keras' depth order). Kernels are stored as Keras holds them: Conv2D (kH, kW, in, out),
Dense (in, units).

The expected outputs are computed here, independently of zfvis, by a small NumPy forward pass
with Keras semantics: channels-last tensors, TensorFlow "same" padding (extra pixel at the
bottom/right), max pooling that ignores padding, average pooling that divides by the number of
real pixels, Flatten in H, W, C order, Dense = x @ kernel + bias. Inputs are saved as C x H x W
float32 (what `zfvis-cli --image x.npy` takes); outputs as 1 x classes float32.

The small models keep the layer kinds, strides, padding and quirks of the seed's Keras listings
(no activation on conv1 and on the hidden Dense layers; softmax at the end) with a smaller input
and a few channels, so the fixtures stay small.
"""

import json
import math
import os
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "keras")
KERAS_VERSION = "2.11.0"
RNG = np.random.default_rng(20131112)  # the ZF paper's arXiv date


# ---------------------------------------------------------------------------------------------
# Keras 2.11 layer configs (what layer.get_config() returns)

def _init(name):
    return {"class_name": name, "config": {"seed": None} if name == "GlorotUniform" else {}}


def conv2d(name, filters, k, s=1, padding="valid", activation="linear", use_bias=True,
           dilation=1, data_format="channels_last", input_shape=None):
    c = {"name": name, "trainable": True, "dtype": "float32"}
    if input_shape is not None:
        c["batch_input_shape"] = [None] + list(input_shape)
    c.update({"filters": filters, "kernel_size": [k, k], "strides": [s, s], "padding": padding,
              "data_format": data_format, "dilation_rate": [dilation, dilation], "groups": 1,
              "activation": activation, "use_bias": use_bias,
              "kernel_initializer": _init("GlorotUniform"), "bias_initializer": _init("Zeros"),
              "kernel_regularizer": None, "bias_regularizer": None,
              "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None})
    return {"class_name": "Conv2D", "config": c}


def pool2d(cls, name, k, s=None, padding="valid", data_format="channels_last"):
    s = k if s is None else s
    return {"class_name": cls, "config": {"name": name, "trainable": True, "dtype": "float32",
                                          "pool_size": [k, k], "padding": padding,
                                          "strides": [s, s], "data_format": data_format}}


def max_pool(name, k, s=None, padding="valid", data_format="channels_last"):
    return pool2d("MaxPooling2D", name, k, s, padding, data_format)


def avg_pool(name, k, s=None, padding="valid"):
    return pool2d("AveragePooling2D", name, k, s, padding)


def gap(name):
    return {"class_name": "GlobalAveragePooling2D",
            "config": {"name": name, "trainable": True, "dtype": "float32",
                       "data_format": "channels_last", "keepdims": False}}


def flatten(name, data_format="channels_last"):
    return {"class_name": "Flatten", "config": {"name": name, "trainable": True,
                                                "dtype": "float32", "data_format": data_format}}


def dense(name, units, activation="linear", use_bias=True):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units,
        "activation": activation, "use_bias": use_bias,
        "kernel_initializer": _init("GlorotUniform"), "bias_initializer": _init("Zeros"),
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}}


def dropout(name, rate=0.5):
    return {"class_name": "Dropout", "config": {"name": name, "trainable": True,
                                                "dtype": "float32", "rate": rate,
                                                "noise_shape": None, "seed": None}}


def activation(name, act):
    return {"class_name": "Activation", "config": {"name": name, "trainable": True,
                                                   "dtype": "float32", "activation": act}}


def relu_layer(name):
    return {"class_name": "ReLU", "config": {"name": name, "trainable": True, "dtype": "float32",
                                             "max_value": None, "negative_slope": 0.0,
                                             "threshold": 0.0}}


def softmax_layer(name, axis=-1):
    return {"class_name": "Softmax", "config": {"name": name, "trainable": True,
                                                "dtype": "float32", "axis": axis}}


def concatenate(name, axis=-1):
    return {"class_name": "Concatenate", "config": {"name": name, "trainable": True,
                                                    "dtype": "float32", "axis": axis}}


def input_layer(name, shape):
    return {"class_name": "InputLayer", "config": {"batch_input_shape": [None] + list(shape),
                                                   "dtype": "float32", "sparse": False,
                                                   "ragged": False, "name": name}}


# ---------------------------------------------------------------------------------------------
# Reference forward pass with Keras semantics (NumPy, float64, N x H x W x C)

def same_pads(size, k, s, d=1):
    eff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def ref_conv(x, kernel, bias, cfg):
    k, s, d = cfg["kernel_size"][0], cfg["strides"][0], cfg["dilation_rate"][0]
    if cfg["padding"] == "same":
        (t, b), (l, r) = same_pads(x.shape[1], k, s, d), same_pads(x.shape[2], k, s, d)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    eff = (k - 1) * d + 1
    oh, ow = (x.shape[1] - eff) // s + 1, (x.shape[2] - eff) // s + 1
    y = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for ky in range(k):
        for kx in range(k):
            patch = x[:, ky * d: ky * d + (oh - 1) * s + 1: s, kx * d: kx * d + (ow - 1) * s + 1: s]
            y += patch @ kernel[ky, kx]
    if bias is not None:
        y += bias
    return y


def ref_pool(x, cfg, is_max):
    k, s = cfg["pool_size"][0], cfg["strides"][0]
    n, h, w, c = x.shape
    if cfg["padding"] == "same":
        (t, b), (l, r) = same_pads(h, k, s), same_pads(w, k, s)
    else:
        t = b = l = r = 0
    oh, ow = (h + t + b - k) // s + 1, (w + l + r - k) // s + 1
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            y0, x0 = max(i * s - t, 0), max(j * s - l, 0)
            y1, x1 = min(i * s - t + k, h), min(j * s - l + k, w)
            win = x[:, y0:y1, x0:x1, :]  # only real pixels
            y[:, i, j, :] = win.max(axis=(1, 2)) if is_max else win.mean(axis=(1, 2))
    return y


def ref_activation(x, act):
    if act == "relu":
        return np.maximum(x, 0)
    if act == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    assert act == "linear"
    return x


def ref_layer(cls, cfg, inputs, weights):
    x = inputs[0]
    channels_first = cfg.get("data_format") == "channels_first"
    if cls in ("Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D") \
            and channels_first:
        x = x.transpose(0, 2, 3, 1)  # compute channels-last, convert back below
    if cls == "Conv2D":
        y = ref_activation(ref_conv(x, weights[0], weights[1] if cfg["use_bias"] else None, cfg),
                           cfg["activation"])
    elif cls == "MaxPooling2D":
        y = ref_pool(x, cfg, True)
    elif cls == "AveragePooling2D":
        y = ref_pool(x, cfg, False)
    elif cls == "GlobalAveragePooling2D":
        return x.mean(axis=(1, 2))
    elif cls == "Flatten":
        if channels_first and x.ndim == 4:
            x = x.transpose(0, 2, 3, 1)  # Keras moves channels last before flattening
        return x.reshape(x.shape[0], -1)
    elif cls == "Dense":
        y = x @ weights[0]
        if cfg["use_bias"]:
            y = y + weights[1]
        return ref_activation(y, cfg["activation"])
    elif cls == "Dropout":
        return x
    elif cls == "Activation":
        return ref_activation(x, cfg["activation"])
    elif cls == "ReLU":
        return np.maximum(x, 0)
    elif cls == "Softmax":
        assert cfg["axis"] == -1
        return ref_activation(x, "softmax")
    elif cls == "Concatenate":
        return np.concatenate(inputs, axis=cfg["axis"])
    else:
        raise ValueError(cls)
    return y.transpose(0, 3, 1, 2) if channels_first else y


# ---------------------------------------------------------------------------------------------
# Models: a list of layers, each (layer_dict, input names); weights made up here

class Model:
    def __init__(self, name, kind, input_name, input_shape, implicit_input=False):
        self.name, self.kind = name, kind
        self.input_name, self.input_shape = input_name, tuple(input_shape)
        self.implicit_input = implicit_input  # Sequential saved without an InputLayer entry
        self.layers = []   # (dict, [input names]) in creation order
        self.weights = {}  # layer name -> [kernel, bias]
        self.output = None

    def add(self, layer, inputs=None):
        name = layer["config"]["name"]
        if inputs is None:
            inputs = [self.layers[-1][0]["config"]["name"]] if self.layers else [self.input_name]
        self.layers.append((layer, inputs))
        self.output = name
        return name

    def make_weights(self):
        """Glorot-uniform-like kernels and small random biases, layer by layer."""
        feats = {self.input_name: np.zeros((1,) + self.input_shape)}
        for layer, ins in self.layers:
            cls, cfg, name = layer["class_name"], layer["config"], layer["config"]["name"]
            x = [feats[i] for i in ins]
            if cls in ("Conv2D", "Dense"):
                if cls == "Conv2D":
                    cin = x[0].shape[1 if cfg["data_format"] == "channels_first" else -1]
                    shape = tuple(cfg["kernel_size"]) + (cin, cfg["filters"])
                    fan_in, fan_out = np.prod(shape[:3]), shape[0] * shape[1] * shape[3]
                else:
                    shape = (x[0].shape[-1], cfg["units"])
                    fan_in, fan_out = shape
                lim = math.sqrt(6.0 / (fan_in + fan_out)) * 1.5
                w = [RNG.uniform(-lim, lim, shape).astype(np.float32)]
                if cfg["use_bias"]:
                    w.append(RNG.uniform(-0.1, 0.1, shape[-1]).astype(np.float32))
                self.weights[name] = w
            feats[name] = ref_layer(cls, cfg, x, self.weights.get(name))

    def forward(self, x):
        """Returns (output, logits): the model's output and the values its final softmax
        normalises (the last layer without its softmax)."""
        t = {self.input_name: x.astype(np.float64)}
        logits = None
        for layer, ins in self.layers:
            name, cfg = layer["config"]["name"], layer["config"]
            w = [a.astype(np.float64) for a in self.weights.get(name, [])]
            xs = [t[i] for i in ins]
            t[name] = ref_layer(layer["class_name"], cfg, xs, w)
            if name == self.output:
                if cfg.get("activation") == "softmax" and layer["class_name"] != "Activation":
                    logits = ref_layer(layer["class_name"], dict(cfg, activation="linear"), xs, w)
                else:
                    logits = xs[0]
        return t[self.output], logits

    # ---- Keras' model.layers order -----------------------------------------------------------
    def keras_layer_order(self):
        """model.layers: Sequential = creation order; Functional = keras.engine.functional
        _map_graph_network: decreasing depth (longest path to the output), ties broken by the
        pre-order index of a depth-first walk from the output through the inputs in order."""
        names = [l["config"]["name"] for l, _ in self.layers]
        if self.kind == "Sequential":
            return names
        inputs = {l["config"]["name"]: ins for l, ins in self.layers}
        inputs[self.input_name] = []
        index = {}

        def walk(n):
            if n in index:
                return
            index[n] = len(index)
            for i in inputs[n]:
                walk(i)
        walk(self.output)
        depth = {n: 0 for n in index}
        for n in reversed(topological(inputs, self.output)):
            for i in inputs[n]:
                depth[i] = max(depth[i], depth[n] + 1)
        return sorted(index, key=lambda n: (-depth[n], index[n]))

    def config(self):
        order = self.keras_layer_order()
        by_name = {l["config"]["name"]: (l, ins) for l, ins in self.layers}
        if self.kind == "Sequential":
            layers = [] if self.implicit_input else [input_layer(self.input_name,
                                                                 self.input_shape)]
            layers += [by_name[n][0] for n in order]
            return {"class_name": "Sequential", "config": {"name": self.name, "layers": layers}}
        layers = []
        for n in order:
            if n == self.input_name:
                d = input_layer(n, self.input_shape)
                d["name"], d["inbound_nodes"] = n, []
            else:
                l, ins = by_name[n]
                d = dict(l)
                d["name"] = n
                d["inbound_nodes"] = [[[i, 0, 0, {}] for i in ins]]
            layers.append(d)
        return {"class_name": "Functional",
                "config": {"name": self.name, "layers": layers,
                           "input_layers": [[self.input_name, 0, 0]],
                           "output_layers": [[self.output, 0, 0]]}}


def topological(inputs, output):
    seen, order = set(), []

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for i in inputs[n]:
            visit(i)
        order.append(n)
    visit(output)
    return order


# ---------------------------------------------------------------------------------------------
# Writing HDF5 the way Keras 2 does

def names_attr(names):
    return np.asarray([n.encode("utf8") for n in names]) if names else np.asarray([])


def write_weights_group(g, model):
    """keras hdf5_format.save_weights_to_hdf5_group."""
    layer_names = [n for n in model.keras_layer_order()
                   if not (model.kind == "Sequential" and n == model.input_name)]
    g.attrs["layer_names"] = names_attr(layer_names)
    g.attrs["backend"] = b"tensorflow"
    g.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    for name in sorted(layer_names):
        lg = g.create_group(name)
        w = model.weights.get(name, [])
        wnames = [f"{name}/kernel:0", f"{name}/bias:0"][:len(w)]
        lg.attrs["weight_names"] = names_attr(wnames)
        for wn, val in zip(wnames, w):
            lg.create_dataset(wn, val.shape, dtype=val.dtype)[...] = val
    tg = g.create_group("top_level_model_weights")
    tg.attrs["weight_names"] = names_attr([])


def save_model(model, path):
    """keras hdf5_format.save_model_to_hdf5 (uncompiled model: no training_config)."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION  # str, as saving_utils.model_metadata gives it
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(model.config()).encode("utf8")
        write_weights_group(f.create_group("model_weights"), model)


def save_weights(model, path):
    """Keras model.save_weights("x.h5")."""
    with h5py.File(path, "w") as f:
        write_weights_group(f, model)


# ---------------------------------------------------------------------------------------------
# The fixtures

def alexnet():
    """The seed's single-tower AlexNet (Sequential, with an InputLayer entry), 67 x 99."""
    m = Model("alexnet", "Sequential", "conv2d_input", (67, 99, 3))
    m.add(conv2d("conv2d", 8, 11, 4))                                  # 15 x 23 x 8, no ReLU
    m.add(max_pool("max_pooling2d", 3, 2))                             # 7 x 11
    m.add(conv2d("conv2d_1", 12, 5, 1, "same", "relu"))                # 7 x 11 x 12
    m.add(max_pool("max_pooling2d_1", 3, 2))                           # 3 x 5
    m.add(conv2d("conv2d_2", 16, 3, 1, "same", "relu"))
    m.add(conv2d("conv2d_3", 16, 3, 1, "same", "relu"))
    m.add(conv2d("conv2d_4", 12, 3, 1, "same", "relu"))                # 3 x 5 x 12
    m.add(max_pool("max_pooling2d_2", 3, 2))                           # 1 x 2 x 12
    m.add(flatten("flatten"))                                          # 24 (H, W, C order)
    m.add(dense("dense", 32))
    m.add(dropout("dropout"))
    m.add(dense("dense_1", 32))
    m.add(dropout("dropout_1"))
    m.add(dense("dense_2", 10, "softmax"))
    return m


def alexnet2tower():
    """The seed's "Alexnet 2" (Functional, two towers joined by Concatenate), 67 x 99."""
    m = Model("alexnet2", "Functional", "input_1", (67, 99, 3))
    names = iter(["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1",
                  "conv2d_2", "max_pooling2d_2", "conv2d_3", "max_pooling2d_3"])
    tops = []
    for _ in range(2):
        m.add(conv2d(next(names), 4, 11, 4), [m.input_name])          # 15 x 23 x 4, no ReLU
        m.add(max_pool(next(names), 3, 2))                             # 7 x 11
        m.add(conv2d(next(names), 6, 5, 1, "same", "relu"))            # 7 x 11 x 6
        tops.append(m.add(max_pool(next(names), 3, 2)))                # 3 x 5 x 6
    m.add(concatenate("concatenate"), tops)                            # 3 x 5 x 12
    names = iter(["conv2d_4", "conv2d_5", "conv2d_6", "conv2d_7", "conv2d_8", "conv2d_9"])
    tops = []
    for _ in range(2):
        m.add(conv2d(next(names), 8, 3, 1, "same", "relu"), ["concatenate"])
        m.add(conv2d(next(names), 8, 3, 1, "same", "relu"))
        tops.append(m.add(conv2d(next(names), 6, 3, 1, "same", "relu")))  # 3 x 5 x 6
    m.add(concatenate("concatenate_1"), tops)                          # 3 x 5 x 12
    m.add(flatten("flatten"))                                          # 180
    m.add(dense("dense", 24))
    m.add(dropout("dropout"))
    m.add(dense("dense_1", 24))
    m.add(dropout("dropout_1"))
    m.add(dense("dense_2", 10, "softmax"))
    return m


def zfnet():
    """The seed's ZFNet (Sequential saved the Keras <= 2.3 way: batch_input_shape on the first
    layer, no InputLayer entry), 63 x 79: conv2 5x5 stride 2 "same" pads 1 top/left, 2
    bottom/right."""
    m = Model("zfnet", "Sequential", "conv2d_input", (63, 79, 3), implicit_input=True)
    m.add(conv2d("conv2d", 8, 7, 2, input_shape=(63, 79, 3)))          # 29 x 37 x 8, no ReLU
    m.add(max_pool("max_pooling2d", 3, 2))                             # 14 x 18
    m.add(conv2d("conv2d_1", 12, 5, 2, "same", "relu"))                # 7 x 9 x 12
    m.add(max_pool("max_pooling2d_1", 3, 2))                           # 3 x 4
    m.add(conv2d("conv2d_2", 16, 3, 1, "same", "relu"))
    m.add(conv2d("conv2d_3", 16, 3, 1, "same", "relu"))
    m.add(conv2d("conv2d_4", 12, 3, 1, "same", "relu"))                # 3 x 4 x 12
    m.add(flatten("flatten"))                                          # 144
    m.add(dense("dense", 32))
    m.add(dropout("dropout"))
    m.add(dense("dense_1", 32))
    m.add(dropout("dropout_1"))
    m.add(dense("dense_2", 10, "softmax"))
    return m


def nin():
    """The seed's NIN: the AlexNet trunk, global average pooling, softmax; 67 x 99."""
    m = Model("nin", "Sequential", "conv2d_input", (67, 99, 3))
    m.add(conv2d("conv2d", 8, 11, 4))
    m.add(max_pool("max_pooling2d", 3, 2))
    m.add(conv2d("conv2d_1", 12, 5, 1, "same", "relu"))
    m.add(max_pool("max_pooling2d_1", 3, 2))
    m.add(conv2d("conv2d_2", 16, 3, 1, "same", "relu"))
    m.add(conv2d("conv2d_3", 16, 3, 1, "same", "relu"))
    m.add(conv2d("conv2d_4", 12, 3, 1, "same", "relu"))
    m.add(max_pool("max_pooling2d_2", 3, 2))                           # 1 x 2 x 12
    m.add(gap("global_average_pooling2d"))                             # 12
    m.add(activation("activation", "softmax"))
    return m


def mixed():
    """Everything else the importer supports: strided/dilated "same" convolutions, pooling with
    "same" padding, Activation / ReLU / Softmax layers, a bias-free convolution, Concatenate of a
    flattened tensor and a globally pooled one, Dense with a ReLU; 32 x 40."""
    m = Model("mixed", "Functional", "image", (32, 40, 3))
    m.add(conv2d("stem", 6, 3, 2, "same", "relu"))                     # 16 x 20 x 6 (pad 0/1)
    m.add(max_pool("pool_same", 3, 2, "same"))                         # 8 x 10 (pad 0/1)
    m.add(avg_pool("avg_same", 3, 2, "same"))                          # 4 x 5 (pad 1/1, 0/1)
    a = m.add(flatten("flat"))                                         # 120
    m.add(conv2d("dilated", 4, 3, 1, "same", use_bias=False, dilation=2), ["stem"])
    m.add(activation("act_relu", "relu"))
    m.add(avg_pool("avg_valid", 2, 2))                                 # 8 x 10 x 4
    m.add(relu_layer("relu_layer"))
    b = m.add(gap("gap"))                                              # 4
    m.add(concatenate("features"), [a, b])                             # 124
    m.add(dense("fc", 16, "relu"))
    m.add(dropout("drop", 0.25))
    m.add(dense("logits", 5))
    m.add(softmax_layer("prob"))
    return m


def channels_first():
    """A small data_format="channels_first" Sequential model, input 3 x 20 x 24."""
    m = Model("cf", "Sequential", "input_cf", (3, 20, 24))
    cf = "channels_first"
    m.add(conv2d("conv", 4, 3, 2, "same", "relu", data_format=cf))    # 4 x 10 x 12
    m.add(max_pool("pool", 2, 2, data_format=cf))                      # 4 x 5 x 6
    m.add(flatten("flatten", data_format=cf))                          # 120 (H, W, C order)
    m.add(dense("dense", 6, "softmax"))
    return m


def absurd_dims(path):
    """A model whose Dense kernel is declared 65536 x 65536 (16 GiB) but never written."""
    cfg = {"class_name": "Sequential", "config": {"name": "absurd", "layers": [
        input_layer("in", (65536,)), dense("dense", 65536)]}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(cfg).encode("utf8")
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = names_attr(["dense"])
        lg = g.create_group("dense")
        lg.attrs["weight_names"] = names_attr(["dense/kernel:0", "dense/bias:0"])
        lg.create_dataset("dense/kernel:0", (65536, 65536), dtype=np.float32)  # not allocated
        lg.create_dataset("dense/bias:0", (65536,), dtype=np.float32)


def unsupported(path):
    """A valid Keras file with a BatchNormalization layer (not supported by zfvis)."""
    m = Model("unsupported", "Sequential", "in", (8, 8, 3))
    m.add(conv2d("conv2d", 2, 3))
    m.add({"class_name": "BatchNormalization", "config": {"name": "batch_normalization",
                                                          "axis": [3], "momentum": 0.99,
                                                          "epsilon": 0.001}})
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(m.config()).encode("utf8")
        f.create_group("model_weights").attrs["layer_names"] = names_attr([])


def main():
    os.makedirs(OUT, exist_ok=True)
    inputs = {}
    for make in (alexnet, alexnet2tower, zfnet, nin, mixed, channels_first):
        m = make()
        m.make_weights()
        shape = m.input_shape
        cf = m.name == "cf"
        key = "x".join(str(d) for d in (shape[1:] if cf else shape[:2]))
        if key not in inputs:
            x = RNG.uniform(-1.0, 1.0, (1,) + shape).astype(np.float32)
            chw = x[0] if cf else x[0].transpose(2, 0, 1)
            np.save(os.path.join(OUT, f"input_{key}.npy"), np.ascontiguousarray(chw))
            inputs[key] = x
        y, logits = m.forward(inputs[key])
        y = y.astype(np.float32).reshape(1, -1)
        stem = "keras_" + ("alexnet2tower" if m.name == "alexnet2" else m.name)
        np.save(os.path.join(OUT, f"{stem}_expected.npy"), y)
        np.save(os.path.join(OUT, f"{stem}_logits.npy"), logits.astype(np.float32).reshape(1, -1))
        save_model(m, os.path.join(OUT, f"{stem}.h5"))
        if make in (alexnet, alexnet2tower, zfnet, nin):
            save_weights(m, os.path.join(OUT, f"{stem}_weights.h5"))
        print(f"{stem}: input {key}, output {np.round(y[0], 3)}, logits range "
              f"{logits.min():.2f}..{logits.max():.2f}, layers {m.keras_layer_order()}")
    absurd_dims(os.path.join(OUT, "keras_absurd_dims.h5"))
    unsupported(os.path.join(OUT, "keras_unsupported_layer.h5"))
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(os.listdir(OUT))} files, {total} bytes in {OUT}")


if __name__ == "__main__":
    sys.exit(main())
