// Converters for the spatial operators: Conv, MaxPool, AveragePool, GlobalAveragePool, LRN and
// BatchNormalization (folded into the preceding convolution when that is exact).
#include <cmath>
#include <limits>

#include "core/base/error.h"
#include "core/import/onnx/onnx_ops.h"

namespace zfvis::onnx_import {

namespace {

// Fails unless the value is N x C x H x W.
void require4d(const NodeView& n, const RuntimeValue& x, const char* what) {
  if (x.shape.rank() != 3)
    n.fail(std::string("only 2-D ") + what + " is supported: the input is N x " + x.shape.str() +
           ", expected N x C x H x W");
}

// Explicit padding from `pads` (top, left, bottom, right) or from auto_pad.
Padding resolvePadding(const NodeView& n, const Shape& in, const std::vector<int>& kernel,
                       const std::vector<int>& strides, const std::vector<int>& dilations,
                       const std::vector<int>& pads) {
  const std::string autoPad = n.stringAttr("auto_pad", "NOTSET");
  if (autoPad == "NOTSET" || autoPad.empty()) return {pads[0], pads[1], pads[2], pads[3]};
  if (autoPad == "VALID") return {};
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    n.fail("attribute 'auto_pad' = '" + autoPad +
           "' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
  int begin[2], end[2];
  for (int a = 0; a < 2; ++a) {
    const int64_t size = in[1 + a], s = strides[a];
    const int64_t out = (size + s - 1) / s;
    const int64_t effective = int64_t(dilations[a]) * (kernel[a] - 1) + 1;
    const int64_t total = std::max<int64_t>(0, (out - 1) * s + effective - size);
    if (total > 2 * kMaxWindowAttribute) n.fail("auto_pad needs more padding than zfvis accepts");
    const int64_t small = total / 2;
    begin[a] = static_cast<int>(autoPad == "SAME_UPPER" ? small : total - small);
    end[a] = static_cast<int>(total - begin[a]);
  }
  return {begin[0], begin[1], end[0], end[1]};
}

void convertPool(NodeView& n, LayerType type) {
  n.requireOnlyFirstOutput();
  const RuntimeValue& x = n.data(0);
  require4d(n, x, "pooling");
  if (!n.hasAttr("kernel_shape")) n.fail("attribute 'kernel_shape' is required");
  const std::vector<int> kernel = n.windowAttr("kernel_shape", 2, {}, 1);
  const std::vector<int> strides = n.windowAttr("strides", 2, {1, 1}, 1);
  const std::vector<int> pads = n.windowAttr("pads", 4, {0, 0, 0, 0}, 0);
  const std::vector<int> dilations = n.windowAttr("dilations", 2, {1, 1}, 1);
  if (dilations != std::vector<int>{1, 1})
    n.fail("dilated pooling (dilations [" + std::to_string(dilations[0]) + ", " +
           std::to_string(dilations[1]) + "]) is not supported");
  const int64_t ceil = n.intAttr("ceil_mode", 0);
  if (ceil != 0 && ceil != 1) n.fail("attribute 'ceil_mode' must be 0 or 1");

  LayerSpec l = n.newLayer(type);
  l.inputs = {x.layer};
  l.pool.kernelH = kernel[0];
  l.pool.kernelW = kernel[1];
  l.pool.strideH = strides[0];
  l.pool.strideW = strides[1];
  l.pool.pad = resolvePadding(n, x.shape, kernel, strides, dilations, pads);
  l.pool.ceilMode = ceil == 1;
  if (type == LayerType::AveragePool) {
    const int64_t include = n.intAttr("count_include_pad", 0);
    if (include != 0 && include != 1) n.fail("attribute 'count_include_pad' must be 0 or 1");
    l.pool.countIncludePad = include == 1;
  }
  n.emit(std::move(l));
}

}  // namespace

void convertConv(NodeView& n) {
  n.requireOnlyFirstOutput();
  const RuntimeValue& x = n.data(0);
  require4d(n, x, "convolution");
  Tensor w = n.floatConstant(1);
  const Shape ws = w.shape();
  if (ws.rank() != 4)
    n.fail("weights have shape " + ws.str() +
           "; only 2-D convolution (O x C/group x kH x kW weights) is supported");
  const int64_t out = ws[0];
  if (out < 1 || out > std::numeric_limits<int>::max()) n.fail("weights have shape " + ws.str());
  for (int a = 2; a < 4; ++a)
    if (ws[a] < 1 || ws[a] > kMaxWindowAttribute)
      n.fail("kernel size " + std::to_string(ws[a]) + " is out of range (1 to " +
             std::to_string(kMaxWindowAttribute) + ")");
  const std::vector<int> kernel{static_cast<int>(ws[2]), static_cast<int>(ws[3])};
  if (n.hasAttr("kernel_shape") && n.windowAttr("kernel_shape", 2, {}, 1) != kernel)
    n.fail("attribute 'kernel_shape' disagrees with the weights (" + ws.str() + ")");
  const int64_t group = n.intAttr("group", 1);
  if (group < 1 || group > x.shape[0])
    n.fail("attribute 'group' = " + std::to_string(group) + " is out of range (1 to " +
           std::to_string(x.shape[0]) + " input channels)");
  const std::vector<int> strides = n.windowAttr("strides", 2, {1, 1}, 1);
  const std::vector<int> dilations = n.windowAttr("dilations", 2, {1, 1}, 1);
  const std::vector<int> pads = n.windowAttr("pads", 4, {0, 0, 0, 0}, 0);

  LayerSpec l = n.newLayer(LayerType::Conv);
  l.inputs = {x.layer};
  ConvParams& p = l.conv;
  p.outChannels = static_cast<int>(out);
  p.kernelH = kernel[0];
  p.kernelW = kernel[1];
  p.strideH = strides[0];
  p.strideW = strides[1];
  p.dilationH = dilations[0];
  p.dilationW = dilations[1];
  p.groups = static_cast<int>(group);
  p.pad = resolvePadding(n, x.shape, kernel, strides, dilations, pads);
  p.hasBias = n.hasInput(2);
  if (p.hasBias) {
    Tensor b = n.floatConstant(2);
    if (b.shape() != Shape{out})
      n.fail("bias has shape " + b.shape().str() + ", expected " + std::to_string(out));
    l.bias = std::move(b);
  }
  l.weights = std::move(w);
  n.emit(std::move(l));
}

void convertMaxPool(NodeView& n) {
  convertPool(n, LayerType::MaxPool);
}

void convertAveragePool(NodeView& n) {
  convertPool(n, LayerType::AveragePool);
}

void convertGlobalAveragePool(NodeView& n) {
  const RuntimeValue& x = n.data(0);
  require4d(n, x, "global average pooling");
  LayerSpec l = n.newLayer(LayerType::GlobalAveragePool);
  l.inputs = {x.layer};
  n.emit(std::move(l));
}

void convertLrn(NodeView& n) {
  const RuntimeValue& x = n.data(0);
  require4d(n, x, "local response normalisation");
  if (!n.hasAttr("size")) n.fail("attribute 'size' is required");
  const int64_t size = n.intAttr("size", 0);
  if (size < 1 || size > kMaxWindowAttribute)
    n.fail("attribute 'size' = " + std::to_string(size) + " is out of range");
  if (size % 2 == 0)
    n.fail("an even window size (" + std::to_string(size) +
           ") is not supported: the engine's LRN window is symmetric, ONNX's is not");
  LayerSpec l = n.newLayer(LayerType::LRN);
  l.inputs = {x.layer};
  l.lrn.size = static_cast<int>(size);
  l.lrn.alpha = n.floatAttr("alpha", 1e-4f);
  l.lrn.beta = n.floatAttr("beta", 0.75f);
  l.lrn.bias = n.floatAttr("bias", 1.0f);
  if (!std::isfinite(l.lrn.alpha) || !std::isfinite(l.lrn.beta) || !std::isfinite(l.lrn.bias))
    n.fail("attributes alpha, beta and bias must be finite");
  n.emit(std::move(l));
}

void convertBatchNormalization(NodeView& n) {
  if (n.opset() >= 14 && n.intAttr("training_mode", 0) != 0)
    n.fail("training_mode=1 is not supported (zfvis runs inference only)");
  if (n.opset() < 9 && n.intAttr("spatial", 1) != 1)
    n.fail("spatial=0 (statistics per activation) is not supported");
  n.requireOnlyFirstOutput();
  const RuntimeValue& x = n.data(0);
  if (x.shape.rank() < 1) n.fail("the input has no channel axis");
  const int64_t c = x.shape[0];
  const char* names[4] = {"scale", "B", "mean", "var"};
  Tensor params[4];
  for (int k = 0; k < 4; ++k) {
    params[k] = n.floatConstant(k + 1);
    if (params[k].numel() != c || params[k].shape().rank() != 1)
      n.fail(std::string("input '") + names[k] + "' has shape " + params[k].shape().str() +
             ", expected " + std::to_string(c) + " (the input's channels)");
  }
  const float eps = n.floatAttr("epsilon", 1e-5f);
  if (!(eps >= 0.0f) || !std::isfinite(eps)) n.fail("attribute 'epsilon' must be >= 0");

  // Fold into the producing convolution when nothing else reads the convolution's output.
  LayerSpec* conv = n.ctx().layer(x.layer);
  if (conv && conv->type == LayerType::Conv && n.ctx().plan().consumerCount(n.inputName(0)) == 1) {
    std::vector<double> scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
    for (int64_t o = 0; o < c; ++o) {
      const double v = double(params[3][o]) + eps;
      if (!(v > 0.0))
        n.fail("variance + epsilon of channel " + std::to_string(o) + " is not positive");
      scale[o] = params[0][o] / std::sqrt(v);
      const double b = conv->conv.hasBias ? conv->bias[o] : 0.0;
      shift[o] = (b - params[2][o]) * scale[o] + params[1][o];
    }
    const int64_t per = conv->weights.numel() / c;
    for (int64_t o = 0; o < c; ++o)
      for (int64_t k = 0; k < per; ++k)
        conv->weights[o * per + k] = static_cast<float>(conv->weights[o * per + k] * scale[o]);
    Tensor bias(Shape{c});
    for (int64_t o = 0; o < c; ++o) bias[o] = static_cast<float>(shift[o]);
    conv->bias = std::move(bias);
    conv->conv.hasBias = true;
    n.ctx().def().notes.push_back(
        "BatchNormalization " +
        (n.node().name().empty() ? "#" + std::to_string(n.index()) : "'" + n.node().name() + "'") +
        " folded into convolution '" + conv->name + "'");
    n.alias(x);
    return;
  }

  LayerSpec l = n.newLayer(LayerType::BatchNorm);
  l.inputs = {x.layer};
  l.batchNorm.epsilon = eps;
  l.weights = Tensor(Shape{4, c});
  for (int k = 0; k < 4; ++k)
    for (int64_t i = 0; i < c; ++i) l.weights[k * c + i] = params[k][i];
  n.emit(std::move(l));
}

}  // namespace zfvis::onnx_import
