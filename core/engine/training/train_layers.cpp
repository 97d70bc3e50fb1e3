// Per-layer training builders: each adds its layer's forward_training call(s) to the graph and a
// builder for its backward call(s), which TrainPlan runs in reverse layer order so gradients of
// outputs with several consumers are summed (Graph::diffTarget / commitDiff).
#include <algorithm>
#include <cstring>
#include <memory>

#include "core/base/error.h"
#include "core/engine/dnnl_util.h"
#include "core/engine/pooling_dims.h"
#include "core/engine/training/train_graph.h"

namespace zfvis::training {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using Tag = memory::format_tag;
using DType = memory::data_type;
using detail::plainMd;
using detail::PoolingDims;
using detail::poolingDims;
using detail::scratchpadAttr;

/// Batch size from which dense layers let oneDNN choose the weight layout (the inference engine's
/// rule, measured there: brgemm on blocked weights wins from 8 rows on).
constexpr int kBlockedDenseBatch = 8;

memory::desc anyMd(const memory::dims& dims) {
  return memory::desc(dims, DType::f32, Tag::any);
}

// Creates a Conv / Dense forward primitive descriptor that also applies the ReLU that is its only
// consumer, when oneDNN offers that; marks the layer in g.fusedRelu. The ReLU layer then only
// names the same memory (buildRelu) and its backward pass reads it as before: relu(x) > 0 exactly
// where x > 0, so the gradient is unchanged and one pass over the activations is saved.
template <typename PrimitiveDesc, typename Desc>
PrimitiveDesc forwardWithRelu(Graph& g, size_t i, const Desc& desc) {
  const std::vector<size_t> consumers = g.def->consumers(i);
  const bool candidate = consumers.size() == 1 &&
                         g.def->layers[consumers[0]].type == LayerType::Relu &&
                         int(consumers[0]) <= g.logitsLayer;
  if (candidate) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    try {
      PrimitiveDesc pd(desc, scratchpadAttr(attr), g.engine);
      g.fusedRelu[i] = true;
      return pd;
    } catch (const dnnl::error&) {
      // No implementation with the post-op: run the ReLU on its own.
    }
  }
  return PrimitiveDesc(desc, scratchpadAttr(), g.engine);
}

[[noreturn]] void fail(const LayerSpec& l, const std::string& what) {
  throw Error("layer '" + l.name + "' (" + std::string(onnxOpName(l.type)) + "): " + what);
}

void buildConv(Graph& g, size_t i) {
  const LayerSpec& l = g.def->layers[i];
  const ConvParams& p = l.conv;
  Node& in = g.inputNode(i, 0);
  const Shape inShape = g.inputShape(i, 0);
  const memory::dims srcDims = g.dims(inShape), dstDims = g.dims(g.shapes[i]);
  const memory::dims wDims = p.groups > 1
                                 ? memory::dims{p.groups, p.outChannels / p.groups,
                                                inShape[0] / p.groups, p.kernelH, p.kernelW}
                                 : memory::dims{p.outChannels, inShape[0], p.kernelH, p.kernelW};
  const memory::desc biasMd({p.outChannels}, DType::f32, Tag::a);
  const memory::dims strides{p.strideH, p.strideW}, dil{p.dilationH - 1, p.dilationW - 1};
  const memory::dims padL{p.pad.top, p.pad.left}, padR{p.pad.bottom, p.pad.right};
  const algorithm alg = algorithm::convolution_direct;
  auto fdesc = p.hasBias ? dnnl::convolution_forward::desc(prop_kind::forward_training, alg,
                                                           anyMd(srcDims), anyMd(wDims), biasMd,
                                                           anyMd(dstDims), strides, dil, padL, padR)
                         : dnnl::convolution_forward::desc(
                               prop_kind::forward_training, alg, anyMd(srcDims), anyMd(wDims),
                               anyMd(dstDims), strides, dil, padL, padR);
  auto fpd = forwardWithRelu<dnnl::convolution_forward::primitive_desc>(g, i, fdesc);
  memory src = g.reordered(in.out, fpd.src_desc(), g.forward);
  g.nodes[i].out = memory(fpd.dst_desc(), g.engine);
  const size_t wi = g.params.size();
  g.addParam(i, false, l.weights, wDims, fpd.weights_desc());
  const size_t bi = g.params.size();
  if (p.hasBias) g.addParam(i, true, l.bias, {p.outChannels}, biasMd);
  Exec e{
      dnnl::convolution_forward(fpd),
      {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, g.params[wi].value}, {DNNL_ARG_DST, g.nodes[i].out}},
      {}};
  if (p.hasBias) e.args[DNNL_ARG_BIAS] = g.params[bi].value;
  g.forward.push_back(std::move(e));

  g.backwardBuilders[i] = [&g, i, fpd, src, wi, bi, srcDims, dstDims, wDims, biasMd, strides, dil,
                           padL, padR, alg]() {
    const LayerSpec& l = g.def->layers[i];
    const bool hasBias = l.conv.hasBias;
    Node& node = g.nodes[i];
    Node& in = g.inputNode(i, 0);
    auto wdesc =
        hasBias
            ? dnnl::convolution_backward_weights::desc(alg, anyMd(srcDims), anyMd(wDims), biasMd,
                                                       anyMd(dstDims), strides, dil, padL, padR)
            : dnnl::convolution_backward_weights::desc(alg, anyMd(srcDims), anyMd(wDims),
                                                       anyMd(dstDims), strides, dil, padL, padR);
    dnnl::convolution_backward_weights::primitive_desc wpd(wdesc, scratchpadAttr(), g.engine, fpd);
    memory diffDst = g.reordered(node.diff, wpd.diff_dst_desc(), g.backward);
    const memory grad = g.params[wi].grad;
    memory dw = wpd.diff_weights_desc() == grad.get_desc()
                    ? grad
                    : memory(wpd.diff_weights_desc(), g.engine);
    Exec e{dnnl::convolution_backward_weights(wpd),
           {{DNNL_ARG_SRC, g.reordered(src, wpd.src_desc(), g.backward)},
            {DNNL_ARG_DIFF_DST, diffDst},
            {DNNL_ARG_DIFF_WEIGHTS, dw}},
           {}};
    if (hasBias) e.args[DNNL_ARG_DIFF_BIAS] = g.params[bi].grad;
    g.backward.push_back(std::move(e));
    if (dw != grad) g.reorderInto(dw, grad, g.backward);
    if (!in.needsDiff) return;
    dnnl::convolution_backward_data::primitive_desc dpd(
        {alg, anyMd(srcDims), anyMd(wDims), anyMd(dstDims), strides, dil, padL, padR},
        scratchpadAttr(), g.engine, fpd);
    memory dd = dpd.diff_dst_desc() == diffDst.get_desc()
                    ? diffDst
                    : g.reordered(node.diff, dpd.diff_dst_desc(), g.backward);
    memory weights = g.reordered(g.params[wi].value, dpd.weights_desc(), g.backward);
    memory ds = g.diffTarget(in, dpd.diff_src_desc());
    g.backward.push_back(
        {dnnl::convolution_backward_data(dpd),
         {{DNNL_ARG_DIFF_DST, dd}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, ds}},
         {}});
    g.commitDiff(in, ds);
  };
}

void buildDense(Graph& g, size_t i) {
  const LayerSpec& l = g.def->layers[i];
  Node& in = g.inputNode(i, 0);
  const int64_t batch = g.options.batch, units = l.dense.units;
  const int64_t features = g.inputShape(i, 0).numel();
  // Dense layers flatten their input in C order: a plain N x features view of it.
  memory src = g.plainAs(in.out, {batch, features}, g.forward);
  const memory::desc wQuery =
      batch >= kBlockedDenseBatch ? anyMd({units, features}) : plainMd({units, features});
  const memory::desc biasMd({units}, DType::f32, Tag::a);
  const memory::desc dstMd = plainMd({batch, units});
  const bool hasBias = l.dense.hasBias;
  auto fdesc = hasBias ? dnnl::inner_product_forward::desc(prop_kind::forward_training,
                                                           src.get_desc(), wQuery, biasMd, dstMd)
                       : dnnl::inner_product_forward::desc(prop_kind::forward_training,
                                                           src.get_desc(), wQuery, dstMd);
  auto fpd = forwardWithRelu<dnnl::inner_product_forward::primitive_desc>(g, i, fdesc);
  g.nodes[i].out = memory(dstMd, g.engine);  // the per-sample shape is {units}
  const size_t wi = g.params.size();
  g.addParam(i, false, l.weights, {units, features}, fpd.weights_desc());
  const size_t bi = g.params.size();
  if (hasBias) g.addParam(i, true, l.bias, {units}, biasMd);
  Exec e{
      dnnl::inner_product_forward(fpd),
      {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, g.params[wi].value}, {DNNL_ARG_DST, g.nodes[i].out}},
      {}};
  if (hasBias) e.args[DNNL_ARG_BIAS] = g.params[bi].value;
  g.forward.push_back(std::move(e));

  g.backwardBuilders[i] = [&g, i, fpd, src, wi, bi, wQuery, biasMd, dstMd, hasBias]() {
    Node& node = g.nodes[i];
    Node& in = g.inputNode(i, 0);
    const memory diffDst = node.diff;
    auto wdesc =
        hasBias ? dnnl::inner_product_backward_weights::desc(src.get_desc(), wQuery, biasMd, dstMd)
                : dnnl::inner_product_backward_weights::desc(src.get_desc(), wQuery, dstMd);
    dnnl::inner_product_backward_weights::primitive_desc wpd(wdesc, scratchpadAttr(), g.engine,
                                                             fpd);
    const memory grad = g.params[wi].grad;
    memory dw = wpd.diff_weights_desc() == grad.get_desc()
                    ? grad
                    : memory(wpd.diff_weights_desc(), g.engine);
    Exec e{dnnl::inner_product_backward_weights(wpd),
           {{DNNL_ARG_SRC, g.reordered(src, wpd.src_desc(), g.backward)},
            {DNNL_ARG_DIFF_DST, g.reordered(diffDst, wpd.diff_dst_desc(), g.backward)},
            {DNNL_ARG_DIFF_WEIGHTS, dw}},
           {}};
    if (hasBias) e.args[DNNL_ARG_DIFF_BIAS] = g.params[bi].grad;
    g.backward.push_back(std::move(e));
    if (dw != grad) g.reorderInto(dw, grad, g.backward);
    if (!in.needsDiff) return;
    dnnl::inner_product_backward_data::primitive_desc dpd({src.get_desc(), wQuery, dstMd},
                                                          scratchpadAttr(), g.engine, fpd);
    memory weights = g.reordered(g.params[wi].value, dpd.weights_desc(), g.backward);
    memory ds = g.diffTarget(in, dpd.diff_src_desc());
    g.backward.push_back(
        {dnnl::inner_product_backward_data(dpd),
         {{DNNL_ARG_DIFF_DST, g.reordered(diffDst, dpd.diff_dst_desc(), g.backward)},
          {DNNL_ARG_WEIGHTS, weights},
          {DNNL_ARG_DIFF_SRC, ds}},
         {}});
    g.commitDiff(in, ds);
  };
}

void buildRelu(Graph& g, size_t i) {
  const LayerSpec& l = g.def->layers[i];
  Node& in = g.inputNode(i, 0);
  // The backward pass reads the output (x > 0 exactly where relu(x) > 0), not the input.
  const algorithm alg = algorithm::eltwise_relu_use_dst_for_bwd;
  dnnl::eltwise_forward::primitive_desc fpd(
      {prop_kind::forward_training, alg, in.out.get_desc(), 0.0f, 0.0f}, scratchpadAttr(),
      g.engine);
  const int producer = g.producer(i, 0);
  if (producer >= 0 && g.fusedRelu[size_t(producer)]) {
    g.nodes[i].out = in.out;  // the producer's primitive applied the ReLU already
  } else {
    g.nodes[i].out = memory(fpd.dst_desc(), g.engine);
    g.forward.push_back(
        {dnnl::eltwise_forward(fpd), {{DNNL_ARG_SRC, in.out}, {DNNL_ARG_DST, g.nodes[i].out}}, {}});
  }
  g.backwardBuilders[i] = [&g, i, fpd, alg]() {
    Node& node = g.nodes[i];
    Node& in = g.inputNode(i, 0);
    if (!in.needsDiff) return;
    dnnl::eltwise_backward::primitive_desc bpd(
        {alg, node.diff.get_desc(), node.out.get_desc(), 0.0f, 0.0f}, scratchpadAttr(), g.engine,
        fpd);
    memory ds = g.diffTarget(in, bpd.diff_src_desc());
    g.backward.push_back(
        {dnnl::eltwise_backward(bpd),
         {{DNNL_ARG_DIFF_DST, node.diff}, {DNNL_ARG_DST, node.out}, {DNNL_ARG_DIFF_SRC, ds}},
         {}});
    g.commitDiff(in, ds);
  };
}

void buildLrn(Graph& g, size_t i) {
  const LayerSpec& l = g.def->layers[i];
  if (l.lrn.size % 2 == 0)
    fail(l, "size " + std::to_string(l.lrn.size) +
                " is even; only odd sizes are supported (oneDNN's channel window is symmetric)");
  Node& in = g.inputNode(i, 0);
  const LrnParams p = l.lrn;
  const algorithm alg = algorithm::lrn_across_channels;
  dnnl::lrn_forward::primitive_desc fpd(
      {prop_kind::forward_training, alg, in.out.get_desc(), p.size, p.alpha, p.beta, p.bias},
      scratchpadAttr(), g.engine);
  g.nodes[i].out = memory(fpd.dst_desc(), g.engine);
  memory workspace(fpd.workspace_desc(), g.engine);
  g.forward.push_back(
      {dnnl::lrn_forward(fpd),
       {{DNNL_ARG_SRC, in.out}, {DNNL_ARG_DST, g.nodes[i].out}, {DNNL_ARG_WORKSPACE, workspace}},
       {}});
  g.backwardBuilders[i] = [&g, i, fpd, workspace, alg, p]() {
    Node& node = g.nodes[i];
    Node& in = g.inputNode(i, 0);
    if (!in.needsDiff) return;
    dnnl::lrn_backward::primitive_desc bpd(
        {alg, in.out.get_desc(), node.out.get_desc(), p.size, p.alpha, p.beta, p.bias},
        scratchpadAttr(), g.engine, fpd);
    memory ds = g.diffTarget(in, bpd.diff_src_desc());
    g.backward.push_back(
        {dnnl::lrn_backward(bpd),
         {{DNNL_ARG_SRC, in.out},
          {DNNL_ARG_DIFF_DST, g.reordered(node.diff, bpd.diff_dst_desc(), g.backward)},
          {DNNL_ARG_WORKSPACE, workspace},
          {DNNL_ARG_DIFF_SRC, ds}},
         {}});
    g.commitDiff(in, ds);
  };
}

void buildPool(Graph& g, size_t i) {
  const LayerSpec& l = g.def->layers[i];
  Node& in = g.inputNode(i, 0);
  const Shape inShape = g.inputShape(i, 0);
  const PoolingDims pool = poolingDims(l, inShape, g.shapes[i]);
  const algorithm alg = pool.alg;
  const memory::dims kernel = pool.kernel, strides = pool.strides, padL = pool.padL,
                     padR = pool.padR;
  dnnl::pooling_forward::primitive_desc fpd(
      {prop_kind::forward_training, alg, in.out.get_desc(), anyMd(g.dims(g.shapes[i])), strides,
       kernel, padL, padR},
      scratchpadAttr(), g.engine);
  g.nodes[i].out = memory(fpd.dst_desc(), g.engine);
  Exec e{dnnl::pooling_forward(fpd), {{DNNL_ARG_SRC, in.out}, {DNNL_ARG_DST, g.nodes[i].out}}, {}};
  memory workspace;
  if (alg == algorithm::pooling_max) {
    workspace = memory(fpd.workspace_desc(), g.engine);
    e.args[DNNL_ARG_WORKSPACE] = workspace;
  }
  g.forward.push_back(std::move(e));
  g.backwardBuilders[i] = [&g, i, fpd, workspace, alg, kernel, strides, padL, padR]() {
    Node& node = g.nodes[i];
    Node& in = g.inputNode(i, 0);
    if (!in.needsDiff) return;
    dnnl::pooling_backward::primitive_desc bpd(
        {alg, in.out.get_desc(), node.out.get_desc(), strides, kernel, padL, padR},
        scratchpadAttr(), g.engine, fpd);
    memory ds = g.diffTarget(in, bpd.diff_src_desc());
    Exec b{dnnl::pooling_backward(bpd),
           {{DNNL_ARG_DIFF_DST, g.reordered(node.diff, bpd.diff_dst_desc(), g.backward)},
            {DNNL_ARG_DIFF_SRC, ds}},
           {}};
    if (workspace) b.args[DNNL_ARG_WORKSPACE] = workspace;
    g.backward.push_back(std::move(b));
    g.commitDiff(in, ds);
  };
}

void buildDropout(Graph& g, size_t i) {
  const LayerSpec& l = g.def->layers[i];
  Node& in = g.inputNode(i, 0);
  const memory::dims dims = g.dims(g.shapes[i]);
  memory src = g.plainAs(in.out, dims, g.forward);
  g.nodes[i].out = memory(plainMd(dims), g.engine);
  const int64_t n = g.shapes[i].numel() * g.options.batch;
  auto mask = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n));
  const float ratio = g.options.dropoutRatio;
  const float scale = ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
  memory out = g.nodes[i].out;
  g.forward.push_back({{}, {}, [&g, i, src, out, mask, n, ratio, scale]() {
                         const float* x = static_cast<const float*>(src.get_data_handle());
                         float* y = static_cast<float*>(out.get_data_handle());
                         if (!g.training || ratio <= 0.0f) {
                           std::memcpy(y, x, size_t(n) * sizeof(float));
                           return;
                         }
                         uint8_t* m = mask->data();
                         const uint64_t key = dropoutKey(g.dropoutSeed, g.step, i);
#pragma omp parallel for schedule(static)
                         for (int64_t k = 0; k < n; ++k) {
                           m[k] = keepsWithKey(key, uint64_t(k), ratio) ? 1 : 0;
                           y[k] = m[k] ? x[k] * scale : 0.0f;
                         }
                       }});
  g.backwardBuilders[i] = [&g, i, mask, n, ratio, scale, dims]() {
    Node& node = g.nodes[i];
    Node& in = g.inputNode(i, 0);
    if (!in.needsDiff) return;
    memory ds = g.diffTarget(in, plainMd(dims));
    memory dd = node.diff;
    g.backward.push_back({{}, {}, [&g, dd, ds, mask, n, ratio, scale]() {
                            const float* d = static_cast<const float*>(dd.get_data_handle());
                            float* s = static_cast<float*>(ds.get_data_handle());
                            const bool on = g.training && ratio > 0.0f;
                            const uint8_t* m = mask->data();
#pragma omp parallel for schedule(static)
                            for (int64_t k = 0; k < n; ++k)
                              s[k] = on ? (m[k] ? d[k] * scale : 0.0f) : d[k];
                          }});
    g.commitDiff(in, ds);
  };
}

// Flatten, Reshape and Identity: the output is the input seen as plain with other dims (copied to
// plain first when the producer used a blocked layout); the gradient flows back unchanged.
void buildView(Graph& g, size_t i) {
  const LayerSpec& l = g.def->layers[i];
  Node& in = g.inputNode(i, 0);
  g.nodes[i].out =
      l.type == LayerType::Identity ? in.out : g.plainAs(in.out, g.dims(g.shapes[i]), g.forward);
  g.backwardBuilders[i] = [&g, i]() {
    Node& in = g.inputNode(i, 0);
    if (in.needsDiff) g.commitDiff(in, g.nodes[i].diff);
  };
}

void buildConcat(Graph& g, size_t i) {
  const LayerSpec& l = g.def->layers[i];
  std::vector<memory::desc> mds;
  for (size_t k = 0; k < l.inputs.size(); ++k) mds.push_back(g.inputNode(i, k).out.get_desc());
  dnnl::concat::primitive_desc pd(l.axis.axis, mds, g.engine, scratchpadAttr());
  g.nodes[i].out = memory(pd.dst_desc(), g.engine);
  Exec e{dnnl::concat(pd), {{DNNL_ARG_DST, g.nodes[i].out}}, {}};
  for (size_t k = 0; k < l.inputs.size(); ++k)
    e.args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(k)] = g.inputNode(i, k).out;
  g.forward.push_back(std::move(e));
  g.backwardBuilders[i] = [&g, i]() {
    const LayerSpec& l = g.def->layers[i];
    const memory::dims outDims = g.dims(g.shapes[i]);
    // Each input's gradient is its slice of the output gradient (a sub-memory of a plain copy).
    memory plain = g.plainAs(g.nodes[i].diff, outDims, g.backward);
    memory::dims offsets(outDims.size(), 0);
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const memory::dims dims = g.dims(g.inputShape(i, k));
      Node& in = g.inputNode(i, k);
      if (in.needsDiff) {
        memory::desc sub = plain.get_desc().submemory_desc(dims, offsets);
        g.commitDiff(in, memory(sub, g.engine, plain.get_data_handle()));
      }
      offsets[size_t(l.axis.axis)] += dims[size_t(l.axis.axis)];
    }
  };
}

}  // namespace

uint64_t splitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void buildLayer(Graph& g, size_t i) {
  const LayerSpec& l = g.def->layers[i];
  try {
    switch (l.type) {
      case LayerType::Conv:
        return buildConv(g, i);
      case LayerType::Dense:
        return buildDense(g, i);
      case LayerType::Relu:
        return buildRelu(g, i);
      case LayerType::LRN:
        return buildLrn(g, i);
      case LayerType::MaxPool:
      case LayerType::AveragePool:
      case LayerType::GlobalAveragePool:
        return buildPool(g, i);
      case LayerType::Dropout:
        return buildDropout(g, i);
      case LayerType::Flatten:
      case LayerType::Reshape:
      case LayerType::Identity:
        return buildView(g, i);
      case LayerType::Concat:
        return buildConcat(g, i);
      case LayerType::Softmax:  // the last layer: folded into the loss (checkTrainable)
        return;
      case LayerType::BatchNorm:
      case LayerType::Add:
        break;
    }
  } catch (const dnnl::error& e) {
    fail(l, std::string("oneDNN cannot train it: ") + e.what());
  }
  fail(l, "no backward rule");
}

}  // namespace zfvis::training
