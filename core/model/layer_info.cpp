#include "core/model/layer_info.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/base/error.h"
#include "core/model/op_traits.h"
#include "core/model/summary.h"

namespace zfvis {

WeightStats weightStats(const float* values, int64_t n) {
  WeightStats s;
  s.count = n;
  if (n <= 0) return s;
  double sum = 0, mn = values[0], mx = values[0], maxAbs = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = values[i];
    sum += v;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
    maxAbs = std::max(maxAbs, std::abs(v));
  }
  const double mean = sum / double(n);
  double sq = 0;
  int64_t nearZero = 0;
  const double threshold = kNearZeroRelative * maxAbs;
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(values[i]) - mean;
    sq += d * d;
    if (std::abs(double(values[i])) <= threshold) ++nearZero;
  }
  s.min = mn;
  s.max = mx;
  s.mean = mean;
  s.std = std::sqrt(sq / double(n));
  s.nearZeroThreshold = threshold;
  s.nearZeroFraction = double(nearZero) / double(n);
  return s;
}

WeightStats weightStats(const Tensor& t) {
  return weightStats(t.data(), t.numel());
}

LayerInfo layerInfo(const NetworkDef& def, size_t i, const std::vector<Shape>& shapes,
                    const std::vector<ReceptiveField>& fields) {
  if (i >= def.layers.size() || shapes.size() != def.layers.size() ||
      fields.size() != def.layers.size())
    throw Error("layer " + std::to_string(i) + " is not a layer of '" + def.name + "'");
  const LayerSpec& l = def.layers[i];
  LayerInfo info;
  info.name = l.name;
  info.op = std::string(onnxOpName(l.type));
  info.inputs = l.inputs;
  for (const std::string& in : l.inputs) {
    const int p = def.indexOf(in);
    info.inputShapes.push_back(p >= 0 ? shapes[size_t(p)] : def.input.shape);
  }
  info.outputShape = shapes[i];
  info.params = l.paramCount();
  info.field = fields[i];
  if (const auto w = windowGeometry(l)) {
    info.windowed = true;
    info.kernelH = w->y.kernel;
    info.kernelW = w->x.kernel;
    info.strideH = w->y.stride;
    info.strideW = w->x.stride;
    info.pad = {w->y.padBefore, w->x.padBefore, w->y.padAfter, w->x.padAfter};
    info.dilationH = w->y.dilation;
    info.dilationW = w->x.dilation;
    info.ceilMode = w->ceilMode;
  }
  if (l.type == LayerType::Conv) {
    info.groups = l.conv.groups;
    info.outChannels = l.conv.outChannels;
  } else if (l.type == LayerType::Dense) {
    info.outChannels = l.dense.units;
  }
  if (!l.weights.empty()) info.weightShape = l.weights.shape();
  return info;
}

namespace {

std::string pair(int a, int b) {
  return std::to_string(a) + " x " + std::to_string(b);
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> layerInfoRows(const LayerInfo& info) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("Layer", info.name);
  rows.emplace_back("Operator", info.op);
  std::string inputs;
  for (size_t k = 0; k < info.inputs.size(); ++k) {
    if (k) inputs += ", ";
    inputs += info.inputs[k] + " " + info.inputShapes[k].str();
  }
  rows.emplace_back(info.inputs.size() > 1 ? "Inputs" : "Input", inputs);
  rows.emplace_back("Output", info.outputShape.str());
  if (info.outChannels > 0)
    rows.emplace_back(info.op == "Gemm" ? "Units" : "Out channels",
                      std::to_string(info.outChannels));
  if (info.windowed) {
    rows.emplace_back("Kernel", pair(info.kernelH, info.kernelW));
    rows.emplace_back("Stride", pair(info.strideH, info.strideW));
    const Padding& p = info.pad;
    rows.emplace_back("Padding", p.top == p.bottom && p.left == p.right && p.top == p.left
                                     ? std::to_string(p.top)
                                     : "top " + std::to_string(p.top) + ", left " +
                                           std::to_string(p.left) + ", bottom " +
                                           std::to_string(p.bottom) + ", right " +
                                           std::to_string(p.right));
    if (info.op == "Conv") {
      rows.emplace_back("Dilation", pair(info.dilationH, info.dilationW));
      rows.emplace_back("Groups", std::to_string(info.groups));
    } else {
      rows.emplace_back("Ceil mode", info.ceilMode ? "yes" : "no");
    }
  }
  rows.emplace_back("Parameters", thousandsSeparated(info.params));
  if (info.weightShape) rows.emplace_back("Weight shape", info.weightShape->str());
  const ReceptiveField& f = info.field;
  if (f.global) {
    rows.emplace_back("Receptive field", "the whole input");
  } else {
    rows.emplace_back("Receptive field", pair(f.sizeY, f.sizeX) + " px");
    rows.emplace_back("Jump", pair(f.jumpY, f.jumpX) + " px");
  }
  return rows;
}

std::vector<std::pair<std::string, std::string>> weightStatsRows(const WeightStats& s) {
  return {{"Values", thousandsSeparated(s.count)},
          {"Min", number(s.min)},
          {"Max", number(s.max)},
          {"Mean", number(s.mean)},
          {"Std", number(s.std)},
          {"Near zero",
           number(100.0 * s.nearZeroFraction) + " % (|w| <= " + number(s.nearZeroThreshold) + ")"}};
}

LayerGraph layoutLayerGraph(const NetworkDef& def) {
  LayerGraph g;
  const size_t n = def.layers.size();
  g.nodes.resize(n);
  std::vector<std::vector<int>> producers(n);
  for (size_t i = 0; i < n; ++i) {
    int depth = 1;
    for (const std::string& in : def.layers[i].inputs) {
      const int p = in == def.input.name ? -1 : def.indexOf(in);
      if (p < 0 && in != def.input.name)
        throw Error("layer '" + def.layers[i].name + "' reads '" + in + "', which is no layer");
      if (p >= int(i))
        throw Error("layer '" + def.layers[i].name + "' reads the later layer '" + in + "'");
      g.edges.push_back({p, int(i)});
      producers[i].push_back(p);
      if (p >= 0) depth = std::max(depth, g.nodes[size_t(p)].depth + 1);
    }
    g.nodes[i].depth = depth;
    g.depthCount = std::max(g.depthCount, depth + 1);
  }
  // Rows in depth order; within a row, by the mean column of the producers (the input at 0).
  std::vector<std::vector<int>> rows(size_t(g.depthCount));
  for (size_t i = 0; i < n; ++i) rows[size_t(g.nodes[i].depth)].push_back(int(i));
  g.rowWidths.assign(size_t(g.depthCount), 0);
  g.rowWidths[0] = 1;
  for (size_t d = 1; d < rows.size(); ++d) {
    std::vector<std::pair<double, int>> order;
    for (int i : rows[d]) {
      double sum = 0;
      for (int p : producers[size_t(i)]) sum += p < 0 ? 0.0 : g.nodes[size_t(p)].column;
      const size_t k = producers[size_t(i)].size();
      order.emplace_back(k ? sum / double(k) : 0.0, i);
    }
    std::stable_sort(order.begin(), order.end());
    for (size_t c = 0; c < order.size(); ++c) g.nodes[size_t(order[c].second)].column = int(c);
    g.rowWidths[d] = int(order.size());
    g.maxColumns = std::max(g.maxColumns, int(order.size()));
  }
  return g;
}

}  // namespace zfvis
