// Class probabilities and top-K classes from a network's output.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/base/tensor.h"
#include "core/model/network.h"

namespace zfvis {

/// Class probabilities of one output row of n values: the row itself when the network already
/// ends in Softmax, else its softmax.
std::vector<float> classProbabilities(const float* row, int64_t n, bool endsInSoftmax);
/// Class probabilities of sample `sample` of `def`'s output tensor (N x classes).
std::vector<float> classProbabilities(const NetworkDef& def, const Tensor& output,
                                      int64_t sample = 0);
/// The k most probable classes, most probable first (equal probabilities: lower index first).
std::vector<int> topClasses(const std::vector<float>& probabilities, int k);

/// One of the most probable classes.
struct RankedClass {
  int rank = 0;           // 1 = most probable
  int classIndex = 0;     // output index
  std::string label;      // display name
  float probability = 0;  // class probability
};

/// The k most probable classes (topClasses) with their names; `names` has one per class
/// (resolveClassNames).
std::vector<RankedClass> rankedClasses(const std::vector<float>& probabilities, int k,
                                       const std::vector<std::string>& names);

/// The lines under the heading of `zfvis-cli predict` and an export's predictions.txt: a
/// warning when the weights are untrained, then "  1.  0.1234   281  tabby, tabby cat" per class.
std::string predictionLines(const std::vector<RankedClass>& top, bool untrained);

/// The JSON of `zfvis-cli predict --json` and an export's predictions.json (2-space indent, no
/// final newline): model, untrained, image, classes, forward_ms when given, and top: one
/// {rank, class, label, probability} per class.
std::string predictionsJson(const NetworkDef& def, const std::string& image, int classes,
                            const std::vector<RankedClass>& top,
                            std::optional<double> forwardMs = std::nullopt);

}  // namespace zfvis
