// ONNX writer: NetworkDef -> ONNX ModelProto (opset 13) with libonnx's protobuf classes, checked by
// onnx::checker before it is written. Weights are stored bit for bit (raw float32 data), so
// importOnnx gives back the same network; the training checkpoints are written with it. The
// model's preprocessing, class names and other notes go into metadata_props:
//   zfvis.preprocess  the input preset name (caffe, torchvision, raw)
//   zfvis.labels      the class names, one per line, in output order (when the model has them)
//   and every entry of NetworkDef::metadata (e.g. zfvis.training, written by the trainer).
#pragma once

#include <filesystem>
#include <string>

#include "core/model/network.h"

namespace zfvis {

/// The metadata key holding the input preprocessing preset.
inline constexpr const char* kOnnxPreprocessKey = "zfvis.preprocess";
/// The metadata key holding the class names, one per line.
inline constexpr const char* kOnnxLabelsKey = "zfvis.labels";

/// Serialises `def` as ONNX bytes; throws Error naming the layer when it has no ONNX form or the
/// checker refuses the result.
std::string onnxModelBytes(const NetworkDef& def);
/// Writes `def` to `path` atomically (temporary file, then rename); throws Error naming the file.
void writeOnnx(const std::filesystem::path& path, const NetworkDef& def);

}  // namespace zfvis
