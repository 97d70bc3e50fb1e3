// LayerSpec: one node of a network definition (type, parameters, weights, named inputs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/tensor.h"

namespace zfvis {

/// Every supported operation. `layers --json` reports them by their ONNX operator names.
enum class LayerType {
  Conv,               // convolution (groups, stride, asymmetric padding, dilation), optional bias
  Relu,               // max(x, 0)
  LRN,                // local response normalisation across channels (ONNX semantics)
  MaxPool,            // max pooling (ceil mode, padding); keeps switches for the deconvnet
  AveragePool,        // average pooling (count_include_pad)
  GlobalAveragePool,  // mean over H x W -> C x 1 x 1
  Dense,              // inner product (ONNX Gemm); implicitly flattens its input in C order
  Dropout,            // identity at inference
  Flatten,            // per-sample flatten to one dimension
  Reshape,            // per-sample reshape
  Concat,             // concatenation along an axis
  Softmax,            // softmax along an axis
  BatchNorm,  // inference batch normalisation (y = scale * (x - mean) / sqrt(var + eps) + shift)
  Add,        // element-wise sum of two inputs, or of one input and a constant
  Identity,   // identity
};

/// The ONNX operator name of a layer type ("Conv", "Gemm" for Dense, ...).
std::string_view onnxOpName(LayerType type);
/// The Keras-style class name of a layer type ("Conv2D", "Dense", ...), for summaries.
std::string_view kerasClassName(LayerType type);

/// Padding in pixels on each side.
struct Padding {
  int top = 0, left = 0, bottom = 0, right = 0;
  bool operator==(const Padding&) const = default;
};

struct ConvParams {
  int outChannels = 0;               // O
  int kernelH = 1, kernelW = 1;      // kH, kW
  int strideH = 1, strideW = 1;      // stride
  Padding pad;                       // explicit padding (importers resolve auto_pad / Keras "same")
  int dilationH = 1, dilationW = 1;  // 1 = dense kernel
  int groups = 1;                    // input and output channels split into this many groups
  bool hasBias = true;               // bias tensor present
};

struct PoolParams {
  int kernelH = 1, kernelW = 1;  // window
  int strideH = 1, strideW = 1;  // stride
  Padding pad;                   // explicit padding
  bool ceilMode = false;         // output size rounds up (Caffe, ONNX ceil_mode=1)
  bool countIncludePad = false;  // AveragePool: padded cells count in the divisor
};

struct LrnParams {
  int size = 5;         // channels in the window
  float alpha = 1e-4f;  // scale (divided by size, as in ONNX and Caffe)
  float beta = 0.75f;   // exponent
  float bias = 1.0f;    // k
};

struct DenseParams {
  int units = 0;        // output features
  bool hasBias = true;  // bias tensor present
};

struct AxisParams {
  int axis = 1;           // axis in the batched tensor (0 = batch); never negative after import
  bool coerce2d = false;  // Softmax only: ONNX opset < 13 semantics (flatten [axis:] to one axis)
};

struct ReshapeParams {
  std::vector<int64_t> shape;  // per-sample target shape (batch excluded); at most one -1
};

struct BatchNormParams {
  float epsilon = 1e-5f;  // added to the variance
};

/// One layer. Only the parameter block matching `type` is meaningful.
struct LayerSpec {
  std::string name;  // unique within the network
  LayerType type = LayerType::Identity;
  std::vector<std::string> inputs;  // names of producer layers or of the network input
  ConvParams conv;
  PoolParams pool;
  LrnParams lrn;
  DenseParams dense;
  AxisParams axis;  // Concat, Softmax, Flatten
  ReshapeParams reshape;
  BatchNormParams batchNorm;
  // Conv: O x I/groups x kH x kW. Dense: units x in_features (in_features in C order).
  // BatchNorm: 4 x C rows (scale, shift, mean, variance). Add: constant operand (per-sample,
  // broadcast numpy-style) when the layer has one input.
  Tensor weights;
  Tensor bias;  // Conv, Dense: O values (empty when hasBias is false)

  /// Number of learnable parameters (weights + bias; BatchNorm counts scale, shift, mean, var).
  int64_t paramCount() const;
};

}  // namespace zfvis
