// Slow, obvious reference implementations of every layer type, written from the operator
// definitions (ONNX / PyTorch semantics) without sharing code with the engine. Tests only.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/tensor.h"
#include "core/model/layer.h"
#include "core/model/network.h"

namespace zfvis::ref {

/// N x C x H x W convolution (cross-correlation), groups, stride, asymmetric padding, dilation.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvParams& p);
/// max(x, 0).
Tensor relu(const Tensor& x);
/// ONNX LRN across channels.
Tensor lrn(const Tensor& x, const LrnParams& p);
/// Max pooling with PyTorch/ONNX output sizes; ties go to the first element in scan order.
/// `switches` (optional) receives, per output element, the flat index y * W + x in its plane.
Tensor maxPool(const Tensor& x, const PoolParams& p, std::vector<int32_t>* switches = nullptr);
/// Average pooling (count_include_pad as in PyTorch: padding counts, the ceil overhang does not).
Tensor avgPool(const Tensor& x, const PoolParams& p);
/// Mean over H x W.
Tensor globalAvgPool(const Tensor& x);
/// y = x W^T + b with x flattened per sample.
Tensor dense(const Tensor& x, const Tensor& w, const Tensor& bias);
/// Softmax along `axis` of the batched tensor (or over [axis:] when coerce2d).
Tensor softmax(const Tensor& x, int axis, bool coerce2d);
/// Concatenation along `axis` of the batched tensors.
Tensor concat(const std::vector<Tensor>& xs, int axis);
/// Inference batch normalisation; `params` is 4 x C (scale, shift, mean, var).
Tensor batchNorm(const Tensor& x, const Tensor& params, float eps);
/// Numpy-broadcast sum of two batched tensors (b may have lower rank).
Tensor add(const Tensor& a, const Tensor& b);

/// Runs every layer of `def` naively; returns each layer's output (batched).
std::vector<Tensor> forward(const NetworkDef& def, const Tensor& input);

/// Largest |a - b| divided by the largest |b| (0 when both are zero); throws on shape mismatch.
double relativeMaxError(const Tensor& a, const Tensor& b);

}  // namespace zfvis::ref
