// The deconvnet's backward primitives and reordered weights, keyed by layer, problem dims and
// layout; shared by every projector of the same compiled network (CompiledNet::cache),
// so a new image or a new run does not rebuild them. Every primitive uses a user scratchpad.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/analysis/projector/layout.h"

namespace zfvis::projection {

struct ConvBackward {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  memory weights;
};

struct PoolBackward {
  dnnl::pooling_backward::primitive_desc pd;
  dnnl::pooling_backward prim;
};

struct LrnPrims {
  dnnl::lrn_forward::primitive_desc fwdPd;
  dnnl::lrn_forward fwd;
  dnnl::lrn_backward::primitive_desc pd;
  dnnl::lrn_backward prim;
};

struct DenseBackward {
  memory weights;
  dnnl::inner_product_backward_data::primitive_desc pd;
  dnnl::inner_product_backward_data prim;
};

// Everything the projectors of one compiled network share (see the top of this file).
struct BackwardCache {
  std::mutex mutex;
  std::map<std::string, ConvBackward> conv;
  std::map<std::string, PoolBackward> pool;
  std::map<std::string, LrnPrims> lrn;
  std::map<std::string, DenseBackward> dense;
  std::map<std::string, dnnl::primitive> misc;  // reorders and eltwise ops, by layouts
  std::map<std::string, memory> weights;        // reordered convolution weights
  std::shared_ptr<BufferPool> buffers = std::make_shared<BufferPool>();
};

}  // namespace zfvis::projection
