// zfvis-cli models, summary, layers: what a model is, without running it.
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

namespace {

Json shapeJson(const Shape& s) {
  return Json(s.dims());
}

}  // namespace

int runModels(const ArgList& argv) {
  Args args(argv, {{"json", false}}, "models");
  if (args.has("json")) {
    Json out = Json::array();
    for (const auto& m : builtinModels()) {
      const auto trained = shippedRunDir(m.name);
      Json e = {{"name", m.name}, {"description", m.description}, {"untrained", !trained}};
      if (trained) e["file"] = (*trained / "final.onnx").string();
      out.push_back(e);
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf(
      "Built-in models (deterministic He-normal weights: untrained, unless trained weights are "
      "shipped):\n");
  for (const auto& m : builtinModels())
    std::printf("  %-15s %s%s\n", m.name.c_str(), m.description.c_str(),
                shippedRunDir(m.name) ? " [trained on Fashion-MNIST]" : "");
  std::printf(
      "\nAlso accepted by --model: an .onnx file, a Keras .h5 file, or zoo:ID for an ONNX Model "
      "Zoo\n"
      "file fetched with `zfvis-cli fetch ID` (`zfvis-cli fetch --list` shows them).\n");
  return 0;
}

int runSummary(const ArgList& argv) {
  Args args(argv, modelOptions(), "summary");
  auto def = openModel(args);
  std::fputs(modelSummaryText(*def).c_str(), stdout);
  return 0;
}

int runLayers(const ArgList& argv) {
  Args args(argv, withOptions(modelOptions(), {{"json", false}}), "layers");
  auto def = openModel(args);
  auto shapes = def->outputShapes();
  if (args.has("json")) {
    Json out = Json::array();
    for (size_t i = 0; i < def->layers.size(); ++i) {
      const LayerSpec& l = def->layers[i];
      out.push_back({{"index", i},
                     {"name", l.name},
                     {"type", std::string(onnxOpName(l.type))},
                     {"output_shape", shapeJson(shapes[i])},
                     {"params", l.paramCount()},
                     {"inputs", l.inputs}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  int nameWidth = 24;  // as wide as the longest name, so long ONNX node names stay in columns
  for (const LayerSpec& l : def->layers) nameWidth = std::max(nameWidth, int(l.name.size()));
  std::printf("%5s  %-*s %-20s %-20s %s\n", "index", nameWidth, "name", "type", "output shape",
              "params");
  for (size_t i = 0; i < def->layers.size(); ++i) {
    const LayerSpec& l = def->layers[i];
    std::printf("%5zu  %-*s %-20s %-20s %s\n", i, nameWidth, l.name.c_str(),
                std::string(onnxOpName(l.type)).c_str(), shapes[i].str().c_str(),
                thousandsSeparated(l.paramCount()).c_str());
  }
  return 0;
}

}  // namespace zfvis::cli
