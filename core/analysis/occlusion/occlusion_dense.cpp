#include "core/analysis/occlusion/occlusion_dense.h"

#include <cstring>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/base/error.h"
#include "core/engine/dnnl_util.h"

namespace zfvis::detail {

namespace {

struct DenseStep {
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
};

// Layer i reads only layer i - 1, which feeds nothing else.
bool chainLink(const NetworkDef& def, size_t i) {
  const LayerSpec& l = def.layers[i];
  return i >= 1 && l.inputs.size() == 1 && l.inputs[0] == def.layers[i - 1].name &&
         def.consumers(i - 1) == std::vector<size_t>{i};
}

}  // namespace

struct DenseTail::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  int threads = 2;
  std::vector<std::vector<float>> buffers;  // [0]: the input rows, then each step's output
  std::vector<DenseStep> steps;
  int64_t outputSize = 0;  // per row
};

std::optional<size_t> DenseTail::findStart(const NetworkDef& def) {
  const size_t n = def.layers.size();
  size_t start = n;
  bool dense = false;
  for (size_t i = n; i-- > 1;) {
    const LayerSpec& l = def.layers[i];
    bool ok = chainLink(def, i);
    switch (l.type) {
      case LayerType::Flatten:
      case LayerType::Dense:
      case LayerType::Relu:
      case LayerType::Dropout:
      case LayerType::Identity:
        break;
      case LayerType::Softmax:
        ok = ok && i == n - 1 && l.axis.axis == 1;
        break;
      default:
        ok = false;
    }
    if (!ok) break;
    start = i;
    dense = dense || l.type == LayerType::Dense;
  }
  if (start == n || !dense) return std::nullopt;
  return start;
}

DenseTail::DenseTail(std::shared_ptr<const CompiledNet> net, size_t start, int rows)
    : m_impl(std::make_unique<Impl>()), m_rows(rows) {
  const NetworkDef& def = net->def();
  const std::vector<Shape>& shapes = net->outputShapes();
  if (start < 1 || start >= def.layers.size() || rows < 1)
    throw Error("occlusion: internal: bad classifier start " + std::to_string(start));
  Impl& m = *m_impl;
  m.threads = net->options().threads;
  m_features = shapes[start - 1].numel();
  m.buffers.reserve(def.layers.size() - start + 1);
  m.buffers.emplace_back(size_t(rows) * size_t(m_features), 0.0f);
  int64_t size = m_features;
  auto current = [&]() { return m.buffers.back().data(); };
  auto output = [&](int64_t n) {
    m.buffers.emplace_back(size_t(rows) * size_t(n), 0.0f);
    return m.buffers.back().data();
  };
  for (size_t i = start; i < def.layers.size(); ++i) {
    const LayerSpec& l = def.layers[i];
    switch (l.type) {
      case LayerType::Dense: {
        const int64_t units = l.dense.units;
        const bool relu = i + 1 < def.layers.size() && def.layers[i + 1].type == LayerType::Relu;
        dnnl::memory::desc srcMd = plainMd({rows, size}), wMd = plainMd({units, size}),
                           biasMd = plainMd({units}), dstMd = plainMd({rows, units});
        dnnl::primitive_attr attr = scratchpadAttr();
        if (relu) {
          dnnl::post_ops po;
          po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
          attr.set_post_ops(po);
        }
        auto desc = l.dense.hasBias
                        ? dnnl::inner_product_forward::desc(dnnl::prop_kind::forward_inference,
                                                            srcMd, wMd, biasMd, dstMd)
                        : dnnl::inner_product_forward::desc(dnnl::prop_kind::forward_inference,
                                                            srcMd, wMd, dstMd);
        dnnl::inner_product_forward::primitive_desc pd(desc, attr, m.engine);
        float* src = current();
        float* dst = output(units);
        DenseStep s{dnnl::inner_product_forward(pd), {}};
        s.args.emplace(DNNL_ARG_SRC, dnnl::memory(srcMd, m.engine, src));
        s.args.emplace(DNNL_ARG_WEIGHTS,
                       dnnl::memory(wMd, m.engine, const_cast<float*>(l.weights.data())));
        if (l.dense.hasBias)
          s.args.emplace(DNNL_ARG_BIAS,
                         dnnl::memory(biasMd, m.engine, const_cast<float*>(l.bias.data())));
        s.args.emplace(DNNL_ARG_DST, dnnl::memory(dstMd, m.engine, dst));
        m.steps.push_back(std::move(s));
        size = units;
        if (relu) ++i;  // applied by the post-op
        break;
      }
      case LayerType::Relu:
      case LayerType::Softmax: {
        dnnl::memory::desc md = plainMd({rows, size});
        float* src = current();
        float* dst = output(size);
        DenseStep s;
        if (l.type == LayerType::Relu)
          s.prim = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
              {dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_relu, md, 0.0f, 0.0f},
              scratchpadAttr(), m.engine));
        else
          s.prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
              {dnnl::prop_kind::forward_inference, md, 1}, scratchpadAttr(), m.engine));
        s.args.emplace(DNNL_ARG_SRC, dnnl::memory(md, m.engine, src));
        s.args.emplace(DNNL_ARG_DST, dnnl::memory(md, m.engine, dst));
        m.steps.push_back(std::move(s));
        break;
      }
      default:  // Flatten, Dropout, Identity: the rows pass unchanged
        break;
    }
  }
  m.outputSize = size;
}

DenseTail::~DenseTail() = default;

float* DenseTail::row(int i) {
  return m_impl->buffers.front().data() + int64_t(i) * m_features;
}

Tensor DenseTail::run(int count, const ProgressSink* cancel) {
  Impl& m = *m_impl;
  setEngineThreads(m.threads);
  dnnl::stream stream(m.engine);
  for (DenseStep& s : m.steps) {
    if (cancel && cancel->cancelled()) {
      stream.wait();
      throw Cancelled();
    }
    executeWithScratchpad(s.prim, stream, s.args);
  }
  stream.wait();
  return Tensor::fromData(Shape{count, m.outputSize}, m.buffers.back().data());
}

}  // namespace zfvis::detail
