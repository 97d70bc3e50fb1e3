// Fast evaluation of occluded copies for runOcclusion: a patch changes only a window of each
// early feature map, so those layers are recomputed on crops around that window (with the rest
// of each map taken from the unoccluded run) and only the later layers, where the window covers
// most of the map, run on whole maps. Exact up to float rounding.
//
// The network's leading chain of spatial layers (Conv, MaxPool, AveragePool without padding, and
// the pointwise Relu / LRN / BatchNorm / Dropout / Identity between them) is split into groups:
// one layer with a spatial window followed by pointwise layers. For every placement the
// "affected" output interval of each layer is propagated exactly (per axis); a group's window is
// the largest affected extent over all placements, placed at the affected start and clamped into
// the map, so one fixed-size crop network per group serves every placement. A group's crop is the
// unoccluded map of its input, overwritten by the previous group's window, with the layer's
// padding written out explicitly (0 for Conv, -FLT_MAX for MaxPool); the crop network runs the
// group's layers with no padding. The head stops at the first group whose window would cover
// more than kMaxWindowFraction of its map; the rest of the network runs on whole maps (the
// unoccluded map with the window pasted in) using the compiled net's own plan, from the first
// layer after the head; a trailing classifier (Flatten / Dense / ...) then runs on a few large
// batches of rows (DenseTail) rather than on every batch.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/base/progress.h"
#include "core/engine/engine.h"

namespace zfvis::detail {

/// Raw network outputs of consecutive placements (not necessarily the batch just submitted:
/// the windowed evaluation runs the classifier on a few large batches, see occlusion_dense.h).
struct OcclusionBatch {
  int first = 0;                // the placement of row 0
  Tensor output;                // n x (per-sample output shape of the last layer); n may be 0
  std::vector<double> feature;  // n totals of the feature map (empty without a feature layer)
  /// Number of placements in this result.
  int rows() const { return output.empty() ? 0 : int(output.shape()[0]); }
};

/// What the occlusion experiment is, as the evaluators need it.
struct OcclusionSetup {
  int patch = 0, stride = 0;      // square side and step, input pixels
  float fill = 0;                 // value written into every channel
  int rows = 0, cols = 0;         // placements
  std::optional<size_t> feature;  // layer whose channel `channel` is summed
  int channel = 0;                // resolved channel
  int batch = 32;                 // placements per submitted batch
};

/// Windows beyond this fraction of their map end the windowed head.
inline constexpr double kMaxWindowFraction = 0.75;

class WindowedOcclusion {
 public:
  /// Plans the windowed evaluation; returns null when the network has no leading spatial chain
  /// whose first window is small enough to be worth it. `base` is a keepAll run of `input`.
  static std::unique_ptr<WindowedOcclusion> create(std::shared_ptr<const CompiledNet> net,
                                                   std::shared_ptr<const Activations> base,
                                                   const OcclusionSetup& setup);
  ~WindowedOcclusion();

  /// Submits placements [first, first + count) (row-major, in order, `last` for the final
  /// batch) and returns the placements finished so far that were not returned before; all are
  /// returned once the last batch is submitted. Throws Cancelled when `cancel` asks to stop
  /// (checked between layers).
  OcclusionBatch evaluate(int first, int count, bool last, const ProgressSink* cancel);

  /// Number of layers computed on windows (the head); the rest run on whole maps.
  size_t headLayers() const;

 private:
  struct Impl;
  explicit WindowedOcclusion(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace zfvis::detail
