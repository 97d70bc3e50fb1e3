#include "app/cli/common.h"

#include <algorithm>
#include <cmath>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/labels.h"
#include "core/import/model_loader.h"
#include "core/model/image_input.h"

namespace zfvis::cli {

std::vector<OptionSpec> modelOptions() {
  return {{"model"}, {"weights"}, {"threads"}};
}

std::vector<OptionSpec> runOptions() {
  return withOptions(modelOptions(), {{"image"}, {"preprocess"}, {"max-pixels"}});
}

std::vector<OptionSpec> withOptions(std::vector<OptionSpec> base, std::vector<OptionSpec> extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  return base;
}

std::vector<OptionSpec> labelsOption() {
  return {{"labels"}};
}

std::shared_ptr<const NetworkDef> openModel(const Args& args) {
  std::string spec = args.required("model");
  NetworkDef def = loadModel(spec, args.value("weights").value_or(""));
  // --labels replaces the model's own class names (and ImageNet's); the count must match.
  if (auto labels = args.value("labels")) {
    const auto shapes = def.outputShapes();
    const int classes = shapes.empty() ? 0 : int(shapes.back().numel());
    def.classNames = readClassNamesFile(*labels, classes, def.name);
  }
  return std::make_shared<const NetworkDef>(std::move(def));
}

std::shared_ptr<const CompiledNet> compileModel(const Args& args,
                                                std::shared_ptr<const NetworkDef> def) {
  EngineOptions o;
  o.threads = args.intValue("threads", 2, 1, 256);
  setEngineThreads(o.threads);
  return CompiledNet::compile(std::move(def), o);
}

Tensor openInput(const Args& args, const NetworkDef& def) {
  InputSpec spec = def.input;
  if (auto p = args.value("preprocess")) spec.preprocess = parsePreprocess(*p);
  ImageReadOptions read;
  // Up to 2^40: beyond OpenCV's own limit of 2^30 pixels the decoders refuse anyway.
  read.maxPixels = args.int64Value("max-pixels", kDefaultMaxImagePixels, 1, int64_t(1) << 40);
  read.captureCodecOutput = true;  // one line per failure: nothing else prints while decoding
  return loadNetworkInput(args.required("image"), spec, read);
}

size_t resolveLayerArg(const Args& args, const NetworkDef& def) {
  return def.resolveLayer(args.required("layer"));
}

void checkOutputs(const Args& args, const std::vector<std::string>& options) {
  for (const std::string& o : options)
    if (auto path = args.value(o)) checkWritable(*path);
}

void requireIndex(const std::string& option, int64_t value, int64_t count, const std::string& owner,
                  const std::string& noun) {
  if (value >= 0 && value < count) return;
  throw Error(owner + " has " + std::to_string(count) + " " + noun + " (0.." +
              std::to_string(count - 1) + "); --" + option + " " + std::to_string(value) +
              " is out of range");
}

}  // namespace zfvis::cli
