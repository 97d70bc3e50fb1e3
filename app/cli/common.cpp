#include "app/cli/common.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/image_input.h"
#include "core/model_loader.h"

namespace zfvis::cli {

std::vector<OptionSpec> modelOptions() {
  return {{"model"}, {"weights"}, {"threads"}};
}

std::vector<OptionSpec> runOptions() {
  return withOptions(modelOptions(), {{"image"}, {"preprocess"}});
}

std::vector<OptionSpec> withOptions(std::vector<OptionSpec> base, std::vector<OptionSpec> extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  return base;
}

std::shared_ptr<const NetworkDef> openModel(const Args& args) {
  std::string spec = args.required("model");
  return std::make_shared<const NetworkDef>(loadModel(spec, args.value("weights").value_or("")));
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
  return loadNetworkInput(args.required("image"), spec);
}

size_t resolveLayerArg(const Args& args, const NetworkDef& def) {
  return def.resolveLayer(args.required("layer"));
}

std::string describeModel(const NetworkDef& def) {
  std::string s = def.name + " (" + def.source;
  if (def.untrained) s += ", untrained: He-normal weights";
  return s + ")";
}

}  // namespace zfvis::cli
