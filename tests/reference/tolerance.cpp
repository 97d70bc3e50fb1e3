#include "tests/reference/tolerance.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "tests/reference/naive_ops.h"

namespace zfvis::ref {

double gammaN(int64_t n) {
  const double nu = double(n) * kUnitRoundoff;
  if (nu >= 1) throw std::runtime_error("gammaN: sum too long for a float32 bound");
  return nu / (1 - nu);
}

double sumTolerance(int64_t n) {
  return 4 * (std::sqrt(double(n)) + 1) * kUnitRoundoff;
}

int64_t sumLength(const LayerSpec& l, const std::vector<Shape>& in) {
  switch (l.type) {
    case LayerType::Conv:
      return in.at(0)[0] / l.conv.groups * l.conv.kernelH * l.conv.kernelW +
             (l.conv.hasBias ? 1 : 0);
    case LayerType::Dense:
      return in.at(0).numel() + (l.dense.hasBias ? 1 : 0);
    case LayerType::MaxPool:
      return 0;  // picks one of its inputs: exact
    case LayerType::AveragePool:
      return int64_t(l.pool.kernelH) * l.pool.kernelW + 1;
    case LayerType::GlobalAveragePool:
      return in.at(0).numel() / in.at(0)[0] + 1;
    case LayerType::LRN:
      return l.lrn.size + kTranscendentalTerms;
    case LayerType::Softmax:
      return in.at(0).numel() + kTranscendentalTerms;
    case LayerType::BatchNorm:
      return 4;  // (x - mean) * scale / sqrt(var + eps) + shift
    case LayerType::Add:
      return 1;
    case LayerType::Relu:
    case LayerType::Dropout:
    case LayerType::Flatten:
    case LayerType::Reshape:
    case LayerType::Concat:
    case LayerType::Identity:
      return 0;
  }
  return 0;
}

double chainTolerance(const NetworkDef& def, size_t last) {
  const std::vector<Shape> shapes = def.outputShapes();
  double sum = 1;  // the final rounding to float32
  for (size_t i = 0; i <= last && i < def.layers.size(); ++i) {
    std::vector<Shape> in;
    for (const std::string& name : def.layers[i].inputs) {
      const int k = def.indexOf(name);
      in.push_back(k < 0 ? def.input.shape : shapes[size_t(k)]);
    }
    sum += std::sqrt(double(sumLength(def.layers[i], in)));
  }
  return 4 * sum * kUnitRoundoff;
}

double chainTolerance(const NetworkDef& def) {
  return chainTolerance(def, def.layers.size() - 1);
}

double outputTolerance(const NetworkDef& def, const Tensor& input) {
  const LayerSpec& last = def.layers.back();
  if (last.type != LayerType::Softmax) return chainTolerance(def);
  const int logits = def.indexOf(last.inputs.at(0));  // -1: the softmax reads the input
  // One sample without its batch axis (C x H x W, as the CLI takes it) gets one.
  const bool unbatched = input.shape().rank() == def.input.shape.rank();
  const std::vector<Tensor> values =
      forward(def, unbatched ? input.reshaped(def.input.shape.withBatch(1)) : input);
  const Tensor& z = logits < 0 ? input : values[size_t(logits)];
  const double logitTolerance = logits < 0 ? 0.0 : chainTolerance(def, size_t(logits));
  const int64_t classes = z.numel() / z.shape()[0];
  return logitTolerance * 2 * std::max(1.0, double(z.maxAbs())) +
         4 * std::sqrt(double(classes + kTranscendentalTerms)) * kUnitRoundoff;
}

int64_t backwardSumLength(const LayerSpec& l) {
  auto overlap = [](int k, int s) { return int64_t((k + s - 1) / s); };
  switch (l.type) {
    case LayerType::Conv:
      return int64_t(l.conv.outChannels / l.conv.groups) * overlap(l.conv.kernelH, l.conv.strideH) *
             overlap(l.conv.kernelW, l.conv.strideW);
    case LayerType::Dense:
      return l.dense.units;
    case LayerType::MaxPool:
    case LayerType::AveragePool:
      return overlap(l.pool.kernelH, l.pool.strideH) * overlap(l.pool.kernelW, l.pool.strideW) + 1;
    case LayerType::GlobalAveragePool:
      return 1;
    case LayerType::LRN:
      return 2 * int64_t(l.lrn.size) + kTranscendentalTerms;
    case LayerType::BatchNorm:
      return 2;
    default:
      return 0;
  }
}

double projectionTolerance(const NetworkDef& def, size_t layer) {
  double sum = 1;
  for (size_t i = 0; i <= layer && i < def.layers.size(); ++i)
    sum += std::sqrt(double(backwardSumLength(def.layers[i])));
  return chainTolerance(def, layer) + 4 * sum * kUnitRoundoff;
}

double cosineFloor(const Tensor& want, double tau) {
  double big = 0, norm2 = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    big = std::max(big, double(std::fabs(want[i])));
    norm2 += double(want[i]) * want[i];
  }
  if (norm2 == 0) return 1;
  return 1 - double(want.numel()) * (tau * big) * (tau * big) / (2 * norm2);
}

double softmaxTolerance(double p, double maxLogitError, int64_t classes) {
  return p * (2 * maxLogitError +
              4 * std::sqrt(double(classes + kTranscendentalTerms)) * kUnitRoundoff) +
         4 * kUnitRoundoff * p + 1e-30;
}

}  // namespace zfvis::ref
