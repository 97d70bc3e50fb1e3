// zfvis-cli compare: first-layer filter banks side by side on one scale, their statistics
// (RMS, dead filters, ZF's renormalisation radius, low/mid/high frequency shares) as JSON, and
// their radial power spectra (Zeiler & Fergus 2013, fig. 6).
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/compare/filter_bank.h"
#include "core/analysis/compare/filter_stats.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/file_types.h"
#include "core/import/model_loader.h"
#include "core/render/compare_picture.h"
#include "core/render/png.h"

namespace zfvis::cli {

using Json = nlohmann::ordered_json;

namespace {

// Strides for the .npy banks: none, one for all, or one per .npy bank in order.
std::vector<int> npyStrides(const Args& args, size_t npyCount) {
  std::vector<int> out = args.intValues("stride", 1, 4096);
  if (out.size() > 1 && out.size() != npyCount)
    throw UsageError("--stride given " + std::to_string(out.size()) + " times for " +
                     std::to_string(npyCount) +
                     " .npy filter bank(s) (give it once for all, or once per .npy bank)");
  if (!out.empty() && npyCount == 0)
    throw UsageError(
        "--stride only applies to .npy filter banks (a model's layer has "
        "its own stride)");
  if (out.size() == 1) out.assign(std::max<size_t>(npyCount, 1), out[0]);
  return out;
}

Json bankJson(const CompareSide& s) {
  const FilterBank& b = s.bank;
  Json j = {
      {"name", b.model},
      {"source", b.source},
      {"layer", b.layer.empty() ? Json(nullptr) : Json(b.layer)},
      {"untrained", b.untrained},
      {"channel_order", b.colourInput ? Json(channelOrderName(b.channelOrder)) : Json(nullptr)},
      {"stride", b.strideH > 0 ? Json({b.strideH, b.strideW}) : Json(nullptr)},
  };
  const Json stats = toJson(s.stats);
  for (const auto& [k, v] : stats.items()) j[k] = v;
  return j;
}

}  // namespace

int runCompare(const ArgList& argv) {
  Args args(argv,
            {{"model", true, true},
             {"png"},
             {"spectrum-png"},
             {"json"},
             {"stride", true, true},
             {"order"},
             {"normalize"},
             {"scale"}},
            "compare");
  const std::vector<std::string> specs = args.values("model");
  if (specs.size() < 2 || specs.size() > 4)
    throw UsageError("give two (up to four) --model options, got " + std::to_string(specs.size()));
  const size_t npyCount =
      static_cast<size_t>(std::count_if(specs.begin(), specs.end(), hasNpyExtension));
  const std::vector<int> strides = npyStrides(args, npyCount);
  const ChannelOrder npyOrder = parseChannelOrder(args.value("order").value_or("bgr"));
  CompareViewOptions vo;
  if (auto n = args.value("normalize")) vo.normalization = parseFilterNormalization(*n);
  vo.scale = args.intValue("scale", 0, 1, 64);

  checkOutputs(args, {"png", "spectrum-png", "json"});
  std::vector<CompareSide> sides;
  size_t npyIndex = 0;
  for (const std::string& spec : specs) {
    CompareSide s;
    if (hasNpyExtension(spec)) {
      int stride = strides.empty() ? 0 : strides[npyIndex++];
      s.bank = readFilterBankNpy(spec, stride, npyOrder);
    } else {
      NetworkDef def = loadModel(spec);
      s.bank = convFilterBank(def, firstConvLayer(def));
    }
    sides.push_back(std::move(s));
  }
  FilterStatsOptions so;
  for (const CompareSide& s : sides)
    so.spectrumSize = std::max({so.spectrumSize, s.bank.kernelH(), s.bank.kernelW()});
  for (CompareSide& s : sides) s.stats = computeFilterBankStats(s.bank.weights, so);

  for (const CompareSide& s : sides) {
    const FilterBankStats& st = s.stats;
    std::printf(
        "%s: %s; RMS median %.4f; dead %d; RMS > %g: %d; power low %.3f mid %.3f high "
        "%.3f\n",
        compareTitle(s.bank).c_str(), compareShapeText(s.bank).c_str(), st.medianRms, st.deadCount,
        so.renormRadius, st.aboveRadiusCount, st.meanBands.low, st.meanBands.mid,
        st.meanBands.high);
  }

  if (auto path = args.value("json")) {
    Json out = {{"definitions", filterStatsDefinitionsJson(so)}, {"models", Json::array()}};
    for (const CompareSide& s : sides) out["models"].push_back(bankJson(s));
    writeFileAtomic(*path, out.dump(2) + "\n");
  }
  std::string models, layers;
  bool untrained = false;
  for (const CompareSide& s : sides) {
    models += (models.empty() ? "" : "; ") + s.bank.model;
    layers += (layers.empty() ? "" : "; ") + (s.bank.layer.empty() ? "-" : s.bank.layer);
    untrained = untrained || s.bank.untrained;
  }
  auto meta = [&](const std::string& view) {
    PngText text = pictureText(view, models, untrained, {}, layers);
    text.push_back({"zfvis:normalization", std::string(filterNormalizationName(vo.normalization))});
    return text;
  };
  if (auto png = args.value("png")) writePng(*png, renderCompareView(sides, vo), meta("compare"));
  if (auto png = args.value("spectrum-png")) {
    SpectrumPlotOptions po;
    po.lowEdge = so.lowEdge;
    po.highEdge = so.highEdge;
    writePng(*png, renderSpectrumPlot(compareSpectrumCurves(sides), po), meta("compare-spectrum"));
  }
  return 0;
}

}  // namespace zfvis::cli
