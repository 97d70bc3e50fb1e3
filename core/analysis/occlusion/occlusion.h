// Occlusion sensitivity (Zeiler & Fergus fig. 7): slide a grey square over the input and record
// how the prediction and a chosen feature map respond.
//
// A square of side `patch` filled with `fill` (in every channel, network input space) is placed
// with its top-left corner at (i * stride, j * stride) for every i * stride <= H - patch and
// j * stride <= W - patch: rows = (H - patch) / stride + 1 placements down, cols likewise across.
// For each placement the occluded copy is run through the network and three things are recorded:
// the probability of the target class (softmax applied when the network does not end in
// Softmax), the most probable class (ties: the lowest class index), and optionally the total
// activation (sum over the map) of one channel of one layer.
//
// Occluded copies run in batches. By default only the region a patch can influence is recomputed
// in the early spatial layers (the rest of each early map is the unoccluded run's); this is exact
// up to float rounding and several times faster than running whole copies.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/engine/engine.h"

namespace zfvis {

struct OcclusionOptions {
  int patch = 50;               // side of the square, input pixels
  int stride = 8;               // step between placements
  float fill = 0.0f;            // value written into every channel (0 = the mean colour after
                                // mean subtraction for caffe-preprocessed inputs)
  int targetClass = -1;         // -1: the unoccluded top-1 class
  std::optional<size_t> layer;  // with `channel`: also record this feature map's total activation
  int channel = 0;              // channel of `layer`; -1: the channel with the largest total
                                // activation on the unoccluded input
  int batch = 32;               // occluded copies per forward run
  bool incremental = true;      // recompute only the affected windows of the early layers
                                // (false: run every occluded copy through the whole network)
};

struct OcclusionResult {
  int rows = 0, cols = 0;           // placements: top-left (i * stride, j * stride)
  int patch = 0, stride = 0;        // as run
  float fill = 0;                   // as run
  int classes = 0;                  // network outputs per sample
  int targetClass = 0;              // the class whose probability is recorded
  float baseProbability = 0;        // its unoccluded probability
  int baseClass = 0;                // the unoccluded top-1 class
  Tensor probability;               // rows x cols: target class probability per placement
  std::vector<int32_t> topClass;    // rows x cols: most probable class per placement
  Tensor featureActivation;         // rows x cols (empty without a layer): total activation
  float baseFeatureActivation = 0;  // the unoccluded total activation of that map
  std::optional<size_t> layer;      // the feature layer, when one was given
  std::string layerName;            // its name ("" without a layer)
  int channel = 0;                  // the feature channel as run (resolved when -1 was asked)
  bool incremental = false;         // true when the windowed (incremental) evaluation was used
};

/// Zeiler & Fergus' occlusion square and step in the proportions of their 224-pixel input
/// (patch 50, stride 8), scaled to an input `width` pixels wide and `height` high:
/// round(50 / 224 * width) and round(8 / 224 * width), at least 1, the patch at most the
/// smaller side (32 x 32: 7 and 1; 227 x 227: 51 and 8).
struct OcclusionDefaults {
  int patch = 50;  // side of the square
  int stride = 8;  // step between placements
};
OcclusionDefaults defaultOcclusionGeometry(int width, int height);

/// Placements along one axis of `size` pixels: (size - patch) / stride + 1; throws Error when
/// patch < 1, stride < 1 or patch > size.
int occlusionPlacements(int size, int patch, int stride);

/// Runs the occlusion experiment on one input (1 x C x H x W or C x H x W, network input space).
/// Reports progress per batch (placements done of rows x cols) and throws Cancelled when the
/// sink asks to stop (checked before every batch and between layers). Throws Error naming the
/// model for a patch larger than the input, stride < 1, a class or channel out of range, or a
/// network whose input is not C x H x W.
OcclusionResult runOcclusion(std::shared_ptr<const CompiledNet> net, const Tensor& input,
                             const OcclusionOptions& options, ProgressSink* progress = nullptr);

}  // namespace zfvis
