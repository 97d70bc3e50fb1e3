// A pooling layer in oneDNN's terms, shared by the inference and training engines.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include "core/base/shape.h"
#include "core/model/layer.h"

namespace zfvis::detail {

/// A pooling layer (MaxPool, AveragePool, GlobalAveragePool) in oneDNN's terms: the algorithm,
/// kernel, strides and padding, the trailing padding extended so oneDNN's rounding down yields
/// the layer's (possibly ceil-mode) output size.
struct PoolingDims {
  dnnl::algorithm alg = dnnl::algorithm::pooling_max;
  dnnl::memory::dims kernel, strides, padL, padR;
};
/// `in` and `out` are the layer's per-sample input and output shapes (C x H x W).
PoolingDims poolingDims(const LayerSpec& layer, const Shape& in, const Shape& out);

}  // namespace zfvis::detail
