// Builds an OpenCV cv::dnn network with the same layers and weights as a NetworkDef: the peer
// the benchmarks measure against, and an independent implementation for cross-checks.
#pragma once

#include <opencv2/dnn.hpp>

#include "core/model/network.h"

namespace zfvis::bench {

/// A cv::dnn::Net computing the same function as `def` (Conv, Relu, LRN, MaxPool, AveragePool,
/// GlobalAveragePool, Dense, Dropout, Flatten, Concat, Softmax); throws Error otherwise.
cv::dnn::Net toOpenCvNet(const NetworkDef& def);

}  // namespace zfvis::bench
