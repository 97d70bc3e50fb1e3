#include "core/analysis/occlusion/occlusion_dense.h"

#include "core/base/error.h"
#include "core/engine/layer_range_runner.h"

namespace zfvis::detail {

namespace {

// Layer i reads only layer i - 1, which feeds nothing else.
bool chainLink(const NetworkDef& def, size_t i) {
  const LayerSpec& l = def.layers[i];
  return i >= 1 && l.inputs.size() == 1 && l.inputs[0] == def.layers[i - 1].name &&
         def.consumers(i - 1) == std::vector<size_t>{i};
}

}  // namespace

struct DenseTail::Impl {
  std::unique_ptr<LayerRangeRunner> runner;  // the net's plan from `start` on
  size_t start = 0, layers = 0;              // the chain: layers [start, layers)
  std::vector<float> input;                  // rows x features: the output of layer start - 1
  Tensor output;                             // rows x (per-sample output size), reused
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
  m_features = shapes[start - 1].numel();
  m.start = start;
  m.layers = def.layers.size();
  m.runner = std::make_unique<LayerRangeRunner>(std::move(net), std::vector<size_t>{}, start);
  m.input.assign(size_t(rows) * size_t(m_features), 0.0f);
}

DenseTail::~DenseTail() = default;

float* DenseTail::row(int i) {
  return m_impl->input.data() + int64_t(i) * m_features;
}

Tensor DenseTail::run(int count, const ProgressSink* cancel) {
  Impl& m = *m_impl;
  // Always all rows: one plan, built once (rows past `count` hold stale values and are dropped).
  m.runner->write(m_rows, int(m.start) - 1, m.input.data());
  m.runner->run(m_rows, int(m.start), int(m.layers), cancel);
  m.runner->read(m_rows, m.layers - 1, m.output);
  const int64_t outputSize = m.output.numel() / m_rows;
  return Tensor::fromData(Shape{count, outputSize}, m.output.data());
}

}  // namespace zfvis::detail
