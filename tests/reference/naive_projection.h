// A slow, obvious back-projection (deconvnet, guided backpropagation, gradient saliency) written
// from the README's table "Back-projection semantics" with plain loops in double precision, sharing
// no code with the Projector. It takes the forward values it needs (ReLU outputs for the masks,
// LRN inputs, max-pool inputs for the switches) from a forward run, so it checks the backward
// pass on its own; the forward pass has its own references (naive_ops.h). Tests only.
#pragma once

#include <cstddef>
#include <vector>

#include "core/analysis/projector/projector.h"
#include "core/base/tensor.h"
#include "core/model/network.h"

namespace zfvis::ref {

/// Projects unit (channel, y, x) of `layer`'s output (y = x = 0 for vector outputs, where
/// `channel` is the index in the vector) down to the input of `def`. `input` is the network input
/// and `outputs` every layer's output of the same forward run (batch 1, plain C order). Returns
/// 1 x (input shape). Throws std::runtime_error for what it does not implement.
Tensor project(const NetworkDef& def, const Tensor& input, const std::vector<Tensor>& outputs,
               size_t layer, int channel, int y, int x, ProjectionMode mode,
               LrnBackward lrn = LrnBackward::Gradient);

}  // namespace zfvis::ref
