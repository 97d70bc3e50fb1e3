// Keras HDF5 importer: full-model files (model_config + model_weights) and weights-only files.
#pragma once

#include <filesystem>

#include "core/model/network.h"

namespace zfvis {

/// Reads a Keras `model.save("x.h5")` file: architecture from `model_config`, weights from
/// `model_weights`. Throws Error naming the file, the layer and the reason.
NetworkDef importKeras(const std::filesystem::path& path);

/// Applies a Keras `save_weights` (or full-model) file's weights to `def`, matching layers with
/// weights in order and checking shapes; throws Error naming the layer and both shapes.
void applyKerasWeights(NetworkDef& def, const std::filesystem::path& path);

}  // namespace zfvis
