#include "core/analysis/compare/filter_bank.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/base/error.h"
#include "core/base/npy.h"

namespace zfvis {

std::string_view channelOrderName(ChannelOrder order) {
  return order == ChannelOrder::Bgr ? "bgr" : "rgb";
}

ChannelOrder parseChannelOrder(std::string_view name) {
  if (name == "bgr" || name == "BGR") return ChannelOrder::Bgr;
  if (name == "rgb" || name == "RGB") return ChannelOrder::Rgb;
  throw UsageError("unknown channel order '" + std::string(name) + "' (expected bgr or rgb)");
}

ChannelOrder channelOrderOf(Preprocess preprocess) {
  return preprocess == Preprocess::Caffe ? ChannelOrder::Bgr : ChannelOrder::Rgb;
}

void checkFilterBank(const Tensor& weights, const std::string& what) {
  const Shape& s = weights.shape();
  if (s.rank() != 4)
    throw Error(what + ": expected a filter bank O x I x kH x kW (rank 4), got shape " +
                (s.rank() ? s.str() : std::string("()")));
  for (size_t i = 0; i < 4; ++i)
    if (s[i] <= 0 || s[i] > (int64_t(1) << 24))
      throw Error(what + ": filter bank dimension " + std::to_string(i) + " is " +
                  std::to_string(s[i]) + " in " + s.str() + " (expected 1 .. 16777216)");
  for (int64_t i = 0; i < weights.numel(); ++i)
    if (!std::isfinite(weights[i]))
      throw Error(what + ": weight " + std::to_string(i) + " of " + s.str() +
                  " is not a finite number");
}

FilterBank convFilterBank(const NetworkDef& def, size_t layer) {
  if (layer >= def.layers.size())
    throw Error("model '" + def.name + "' has no layer " + std::to_string(layer));
  const LayerSpec& l = def.layers[layer];
  if (l.type != LayerType::Conv)
    throw Error("layer '" + l.name + "' of '" + def.name + "' is a " +
                std::string(onnxOpName(l.type)) + ", not a Conv: only Conv layers have filters");
  const std::string what = "layer '" + l.name + "' of '" + def.name + "'";
  checkFilterBank(l.weights, what);
  FilterBank b;
  b.weights = l.weights;
  b.model = def.name;
  b.source = def.source;
  b.layer = l.name;
  b.strideH = l.conv.strideH;
  b.strideW = l.conv.strideW;
  b.channelOrder = channelOrderOf(def.input.preprocess);
  b.colourInput = l.inputs.size() == 1 && l.inputs[0] == def.input.name &&
                  l.weights.shape()[1] == 3 && def.input.shape.rank() >= 1 &&
                  def.input.shape[0] == 3;
  b.untrained = def.untrained;
  return b;
}

size_t firstConvLayer(const NetworkDef& def) {
  for (size_t i = 0; i < def.layers.size(); ++i)
    if (def.layers[i].type == LayerType::Conv) return i;
  throw Error("model '" + def.name + "' has no Conv layer");
}

FilterBank readFilterBankNpy(const std::filesystem::path& path, int stride, ChannelOrder order) {
  FilterBank b;
  b.weights = readNpy(path);
  checkFilterBank(b.weights, "'" + path.string() + "'");
  b.model = path.stem().string();
  b.source = path.string();
  b.strideH = b.strideW = stride > 0 ? stride : 0;
  b.channelOrder = order;
  b.colourInput = b.weights.shape()[1] == 3;
  return b;
}

}  // namespace zfvis
