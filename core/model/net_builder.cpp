#include "core/model/net_builder.h"

#include <cmath>
#include <numbers>

#include "core/base/error.h"

namespace zfvis {

namespace {

// SplitMix64: a tiny, high-quality 64-bit mixer used as a counter-based generator.
uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

double uniform01(uint64_t bits) {
  return (double(bits >> 11) + 0.5) * 0x1.0p-53;
}

}  // namespace

void fillNormal(Tensor& out, float stddev, uint64_t seed, uint64_t stream) {
  const int64_t n = out.numel();
  float* p = out.data();
  const uint64_t key = splitmix(seed ^ splitmix(stream + 0x632BE59BD9B4E019ull));
  const int64_t pairs = (n + 1) / 2;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < pairs; ++i) {
    uint64_t a = splitmix(key + 2 * uint64_t(i));
    uint64_t b = splitmix(key + 2 * uint64_t(i) + 1);
    double r = std::sqrt(-2.0 * std::log(uniform01(a)));
    double t = 2.0 * std::numbers::pi * uniform01(b);
    p[2 * i] = static_cast<float>(stddev * r * std::cos(t));
    if (2 * i + 1 < n) p[2 * i + 1] = static_cast<float>(stddev * r * std::sin(t));
  }
}

NetBuilder::NetBuilder(std::string name, Shape input, uint64_t seed) : m_seed(seed) {
  m_def.name = std::move(name);
  m_def.source = "built-in";
  m_def.untrained = true;
  m_def.input.name = "input";
  m_def.input.shape = std::move(input);
  m_current = m_def.input.name;
  m_shapes[m_current] = m_def.input.shape;
}

NetBuilder& NetBuilder::from(const std::string& layer) {
  if (!m_shapes.count(layer)) throw Error("NetBuilder: unknown layer '" + layer + "'");
  m_current = layer;
  return *this;
}

Tensor NetBuilder::heNormal(Shape shape, int64_t fanIn) {
  Tensor t(std::move(shape));
  fillNormal(t, static_cast<float>(std::sqrt(2.0 / double(fanIn))), m_seed, m_tensorCounter++);
  return t;
}

NetBuilder& NetBuilder::push(LayerSpec layer) {
  if (layer.inputs.empty()) layer.inputs = {m_current};
  std::vector<Shape> in;
  for (const std::string& s : layer.inputs) {
    auto it = m_shapes.find(s);
    if (it == m_shapes.end()) throw Error("NetBuilder: unknown input '" + s + "'");
    in.push_back(it->second);
  }
  // Layers with weights get He-normal weights and zero biases before shape checks.
  if (layer.type == LayerType::Conv && layer.weights.empty()) {
    const ConvParams& p = layer.conv;
    int64_t cin = in.at(0).rank() ? in[0][0] / p.groups : 0;
    layer.weights =
        heNormal({p.outChannels, cin, p.kernelH, p.kernelW}, cin * p.kernelH * p.kernelW);
    if (p.hasBias) layer.bias = Tensor(Shape{p.outChannels});
  } else if (layer.type == LayerType::Dense && layer.weights.empty()) {
    int64_t features = in.at(0).numel();
    layer.weights = heNormal({layer.dense.units, features}, features);
    if (layer.dense.hasBias) layer.bias = Tensor(Shape{layer.dense.units});
  }
  Shape out = inferOutputShape(layer, in);
  m_shapes[layer.name] = out;
  m_current = layer.name;
  m_def.layers.push_back(std::move(layer));
  return *this;
}

NetBuilder& NetBuilder::add(LayerSpec layer) {
  return push(std::move(layer));
}

NetBuilder& NetBuilder::conv(const std::string& name, int out, int k, int s, Padding pad,
                             int groups, int dilation) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::Conv;
  l.conv.outChannels = out;
  l.conv.kernelH = l.conv.kernelW = k;
  l.conv.strideH = l.conv.strideW = s;
  l.conv.pad = pad;
  l.conv.groups = groups;
  l.conv.dilationH = l.conv.dilationW = dilation;
  return push(std::move(l));
}

NetBuilder& NetBuilder::convSame(const std::string& name, int out, int k, int s) {
  const Shape& in = m_shapes.at(m_current);
  auto padFor = [&](int64_t size) {
    int64_t outSize = (size + s - 1) / s;
    int64_t total = std::max<int64_t>((outSize - 1) * s + k - size, 0);
    return std::pair<int, int>(int(total / 2), int(total - total / 2));
  };
  auto [top, bottom] = padFor(in.rank() == 3 ? in[1] : 0);
  auto [left, right] = padFor(in.rank() == 3 ? in[2] : 0);
  return conv(name, out, k, s, Padding{top, left, bottom, right});
}

NetBuilder& NetBuilder::relu(const std::string& name) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::Relu;
  return push(std::move(l));
}

NetBuilder& NetBuilder::lrn(const std::string& name, int size, float alpha, float beta,
                            float bias) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::LRN;
  l.lrn = {size, alpha, beta, bias};
  return push(std::move(l));
}

NetBuilder& NetBuilder::maxPool(const std::string& name, int k, int s, Padding pad, bool ceil) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::MaxPool;
  l.pool.kernelH = l.pool.kernelW = k;
  l.pool.strideH = l.pool.strideW = s;
  l.pool.pad = pad;
  l.pool.ceilMode = ceil;
  return push(std::move(l));
}

NetBuilder& NetBuilder::avgPool(const std::string& name, int k, int s, Padding pad, bool ceil,
                                bool countIncludePad) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::AveragePool;
  l.pool.kernelH = l.pool.kernelW = k;
  l.pool.strideH = l.pool.strideW = s;
  l.pool.pad = pad;
  l.pool.ceilMode = ceil;
  l.pool.countIncludePad = countIncludePad;
  return push(std::move(l));
}

NetBuilder& NetBuilder::globalAvgPool(const std::string& name) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::GlobalAveragePool;
  return push(std::move(l));
}

NetBuilder& NetBuilder::dense(const std::string& name, int units, bool bias) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::Dense;
  l.dense.units = units;
  l.dense.hasBias = bias;
  return push(std::move(l));
}

NetBuilder& NetBuilder::dropout(const std::string& name) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::Dropout;
  return push(std::move(l));
}

NetBuilder& NetBuilder::flatten(const std::string& name) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::Flatten;
  return push(std::move(l));
}

NetBuilder& NetBuilder::concat(const std::string& name, const std::vector<std::string>& inputs,
                               int axis) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::Concat;
  l.inputs = inputs;
  l.axis.axis = axis;
  return push(std::move(l));
}

NetBuilder& NetBuilder::softmax(const std::string& name) {
  LayerSpec l;
  l.name = name;
  l.type = LayerType::Softmax;
  return push(std::move(l));
}

const Shape& NetBuilder::currentShape() const {
  return m_shapes.at(m_current);
}

NetworkDef NetBuilder::build() {
  m_def.validate();
  return std::move(m_def);
}

}  // namespace zfvis
