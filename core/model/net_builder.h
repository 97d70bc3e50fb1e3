// NetBuilder: builds a NetworkDef layer by layer, inferring shapes as it goes and filling
// weights with deterministic He-normal values. Used by the built-in models and the tests.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/model/network.h"

namespace zfvis {

class NetBuilder {
 public:
  /// Starts a network called `name` whose input has per-sample shape `input` (C x H x W).
  NetBuilder(std::string name, Shape input, uint64_t seed = 0);

  /// Makes `layer` the input of the next layer (default: the layer added last).
  NetBuilder& from(const std::string& layer);
  /// Convolution with `out` channels, square kernel `k`, stride `s`, padding `pad`.
  NetBuilder& conv(const std::string& name, int out, int k, int s, Padding pad = {}, int groups = 1,
                   int dilation = 1);
  /// Convolution with Keras "same" padding (asymmetric for stride > 1, extra on bottom/right).
  NetBuilder& convSame(const std::string& name, int out, int k, int s = 1);
  NetBuilder& relu(const std::string& name);
  NetBuilder& lrn(const std::string& name, int size = 5, float alpha = 1e-4f, float beta = 0.75f,
                  float bias = 1.0f);
  NetBuilder& maxPool(const std::string& name, int k, int s, Padding pad = {}, bool ceil = false);
  NetBuilder& avgPool(const std::string& name, int k, int s, Padding pad = {}, bool ceil = false,
                      bool countIncludePad = false);
  NetBuilder& globalAvgPool(const std::string& name);
  NetBuilder& dense(const std::string& name, int units, bool bias = true);
  NetBuilder& dropout(const std::string& name);
  NetBuilder& flatten(const std::string& name);
  NetBuilder& concat(const std::string& name, const std::vector<std::string>& inputs, int axis = 1);
  NetBuilder& softmax(const std::string& name);
  /// Appends an arbitrary layer (its inputs default to the current layer when empty).
  NetBuilder& add(LayerSpec layer);

  /// Per-sample output shape of the layer added last.
  const Shape& currentShape() const;
  /// Returns the finished, validated definition.
  NetworkDef build();

 private:
  Tensor heNormal(Shape shape, int64_t fanIn);
  NetBuilder& push(LayerSpec layer);

  NetworkDef m_def;
  std::string m_current;
  std::unordered_map<std::string, Shape> m_shapes;
  uint64_t m_seed;
  uint64_t m_tensorCounter = 0;
};

/// Fills `out` with N(0, stddev^2) values from a counter-based generator: the same
/// (seed, stream) always gives the same values, whatever the thread count.
void fillNormal(Tensor& out, float stddev, uint64_t seed, uint64_t stream);

}  // namespace zfvis
