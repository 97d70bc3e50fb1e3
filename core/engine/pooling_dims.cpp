#include "core/engine/pooling_dims.h"

#include "core/model/op_traits.h"

namespace zfvis::detail {

using dnnl::algorithm;

PoolingDims poolingDims(const LayerSpec& l, const Shape& in, const Shape& out) {
  PoolingDims d;
  if (l.type == LayerType::GlobalAveragePool) {
    d.kernel = {in[1], in[2]};
    d.strides = {1, 1};
    d.padL = d.padR = {0, 0};
    d.alg = algorithm::pooling_avg_exclude_padding;
    return d;
  }
  const WindowGeometry w = *windowGeometry(l);
  d.kernel = {w.y.kernel, w.x.kernel};
  d.strides = {w.y.stride, w.x.stride};
  d.padL = {w.y.padBefore, w.x.padBefore};
  // oneDNN rounds down; extend the right padding so it yields the (ceil) output size.
  d.padR = {padAfterFor(w.y, in[1], out[1]), padAfterFor(w.x, in[2], out[2])};
  d.alg = l.type == LayerType::MaxPool ? algorithm::pooling_max
          : l.pool.countIncludePad     ? algorithm::pooling_avg_include_padding
                                       : algorithm::pooling_avg_exclude_padding;
  return d;
}

}  // namespace zfvis::detail
