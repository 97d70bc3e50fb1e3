#include "core/engine/engine.h"

#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/base/error.h"
#include "core/engine/engine_internal.h"
#include "core/engine/engine_threads.h"
#include "core/model/op_traits.h"

namespace zfvis {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using Tag = dnnl::memory::format_tag;
using DType = dnnl::memory::data_type;

namespace detail {

memory::desc plainMd(const memory::dims& dims, DType type) {
  memory::dims strides(dims.size());
  memory::dim s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= dims[i];
  }
  return memory::desc(dims, type, strides);
}

bool isPlain(const memory::desc& md) {
  return md == plainMd(md.dims(), md.data_type());
}

dnnl::primitive_attr scratchpadAttr(dnnl::primitive_attr attr) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

memory::desc scratchpadOf(const dnnl::primitive& p) {
  const dnnl_memory_desc_t* md =
      dnnl_primitive_desc_query_md(p.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  return md ? memory::desc(*md) : memory::desc();
}

void executeWithScratchpad(const dnnl::primitive& p, dnnl::stream& stream,
                           std::unordered_map<int, memory> args) {
  memory::desc md = scratchpadOf(p);
  if (md.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, memory(md, stream.get_engine()));
  p.execute(stream, args);
}

void reorderNow(dnnl::stream& stream, const memory& src, const memory& dst) {
  dnnl::reorder r(dnnl::reorder::primitive_desc(src.get_engine(), src.get_desc(), dst.get_engine(),
                                                dst.get_desc(), scratchpadAttr()));
  executeWithScratchpad(r, stream, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
}

memory::dims batchDims(const Shape& perSample, int batch) {
  memory::dims d{batch};
  for (int64_t v : perSample.dims()) d.push_back(v);
  return d;
}

RunState::RunState(const Plan& p) : plan(&p) {
  buffers.reserve(p.bufferSizes.size());
  for (size_t i = 0; i < p.bufferSizes.size(); ++i) {
    if (static_cast<int>(i) == p.views[p.inputView].buffer) {
      buffers.emplace_back();  // the caller's input
      continue;
    }
    memory::desc bytes({static_cast<memory::dim>(std::max<size_t>(p.bufferSizes[i], 1))}, DType::u8,
                       Tag::a);
    buffers.emplace_back(bytes, p.engine);
  }
  views.reserve(p.views.size());
  for (const View& v : p.views) {
    void* handle = buffers[v.buffer] ? buffers[v.buffer].get_data_handle() : nullptr;
    views.emplace_back(v.md, p.engine, handle);
  }
  size_t scratchBytes = 0;
  for (const Step& s : p.steps) scratchBytes = std::max(scratchBytes, s.scratchpad.get_size());
  if (scratchBytes > 0)
    scratchBuffer = memory(memory::desc({memory::dim(scratchBytes)}, DType::u8, Tag::a), p.engine);
  scratch.reserve(p.steps.size());
  for (const Step& s : p.steps)
    scratch.emplace_back(s.scratchpad.get_size() > 0
                             ? memory(s.scratchpad, p.engine, scratchBuffer.get_data_handle())
                             : memory());
}

void RunState::setInput(float* data) {
  for (size_t i = 0; i < plan->views.size(); ++i)
    if (plan->views[i].buffer == plan->views[plan->inputView].buffer)
      views[i].set_data_handle(data);
}

namespace {

/// Batch size from which dense layers let oneDNN choose the weight layout (measured on fc6/fc7 of
/// caffe-alexnet: plain gemm wins at 1-4 rows, brgemm on blocked weights from 8 rows on).
constexpr int64_t kBlockedDenseBatch = 8;

class PlanBuilder {
 public:
  PlanBuilder(const NetworkDef& def, const std::vector<Shape>& shapes, int batch, bool fuse,
              const std::vector<size_t>& keep, size_t first, const dnnl::engine& engine,
              WeightCache& weights)
      : m_first(first),
        m_weights(weights),
        m_def(def),
        m_shapes(shapes),
        m_plan(std::make_shared<Plan>()),
        m_stream(engine),
        m_inputs(def.inputIndices()),
        m_keep(def.layers.size(), false) {
    for (size_t k : keep)
      if (k < m_keep.size()) m_keep[k] = true;
    m_plan->batch = batch;
    m_plan->fuse = fuse;
    m_plan->engine = engine;
    m_plan->layers.resize(def.layers.size());
    m_plan->inputView = newBuffer(plainMd(batchDims(def.input.shape, batch)));
  }

  std::shared_ptr<Plan> build() {
    for (size_t i = 0; i < m_def.layers.size(); ++i) {
      if (i < m_first) {  // not run: a plain buffer the caller fills, when a later layer reads it
        if (readByBuiltLayer(i))
          m_plan->layers[i].out = newBuffer(plainMd(batchDims(m_shapes[i], m_plan->batch)));
        continue;
      }
      try {
        addLayer(i);
      } catch (const dnnl::error& e) {
        const LayerSpec& l = m_def.layers[i];
        throw Error("layer '" + l.name + "' (" + std::string(onnxOpName(l.type)) +
                    "): oneDNN cannot run it: " + e.what());
      }
    }
    m_stream.wait();
    for (Step& step : m_plan->steps) step.scratchpad = scratchpadOf(step.prim);
    return m_plan;
  }

 private:
  int newBuffer(const memory::desc& md) {
    m_plan->bufferSizes.push_back(md.get_size());
    return newView(static_cast<int>(m_plan->bufferSizes.size()) - 1, md);
  }
  int newView(int buffer, const memory::desc& md) {
    m_plan->views.push_back({buffer, md});
    return static_cast<int>(m_plan->views.size()) - 1;
  }
  const memory::desc& mdOf(int view) const { return m_plan->views[view].md; }

  bool readByBuiltLayer(size_t i) const {
    for (size_t k = m_first; k < m_inputs.size(); ++k)
      for (int p : m_inputs[k])
        if (p == static_cast<int>(i)) return true;
    return false;
  }

  // View of a producer's output (kNetworkInput: the network input).
  int viewOf(int producer) const {
    if (producer == kNetworkInput) return m_plan->inputView;
    int v = m_plan->layers[size_t(producer)].out;
    if (v < 0)
      throw Error("internal: output of '" + m_def.layers[size_t(producer)].name +
                  "' is not available");
    return v;
  }
  Shape shapeOf(int producer) const {
    return producer == kNetworkInput ? m_def.input.shape : m_shapes[size_t(producer)];
  }

  // Returns a view of `view` in layout `md`, adding a reorder step when they differ.
  int reorderTo(int view, const memory::desc& md, int layer) {
    if (mdOf(view) == md) return view;
    int out = newBuffer(md);
    Step s{dnnl::reorder(dnnl::reorder::primitive_desc(m_plan->engine, mdOf(view), m_plan->engine,
                                                       md, scratchpadAttr())),
           {{DNNL_ARG_FROM, view}, {DNNL_ARG_TO, out}},
           {},
           layer};
    m_plan->steps.push_back(std::move(s));
    return out;
  }
  // A plain view of `view` with dims `dims` (same element count), reordering if needed.
  int plainView(int view, const memory::dims& dims, int layer) {
    int p = reorderTo(view, plainMd(mdOf(view).dims()), layer);
    return newView(m_plan->views[p].buffer, plainMd(dims));
  }

  // Wraps constant data (owned by the NetworkDef, which outlives the plan) in a memory, and
  // reorders it into `want` when the layouts differ.
  memory constant(const float* data, const memory::desc& plain, const memory::desc& want) {
    memory src(plain, m_plan->engine, const_cast<float*>(data));
    if (plain == want) return src;
    if (memory cached = m_weights.find(data, want)) return cached;
    memory dst(want, m_plan->engine);
    reorderNow(m_stream, src, dst);
    m_weights.entries.emplace_back(data, want, dst);
    return dst;
  }
  memory ownedConstant(const std::vector<float>& values, const memory::desc& md) {
    memory m(md, m_plan->engine);
    std::memcpy(m.get_data_handle(), values.data(), values.size() * sizeof(float));
    return m;
  }

  // True when layer i may absorb its only consumer, a ReLU.
  bool canFuseRelu(size_t i) const {
    if (!m_plan->fuse || m_keep[i]) return false;
    std::vector<size_t> c = m_def.consumers(i);
    return c.size() == 1 && m_def.layers[c[0]].type == LayerType::Relu &&
           m_def.layers[c[0]].inputs.size() == 1;
  }

  void addLayer(size_t i) {
    const LayerSpec& l = m_def.layers[i];
    const std::vector<int>& from = m_inputs[i];  // producers of l's inputs
    LayerInfo& info = m_plan->layers[i];
    const int li = static_cast<int>(i);
    const int batch = m_plan->batch;
    const memory::dims outDims = batchDims(m_shapes[i], batch);
    switch (l.type) {
      case LayerType::Conv: {
        const ConvParams& p = l.conv;
        const Shape in = shapeOf(from[0]);
        memory::dims srcDims = batchDims(in, batch);
        memory::dims wDims = p.groups > 1
                                 ? memory::dims{p.groups, p.outChannels / p.groups,
                                                in[0] / p.groups, p.kernelH, p.kernelW}
                                 : memory::dims{p.outChannels, in[0], p.kernelH, p.kernelW};
        memory::desc srcAny(srcDims, DType::f32, Tag::any);
        memory::desc wAny(wDims, DType::f32, Tag::any);
        memory::desc dstAny(outDims, DType::f32, Tag::any);
        memory::desc biasMd({p.outChannels}, DType::f32, Tag::a);
        memory::dims strides{p.strideH, p.strideW}, dil{p.dilationH - 1, p.dilationW - 1};
        memory::dims padL{p.pad.top, p.pad.left}, padR{p.pad.bottom, p.pad.right};
        dnnl::primitive_attr attr;
        bool fuse = canFuseRelu(i);
        if (fuse) {
          dnnl::post_ops po;
          po.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
          attr.set_post_ops(po);
        }
        auto desc = p.hasBias ? dnnl::convolution_forward::desc(
                                    prop_kind::forward_inference, algorithm::convolution_direct,
                                    srcAny, wAny, biasMd, dstAny, strides, dil, padL, padR)
                              : dnnl::convolution_forward::desc(
                                    prop_kind::forward_inference, algorithm::convolution_direct,
                                    srcAny, wAny, dstAny, strides, dil, padL, padR);
        dnnl::convolution_forward::primitive_desc pd(desc, scratchpadAttr(attr), m_plan->engine);
        int src = reorderTo(viewOf(from[0]), pd.src_desc(), li);
        int dst = newBuffer(pd.dst_desc());
        Step s{dnnl::convolution_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, {}, li};
        s.constArgs.push_back(
            {DNNL_ARG_WEIGHTS, constant(l.weights.data(), plainMd(wDims), pd.weights_desc())});
        if (p.hasBias)
          s.constArgs.push_back({DNNL_ARG_BIAS, constant(l.bias.data(), biasMd, biasMd)});
        m_plan->steps.push_back(std::move(s));
        info.in = src;
        info.out = fuse ? -1 : dst;
        info.fusedRelu = fuse;
        m_fusedOut[li] = dst;
        break;
      }
      case LayerType::Dense: {
        const Shape in = shapeOf(from[0]);
        const int64_t features = in.numel();
        int src = plainView(viewOf(from[0]), {batch, features}, li);
        memory::desc wMd = plainMd({l.dense.units, features});
        // Up to a few rows, gemm on the plain weights is fastest and needs no second copy of them;
        // from kBlockedDenseBatch rows on, oneDNN's brgemm kernel on its own blocked weight layout
        // is 1.5-2.5x faster (it does not repack the weights on every call).
        memory::desc wQuery = batch >= kBlockedDenseBatch
                                  ? memory::desc({l.dense.units, features}, DType::f32, Tag::any)
                                  : wMd;
        memory::desc biasMd({l.dense.units}, DType::f32, Tag::a);
        memory::desc dstMd = plainMd(outDims);
        dnnl::primitive_attr attr;
        bool fuse = canFuseRelu(i);
        if (fuse) {
          dnnl::post_ops po;
          po.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
          attr.set_post_ops(po);
        }
        auto desc = l.dense.hasBias
                        ? dnnl::inner_product_forward::desc(prop_kind::forward_inference, mdOf(src),
                                                            wQuery, biasMd, dstMd)
                        : dnnl::inner_product_forward::desc(prop_kind::forward_inference, mdOf(src),
                                                            wQuery, dstMd);
        dnnl::inner_product_forward::primitive_desc pd(desc, scratchpadAttr(attr), m_plan->engine);
        int dst = newBuffer(pd.dst_desc());
        Step s{dnnl::inner_product_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, {}, li};
        s.constArgs.push_back(
            {DNNL_ARG_WEIGHTS, constant(l.weights.data(), wMd, pd.weights_desc())});
        if (l.dense.hasBias)
          s.constArgs.push_back({DNNL_ARG_BIAS, constant(l.bias.data(), biasMd, biasMd)});
        m_plan->steps.push_back(std::move(s));
        info.in = src;
        info.out = fuse ? -1 : dst;
        info.fusedRelu = fuse;
        m_fusedOut[li] = dst;
        break;
      }
      case LayerType::Relu: {
        const int producer = from[0];
        if (producer >= 0 && m_plan->layers[producer].fusedRelu) {
          info.out = m_fusedOut.at(producer);  // the producer already applied the ReLU
          info.in = -1;
          break;
        }
        int src = viewOf(from[0]);
        dnnl::eltwise_forward::primitive_desc pd(
            {prop_kind::forward_inference, algorithm::eltwise_relu, mdOf(src), 0.0f, 0.0f},
            scratchpadAttr(), m_plan->engine);
        int dst = newBuffer(pd.dst_desc());
        m_plan->steps.push_back(
            {dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, {}, li});
        info.in = src;
        info.out = dst;
        break;
      }
      case LayerType::LRN: {
        if (l.lrn.size % 2 == 0)
          throw Error("layer '" + l.name + "' (LRN): size " + std::to_string(l.lrn.size) +
                      " is even; only odd sizes are supported (oneDNN's channel window is "
                      "symmetric, ONNX's is not for even sizes)");
        int src = viewOf(from[0]);
        dnnl::lrn_forward::primitive_desc pd(
            {prop_kind::forward_inference, algorithm::lrn_across_channels, mdOf(src), l.lrn.size,
             l.lrn.alpha, l.lrn.beta, l.lrn.bias},
            scratchpadAttr(), m_plan->engine);
        int dst = newBuffer(pd.dst_desc());
        m_plan->steps.push_back(
            {dnnl::lrn_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, {}, li});
        info.in = src;
        info.out = dst;
        break;
      }
      case LayerType::MaxPool:
      case LayerType::AveragePool:
      case LayerType::GlobalAveragePool: {
        const Shape in = shapeOf(from[0]);
        int src = viewOf(from[0]);
        const PoolingDims pool = poolingDims(l, in, m_shapes[i]);
        bool training = l.type == LayerType::MaxPool;
        memory::desc dstAny(outDims, DType::f32, Tag::any);
        dnnl::pooling_forward::primitive_desc pd(
            {training ? prop_kind::forward_training : prop_kind::forward_inference, pool.alg,
             mdOf(src), dstAny, pool.strides, pool.kernel, pool.padL, pool.padR},
            scratchpadAttr(), m_plan->engine);
        int dst = newBuffer(pd.dst_desc());
        Step s{dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, {}, li};
        if (training) {
          info.workspace = newBuffer(pd.workspace_desc());
          s.viewArgs.push_back({DNNL_ARG_WORKSPACE, info.workspace});
        }
        m_plan->steps.push_back(std::move(s));
        info.in = src;
        info.out = dst;
        break;
      }
      case LayerType::Dropout:
      case LayerType::Identity: {
        int src = viewOf(from[0]);
        info.in = src;
        info.out = src;
        break;
      }
      case LayerType::Flatten:
      case LayerType::Reshape: {
        info.in = viewOf(from[0]);
        info.out = plainView(info.in, outDims, li);
        break;
      }
      case LayerType::Concat: {
        std::vector<memory::desc> mds;
        std::vector<int> srcs;
        for (int producer : from) {
          srcs.push_back(viewOf(producer));
          mds.push_back(mdOf(srcs.back()));
        }
        dnnl::concat::primitive_desc pd(l.axis.axis, mds, m_plan->engine, scratchpadAttr());
        int dst = newBuffer(pd.dst_desc());
        Step s{dnnl::concat(pd), {{DNNL_ARG_DST, dst}}, {}, li};
        for (size_t k = 0; k < srcs.size(); ++k)
          s.viewArgs.push_back({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(k), srcs[k]});
        m_plan->steps.push_back(std::move(s));
        info.in = srcs[0];
        info.out = dst;
        break;
      }
      case LayerType::Softmax: {
        int axis = l.axis.axis;
        memory::dims dims = outDims;
        if (l.axis.coerce2d) {
          memory::dim outer = 1, inner = 1;
          for (int d = 0; d < static_cast<int>(dims.size()); ++d)
            (d < axis ? outer : inner) *= dims[d];
          dims = {outer, inner};
          axis = 1;
        }
        int src = plainView(viewOf(from[0]), dims, li);
        dnnl::softmax_forward::primitive_desc pd({prop_kind::forward_inference, mdOf(src), axis},
                                                 scratchpadAttr(), m_plan->engine);
        int dst = newBuffer(pd.dst_desc());
        m_plan->steps.push_back(
            {dnnl::softmax_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, {}, li});
        info.in = src;
        info.out = newView(m_plan->views[dst].buffer, plainMd(outDims));
        break;
      }
      case LayerType::BatchNorm: {
        int src = viewOf(from[0]);
        const int64_t c = m_shapes[i][0];
        dnnl::batch_normalization_forward::primitive_desc pd(
            {prop_kind::forward_inference, mdOf(src), l.batchNorm.epsilon,
             dnnl::normalization_flags::use_global_stats |
                 dnnl::normalization_flags::use_scale_shift},
            scratchpadAttr(), m_plan->engine);
        int dst = newBuffer(pd.dst_desc());
        const float* w = l.weights.data();
        std::vector<float> scaleShift(w, w + 2 * c), mean(w + 2 * c, w + 3 * c),
            var(w + 3 * c, w + 4 * c);
        Step s{dnnl::batch_normalization_forward(pd),
               {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
               {},
               li};
        s.constArgs.push_back({DNNL_ARG_SCALE_SHIFT, ownedConstant(scaleShift, plainMd({2, c}))});
        s.constArgs.push_back({DNNL_ARG_MEAN, ownedConstant(mean, plainMd({c}))});
        s.constArgs.push_back({DNNL_ARG_VARIANCE, ownedConstant(var, plainMd({c}))});
        m_plan->steps.push_back(std::move(s));
        info.in = src;
        info.out = dst;
        break;
      }
      case LayerType::Add: {
        auto padRank = [&](memory::dims d, size_t rank) {
          while (d.size() < rank) d.insert(d.begin(), 1);
          return d;
        };
        int a = plainView(viewOf(from[0]), batchDims(shapeOf(from[0]), batch), li);
        memory::desc dstMd = plainMd(outDims);
        Step s{{}, {{DNNL_ARG_SRC_0, a}}, {}, li};
        memory::desc bMd;
        if (l.inputs.size() == 2) {
          int b = plainView(viewOf(from[1]), batchDims(shapeOf(from[1]), batch), li);
          // Both operands need the output's rank.
          a = newView(m_plan->views[a].buffer, plainMd(padRank(mdOf(a).dims(), outDims.size())));
          b = newView(m_plan->views[b].buffer, plainMd(padRank(mdOf(b).dims(), outDims.size())));
          s.viewArgs = {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}};
          bMd = mdOf(b);
        } else {
          memory::dims cd(l.weights.shape().dims().begin(), l.weights.shape().dims().end());
          bMd = plainMd(padRank(cd, outDims.size()));
          s.constArgs.push_back({DNNL_ARG_SRC_1, constant(l.weights.data(), bMd, bMd)});
        }
        dnnl::binary::primitive_desc pd({algorithm::binary_add, mdOf(a), bMd, dstMd},
                                        scratchpadAttr(), m_plan->engine);
        int dst = newBuffer(dstMd);
        s.prim = dnnl::binary(pd);
        s.viewArgs.push_back({DNNL_ARG_DST, dst});
        m_plan->steps.push_back(std::move(s));
        info.in = a;
        info.out = dst;
        break;
      }
    }
  }

  size_t m_first;  // layers before it are not built
  WeightCache& m_weights;
  const NetworkDef& m_def;
  const std::vector<Shape>& m_shapes;
  std::shared_ptr<Plan> m_plan;
  dnnl::stream m_stream;
  const std::vector<std::vector<int>> m_inputs;  // NetworkDef::inputIndices()
  std::unordered_map<int, int> m_fusedOut;       // Conv/Dense layer -> its dst view
  std::vector<bool> m_keep;                      // layers whose own output must stay available
};

}  // namespace

std::shared_ptr<Plan> buildPlan(const NetworkDef& def, const std::vector<Shape>& shapes, int batch,
                                bool fuse, const std::vector<size_t>& keep, size_t first,
                                const dnnl::engine& engine, WeightCache& weights) {
  return PlanBuilder(def, shapes, batch, fuse, keep, first, engine, weights).build();
}

namespace {

// The one run loop: executes the steps of layers [firstLayer, stopLayer) in order, reporting each
// new layer to `progress` and stopping with Cancelled between layers when `cancel` asks.
void runSteps(const Plan& plan, RunState& state, int firstLayer, int stopLayer,
              ProgressSink* progress, const ProgressSink* cancel) {
  dnnl::stream stream(plan.engine);
  const int64_t total = static_cast<int64_t>(plan.layers.size());
  std::unordered_map<int, memory> args;
  int lastLayer = -1;
  for (size_t k = 0; k < plan.steps.size(); ++k) {
    const Step& s = plan.steps[k];
    if (s.layer < firstLayer) continue;
    if (s.layer >= stopLayer) break;
    if (s.layer != lastLayer) {
      lastLayer = s.layer;
      if (progress) reportProgress(progress, s.layer, total);
      if (cancel && cancel->cancelled()) {
        stream.wait();
        throw Cancelled();
      }
    }
    args.clear();
    for (const auto& [arg, view] : s.viewArgs) args.emplace(arg, state.views[size_t(view)]);
    for (const auto& [arg, mem] : s.constArgs) args.emplace(arg, mem);
    if (state.scratch[k]) args.emplace(DNNL_ARG_SCRATCHPAD, state.scratch[k]);
    s.prim.execute(stream, args);
  }
  stream.wait();
}

}  // namespace

void executePlan(const Plan& plan, RunState& state, ProgressSink* progress) {
  runSteps(plan, state, 0, std::numeric_limits<int>::max(), progress, nullptr);
  const int64_t total = static_cast<int64_t>(plan.layers.size());
  if (progress) reportProgress(progress, total, total);
}

void executePlanRange(const Plan& plan, RunState& state, int firstLayer, int stopLayer,
                      const ProgressSink* cancel) {
  runSteps(plan, state, firstLayer, stopLayer, nullptr, cancel);
}

Tensor viewToTensor(const Plan& plan, const RunState& state, int view, const Shape& shape) {
  Tensor out(shape);
  const memory& src = state.views[view];
  memory::desc plain = plainMd(src.get_desc().dims());
  if (src.get_desc() == plain) {
    std::memcpy(out.data(), src.get_data_handle(),
                static_cast<size_t>(out.numel()) * sizeof(float));
  } else {
    dnnl::stream stream(plan.engine);
    memory dst(plain, plan.engine, out.data());
    reorderNow(stream, src, dst);
    stream.wait();
  }
  return out;
}

}  // namespace detail

std::string engineCpuIsa() {
  using dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case cpu_isa::sse41:
      return "sse41";
    case cpu_isa::avx:
      return "avx";
    case cpu_isa::avx2:
      return "avx2";
    case cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case cpu_isa::avx512_mic:
      return "avx512_mic";
    case cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case cpu_isa::avx512_core:
      return "avx512_core";
    case cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case cpu_isa::all:
      return "all";
  }
  return "isa " + std::to_string(int(dnnl::get_effective_cpu_isa()));
}

int parseThreadCap(const char* value) {
  if (value == nullptr || *value < '1' || *value > '9') return 0;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(value, &end, 10);
  return errno == 0 && *end == '\0' && n >= 1 && n <= 1024 ? int(n) : 0;
}

int engineThreads(int requested) {
  static const int cap = parseThreadCap(std::getenv("ZFVIS_THREADS"));
  const int threads = requested > 0 ? requested : omp_get_max_threads();
  return cap > 0 ? std::min(threads, cap) : threads;
}

int setEngineThreads(int threads) {
  int previous = omp_get_max_threads();
  if (threads > 0) omp_set_num_threads(engineThreads(threads));
  return previous;
}

// ---- CompiledNet -------------------------------------------------------------------------

CompiledNet::CompiledNet(std::shared_ptr<const NetworkDef> def, EngineOptions options)
    : m_def(std::move(def)), m_options(options), m_cache(std::make_unique<detail::PlanCache>()) {
  m_shapes = m_def->outputShapes();
}

CompiledNet::~CompiledNet() = default;

std::shared_ptr<const CompiledNet> CompiledNet::compile(std::shared_ptr<const NetworkDef> def,
                                                        EngineOptions options) {
  if (!def) throw Error("compile: no network");
  def->validate();
  return std::shared_ptr<const CompiledNet>(new CompiledNet(std::move(def), options));
}

std::shared_ptr<const detail::Plan> CompiledNet::plan(int batch, bool fuse,
                                                      const std::vector<size_t>& keep,
                                                      size_t firstLayer) const {
  if (batch < 1) throw Error("batch size must be at least 1, got " + std::to_string(batch));
  if (firstLayer >= m_def->layers.size())
    throw Error("model '" + m_def->name + "': a plan cannot start at layer " +
                std::to_string(firstLayer) + " of " + std::to_string(m_def->layers.size()));
  // The plan depends on the batch, its first layer and, when fusing, on which layers must keep
  // their output.
  std::string key = std::to_string(batch) + (fuse ? "/fused" : "/plain");
  if (firstLayer > 0) key += "/from" + std::to_string(firstLayer);
  if (fuse) {
    std::vector<size_t> sorted = keep;
    std::sort(sorted.begin(), sorted.end());
    for (size_t k : sorted)
      if (k < m_def->layers.size() &&
          (m_def->layers[k].type == LayerType::Conv || m_def->layers[k].type == LayerType::Dense))
        key += "/" + std::to_string(k);
  }
  std::lock_guard lock(m_cache->mutex);
  auto it = m_cache->plans.find(key);
  if (it != m_cache->plans.end()) return it->second;
  setEngineThreads(m_options.threads);
  auto p = detail::buildPlan(*m_def, m_shapes, batch, fuse, keep, firstLayer, m_cache->engine,
                             m_cache->weights);
  m_cache->plans.emplace(key, p);
  return p;
}

std::shared_ptr<void> CompiledNet::cacheSlot(
    std::type_index key, const std::function<std::shared_ptr<void>()>& make) const {
  std::lock_guard lock(m_cache->mutex);
  auto& slot = m_cache->shared[key];
  if (!slot) slot = make();
  return slot;
}

// ---- Activations ------------------------------------------------------------------------

Activations::Activations(std::shared_ptr<const CompiledNet> net,
                         std::shared_ptr<const detail::Plan> plan,
                         std::shared_ptr<detail::RunState> state, Tensor input)
    : m_net(std::move(net)),
      m_plan(std::move(plan)),
      m_state(std::move(state)),
      m_input(std::move(input)),
      m_outputs(m_plan->layers.size()) {}

Activations::~Activations() = default;

int Activations::batch() const {
  return m_plan->batch;
}

size_t Activations::layerCount() const {
  return m_plan->layers.size();
}

bool Activations::has(size_t layer) const {
  return layer < m_plan->layers.size() && m_plan->layers[layer].out >= 0;
}

const Tensor& Activations::output(size_t layer) const {
  if (layer >= m_plan->layers.size())
    throw Error("layer index " + std::to_string(layer) + " is out of range");
  std::lock_guard lock(m_mutex);
  if (!m_outputs[layer]) {
    const detail::LayerInfo& info = m_plan->layers[layer];
    if (info.out < 0)
      throw Error("layer '" + m_net->def().layers[layer].name +
                  "': its output was not kept by this run (run with keepAll)");
    Shape s = m_net->outputShapes()[layer].withBatch(m_plan->batch);
    m_outputs[layer] =
        std::make_unique<Tensor>(detail::viewToTensor(*m_plan, *m_state, info.out, s));
  }
  return *m_outputs[layer];
}

std::vector<ChannelPeak> Activations::channelPeaks(size_t layer) const {
  return peaksOfSamples(layer, 0, batch());
}

std::vector<ChannelPeak> Activations::channelPeaks(size_t layer, int sample) const {
  if (sample < 0 || sample >= batch())
    throw Error("sample " + std::to_string(sample) + " is out of range (batch of " +
                std::to_string(batch()) + ")");
  return peaksOfSamples(layer, sample, sample + 1);
}

std::vector<ChannelPeak> Activations::peaksOfSamples(size_t layer, int first, int stop) const {
  if (layer >= m_plan->layers.size())
    throw Error("layer index " + std::to_string(layer) + " is out of range");
  const std::string& name = m_net->def().layers[layer].name;
  const detail::LayerInfo& info = m_plan->layers[layer];
  if (info.out < 0)
    throw Error("layer '" + name + "': its output was not kept by this run (run with keepAll)");
  const Shape& s = m_net->outputShapes()[layer];
  if (s.rank() != 1 && s.rank() != 3)
    throw Error("layer '" + name + "' has output " + s.str() +
                "; expected channels (C or C x H x W)");
  const int64_t n0 = first, N = stop - first, C = s[0];
  const int64_t H = s.rank() == 3 ? s[1] : 1, W = s.rank() == 3 ? s[2] : 1;
  std::vector<ChannelPeak> peaks(size_t(N * C));
  const memory& mem = m_state->views[info.out];
  const dnnl_memory_desc_t& d = mem.get_desc().data;
  const auto& b = d.format_desc.blocking;
  // Strided layouts with at most one inner block, on the channels (plain, nChw8c, nChw16c,
  // nhwc, ...) are read where they are; anything else goes through the plain copy.
  const bool direct = d.format_kind == dnnl_blocked && d.data_type == dnnl_f32 &&
                      d.ndims == int(s.rank()) + 1 &&
                      (b.inner_nblks == 0 || (b.inner_nblks == 1 && b.inner_idxs[0] == 1));
  if (!direct) {
    const Tensor& t = output(layer);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c)
        findChannelPeaks(t.data() + ((n0 + n) * C + c) * H * W, H, W, W, 1, 1,
                         &peaks[size_t(n * C + c)]);
    return peaks;
  }
  const float* base = static_cast<const float*>(mem.get_data_handle()) + d.offset0;
  const int64_t block = b.inner_nblks ? b.inner_blks[0] : 1;
  const int64_t rowStep = s.rank() == 3 ? b.strides[2] : 0;
  const int64_t colStep = s.rank() == 3 ? b.strides[3] : 0;
  // Samples and channel blocks are independent: spread them over the engine's threads.
  const int64_t blocks = (C + block - 1) / block;
  const int threads = engineThreads(m_net->options().threads);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < N * blocks; ++i) {
    const int64_t n = i / blocks, c0 = (i % blocks) * block;
    findChannelPeaks(base + (n0 + n) * b.strides[0] + (c0 / block) * b.strides[1], H, W, rowStep,
                     colStep, int(std::min(block, C - c0)), &peaks[size_t(n * C + c0)]);
  }
  return peaks;
}

const memory* Activations::forwardMemory(int layer) const {
  const int view = layer < 0 ? m_plan->inputView : m_plan->layers.at(size_t(layer)).out;
  return view < 0 ? nullptr : &m_state->views[size_t(view)];
}

const memory* Activations::poolWorkspace(size_t layer) const {
  const int view = m_plan->layers.at(layer).workspace;
  return view < 0 ? nullptr : &m_state->views[size_t(view)];
}

const dnnl::engine& Activations::dnnlEngine() const {
  return m_plan->engine;
}

// ---- Session ----------------------------------------------------------------------------

Session::Session(std::shared_ptr<const CompiledNet> net) : m_net(std::move(net)) {}

Session::~Session() = default;

std::shared_ptr<const Activations> Session::run(const Tensor& input, const RunOptions& options) {
  const NetworkDef& def = m_net->def();
  Tensor in = input;
  if (in.shape() == def.input.shape) in.reshape(def.input.shape.withBatch(1));
  if (in.shape().rank() != def.input.shape.rank() + 1 || in.shape().dropFirst() != def.input.shape)
    throw Error("model '" + def.name + "': input has shape " + input.shape().str() +
                ", expected N x " + def.input.shape.str());
  const int batch = static_cast<int>(in.shape()[0]);
  auto plan = m_net->plan(batch, !options.keepAll, options.keep);
  // Reuse the buffers of an earlier run of the same plan when nobody holds its activations.
  std::shared_ptr<detail::RunState> state;
  for (auto& spare : m_spares)
    if (spare.use_count() == 1 && spare->plan == plan.get()) {
      state = spare;
      break;
    }
  if (!state) {
    state = std::make_shared<detail::RunState>(*plan);
    m_spares.push_back(state);
    constexpr size_t kMaxSpares = 4;  // e.g. lean and keep-all runs at two batch sizes
    if (m_spares.size() > kMaxSpares) m_spares.erase(m_spares.begin());
  }
  state->setInput(in.data());
  setEngineThreads(m_net->options().threads);
  detail::executePlan(*plan, *state, options.progress);
  return std::make_shared<Activations>(m_net, plan, std::move(state), std::move(in));
}

}  // namespace zfvis
