// Class probabilities and top-K classes from a network's output.
#pragma once

#include <vector>

#include "core/network.h"
#include "core/tensor.h"

namespace zfvis {

/// Class probabilities of one output row of n values: the row itself when the network already
/// ends in Softmax, else its softmax.
std::vector<float> classProbabilities(const float* row, int64_t n, bool endsInSoftmax);
/// Class probabilities of sample `sample` of `def`'s output tensor (N x classes).
std::vector<float> classProbabilities(const NetworkDef& def, const Tensor& output,
                                      int64_t sample = 0);
/// The k most probable classes, most probable first (equal probabilities: lower index first).
std::vector<int> topClasses(const std::vector<float>& probabilities, int k);

}  // namespace zfvis
