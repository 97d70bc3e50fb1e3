// TrainPlan: a network compiled for training on oneDNN, for one batch size. Every layer gets its
// forward_training primitive (with the workspaces max pooling and LRN need) and its backward
// primitives (backward_data, and backward_weights for convolutions and dense layers), built once
// here, as in oneDNN's examples/cnn_training_f32.cpp. Weights, their gradients and the momentum
// buffers live in the layouts the forward primitives chose; the SGD update is a plain loop over
// those memories. The loss is softmax cross-entropy on the last layer (a final Softmax layer is
// folded into the loss). The analysis layer's Trainer drives this; tests drive it directly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/tensor.h"
#include "core/model/network.h"

namespace zfvis {

/// How a TrainPlan is built.
struct TrainPlanOptions {
  int batch = 64;              // samples per step: the primitives are built for exactly this many
  float dropoutRatio = 0.5f;   // probability with which every Dropout layer zeroes a value
  bool inputGradient = false;  // also compute d loss / d input (tests)
  int threads = 2;             // OpenMP threads for oneDNN and the update loops
};

/// Stochastic gradient descent with momentum and weight decay, as torch.optim.SGD defines them
/// (dampening 0, no Nesterov): g = grad + weightDecay * w; buf = momentum * buf + g; w -= lr * buf.
/// Weight decay applies to every parameter, biases included (PyTorch's default).
struct SgdSettings {
  float learningRate = 0.01f;  // step size
  float momentum = 0.9f;       // 0 = plain SGD
  float weightDecay = 5e-4f;   // L2 penalty
  /// Zeiler & Fergus' renormalisation: after the update, every convolution filter whose RMS
  /// (over its input channels and kernel) exceeds this radius is scaled back to it (to at most
  /// it, after float rounding); 0 = off.
  double renormRms = 0.1;
};

/// One trainable tensor of the network.
struct TrainableParam {
  size_t layer = 0;   // index into NetworkDef::layers
  bool bias = false;  // false: the layer's weights
  Shape shape;        // as in LayerSpec (Conv: O x I/groups x kH x kW, Dense: units x features)
  std::string name;   // "conv1.weight", "fc8.bias"
};

/// What one forward + backward pass measured.
struct BatchResult {
  double loss = 0;  // mean softmax cross-entropy over the batch
  int correct = 0;  // samples whose largest logit (the first on ties) is the label
};

/// The layer whose output the loss reads as class scores: the last layer, or the one feeding a
/// final Softmax (which the loss absorbs).
size_t scoresLayer(const NetworkDef& def);

/// Throws Error naming the first layer zfvis cannot train (no backward rule, or a Softmax that is
/// not the last layer) and what it can train.
void checkTrainable(const NetworkDef& def);

/// True when a Dropout layer keeps element `index` (flat, C order over the batch) at training step
/// `step`: a counter-based draw, so masks depend only on (seed, step, layer, index) and not on
/// threads or history. u = ((bits >> 11) + 0.5) * 2^-53 with bits = mix(mix(mix(mix(seed) ^ step)
/// ^ layer) + index) and mix = SplitMix64; kept when u >= ratio (tests/fixtures/scripts
/// reimplements it).
bool dropoutKeeps(uint64_t seed, uint64_t step, uint64_t layer, uint64_t index, float ratio);

class TrainPlan {
 public:
  /// Builds every primitive for `def` at options.batch and copies its weights in; throws Error
  /// naming the layer when the network cannot be trained (see checkTrainable) or oneDNN refuses
  /// a layer. Sets the calling thread's OpenMP thread count to options.threads.
  TrainPlan(const NetworkDef& def, const TrainPlanOptions& options);
  ~TrainPlan();
  TrainPlan(const TrainPlan&) = delete;
  TrainPlan& operator=(const TrainPlan&) = delete;

  /// Samples per step.
  int batch() const;
  /// Number of classes (outputs of the last layer).
  int classes() const;
  /// The options the plan was built with.
  const TrainPlanOptions& options() const;

  /// One training pass: forward in training mode (dropout masks from (seed, step)), the loss,
  /// and the backward pass, which leaves the gradient of every parameter (and of the input when
  /// asked). `input` holds batch x C x H x W floats, `labels` batch class indices; throws Error on
  /// a label outside [0, classes).
  BatchResult trainBatch(const float* input, const int32_t* labels, uint64_t seed, uint64_t step);
  /// Updates every parameter from the last gradients (call after trainBatch).
  void applySgd(const SgdSettings& sgd);
  /// Forward pass in inference mode (dropout off): the batch's logits, batch x classes.
  Tensor evaluate(const float* input);

  /// The trainable parameters, in layer order (weights before bias).
  const std::vector<TrainableParam>& params() const;
  /// Parameter i's current value, gradient (from the last trainBatch) or momentum buffer, in the
  /// LayerSpec's plain layout.
  Tensor paramValue(size_t i) const;
  Tensor paramGradient(size_t i) const;
  Tensor paramMomentum(size_t i) const;
  /// Replaces parameter i's value or momentum buffer (shape must match); for resuming.
  void setParamValue(size_t i, const Tensor& value);
  void setParamMomentum(size_t i, const Tensor& value);
  /// d loss / d input from the last trainBatch (batch x C x H x W); needs options.inputGradient.
  Tensor inputGradient() const;
  /// The network definition with the current weights.
  NetworkDef snapshot() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace zfvis
