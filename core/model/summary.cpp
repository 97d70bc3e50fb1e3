#include "core/model/summary.h"

#include <algorithm>
#include <cstdio>

namespace zfvis {

namespace {

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

}  // namespace

std::string kerasShapeTuple(const Shape& s) {
  std::string out = "(None";
  for (int64_t d : s.dims()) out += ", " + std::to_string(d);
  return out + ")";
}

std::string thousandsSeparated(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return (v < 0 ? "-" : "") + s;
}

std::string modelDescription(const NetworkDef& def) {
  std::string s = def.name + " (" + def.source;
  if (def.untrained) s += ", untrained: He-normal weights";
  return s + ")";
}

std::string modelSummaryText(const NetworkDef& def) {
  const std::vector<Shape> shapes = def.outputShapes();
  // Keras' column widths, widened to fit the longest "name (type)" (ONNX node names can be long).
  size_t nameWidth = 34;
  for (const LayerSpec& l : def.layers)
    nameWidth = std::max(nameWidth, l.name.size() + onnxOpName(l.type).size() + 4);
  nameWidth = std::max(nameWidth, def.input.name.size() + 9);
  const std::string rule(44 + nameWidth, '_'), heavy(44 + nameWidth, '=');
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  auto row = [&](const std::string& name, const std::string& shape, const std::string& params) {
    line(" " + pad(name, nameWidth) + pad(shape, 28) + params);
  };
  line("Model: \"" + def.name + "\"  " + modelDescription(def));
  if (def.untrained) line("UNTRAINED: built-in architecture with He-normal weights (seed 0)");
  line(rule);
  row("Layer (type)", "Output Shape", "Param #");
  line(heavy);
  row(def.input.name + " (Input)", kerasShapeTuple(def.input.shape), "0");
  int64_t nonTrainable = 0;
  for (size_t i = 0; i < def.layers.size(); ++i) {
    const LayerSpec& l = def.layers[i];
    row(l.name + " (" + std::string(onnxOpName(l.type)) + ")", kerasShapeTuple(shapes[i]),
        thousandsSeparated(l.paramCount()));
    if (l.type == LayerType::BatchNorm) nonTrainable += l.weights.numel() / 2;
  }
  const int64_t total = def.paramCount();
  line(heavy);
  line("Total params: " + thousandsSeparated(total));
  line("Trainable params: " + thousandsSeparated(total - nonTrainable));
  line("Non-trainable params: " + thousandsSeparated(nonTrainable));
  line(rule);
  for (const std::string& n : def.notes) line("Note: " + n);
  return out;
}

}  // namespace zfvis
