// Keras `model_config` JSON (Sequential / Functional, channels-last or channels-first) ->
// NetworkDef without weights, plus where each Keras layer's weights go. Internal to core.
#pragma once

#include <string>
#include <vector>

#include "core/model/network.h"

namespace zfvis::keras {

/// Where one Keras layer's weights go and what they must look like.
struct WeightTarget {
  std::string kerasName;              // Keras layer name (its group in model_weights)
  size_t layer = 0;                   // index of the Conv / Dense layer in NetworkDef::layers
  Shape kerasKernel;                  // Conv: kH x kW x I/groups x O (HWIO); Dense: in x units
  bool hasBias = true;                // a bias vector follows the kernel
  std::vector<int64_t> featureOrder;  // Dense: Keras kernel row of each of our input features
                                      // (our features are C-order); empty = the same order
};

/// An architecture read from model_config; Conv / Dense layers have no weights yet.
struct ModelConfig {
  NetworkDef def;                     // layers, input, name
  std::vector<WeightTarget> weights;  // layers with weights, in config order
};

/// Parses `json` (the model_config attribute). `what` starts every error message, e.g.
/// "Keras model 'x.h5'"; errors name the layer, its class and what is supported.
ModelConfig buildModelConfig(const std::string& json, const std::string& what);

/// The Keras classes buildModelConfig understands, comma-separated (for messages and docs).
std::string supportedKerasClasses();

}  // namespace zfvis::keras
