// What zfvis knows about each operator, in one table: its names, how its output positions relate
// to its input positions, whether it has weights, and the geometry of its sliding window.
// Receptive fields, the deconvnet's windows, occlusion's crops, layer properties, summaries and
// the engine's pooling read it. Adding an operator means a row here, its primitive in the engine,
// its backward rule in the projector and its importers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/model/layer.h"

namespace zfvis {

/// How an operator's output positions (y, x) relate to its input positions.
enum class SpatialKind {
  Window,     // each output position reads a sliding window of the input (Conv, pooling)
  Pointwise,  // each output position reads the same position of its inputs (ReLU, LRN, BN, Add,
              // Dropout, Identity; Concat and Softmax along channels)
  Global,     // every output reads every input position (global pooling, Dense, Flatten, Reshape)
};

/// One row of the table.
struct OpTraits {
  std::string_view onnxName;   // ONNX operator ("Gemm" for Dense); `layers --json` reports it
  std::string_view kerasName;  // Keras-style class name ("Conv2D"), for summaries
  SpatialKind spatial = SpatialKind::Pointwise;
  bool hasWeights = false;  // learnable parameters (weights and bias; BatchNorm's statistics)
  /// Its output holds its inputs' values, unchanged or only rearranged (Dropout at inference,
  /// Identity, Flatten, Reshape, Concat): a projection from it shows nothing that one from its
  /// inputs does not, so the export projects from it only when asked for all layers.
  bool passThrough = false;
};

/// The traits of `type`.
const OpTraits& opTraits(LayerType type);
/// Every operator, in the enum's order (one per row of the table).
const std::vector<LayerType>& allLayerTypes();

/// A sliding window along one axis: output o reads the inputs o * stride - padBefore + t * dilation
/// for taps t in [0, kernel).
struct AxisWindow {
  int kernel = 1;
  int stride = 1;
  int padBefore = 0, padAfter = 0;
  int dilation = 1;
  /// How many input positions one output spans: (kernel - 1) * dilation + 1.
  int extent() const { return (kernel - 1) * dilation + 1; }
};

/// The sliding window of a layer in both axes.
struct WindowGeometry {
  AxisWindow y, x;
  bool ceilMode = false;  // pooling: the output size rounds up
};

/// The trailing padding that makes a floor-rounding window count (oneDNN's) give `outSize`
/// outputs from `inSize` inputs: at least `a.padAfter`, more when the output size was rounded up
/// (ceil mode).
int64_t padAfterFor(const AxisWindow& a, int64_t inSize, int64_t outSize);

/// The window of a SpatialKind::Window layer (Conv with its dilation, MaxPool and AveragePool with
/// dilation 1), nullopt for every other kind.
std::optional<WindowGeometry> windowGeometry(const LayerSpec& layer);

}  // namespace zfvis
