// What the properties panel and the graph view show about one layer or the whole layer graph:
// the layer's geometry (operator, kernel, stride, padding, dilation, groups, ceil mode, shapes,
// parameters, receptive field on the input), statistics of its weight tensor, and a layered
// top-to-bottom layout of the network's DAG.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/tensor.h"
#include "core/model/network.h"
#include "core/model/receptive_field.h"

namespace zfvis {

/// Statistics of a weight tensor.
struct WeightStats {
  int64_t count = 0;             // number of values
  double min = 0, max = 0;       // smallest and largest value
  double mean = 0, std = 0;      // mean and population standard deviation
  double nearZeroFraction = 0;   // share of values with |w| <= nearZeroThreshold
  double nearZeroThreshold = 0;  // kNearZeroRelative x the largest |w|
};

/// A value counts as near zero when |w| <= this share of the tensor's largest |w|.
inline constexpr double kNearZeroRelative = 0.01;

/// Statistics of `n` values (mean and std accumulated in double); zeros for n == 0.
WeightStats weightStats(const float* values, int64_t n);
/// Statistics of a tensor's values.
WeightStats weightStats(const Tensor& t);

/// One layer's properties.
struct LayerInfo {
  std::string name;
  std::string op;                    // ONNX operator name ("Conv", "Gemm", "MaxPool", ...)
  std::vector<std::string> inputs;   // producer layer names (or the network input's name)
  std::vector<Shape> inputShapes;    // per-sample shapes of the inputs
  Shape outputShape;                 // per-sample output shape
  int64_t params = 0;                // learnable parameters
  bool windowed = false;             // Conv or pooling: the fields below are meaningful
  int kernelH = 1, kernelW = 1;      // window
  int strideH = 1, strideW = 1;      // stride
  Padding pad;                       // explicit padding
  int dilationH = 1, dilationW = 1;  // Conv only
  int groups = 1;                    // Conv only
  bool ceilMode = false;             // pooling only
  int outChannels = 0;               // Conv: output channels; Dense: units; else 0
  ReceptiveField field;              // on the input
  std::optional<Shape> weightShape;  // the weight tensor's shape, when the layer has one
};

/// The properties of layer `i` of `def`; `shapes` are def.outputShapes() and `fields`
/// receptiveFields(def) (passed in so a caller asking for many layers computes them once).
LayerInfo layerInfo(const NetworkDef& def, size_t i, const std::vector<Shape>& shapes,
                    const std::vector<ReceptiveField>& fields);

/// The properties as (label, value) rows for display ("Kernel", "11 x 11").
std::vector<std::pair<std::string, std::string>> layerInfoRows(const LayerInfo& info);
/// Weight statistics as (label, value) rows.
std::vector<std::pair<std::string, std::string>> weightStatsRows(const WeightStats& s);

/// A layered drawing of the layer DAG: node i is layer i, at row `depth` (1 + the largest depth
/// of its producers; layers fed only by the network input are at depth 1, the input at 0) and
/// column `column` within its row (ordered by the mean column of the producers, so towers stay
/// apart). Every layer input is an edge, from producer `from` (-1: the network input).
struct LayerGraph {
  struct Node {
    int depth = 1;
    int column = 0;
  };
  struct Edge {
    int from = -1;  // producer layer index, -1 for the network input
    int to = 0;     // consumer layer index
  };
  std::vector<Node> nodes;  // one per layer, same order
  std::vector<Edge> edges;  // one per layer input, in layer order
  int depthCount = 1;       // rows including the input row 0
  int maxColumns = 1;       // widest row
  /// Number of nodes in row `depth`.
  std::vector<int> rowWidths;
};

/// Lays out `def`'s layers; throws Error when an input names no earlier layer.
LayerGraph layoutLayerGraph(const NetworkDef& def);

}  // namespace zfvis
