// ONNX importer: ONNX ModelProto (opsets 1-17) -> NetworkDef.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/model/network.h"

namespace zfvis {

/// Reads an .onnx file; throws Error naming the file, the node (name, op type, opset) and the
/// reason for anything it cannot represent.
NetworkDef importOnnx(const std::filesystem::path& path);
/// Parses .onnx bytes (`what` names the source in errors). Used by importOnnx and the fuzzer.
NetworkDef importOnnxBytes(const std::string& bytes, const std::string& what);
/// The ONNX operator types the importer accepts.
const std::vector<std::string>& supportedOnnxOps();

}  // namespace zfvis
