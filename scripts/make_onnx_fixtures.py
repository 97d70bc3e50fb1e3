#!/usr/bin/python3
"""Regenerates the ONNX test fixtures in tests/fixtures/onnx/.

Run with Debian's Python (torch 1.13, onnx 1.12, numpy):  /usr/bin/python3 scripts/make_onnx_fixtures.py

Writes tiny AlexNet-, ZFNet- and NIN-shaped networks (same layer kinds as the real ones, a few
channels, input 3 x 67 x 67, each file well under 100 KB), each twice:
  *_torch.onnx  exported by torch.onnx.export (opset 11 or 13)
  *_zoo.onnx    written directly with onnx.helper in the style of the ONNX Model Zoo's Caffe2
                conversions (bvlcalexnet-9, zfnet512-9): opset 9, IR version 3, initializers also
                listed as graph inputs, unnamed nodes, Reshape to [1, K] + Gemm(transB=1), old
                Dropout attributes (is_test, ratio), max pooling "ceil" done with extra end pads,
                Softmax(axis=1)
plus batchnorm.onnx (BatchNormalization after convolutions, foldable and not), matmul_add.onnx
(MatMul followed by Add) and twotower_torch.onnx (two branches joined by Concat, dynamic batch).

Every model gets <name>.expected.npy: its output for input_3x67x67.npy (or <name>.input.npy),
computed independently of zfvis by PyTorch (the torch module itself, or torch.nn.functional on
the same weights for the helper-built files), in float64.
"""

import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "onnx")
INPUT_SHAPE = (1, 3, 67, 67)

rng = np.random.default_rng(20130101)


def he(shape, fan_in, gain=1.0):
    return (rng.standard_normal(shape) * gain * np.sqrt(2.0 / fan_in)).astype(np.float32)


def small(shape):
    return (rng.standard_normal(shape) * 0.1).astype(np.float32)


def save_npy(name, array):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array, dtype=np.float32))


def save_model(model, name):
    path = os.path.join(OUT, name)
    onnx.save(model, path)
    size = os.path.getsize(path)
    assert size < 100 * 1024, f"{name} is {size} bytes"
    print(f"  {name}: {size} bytes, opset {model.opset_import[0].version}")


# ---- PyTorch modules -----------------------------------------------------------------------


class LrnFn(torch.autograd.Function):
    """torch's local_response_norm exports as a chain of ops; emit ONNX LRN instead."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class Lrn(nn.Module):
    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.args = (size, alpha, beta, k)

    def forward(self, x):
        return LrnFn.apply(x, *self.args)


def init_module(m):
    for layer in m.modules():
        if isinstance(layer, nn.Conv2d):
            fan_in = layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
            layer.weight.data = torch.from_numpy(he(tuple(layer.weight.shape), fan_in))
            layer.bias.data = torch.from_numpy(small(tuple(layer.bias.shape)))
        elif isinstance(layer, nn.Linear):
            layer.weight.data = torch.from_numpy(he(tuple(layer.weight.shape), layer.in_features))
            layer.bias.data = torch.from_numpy(small(tuple(layer.bias.shape)))


class AlexNetTiny(nn.Module):
    """Caffe AlexNet's layer kinds: 11x11/4 conv, LRN, grouped convs, ceil-mode max pooling."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, 11, stride=4, padding=2), nn.ReLU(), Lrn(),          # 6 x 16 x 16
            nn.MaxPool2d(3, 2, ceil_mode=True),                                  # 6 x 8 x 8
            nn.Conv2d(6, 8, 5, padding=2, groups=2), nn.ReLU(), Lrn(),           # 8 x 8 x 8
            nn.MaxPool2d(3, 2, ceil_mode=True),                                  # 8 x 4 x 4
            nn.Conv2d(8, 12, 3, padding=1), nn.ReLU(),                           # 12 x 4 x 4
            nn.Conv2d(12, 12, 3, padding=1, groups=2), nn.ReLU(),                # 12 x 4 x 4
            nn.Conv2d(12, 8, 3, padding=1, groups=2), nn.ReLU(),                 # 8 x 4 x 4
            nn.MaxPool2d(3, 2, ceil_mode=True),                                  # 8 x 2 x 2
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(), nn.Linear(32, 16), nn.ReLU(),
            nn.Dropout(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 10), nn.Softmax(dim=1))

    def forward(self, x):
        return self.classifier(self.features(x))


class ZfNetTiny(nn.Module):
    """ZFNet's layer kinds: 7x7/2 first conv, LRN, ceil-mode max pooling, dense layers."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, 7, stride=2, padding=1), nn.ReLU(), Lrn(),           # 6 x 32 x 32
            nn.MaxPool2d(3, 2, ceil_mode=True),                                  # 6 x 16 x 16
            nn.Conv2d(6, 8, 5, stride=2), nn.ReLU(), Lrn(),                      # 8 x 6 x 6
            nn.MaxPool2d(3, 2, ceil_mode=True),                                  # 8 x 3 x 3
            nn.Conv2d(8, 12, 3, padding=1), nn.ReLU(),                           # 12 x 3 x 3
            nn.Conv2d(12, 12, 3, padding=1), nn.ReLU(),                          # 12 x 3 x 3
            nn.Conv2d(12, 8, 3, padding=1), nn.ReLU(),                           # 8 x 3 x 3
            nn.MaxPool2d(3, 2, ceil_mode=True),                                  # 8 x 1 x 1
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(8, 16), nn.ReLU(), nn.Dropout(),
            nn.Linear(16, 16), nn.ReLU(), nn.Dropout(), nn.Linear(16, 10), nn.Softmax(dim=1))

    def forward(self, x):
        return self.classifier(self.features(x))


class NinTiny(nn.Module):
    """NIN's layer kinds: mlpconv blocks (conv + two 1x1 convs), dropout, global average pooling."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 11, stride=4, padding=2), nn.ReLU(),                 # 8 x 16 x 16
            nn.Conv2d(8, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 1), nn.ReLU(),
            nn.MaxPool2d(3, 2, ceil_mode=True),                                  # 8 x 8 x 8
            nn.Conv2d(8, 12, 5, padding=2), nn.ReLU(),                           # 12 x 8 x 8
            nn.Conv2d(12, 12, 1), nn.ReLU(), nn.Conv2d(12, 12, 1), nn.ReLU(),
            nn.MaxPool2d(3, 2, ceil_mode=True),                                  # 12 x 4 x 4
            nn.Dropout(),
            nn.Conv2d(12, 16, 3, padding=1), nn.ReLU(),                          # 16 x 4 x 4
            nn.Conv2d(16, 16, 1), nn.ReLU(), nn.Conv2d(16, 10, 1), nn.ReLU(),    # 10 x 4 x 4
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Softmax(dim=1))            # 10

    def forward(self, x):
        return self.net(x)


class TwoTower(nn.Module):
    """The seed's two-tower AlexNet idea in miniature: two branches joined by Concat."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 5, stride=2)
        self.b = nn.Conv2d(3, 4, 5, stride=2)
        self.pool = nn.MaxPool2d(3, 2)
        self.c = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.fc = nn.Linear(8 * 5 * 5, 10)

    def forward(self, x):
        y = torch.cat([F.relu(self.a(x)), F.relu(self.b(x))], dim=1)   # 8 x 32 x 32
        y = F.relu(self.c(self.pool(y)))                               # 8 x 15 x 15
        y = F.max_pool2d(y, 3, 3)                                      # 8 x 5 x 5
        return F.softmax(self.fc(torch.flatten(y, 1)), dim=1)


def scale_last_linear(module, factor):
    last = [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][-1]
    last.weight.data *= factor


def export_torch(module, name, x, opset, dynamic=False):
    module.eval()
    path = os.path.join(OUT, name + ".onnx")
    kwargs = {}
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(module, torch.from_numpy(x), path, opset_version=opset,
                      input_names=["input"], output_names=["output"], **kwargs)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    save_model(model, name + ".onnx")
    with torch.no_grad():
        module64 = module.double()
        y = module64(torch.from_numpy(x).double()).numpy()
        module.float()
    save_npy(name + ".expected.npy", y)
    report(name, y)
    return module


def report(name, y):
    p = y.reshape(y.shape[0], -1)
    print(f"  {name}: output {y.shape}, max {p.max():.4f}, min {p.min():.6f}")


# ---- zoo-style (Caffe2 conversion) models written with onnx.helper ----------------------------


class ZooBuilder:
    """Builds a graph the way the Caffe2 -> ONNX converter wrote the Model Zoo's files."""

    def __init__(self, input_name="data_0"):
        self.nodes, self.inits, self.input_name = [], [], input_name

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output], **attrs))  # unnamed, like Caffe2
        return output

    def model(self, output, out_dim, opset=9):
        inputs = [helper.make_tensor_value_info(self.input_name, TensorProto.FLOAT, list(INPUT_SHAPE))]
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in self.inits]
        graph = helper.make_graph(self.nodes, "zoo_style", inputs,
                                  [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, out_dim])],
                                  initializer=self.inits)
        model = helper.make_model(graph, producer_name="onnx-caffe2",
                                  opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 3
        return model


def conv_params(module):
    return module.weight.detach().numpy().copy(), module.bias.detach().numpy().copy()


def zoo_from_features(b, features, x_name, pool_pads, lrn_after_relu=True):
    """Conv/Relu/LRN/MaxPool part of a torch Sequential re-written as Caffe2-style nodes."""
    cur, k = x_name, 0
    counter = {"conv": 0, "pool": 0, "norm": 0}
    for layer in features:
        if isinstance(layer, nn.Conv2d):
            counter["conv"] += 1
            i = counter["conv"]
            w, bias = conv_params(layer)
            cur = b.node("Conv", [cur, b.init(f"conv{i}_w_0", w), b.init(f"conv{i}_b_0", bias)],
                         f"conv{i}_1", kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                         pads=[layer.padding[0], layer.padding[1]] * 2, dilations=[1, 1],
                         group=layer.groups)
            last_conv = i
        elif isinstance(layer, nn.ReLU):
            cur = b.node("Relu", [cur], f"conv{last_conv}_2")
        elif isinstance(layer, Lrn):
            counter["norm"] += 1
            size, alpha, beta, kk = layer.args
            cur = b.node("LRN", [cur], f"norm{counter['norm']}_1", size=size, alpha=alpha, beta=beta,
                         bias=kk)
        elif isinstance(layer, nn.MaxPool2d):
            counter["pool"] += 1
            pads = pool_pads[counter["pool"] - 1]
            cur = b.node("MaxPool", [cur], f"pool{counter['pool']}_1", kernel_shape=[3, 3],
                         strides=[2, 2], pads=pads)
        elif isinstance(layer, nn.Dropout):
            counter.setdefault("drop", 0)
            counter["drop"] += 1
            cur = b.node("Dropout", [cur], f"drop{counter['drop']}_1", is_test=1, ratio=0.5)
        else:
            raise RuntimeError(f"unexpected layer {layer}")
    return cur


def zoo_classifier(b, cur, linears, flat, drop_after):
    shape = b.init("OC2_DUMMY_1", np.array([1, flat], dtype=np.int64))
    cur = b.node("Reshape", [cur, shape], "OC2_DUMMY_0")
    for i, lin in enumerate(linears):
        n = 6 + i
        w, bias = lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy()
        cur = b.node("Gemm", [cur, b.init(f"fc{n}_w_0", w), b.init(f"fc{n}_b_0", bias)], f"fc{n}_1",
                     transB=1)
        if i + 1 < len(linears):
            cur = b.node("Relu", [cur], f"fc{n}_2")
            if i in drop_after:
                cur = b.node("Dropout", [cur], f"fc{n}_3", is_test=1, ratio=0.5)
    return b.node("Softmax", [cur], "prob_1", axis=1)


def export_zoo(module, name, x, pool_pads, flat, drop_after):
    """A zoo-style file with `module`'s weights; golden = the torch module's output."""
    b = ZooBuilder()
    features = module.features
    cur = zoo_from_features(b, features, b.input_name, pool_pads)
    linears = [m for m in module.classifier if isinstance(m, nn.Linear)]
    out = zoo_classifier(b, cur, linears, flat, drop_after)
    model = b.model(out, 10)
    save_model(model, name + ".onnx")
    with torch.no_grad():
        y = module.double()(torch.from_numpy(x).double()).numpy()
        module.float()
    save_npy(name + ".expected.npy", y)
    report(name, y)


def export_nin_zoo(module, name, x):
    b = ZooBuilder()
    cur, conv, pool, drop = b.input_name, 0, 0, 0
    for layer in module.net:
        if isinstance(layer, nn.Conv2d):
            conv += 1
            w, bias = conv_params(layer)
            cur = b.node("Conv", [cur, b.init(f"conv{conv}_w_0", w), b.init(f"conv{conv}_b_0", bias)],
                         f"conv{conv}_1", kernel_shape=list(layer.kernel_size),
                         strides=list(layer.stride), pads=[layer.padding[0], layer.padding[1]] * 2)
        elif isinstance(layer, nn.ReLU):
            cur = b.node("Relu", [cur], f"conv{conv}_2")
        elif isinstance(layer, nn.MaxPool2d):
            pool += 1
            cur = b.node("MaxPool", [cur], f"pool{pool}_1", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[0, 0, 1, 1])
        elif isinstance(layer, nn.Dropout):
            drop += 1
            cur = b.node("Dropout", [cur], f"drop{drop}_1", is_test=1, ratio=0.5)
        elif isinstance(layer, nn.AdaptiveAvgPool2d):
            cur = b.node("GlobalAveragePool", [cur], "pool4_1")
        elif isinstance(layer, nn.Flatten):
            shape = b.init("OC2_DUMMY_1", np.array([1, 10], dtype=np.int64))
            cur = b.node("Reshape", [cur, shape], "OC2_DUMMY_0")
        elif isinstance(layer, nn.Softmax):
            cur = b.node("Softmax", [cur], "prob_1", axis=1)
    model = b.model(cur, 10)
    save_model(model, name + ".onnx")
    with torch.no_grad():
        y = module.double()(torch.from_numpy(x).double()).numpy()
        module.float()
    save_npy(name + ".expected.npy", y)
    report(name, y)


# ---- BatchNorm and MatMul + Add models -------------------------------------------------------


def make_batchnorm(x):
    """conv1 -> bn1 (foldable) -> relu -> conv2 -> bn2, where conv2's output also feeds an Add
    (so bn2 stays a BatchNormalization layer) -> relu -> maxpool -> bn3 (after a pool: a layer)
    -> GlobalAveragePool -> Flatten -> Gemm -> Softmax. Opset 12."""
    w1, b1 = he((6, 3, 5, 5), 75, gain=0.02), small((6,))  # the input is in +-100
    w2, b2 = he((6, 6, 3, 3), 54), small((6,))
    wf, bf = he((10, 6), 6, gain=0.3), small((10,))

    def bn():
        return (rng.uniform(0.5, 1.5, 6).astype(np.float32), small((6,)),
                small((6,)), rng.uniform(0.5, 2.0, 6).astype(np.float32))

    bn1, bn2, bn3 = bn(), bn(), bn()
    inits = [numpy_helper.from_array(a, n) for a, n in [
        (w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (wf, "wf"), (bf, "bf")]]
    for k, p in enumerate([bn1, bn2, bn3], 1):
        for a, n in zip(p, ["scale", "shift", "mean", "var"]):
            inits.append(numpy_helper.from_array(a, f"bn{k}_{n}"))

    def bn_inputs(k):
        return [f"bn{k}_scale", f"bn{k}_shift", f"bn{k}_mean", f"bn{k}_var"]

    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[5, 5],
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1"] + bn_inputs(1), ["n1"], name="bn1",
                         epsilon=1e-3),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c2"] + bn_inputs(2), ["n2"], name="bn2"),
        helper.make_node("Add", ["n2", "c2"], ["s2"], name="add2"),
        helper.make_node("Relu", ["s2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[3, 3],
                         strides=[2, 2]),
        helper.make_node("BatchNormalization", ["p2"] + bn_inputs(3), ["n3"], name="bn3"),
        helper.make_node("GlobalAveragePool", ["n3"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["output"], name="prob", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "batchnorm",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 67, 67])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 10])], initializer=inits)
    model = helper.make_model(graph, producer_name="zfvis-fixtures",
                              opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    save_model(model, "batchnorm.onnx")

    t = torch.from_numpy(x).double()
    d = lambda a: torch.from_numpy(a).double()  # noqa: E731

    def bnf(v, p, eps=1e-5):
        return F.batch_norm(v, d(p[2]), d(p[3]), d(p[0]), d(p[1]), training=False, eps=eps)

    c1 = F.conv2d(t, d(w1), d(b1), stride=2, padding=1)
    r1 = F.relu(bnf(c1, bn1, 1e-3))
    c2 = F.conv2d(r1, d(w2), d(b2), padding=1)
    r2 = F.relu(bnf(c2, bn2) + c2)
    p2 = F.max_pool2d(r2, 3, 2)
    g = F.adaptive_avg_pool2d(bnf(p2, bn3), 1).flatten(1)
    y = F.softmax(F.linear(g, d(wf), d(bf)), dim=1).numpy()
    save_npy("batchnorm.expected.npy", y)
    report("batchnorm", y)


def make_matmul_add():
    """Flatten -> MatMul -> Add (bias first) -> Relu -> MatMul -> Add (bias second) -> Softmax
    (opset 13, default axis -1). Input 3 x 8 x 8, batch 2."""
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w1, b1 = he((192, 24), 192), small((24,))
    w2, b2 = he((24, 10), 24), small((1, 10))
    inits = [numpy_helper.from_array(a, n) for a, n in [(w1, "W1"), (b1, "B1"), (w2, "W2"),
                                                        (b2, "B2")]]
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "W1"], ["mm1"], name="fc1"),
        helper.make_node("Add", ["B1", "mm1"], ["fc1_out"], name="fc1_bias"),
        helper.make_node("Relu", ["fc1_out"], ["r1"], name="relu1"),
        helper.make_node("MatMul", ["r1", "W2"], ["mm2"], name="fc2"),
        helper.make_node("Add", ["mm2", "B2"], ["logits"], name="fc2_bias"),
        helper.make_node("Softmax", ["logits"], ["output"], name="prob"),
    ]
    graph = helper.make_graph(
        nodes, "matmul_add",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 3, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [2, 10])], initializer=inits)
    model = helper.make_model(graph, producer_name="zfvis-fixtures",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    save_model(model, "matmul_add.onnx")
    xf = x.reshape(2, -1).astype(np.float64)
    h = np.maximum(xf @ w1 + b1, 0)
    logits = h @ w2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    save_npy("matmul_add.input.npy", x)
    save_npy("matmul_add.expected.npy", y)
    report("matmul_add", y)


LABELS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def make_labelled():
    """matmul_add.onnx with class names in metadata_props["zfvis.labels"]: one per line
    (matmul_add_labels.onnx) and as a JSON list of upper-case names (matmul_add_labels_json.onnx).
    The committed files are matmul_add.onnx with the metadata entry appended to the serialized
    ModelProto, which is what onnx.save writes for this model."""
    base = onnx.load(os.path.join(OUT, "matmul_add.onnx"))
    for name, value in [("matmul_add_labels.onnx", "\n".join(LABELS) + "\n"),
                        ("matmul_add_labels_json.onnx", json.dumps([n.upper() for n in LABELS]))]:
        model = onnx.ModelProto()
        model.CopyFrom(base)
        helper.set_model_props(model, {"zfvis.labels": value})
        save_model(model, name)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    x = (rng.uniform(-100.0, 100.0, INPUT_SHAPE)).astype(np.float32)
    save_npy("input_3x67x67.npy", x)

    alex = AlexNetTiny()
    init_module(alex)
    scale_last_linear(alex, 0.05)
    export_torch(alex, "alexnet_torch", x, opset=11, dynamic=True)
    export_zoo(alex, "alexnet_zoo", x, pool_pads=[[0, 0, 1, 1]] * 3, flat=32, drop_after={0, 1})

    zf = ZfNetTiny()
    init_module(zf)
    scale_last_linear(zf, 0.05)
    export_torch(zf, "zfnet_torch", x, opset=13)
    export_zoo(zf, "zfnet_zoo", x, pool_pads=[[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0]], flat=8,
               drop_after={0, 1})

    nin = NinTiny()
    init_module(nin)
    scale_last_linear(nin, 0.05)
    export_torch(nin, "nin_torch", x, opset=11)
    export_nin_zoo(nin, "nin_zoo", x)

    tower = TwoTower()
    init_module(tower)
    scale_last_linear(tower, 0.02)
    export_torch(tower, "twotower_torch", x, opset=13, dynamic=True)

    make_batchnorm(x)
    make_matmul_add()
    make_labelled()


if __name__ == "__main__":
    main()
