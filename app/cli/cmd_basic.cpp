// zfvis-cli models / summary / layers / predict / activations / bench.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/atomic_file.h"
#include "core/builtin_models.h"
#include "core/error.h"
#include "core/labels.h"
#include "core/model/small_nets.h"
#include "core/npy.h"
#include "core/predictions.h"
#include "core/projector.h"
#include "core/render/activation_grid.h"
#include "core/render/png.h"
#include "core/summary.h"

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
  const std::vector<int> order = topClasses(p, top);
  const int k = static_cast<int>(order.size());
  if (auto npy = args.value("npy")) {
    Tensor probs = Tensor::fromData(Shape{1, classes}, p.data());
    writeNpy(*npy, probs);
  }
  if (args.has("json")) {
    Json j;
    j["model"] = def->name;
    j["untrained"] = def->untrained;
    j["image"] = args.required("image");
    j["classes"] = classes;
    j["forward_ms"] = ms;
    Json arr = Json::array();
    for (int i = 0; i < k; ++i)
      arr.push_back({{"rank", i + 1},
                     {"class", order[i]},
                     {"label", classDisplayName(order[i], classes, def->classNames)},
                     {"probability", p[order[i]]}});
    j["top"] = arr;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s on %s (%.1f ms)\n", describeModel(*def).c_str(), args.required("image").c_str(),
              ms);
  if (def->untrained) std::printf("UNTRAINED weights: these predictions are meaningless\n");
  for (int i = 0; i < k; ++i)
    std::printf("%3d. %7.4f  %4d  %s\n", i + 1, p[order[i]], order[i],
                classDisplayName(order[i], classes, def->classNames).c_str());
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

namespace {

double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

template <typename F>
std::vector<double> timeRuns(int warmup, int iters, F&& f) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> times;
  for (int i = 0; i < iters; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return times;
}

}  // namespace

int runBench(const ArgList& argv) {
  Args args(
      argv,
      withOptions(
          modelOptions(),
          {{"batch"}, {"iters"}, {"warmup"}, {"all-layers", false}, {"deconv"}, {"top"}, {"mode"}}),
      "bench");
  auto def = openModel(args);
  const int batch = args.intValue("batch", 1, 1, 4096);
  const int iters = args.intValue("iters", 20, 1, 100000);
  const int warmup = args.intValue("warmup", 3, 0, 1000);
  auto net = compileModel(args, def);
  Session session(net);
  // A deterministic pseudo-image in the network's input range.
  Tensor input(def->input.shape.withBatch(batch));
  for (int64_t i = 0; i < input.numel(); ++i)
    input[i] = static_cast<float>((i * 2654435761u) % 255) - 120.0f;
  RunOptions ro;
  ro.keepAll = args.has("all-layers");
  auto forward = timeRuns(warmup, iters, [&] {
    auto acts = session.run(input, ro);
    if (ro.keepAll) {
      for (size_t i = 0; i < acts->layerCount(); ++i) acts->output(i);
    } else {
      acts->finalOutput();
    }
  });
  const double median = medianOf(forward);
  std::printf("oneDNN ISA: %s, %d threads\n", engineCpuIsa().c_str(), net->options().threads);
  std::printf("batch %d: median %.2f ms, min %.2f ms, %.1f images/s\n", batch, median,
              *std::min_element(forward.begin(), forward.end()), batch * 1000.0 / median);
  if (auto layerArg = args.value("deconv")) {
    const size_t layer = def->resolveLayer(*layerArg);
    const int top = args.intValue("top", 0, 1, 100000);
    const ProjectionMode mode = parseProjectionMode(args.value("mode").value_or("deconvnet"));
    Tensor one = input.slice(0);
    // A projection needs the projected layer's output kept (ReLU outputs, LRN inputs and pool
    // switches always are); time that forward run, one projection on its own, and the two
    // together, next to the plain forward above.
    RunOptions keepLayer;
    keepLayer.keepAll = false;
    keepLayer.keep = {layer};
    auto keepAll = timeRuns(warmup, iters, [&] { session.run(one, keepLayer); });
    Projector projector(session.run(one, keepLayer));
    ProjectionRequest r;
    r.layer = layer;
    r.mode = mode;
    auto project = timeRuns(warmup, iters, [&] { projector.project(r); });
    // The plain forward and forward + projection, alternating so both see the same machine
    // state; the ratio compares their medians.
    std::vector<double> plainRuns, both;
    for (int i = 0; i < warmup + iters; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      session.run(one, ro).get();
      auto t1 = std::chrono::steady_clock::now();
      {
        Projector p(session.run(one, keepLayer));
        p.project(r);
      }
      auto t2 = std::chrono::steady_clock::now();
      if (i < warmup) continue;
      plainRuns.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      both.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    const double fwd = medianOf(keepAll), proj = medianOf(project), total = medianOf(both),
                 plain = medianOf(plainRuns);
    std::printf("forward keeping %s: median %.2f ms\n", def->layers[layer].name.c_str(), fwd);
    std::printf("deconv %s (1 projection, %s): median %.2f ms, min %.2f ms\n",
                def->layers[layer].name.c_str(), projectionModeName(mode), proj,
                *std::min_element(project.begin(), project.end()));
    std::printf(
        "forward + deconv: median %.2f ms, %.2fx the plain forward (median %.2f ms) "
        "measured alternately\n",
        total, total / plain, plain);
    if (top) {
      std::vector<int> channels = projector.topChannels(layer, top);
      auto many = timeRuns(std::min(warmup, 1), std::max(1, iters / 4),
                           [&] { projector.projectChannels(layer, channels, mode); });
      const double m = medianOf(many);
      std::printf("deconv %s top %d: median %.2f ms, min %.2f ms, %.1f projections/s\n",
                  def->layers[layer].name.c_str(), int(channels.size()), m,
                  *std::min_element(many.begin(), many.end()), channels.size() * 1000.0 / m);
    }
  }
  return 0;
}

}  // namespace zfvis::cli
