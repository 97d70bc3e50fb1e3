// Occlusion sensitivity (Zeiler & Fergus fig. 7): slide a grey square over the input and record
// how the prediction and a chosen feature map respond.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/engine.h"
#include "core/progress.h"

namespace zfvis {

struct OcclusionOptions {
  int patch = 50;               // side of the square, input pixels
  int stride = 8;               // step between placements
  float fill = 0.0f;            // value written into every channel (0 = the mean colour after
                                // mean subtraction for caffe-preprocessed inputs)
  int targetClass = -1;         // -1: the unoccluded top-1 class
  std::optional<size_t> layer;  // with `channel`: also record this feature map's total activation
  int channel = 0;              // channel of `layer`
  int batch = 32;               // occluded copies per forward run
};

struct OcclusionResult {
  int rows = 0, cols = 0;           // placements: top-left (i * stride, j * stride)
  int patch = 0, stride = 0;        // as run
  int targetClass = 0;              // the class whose probability is recorded
  float baseProbability = 0;        // its unoccluded probability
  int baseClass = 0;                // the unoccluded top-1 class
  Tensor probability;               // rows x cols: target class probability per placement
  std::vector<int32_t> topClass;    // rows x cols: most probable class per placement
  Tensor featureActivation;         // rows x cols (empty without a layer): total activation
  float baseFeatureActivation = 0;  // the unoccluded total activation of that map
};

/// Runs the occlusion experiment on one input (1 x C x H x W, network input space); softmax is
/// applied when the network does not end in Softmax. Reports progress per batch and throws
/// Cancelled when the sink asks to stop.
OcclusionResult runOcclusion(std::shared_ptr<const CompiledNet> net, const Tensor& input,
                             const OcclusionOptions& options, ProgressSink* progress = nullptr);

}  // namespace zfvis
