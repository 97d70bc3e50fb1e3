// Opening a model from the command line or the GUI: a built-in name, an .onnx file or a Keras
// .h5 file, optionally with Keras weights applied to a built-in architecture.
#pragma once

#include <filesystem>
#include <string>

#include "core/model/network.h"

namespace zfvis {

/// Loads `spec` (built-in name, .onnx, .h5/.hdf5/.keras, or zoo:ID for a Model Zoo file fetched
/// with `zfvis-cli fetch ID`). With `weights` (a Keras .h5 file),
/// applies those weights to the architecture. Throws Error naming the file and the problem.
NetworkDef loadModel(const std::string& spec, const std::string& weights = "");

/// True when `spec` names something loadModel would try to open as a file.
bool looksLikeModelFile(const std::string& spec);

/// True when `file`'s extension is one of a model file zfvis imports: .onnx, or Keras' .h5,
/// .hdf5 and .keras (any case).
bool hasModelExtension(const std::filesystem::path& file);

}  // namespace zfvis
