#include "core/import/model_loader.h"

#include <algorithm>
#include <filesystem>

#include "core/base/error.h"
#include "core/base/file_types.h"
#include "core/import/keras_import.h"
#include "core/import/onnx_import.h"
#include "core/model/builtin_models.h"
#include "core/model/small_nets.h"
#include "core/zoo/zoo_cache.h"

namespace zfvis {

namespace {

bool isKerasExtension(const std::string& ext) {
  return ext == ".h5" || ext == ".hdf5" || ext == ".keras";
}

}  // namespace

bool hasModelExtension(const std::filesystem::path& file) {
  const std::string ext = lowerExtension(file);
  return ext == ".onnx" || isKerasExtension(ext);
}

bool looksLikeModelFile(const std::string& spec) {
  return hasModelExtension(spec) || spec.find('/') != std::string::npos ||
         spec.rfind("zoo:", 0) == 0;
}

NetworkDef loadModel(const std::string& spec, const std::string& weights) {
  NetworkDef def;
  if (spec.rfind("zoo:", 0) == 0) {
    // A Model Zoo file fetched earlier with `zfvis-cli fetch ID` (verified against its SHA-256).
    const std::string id = spec.substr(4);
    auto file = cachedZooModel(id);
    if (!file)
      throw Error("model '" + spec + "' is not downloaded yet: run `zfvis-cli fetch " + id + "`");
    def = importOnnx(*file);
  } else if (auto trained = shippedRunDir(spec)) {
    // alex-small / zf-small trained on Fashion-MNIST, shipped in resources/models.
    def = importOnnx(*trained / "final.onnx");
    def.name = spec;
  } else if (isBuiltinModel(spec)) {
    def = makeBuiltinModel(spec);
  } else {
    std::string ext = lowerExtension(spec);
    std::error_code ec;
    if (!looksLikeModelFile(spec) && !std::filesystem::exists(spec, ec)) {
      makeBuiltinModel(spec);  // throws "unknown model" listing the built-ins
    }
    if (!std::filesystem::exists(spec, ec))
      throw Error("cannot open model '" + spec + "': no such file");
    if (ext == ".onnx") {
      def = importOnnx(spec);
    } else if (isKerasExtension(ext)) {
      def = importKeras(spec);
    } else {
      throw Error("cannot open model '" + spec +
                  "': unknown file type (expected .onnx or a Keras .h5 file)");
    }
  }
  if (!weights.empty()) {
    if (!isKerasExtension(lowerExtension(weights)))
      throw Error("cannot apply weights '" + weights + "': expected a Keras .h5 file");
    applyKerasWeights(def, weights);
    def.untrained = false;
    def.source += " + weights " + weights;
  }
  def.validate();
  return def;
}

}  // namespace zfvis
