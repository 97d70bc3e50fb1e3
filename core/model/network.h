// NetworkDef: an immutable, ordered DAG of named layers with pure shape inference.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/layer.h"

namespace zfvis {

/// How an image is turned into the network's input tensor.
enum class Preprocess {
  Caffe,        // BGR, 0..255, minus mean B 104 G 117 R 123
  Torchvision,  // RGB, /255, minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225)
  Raw,          // RGB, 0..1
};

/// "caffe", "torchvision", "raw".
std::string_view preprocessName(Preprocess p);
/// Parses a preset name; throws UsageError listing the valid ones.
Preprocess parsePreprocess(std::string_view name);

/// The network's single input.
struct InputSpec {
  std::string name = "input";  // name layers use to refer to it
  Shape shape;                 // per-sample shape, usually C x H x W
  Preprocess preprocess = Preprocess::Caffe;
};

/// The producer index inputIndices() gives for the network input.
inline constexpr int kNetworkInput = -1;

class NetworkDef {
 public:
  std::string name;                // "caffe-alexnet", or the file's stem
  std::string source;              // "built-in", or the file it was read from
  bool untrained = false;          // built-in He-normal weights: label every view "untrained"
  InputSpec input;                 // the input
  std::vector<LayerSpec> layers;   // in topological order; the last one is the output
  std::vector<std::string> notes;  // remarks shown in the summary (deviations from a source)
  /// One name per output class, from the file (ONNX metadata zfvis.labels); empty: ImageNet names
  /// for 1000 outputs, else "class K".
  std::vector<std::string> classNames;
  /// Other notes the file carries (ONNX metadata_props, e.g. zfvis.training of a checkpoint).
  std::map<std::string, std::string> metadata;

  /// Checks names, inputs (DAG order), parameters, weight shapes and shape inference; throws
  /// Error naming the layer and both shapes on the first problem.
  void validate() const;
  /// Per-sample output shape of every layer (same order as `layers`); throws like validate().
  std::vector<Shape> outputShapes() const;
  /// Total number of parameters.
  int64_t paramCount() const;
  /// Index of the layer called `name`, or -1.
  int indexOf(std::string_view name) const;
  /// Resolves a layer given by name or by index as listed by `layers`; throws Error otherwise.
  size_t resolveLayer(std::string_view nameOrIndex) const;
  /// Every layer's inputs as indices into `layers`, kNetworkInput for the network input: names
  /// resolved once for the engine, the projector and receptive fields. Throws Error naming the
  /// layer when a name is empty or used twice, or an input is not the network input or an
  /// earlier layer.
  std::vector<std::vector<int>> inputIndices() const;
  /// Indices of the layers that consume layer i's output.
  std::vector<size_t> consumers(size_t i) const;
};

/// Layers [first, stop) of `def` as a network of their own, named "<def.name> (<what>)", whose
/// input (shape `inputShape`) stands for what layer `first` reads: the output of layer first - 1,
/// or the network input when `first` is 0. Analyses run parts of a network this way (occlusion's
/// crop networks and classifier). Throws Error when the range is empty or out of bounds, or a layer
/// in it reads anything else from outside the range.
NetworkDef subNetwork(const NetworkDef& def, size_t first, size_t stop, const Shape& inputShape,
                      const std::string& what);

/// Per-sample output shape of one layer given its inputs' per-sample shapes; pure, throws Error
/// naming the layer and the offending shapes.
Shape inferOutputShape(const LayerSpec& layer, const std::vector<Shape>& inputShapes);

/// Output size of a convolution or pooling window along one axis (floor or ceil rounding, as in
/// PyTorch / ONNX: with ceil rounding the last window must start inside the padded input).
int64_t windowOutputSize(int64_t in, int kernel, int stride, int padBegin, int padEnd, int dilation,
                         bool ceilMode);

}  // namespace zfvis
