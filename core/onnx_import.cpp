// Placeholder until the ONNX importer lands (work in progress in this session).
#include "core/onnx_import.h"

#include "core/error.h"

namespace zfvis {

NetworkDef importOnnx(const std::filesystem::path& path) {
  throw Error("cannot open '" + path.string() + "': ONNX import is not available yet");
}
NetworkDef importOnnxBytes(const std::string&, const std::string& what) {
  throw Error("cannot open " + what + ": ONNX import is not available yet");
}
const std::vector<std::string>& supportedOnnxOps() {
  static const std::vector<std::string> none;
  return none;
}

}  // namespace zfvis
