// zfvis-cli predict, activations: one forward pass and what it gives.
// zfvis-cli models / summary / layers / predict / activations / bench.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/predictions.h"
#include "core/analysis/projector/projector.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/labels.h"
#include "core/base/npy.h"
#include "core/model/builtin_models.h"
#include "core/model/small_nets.h"
#include "core/model/summary.h"
#include "core/render/activation_grid.h"
#include "core/render/png.h"

namespace zfvis::cli {

using Json = nlohmann::ordered_json;

int runPredict(const ArgList& argv) {
  Args args(
      argv,
      withOptions(withOptions(runOptions(), labelsOption()), {{"top"}, {"json", false}, {"npy"}}),
      "predict");
  auto def = openModel(args);
  const int top = args.intValue("top", 5, 1, 100000);
  checkOutputs(args, {"npy"});
  Tensor input = openInput(args, *def);
  auto net = compileModel(args, def);
  Session session(net);
  RunOptions ro;
  ro.keepAll = false;
  auto t0 = std::chrono::steady_clock::now();
  auto acts = session.run(input, ro);
  const Tensor& out = acts->finalOutput();
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<float> p = classProbabilities(*def, out);
  const int classes = static_cast<int>(p.size());
  const std::vector<RankedClass> ranked =
      rankedClasses(p, top, resolveClassNames(classes, {}, def->classNames));
  if (auto npy = args.value("npy")) {
    Tensor probs = Tensor::fromData(Shape{1, classes}, p.data());
    writeNpy(*npy, probs);
  }
  if (args.has("json")) {
    std::printf("%s\n", predictionsJson(*def, args.required("image"), classes, ranked, ms).c_str());
    return 0;
  }
  std::printf("%s on %s (%.1f ms)\n%s", modelDescription(*def).c_str(),
              args.required("image").c_str(), ms, predictionLines(ranked, def->untrained).c_str());
  return 0;
}

int runActivations(const ArgList& argv) {
  Args args(
      argv,
      withOptions(runOptions(),
                  {{"layer"}, {"npy"}, {"png"}, {"colormap"}, {"normalize"}, {"mark-max", false}}),
      "activations");
  auto def = openModel(args);
  const size_t layer = resolveLayerArg(args, *def);
  ActivationGridOptions go;
  if (auto c = args.value("colormap")) go.colormap = parseColormap(*c);
  if (auto n = args.value("normalize")) {
    if (*n == "map")
      go.normalization = MapNormalization::PerMap;
    else if (*n == "layer")
      go.normalization = MapNormalization::PerLayer;
    else
      throw UsageError("--normalize expects map or layer, got '" + *n + "'");
  }
  go.markMax = args.has("mark-max");
  checkOutputs(args, {"npy", "png"});
  Tensor input = openInput(args, *def);
  auto net = compileModel(args, def);
  Session session(net);
  RunOptions ro;
  ro.keepAll = false;
  ro.keep = {layer};
  auto acts = session.run(input, ro);
  const Tensor& t = acts->output(layer);
  const LayerSpec& l = def->layers[layer];
  float lo = t.numel() ? *std::min_element(t.data(), t.data() + t.numel()) : 0.0f;
  float hi = t.numel() ? *std::max_element(t.data(), t.data() + t.numel()) : 0.0f;
  double mean = 0;
  for (int64_t i = 0; i < t.numel(); ++i) mean += t[i];
  mean /= std::max<int64_t>(1, t.numel());
  std::printf("layer %zu %s (%s): %s, min %g, max %g, mean %g%s\n", layer, l.name.c_str(),
              std::string(onnxOpName(l.type)).c_str(), t.shape().str().c_str(), lo, hi, mean,
              def->untrained ? " [untrained weights]" : "");
  if (auto npy = args.value("npy")) writeNpy(*npy, t);
  if (auto png = args.value("png")) {
    if (t.shape().rank() != 4 && t.shape().rank() != 2)
      throw Error("layer '" + l.name + "' has output " + t.shape().str() +
                  ", which cannot be drawn as feature maps (use --npy)");
    cv::Mat img = renderActivationGrid(t, go);
    PngText text =
        pictureText("activations", def->name, def->untrained, args.required("image"), l.name);
    text.insert(text.end(),
                {{"zfvis:colormap", std::string(colormapName(go.colormap))},
                 {"zfvis:normalization",
                  go.normalization == MapNormalization::PerMap ? "per-map" : "per-layer"}});
    writePng(*png, img, text);
  }
  return 0;
}

}  // namespace zfvis::cli
