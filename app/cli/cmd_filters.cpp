// zfvis-cli filters: a Conv layer's filters as a grid PNG and/or the raw weights as .npy.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/compare/filter_bank.h"
#include "core/analysis/compare/filter_stats.h"
#include "core/base/error.h"
#include "core/base/file_types.h"
#include "core/base/npy.h"
#include "core/render/filter_grid.h"
#include "core/render/png.h"

namespace zfvis::cli {

namespace {

std::string channelsName(FilterChannels c, int channel) {
  switch (c) {
    case FilterChannels::Rgb:
      return "rgb";
    case FilterChannels::PerInput:
      return "per-input";
    case FilterChannels::Single:
      return "channel " + std::to_string(channel);
    case FilterChannels::Mean:
      return "mean";
    default:
      return "auto";
  }
}

}  // namespace

int runFilters(const ArgList& argv) {
  Args args(argv,
            withOptions(modelOptions(), {{"layer"},
                                         {"npy"},
                                         {"png"},
                                         {"normalize"},
                                         {"channel"},
                                         {"mean", false},
                                         {"per-input", false},
                                         {"rgb", false},
                                         {"order"},
                                         {"stride"},
                                         {"columns"},
                                         {"scale"}}),
            "filters");
  // Everything that needs no weights is checked first, so usage errors come before a model load.
  const std::string spec = args.required("model");
  const bool npyBank = hasNpyExtension(spec);
  FilterGridOptions go;
  if (auto n = args.value("normalize")) go.normalization = parseFilterNormalization(*n);
  const int picked =
      args.has("channel") + args.has("mean") + args.has("per-input") + args.has("rgb");
  if (picked > 1) throw UsageError("give at most one of --channel, --mean, --per-input, --rgb");
  if (args.has("mean")) go.channels = FilterChannels::Mean;
  if (args.has("per-input")) go.channels = FilterChannels::PerInput;
  if (args.has("rgb")) go.channels = FilterChannels::Rgb;
  std::optional<ChannelOrder> order;
  if (auto o = args.value("order")) order = parseChannelOrder(*o);
  go.columns = args.intValue("columns", 0, 1, 4096);
  go.scale = args.intValue("scale", 0, 1, 64);
  const int npyStride = args.intValue("stride", 0, 1, 1 << 16);
  const int channel = args.intValue("channel", -1, 0, 1 << 30);
  if (npyBank && args.has("layer"))
    throw UsageError("--layer does not apply to the .npy filter bank '" + spec + "'");
  if (npyBank && args.has("weights"))
    throw UsageError("--weights does not apply to the .npy filter bank '" + spec + "'");
  if (!npyBank && args.has("stride"))
    throw UsageError("--stride only applies to a .npy filter bank (a model's layer has its own)");
  if (!npyBank) args.required("layer");

  checkOutputs(args, {"npy", "png"});
  FilterBank bank;
  if (npyBank) {
    bank = readFilterBankNpy(spec, npyStride, order.value_or(ChannelOrder::Bgr));
  } else {
    auto def = openModel(args);
    bank = convFilterBank(*def, resolveLayerArg(args, *def));
    if (order) bank.channelOrder = *order;
  }
  const std::string bankName = bank.layer.empty() ? "'" + spec + "'" : "layer '" + bank.layer + "'";
  if (channel >= 0) {
    go.channels = FilterChannels::Single;
    requireIndex("channel", channel, bank.inputChannels(), bankName, "input channels");
    go.inputChannel = channel;
  }
  if (go.channels == FilterChannels::Rgb && bank.inputChannels() != 3)
    throw Error("--rgb needs 3 input channels, " + bankName + " has " +
                std::to_string(bank.inputChannels()));
  go.channelOrder = bank.channelOrder;
  go.colourInput = bank.colourInput;
  const FilterChannels shown = resolveFilterChannels(bank.weights.shape(), go);

  const std::vector<double> rms = filterRms(bank.weights);
  const double med = median(rms);
  const int above =
      static_cast<int>(std::count_if(rms.begin(), rms.end(), [](double r) { return r > 0.1; }));
  std::string stride = bank.strideH > 0 ? std::to_string(bank.strideH) : "?";
  if (bank.strideW > 0 && bank.strideW != bank.strideH)
    stride += "x" + std::to_string(bank.strideW);
  const std::string name = bank.layer.empty() ? bank.source : bank.model + " " + bank.layer;
  const std::string input = bank.colourInput
                                ? "colour order " + std::string(channelOrderName(bank.channelOrder))
                                : std::string("inputs are feature maps");
  std::printf(
      "%s: %s, stride %s, %s; filter RMS median %.4g (min %.4g, max %.4g), %d above "
      "0.1%s\n",
      name.c_str(), bank.weights.shape().str().c_str(), stride.c_str(), input.c_str(), med,
      *std::min_element(rms.begin(), rms.end()), *std::max_element(rms.begin(), rms.end()), above,
      bank.untrained ? " [untrained weights]" : "");

  if (auto npy = args.value("npy")) writeNpy(*npy, bank.weights);
  if (auto png = args.value("png")) {
    cv::Mat img = renderFilterGrid(bank.weights, go);
    PngText text = pictureText("filters", bank.model, bank.untrained, {}, bank.layer);
    text.insert(text.end(),
                {{"zfvis:source", bank.source},
                 {"zfvis:normalization", std::string(filterNormalizationName(go.normalization))},
                 {"zfvis:channels", channelsName(shown, go.inputChannel)},
                 {"zfvis:channel-order", std::string(channelOrderName(bank.channelOrder))}});
    writePng(*png, img, text);
  }
  return 0;
}

}  // namespace zfvis::cli
