#include "core/engine/training/train_plan.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/base/error.h"
#include "core/engine/dnnl_util.h"
#include "core/engine/engine.h"
#include "core/engine/training/train_graph.h"

namespace zfvis {

namespace training {

using detail::isPlain;
using detail::plainMd;
using dnnl::memory;

Node& Graph::inputNode(size_t layer, size_t k) {
  const int p = producer(layer, k);
  return p == kNetworkInput ? input : nodes[size_t(p)];
}

const Shape& Graph::inputShape(size_t layer, size_t k) const {
  const int p = producer(layer, k);
  return p == kNetworkInput ? def->input.shape : shapes[size_t(p)];
}

memory::dims Graph::dims(const Shape& perSample) const {
  return detail::batchDims(perSample, options.batch);
}

void Graph::reorderInto(const memory& src, const memory& dst, std::vector<Exec>& list) {
  list.push_back({dnnl::reorder(dnnl::reorder::primitive_desc(
                      engine, src.get_desc(), engine, dst.get_desc(), detail::scratchpadAttr())),
                  {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}},
                  {}});
}

memory Graph::reordered(const memory& mem, const memory::desc& want, std::vector<Exec>& list) {
  if (mem.get_desc() == want) return mem;
  memory out(want, engine);
  reorderInto(mem, out, list);
  return out;
}

memory Graph::plainAs(const memory& mem, const memory::dims& want, std::vector<Exec>& list) {
  const memory::desc& md = mem.get_desc();
  if (isPlain(md)) return memory(plainMd(want), engine, mem.get_data_handle());
  memory plain = reordered(mem, plainMd(md.dims()), list);
  return memory(plainMd(want), engine, plain.get_data_handle());
}

memory Graph::diffTarget(Node& producer, const memory::desc& md) {
  if (!producer.diffStarted) {
    const memory::desc& own = producer.diff.get_desc();
    if (md == own) return producer.diff;
    if (isPlain(md) && isPlain(own) && md.get_size() == own.get_size())
      return memory(md, engine, producer.diff.get_data_handle());
  }
  return memory(md, engine);
}

void Graph::commitDiff(Node& producer, const memory& written) {
  const memory::desc& own = producer.diff.get_desc();
  if (written.get_data_handle() == producer.diff.get_data_handle() &&
      written.get_desc().get_size() == own.get_size()) {
    producer.diffStarted = true;  // written in place
    return;
  }
  memory src = written;
  if (src.get_desc().dims() != own.dims()) {
    // A plain gradient of a reshaped view (Flatten, Dense input): the same values in C order.
    if (!isPlain(src.get_desc())) throw Error("internal: gradient of another shape is not plain");
    src = memory(plainMd(own.dims()), engine, written.get_data_handle());
  }
  if (!producer.diffStarted) {
    reorderInto(src, producer.diff, backward);
    producer.diffStarted = true;
    return;
  }
  // A later consumer of the same output: add its gradient to what the earlier ones wrote.
  memory add = reordered(src, own, backward);
  memory dst = producer.diff;
  const int64_t n = int64_t(own.get_size() / sizeof(float));
  backward.push_back({{}, {}, [add, dst, n]() {
                        const float* a = static_cast<const float*>(add.get_data_handle());
                        float* d = static_cast<float*>(dst.get_data_handle());
#pragma omp parallel for schedule(static)
                        for (int64_t k = 0; k < n; ++k) d[k] += a[k];
                      }});
}

Param& Graph::addParam(size_t layer, bool bias, const Tensor& init, const memory::dims& plainDims,
                       const memory::desc& want) {
  Param p;
  p.info.layer = layer;
  p.info.bias = bias;
  p.info.shape = init.shape();
  p.info.name = def->layers[layer].name + (bias ? ".bias" : ".weight");
  p.plain = plainMd(plainDims);
  p.value = memory(want, engine);
  p.grad = memory(want, engine);
  p.momentum = memory(want, engine);
  // Zero everything first: blocked layouts pad channels, and the padding must stay zero.
  for (const memory* m : {&p.value, &p.grad, &p.momentum})
    std::memset(m->get_data_handle(), 0, want.get_size());
  detail::reorderNow(stream, memory(p.plain, engine, const_cast<float*>(init.data())), p.value);
  stream.wait();
  params.push_back(std::move(p));
  return params.back();
}

uint64_t dropoutKey(uint64_t seed, uint64_t step, uint64_t layer) {
  return splitMix(splitMix(splitMix(seed) ^ step) ^ layer);
}

bool keepsWithKey(uint64_t key, uint64_t index, float ratio) {
  const double u = (double(splitMix(key + index) >> 11) + 0.5) * 0x1.0p-53;
  return u >= double(ratio);
}

}  // namespace training

using detail::plainMd;
using dnnl::memory;
using training::Exec;
using training::Graph;
using training::Node;
using training::Param;

namespace {

bool hasParams(const LayerSpec& l) {
  return l.type == LayerType::Conv || l.type == LayerType::Dense;
}

constexpr const char* kTrainableOps =
    "Conv, Gemm, Relu, LRN, MaxPool, AveragePool, GlobalAveragePool, Dropout, Flatten, Reshape, "
    "Concat, Identity, and Softmax as the last layer";

void runList(dnnl::stream& stream, std::vector<Exec>& list) {
  for (Exec& e : list) {
    if (e.loop) {
      stream.wait();
      e.loop();
    } else {
      e.prim.execute(stream, e.args);
    }
  }
  stream.wait();
}

Tensor toPlain(Graph& g, const memory& mem, const memory::desc& plain, const Shape& shape) {
  Tensor t = Tensor::uninitialized(shape);
  detail::reorderNow(g.stream, mem, memory(plain, g.engine, t.data()));
  g.stream.wait();
  return t;
}

void fromPlain(Graph& g, const Tensor& t, const memory::desc& plain, const memory& mem) {
  detail::reorderNow(g.stream, memory(plain, g.engine, const_cast<float*>(t.data())), mem);
  g.stream.wait();
}

}  // namespace

size_t scoresLayer(const NetworkDef& def) {
  const size_t last = def.layers.size() - 1;
  if (def.layers[last].type != LayerType::Softmax) return last;
  const int producer = def.indexOf(def.layers[last].inputs[0]);
  if (producer < 0) throw Error("network '" + def.name + "': nothing before the final Softmax");
  return size_t(producer);
}

void checkTrainable(const NetworkDef& def) {
  def.validate();
  bool anyParams = false;
  for (size_t i = 0; i < def.layers.size(); ++i) {
    const LayerSpec& l = def.layers[i];
    const std::string where = "layer '" + l.name + "' (" + std::string(onnxOpName(l.type)) + "): ";
    switch (l.type) {
      case LayerType::BatchNorm:
      case LayerType::Add:
        throw Error(where +
                    "zfvis cannot train this operator (it has no backward rule); it trains " +
                    kTrainableOps);
      case LayerType::Softmax:
        if (i + 1 != def.layers.size() || i == 0)
          throw Error(where +
                      "a Softmax can only be trained as the last layer (it is folded into "
                      "the cross-entropy loss)");
        break;
      default:
        break;
    }
    anyParams = anyParams || hasParams(l);
  }
  if (!anyParams)
    throw Error("network '" + def.name + "' has nothing to train (no Conv or Gemm layer)");
  // The loss reads one score per class from the last layer (before a final Softmax).
  const std::vector<Shape> shapes = def.outputShapes();
  const size_t logits = scoresLayer(def);
  const Shape& s = shapes[logits];
  const bool scores = s.rank() == 1 || (s.rank() == 3 && s[1] == 1 && s[2] == 1);
  if (!scores)
    throw Error("layer '" + def.layers[logits].name + "' (" +
                std::string(onnxOpName(def.layers[logits].type)) +
                "): the loss needs one score per class (K or K x 1 x 1 per sample), got " +
                s.str());
}

bool dropoutKeeps(uint64_t seed, uint64_t step, uint64_t layer, uint64_t index, float ratio) {
  return training::keepsWithKey(training::dropoutKey(seed, step, layer), index, ratio);
}

struct TrainPlan::Impl {
  NetworkDef def;
  Graph g;
  memory logits;                       // plain batch x classes
  memory logitsDiff;                   // plain batch x classes
  std::vector<TrainableParam> params;  // what params() returns
  memory scratch;
};

TrainPlan::TrainPlan(const NetworkDef& def, const TrainPlanOptions& options)
    : m_impl(std::make_unique<Impl>()) {
  checkTrainable(def);
  if (options.batch < 1) throw Error("batch size must be at least 1");
  if (!(options.dropoutRatio >= 0.0f && options.dropoutRatio < 1.0f))
    throw Error("dropout ratio must be in [0, 1)");
  setEngineThreads(options.threads);
  Impl& m = *m_impl;
  m.def = def;
  Graph& g = m.g;
  g.def = &m.def;
  g.options = options;
  g.shapes = m.def.outputShapes();
  g.inputs = m.def.inputIndices();
  const size_t n = m.def.layers.size();
  g.nodes.resize(n);
  g.fusedRelu.assign(n, false);
  g.backwardBuilders.resize(n);

  // Which outputs the loss gradient must reach: those downstream of a parameter (or of the input
  // when its gradient is asked for) and upstream of the loss.
  g.logitsLayer = int(scoresLayer(m.def));
  std::vector<bool> depends(n, false);
  for (size_t i = 0; i < n; ++i) {
    bool d = hasParams(m.def.layers[i]);
    for (int p : g.inputs[i])
      d = d || (p == kNetworkInput ? options.inputGradient : bool(depends[size_t(p)]));
    depends[i] = d;
  }
  g.nodes[size_t(g.logitsLayer)].reachesLoss = true;
  for (size_t i = size_t(g.logitsLayer) + 1; i-- > 0;) {
    if (!g.nodes[i].reachesLoss) continue;
    for (size_t k = 0; k < g.inputs[i].size(); ++k) g.inputNode(i, k).reachesLoss = true;
  }
  g.input.needsDiff = options.inputGradient && g.input.reachesLoss;
  for (size_t i = 0; i < n; ++i) g.nodes[i].needsDiff = depends[i] && g.nodes[i].reachesLoss;

  const memory::dims inDims = g.dims(m.def.input.shape);
  g.input.out = memory(plainMd(inDims), g.engine);
  if (g.input.needsDiff) g.input.diff = memory(plainMd(inDims), g.engine);
  for (size_t i = 0; i < n; ++i) {
    if (int(i) > g.logitsLayer) break;  // the final Softmax is part of the loss
    training::buildLayer(g, i);
    Node& node = g.nodes[i];
    if (node.needsDiff) node.diff = memory(node.out.get_desc(), g.engine);
  }

  // The loss: logits in plain layout, gradient back into the logits layer.
  const Shape& logitsShape = g.shapes[size_t(g.logitsLayer)];
  g.classes = int(logitsShape.numel());
  m.logits = g.plainAs(g.nodes[size_t(g.logitsLayer)].out, {options.batch, g.classes}, g.forward);
  Node& logitsNode = g.nodes[size_t(g.logitsLayer)];
  if (!logitsNode.needsDiff)
    throw Error("network '" + m.def.name + "': no Conv or Gemm layer leads to the output");
  m.logitsDiff = g.diffTarget(logitsNode, plainMd({options.batch, g.classes}));
  g.commitDiff(logitsNode, m.logitsDiff);
  for (size_t i = size_t(g.logitsLayer) + 1; i-- > 0;) {
    if (!g.backwardBuilders[i] || !g.nodes[i].reachesLoss) continue;
    try {
      g.backwardBuilders[i]();
    } catch (const dnnl::error& e) {
      const LayerSpec& l = m.def.layers[i];
      throw Error("layer '" + l.name + "' (" + std::string(onnxOpName(l.type)) +
                  "): oneDNN cannot build its backward pass: " + e.what());
    }
  }
  g.backwardBuilders.clear();
  for (const Param& p : g.params) m.params.push_back(p.info);

  // One user scratchpad shared by every call (they run one at a time).
  size_t scratch = 0;
  for (auto* list : {&g.forward, &g.backward})
    for (Exec& e : *list)
      if (e.prim) scratch = std::max(scratch, detail::scratchpadOf(e.prim).get_size());
  if (scratch > 0) {
    m.scratch =
        memory(memory::desc({memory::dim(scratch)}, memory::data_type::u8, memory::format_tag::a),
               g.engine);
    for (auto* list : {&g.forward, &g.backward})
      for (Exec& e : *list) {
        if (!e.prim) continue;
        memory::desc md = detail::scratchpadOf(e.prim);
        if (md.get_size() > 0)
          e.args[DNNL_ARG_SCRATCHPAD] = memory(md, g.engine, m.scratch.get_data_handle());
      }
  }
}

TrainPlan::~TrainPlan() = default;

int TrainPlan::batch() const {
  return m_impl->g.options.batch;
}

int TrainPlan::classes() const {
  return m_impl->g.classes;
}

const TrainPlanOptions& TrainPlan::options() const {
  return m_impl->g.options;
}

namespace {

void copyInput(Graph& g, const float* input) {
  std::memcpy(g.input.out.get_data_handle(), input, g.input.out.get_desc().get_size());
}

}  // namespace

BatchResult TrainPlan::trainBatch(const float* input, const int32_t* labels, uint64_t seed,
                                  uint64_t step) {
  Impl& m = *m_impl;
  Graph& g = m.g;
  const int batch = g.options.batch, classes = g.classes;
  for (int n = 0; n < batch; ++n)
    if (labels[n] < 0 || labels[n] >= classes)
      throw Error("label " + std::to_string(labels[n]) + " of sample " + std::to_string(n) +
                  " is outside 0.." + std::to_string(classes - 1));
  setEngineThreads(g.options.threads);
  copyInput(g, input);
  g.training = true;
  g.dropoutSeed = seed;
  g.step = step;
  runList(g.stream, g.forward);

  // Softmax cross-entropy, in double per sample: d loss / d z = (softmax(z) - onehot) / batch.
  const float* z = static_cast<const float*>(m.logits.get_data_handle());
  float* dz = static_cast<float*>(m.logitsDiff.get_data_handle());
  BatchResult r;
  for (int n = 0; n < batch; ++n) {
    const float* row = z + int64_t(n) * classes;
    const int best = int(std::max_element(row, row + classes) - row);
    const double mx = row[best];
    double sum = 0;
    for (int k = 0; k < classes; ++k) sum += std::exp(double(row[k]) - mx);
    r.loss += std::log(sum) + mx - row[labels[n]];
    r.correct += best == labels[n];
    for (int k = 0; k < classes; ++k) {
      const double p = std::exp(double(row[k]) - mx) / sum;
      dz[int64_t(n) * classes + k] = float((p - (k == labels[n] ? 1.0 : 0.0)) / batch);
    }
  }
  r.loss /= batch;
  runList(g.stream, g.backward);
  return r;
}

void TrainPlan::applySgd(const SgdSettings& s) {
  Graph& g = m_impl->g;
  setEngineThreads(g.options.threads);
  const float lr = s.learningRate, mu = s.momentum, wd = s.weightDecay;
  for (Param& p : g.params) {
    float* w = static_cast<float*>(p.value.get_data_handle());
    const float* gr = static_cast<const float*>(p.grad.get_data_handle());
    float* buf = static_cast<float*>(p.momentum.get_data_handle());
    const int64_t n = int64_t(p.value.get_desc().get_size() / sizeof(float));
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < n; ++k) {
      const float d = gr[k] + wd * w[k];
      buf[k] = mu * buf[k] + d;
      w[k] = w[k] - lr * buf[k];
    }
  }
  if (!(s.renormRms > 0.0f)) return;
  for (Param& p : g.params) {
    if (p.info.bias || g.def->layers[p.info.layer].type != LayerType::Conv) continue;
    const bool plain = p.value.get_desc() == p.plain;
    Tensor t = plain ? Tensor() : toPlain(g, p.value, p.plain, p.info.shape);
    float* w = plain ? static_cast<float*>(p.value.get_data_handle()) : t.data();
    const int64_t filters = p.info.shape[0], per = p.info.shape.numel() / filters;
    bool changed = false;
    auto rmsOf = [per](const float* f) {
      double sq = 0;
      for (int64_t k = 0; k < per; ++k) sq += double(f[k]) * f[k];
      return std::sqrt(sq / double(per));
    };
    for (int64_t o = 0; o < filters; ++o) {
      float* f = w + o * per;
      const double rms = rmsOf(f);
      if (rms <= s.renormRms) continue;
      const float scale = float(s.renormRms / rms);
      for (int64_t k = 0; k < per; ++k) f[k] *= scale;
      // Rounding can leave the RMS a hair above the radius; shrink by one float step until not,
      // so a renormalised filter never counts as above it.
      constexpr float kOneStepDown = 1.0f - 0x1.0p-24f;
      while (rmsOf(f) > s.renormRms)
        for (int64_t k = 0; k < per; ++k) f[k] *= kOneStepDown;
      changed = true;
    }
    if (changed && !plain) fromPlain(g, t, p.plain, p.value);
  }
}

Tensor TrainPlan::evaluate(const float* input) {
  Impl& m = *m_impl;
  Graph& g = m.g;
  setEngineThreads(g.options.threads);
  copyInput(g, input);
  g.training = false;
  runList(g.stream, g.forward);
  return Tensor::fromData(Shape{g.options.batch, g.classes},
                          static_cast<const float*>(m.logits.get_data_handle()));
}

const std::vector<TrainableParam>& TrainPlan::params() const {
  return m_impl->params;
}

Tensor TrainPlan::paramValue(size_t i) const {
  Param& p = m_impl->g.params.at(i);
  return toPlain(m_impl->g, p.value, p.plain, p.info.shape);
}

Tensor TrainPlan::paramGradient(size_t i) const {
  Param& p = m_impl->g.params.at(i);
  return toPlain(m_impl->g, p.grad, p.plain, p.info.shape);
}

Tensor TrainPlan::paramMomentum(size_t i) const {
  Param& p = m_impl->g.params.at(i);
  return toPlain(m_impl->g, p.momentum, p.plain, p.info.shape);
}

void TrainPlan::setParamValue(size_t i, const Tensor& value) {
  Param& p = m_impl->g.params.at(i);
  if (value.shape() != p.info.shape)
    throw Error(p.info.name + ": expected shape " + p.info.shape.str() + ", got " +
                value.shape().str());
  fromPlain(m_impl->g, value, p.plain, p.value);
}

void TrainPlan::setParamMomentum(size_t i, const Tensor& value) {
  Param& p = m_impl->g.params.at(i);
  if (value.shape() != p.info.shape)
    throw Error(p.info.name + " momentum: expected shape " + p.info.shape.str() + ", got " +
                value.shape().str());
  fromPlain(m_impl->g, value, p.plain, p.momentum);
}

Tensor TrainPlan::inputGradient() const {
  Graph& g = m_impl->g;
  if (!g.input.diff) throw Error("the plan was built without inputGradient");
  return Tensor::fromData(m_impl->def.input.shape.withBatch(g.options.batch),
                          static_cast<const float*>(g.input.diff.get_data_handle()));
}

NetworkDef TrainPlan::snapshot() const {
  NetworkDef out = m_impl->def;
  for (size_t i = 0; i < m_impl->g.params.size(); ++i) {
    const TrainableParam& info = m_impl->g.params[i].info;
    (info.bias ? out.layers[info.layer].bias : out.layers[info.layer].weights) = paramValue(i);
  }
  return out;
}

}  // namespace zfvis
