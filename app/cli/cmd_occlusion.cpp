// zfvis-cli occlusion: Zeiler & Fergus fig. 7 occlusion sensitivity maps.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/occlusion/occlusion.h"
#include "core/base/error.h"
#include "core/base/labels.h"
#include "core/base/npy.h"
#include "core/model/image_input.h"
#include "core/model/summary.h"
#include "core/render/occlusion_picture.h"
#include "core/render/png.h"

namespace zfvis::cli {

namespace {

// One progress line per batch on stderr (rewritten in place on a terminal).
class StderrProgress : public ProgressSink {
 public:
  StderrProgress() : m_tty(::isatty(STDERR_FILENO)) {}
  ~StderrProgress() override {
    if (m_tty && m_printed) std::fprintf(stderr, "\n");
  }
  void report(int64_t done, int64_t total) override {
    if (done == m_last) return;
    m_last = done;
    m_printed = true;
    std::fprintf(stderr, "occlusion: %lld/%lld placements%s", static_cast<long long>(done),
                 static_cast<long long>(total), m_tty ? "\r" : "\n");
    std::fflush(stderr);
  }

 private:
  bool m_tty;
  bool m_printed = false;
  int64_t m_last = -1;
};

// "heat.png" -> "heat-feature.png".
std::string siblingPath(const std::string& path, const std::string& suffix) {
  std::filesystem::path p(path);
  std::filesystem::path ext = p.extension();
  return (p.parent_path() / (p.stem().string() + suffix + ext.string())).string();
}

}  // namespace

int runOcclusion(const ArgList& argv) {
  Args args(argv,
            withOptions(withOptions(runOptions(), labelsOption()), {{"patch"},
                                                                    {"stride"},
                                                                    {"fill"},
                                                                    {"class"},
                                                                    {"layer"},
                                                                    {"channel"},
                                                                    {"batch"},
                                                                    {"npy"},
                                                                    {"label-map"},
                                                                    {"feature-npy"},
                                                                    {"png"},
                                                                    {"label-png"},
                                                                    {"feature-png"},
                                                                    {"whole-copies", false},
                                                                    {"time", false},
                                                                    {"repeat"}}),
            "occlusion");
  OcclusionOptions o;
  // Range-checked now (usage errors come before any file is read); the defaults need the model.
  args.intValue("patch", 1, 1, 1 << 20);
  args.intValue("stride", 1, 1, 1 << 20);
  o.fill = float(args.doubleValue("fill", 0.0, -std::numeric_limits<float>::max(),
                                  std::numeric_limits<float>::max()));
  o.targetClass = args.intValue("class", -1, 0, 1 << 30);
  o.batch = args.intValue("batch", 32, 1, 4096);
  o.incremental = !args.has("whole-copies");
  const int repeat = args.intValue("repeat", 0, 1, 1000);
  if (args.has("channel") && !args.has("layer"))
    throw UsageError("--channel needs --layer (the layer whose feature map is summed)");
  if ((args.has("feature-npy") || args.has("feature-png")) && !args.has("layer"))
    throw UsageError("--feature-npy and --feature-png need --layer and --channel");
  args.required("image");

  auto def = openModel(args);
  const Shape& in = def->input.shape;
  if (in.rank() != 3)
    throw Error("model '" + def->name + "' has input " + in.str() + ", expected C x H x W");
  // Default: the paper's 50 and 8 on 224 pixels, in proportion to this input's width.
  const OcclusionDefaults geometry = defaultOcclusionGeometry(int(in[2]), int(in[1]));
  o.patch = args.intValue("patch", geometry.patch, 1, 1 << 20);
  o.stride = args.intValue("stride", geometry.stride, 1, 1 << 20);
  if (o.patch > in[1] || o.patch > in[2])
    throw Error("model '" + def->name + "' has a " + std::to_string(in[1]) + " x " +
                std::to_string(in[2]) + " input (patch sizes 1.." +
                std::to_string(std::min(in[1], in[2])) + "); --patch " + std::to_string(o.patch) +
                " is out of range");
  const std::vector<Shape> shapes = def->outputShapes();
  const int classes = int(shapes.back().numel());
  if (o.targetClass >= 0)
    requireIndex("class", o.targetClass, classes, "model '" + def->name + "'", "classes");
  if (args.has("layer")) {
    const size_t layer = resolveLayerArg(args, *def);
    o.layer = layer;
    o.channel = args.intValue("channel", -1, 0, 1 << 30);
    if (o.channel >= 0)
      requireIndex("channel", o.channel, shapes[layer].rank() ? shapes[layer][0] : 1,
                   "layer '" + def->layers[layer].name + "'", "channels");
  }

  checkOutputs(args, {"npy", "label-map", "feature-npy", "png", "label-png", "feature-png"});
  Tensor input = openInput(args, *def);
  auto net = compileModel(args, def);
  StderrProgress progress;
  auto t0 = std::chrono::steady_clock::now();
  OcclusionResult r = zfvis::runOcclusion(net, input, o, &progress);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  const int total = r.rows * r.cols;
  int64_t lo = 0, hi = 0, changed = 0;
  for (int64_t k = 0; k < total; ++k) {
    if (r.probability[k] < r.probability[lo]) lo = k;
    if (r.probability[k] > r.probability[hi]) hi = k;
    changed += r.topClass[size_t(k)] != r.baseClass;
  }
  std::printf("%s: %d x %d placements (patch %d, stride %d, fill %g)%s\n",
              modelDescription(*def).c_str(), r.rows, r.cols, r.patch, r.stride, double(r.fill),
              def->untrained ? " [untrained weights]" : "");
  std::printf(
      "class %d (%s): unoccluded p %.6g; occluded min %.6g at row %lld col %lld, max %.6g at "
      "row %lld col %lld\n",
      r.targetClass, classDisplayName(r.targetClass, classes, def->classNames).c_str(),
      double(r.baseProbability), double(r.probability[lo]), static_cast<long long>(lo / r.cols),
      static_cast<long long>(lo % r.cols), double(r.probability[hi]),
      static_cast<long long>(hi / r.cols), static_cast<long long>(hi % r.cols));
  std::printf("top-1 differs from the unoccluded %d (%s) at %lld of %d placements\n", r.baseClass,
              classDisplayName(r.baseClass, classes, def->classNames).c_str(),
              static_cast<long long>(changed), total);
  if (r.layer) {
    const Tensor& f = r.featureActivation;
    const float fmin = *std::min_element(f.data(), f.data() + f.numel());
    const float fmax = *std::max_element(f.data(), f.data() + f.numel());
    std::printf("%s channel %d total activation: unoccluded %.6g; occluded %.6g .. %.6g\n",
                r.layerName.c_str(), r.channel, double(r.baseFeatureActivation), double(fmin),
                double(fmax));
  }
  if (args.has("time")) {
    std::printf("occlusion %d placements: %.0f ms (%s)\n", total, ms,
                r.incremental ? "windowed early layers" : "whole copies");
    if (repeat) {
      std::vector<double> times;
      for (int k = 0; k < repeat; ++k) {
        auto t = std::chrono::steady_clock::now();
        zfvis::runOcclusion(net, input, o, nullptr);
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t)
                .count());
      }
      std::sort(times.begin(), times.end());
      std::printf("occlusion %d placements: median %.0f ms over %d more runs (min %.0f ms)\n",
                  total, times[times.size() / 2], repeat, times.front());
    }
  }

  if (auto npy = args.value("npy")) writeNpy(*npy, r.probability);
  if (auto lm = args.value("label-map")) writeNpyInt32(*lm, Shape{r.rows, r.cols}, r.topClass);
  if (auto fn = args.value("feature-npy")) writeNpy(*fn, r.featureActivation);
  const auto png = args.value("png");
  const auto labelPng = args.value("label-png");
  auto featurePng = args.value("feature-png");
  if (!featurePng && png && r.layer) featurePng = siblingPath(*png, "-feature");
  if (png || labelPng || featurePng) {
    InputSpec spec = def->input;
    if (auto p = args.value("preprocess")) spec.preprocess = parsePreprocess(*p);
    const cv::Mat view = input.shape()[1] == 1 || input.shape()[1] == 3
                             ? tensorToImage(input, spec.preprocess)
                             : cv::Mat();
    PngText meta = pictureText("occlusion", def->name, def->untrained, args.required("image"));
    meta.insert(meta.end(),
                {{"zfvis:patch", std::to_string(r.patch)},
                 {"zfvis:stride", std::to_string(r.stride)},
                 {"zfvis:fill", std::to_string(r.fill)},
                 {"zfvis:class", std::to_string(r.targetClass)},
                 {"zfvis:class-name", classDisplayName(r.targetClass, classes, def->classNames)},
                 {"zfvis:cells",
                  "each placement painted on the stride x stride cell at its "
                  "patch centre"}});
    auto with = [&](PngText extra) {
      PngText t = meta;
      t.insert(t.end(), extra.begin(), extra.end());
      return t;
    };
    if (png)
      writePng(*png, renderOcclusionHeatmap(r, view, def->classNames),
               with({{"zfvis:map", "probability"},
                     {"zfvis:normalization", "min..max of the map, viridis"}}));
    if (labelPng)
      writePng(*labelPng, renderOcclusionLabelMap(r, view, classes, def->classNames),
               with({{"zfvis:map", "top-1 class"},
                     {"zfvis:normalization", "one flat colour per class, legend"}}));
    if (featurePng)
      writePng(*featurePng, renderOcclusionFeatureMap(r, view),
               with({{"zfvis:map", "feature total"},
                     {"zfvis:layer", r.layerName},
                     {"zfvis:channel", std::to_string(r.channel)},
                     {"zfvis:normalization", "min..max of the map, viridis"}}));
  }
  return 0;
}

}  // namespace zfvis::cli
