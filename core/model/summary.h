// The Keras-style model summary (`zfvis-cli summary`, exports): one row per layer with its
// output shape and parameter count, then the totals and the model's notes.
#pragma once

#include <cstdint>
#include <string>

#include "core/model/network.h"

namespace zfvis {

/// The summary table as text, every line ending in '\n'.
std::string modelSummaryText(const NetworkDef& def);
/// "caffe-alexnet (built-in, untrained: He-normal weights)" / "model (model.onnx)".
std::string modelDescription(const NetworkDef& def);
/// "(None, 96, 55, 55)": a per-sample shape with the batch dimension shown as None.
std::string kerasShapeTuple(const Shape& s);
/// "1,234,567".
std::string thousandsSeparated(int64_t v);

}  // namespace zfvis
