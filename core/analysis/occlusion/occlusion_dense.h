// The classifier at the end of a network (a chain of Flatten / Dense / Relu / Dropout / Identity,
// optionally ending in Softmax) run on many rows at once, for the occlusion experiment: a dense
// layer streams all its weights once per run whatever the number of rows, so running the
// classifier on a few large batches instead of every small one saves most of that traffic
// (AlexNet's fc6 alone is 151 MB). The chain runs on the compiled net's own plan from its first
// layer on (LayerRangeRunner), sharing the weights that net has already laid out.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/base/progress.h"
#include "core/engine/engine.h"

namespace zfvis::detail {

class DenseTail {
 public:
  /// The first layer of the network's trailing classifier chain (it must contain a Dense layer
  /// and read the output of the layer before it), or nullopt when the network ends otherwise.
  static std::optional<size_t> findStart(const NetworkDef& def);

  /// Prepares the chain [start, end) for `rows` rows per run.
  DenseTail(std::shared_ptr<const CompiledNet> net, size_t start, int rows);
  ~DenseTail();

  /// Rows per run.
  int rows() const { return m_rows; }
  /// Input values per row (the per-sample size of layer start - 1's output).
  int64_t features() const { return m_features; }
  /// Row i of the input buffer (fill rows [0, count) before run).
  float* row(int i);
  /// Runs the first `count` rows; returns count x (per-sample output size).
  Tensor run(int count, const ProgressSink* cancel);

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  int m_rows = 0;
  int64_t m_features = 0;
};

}  // namespace zfvis::detail
