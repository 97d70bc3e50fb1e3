#include "core/layer.h"

namespace zfvis {

std::string_view onnxOpName(LayerType type) {
  switch (type) {
    case LayerType::Conv:
      return "Conv";
    case LayerType::Relu:
      return "Relu";
    case LayerType::LRN:
      return "LRN";
    case LayerType::MaxPool:
      return "MaxPool";
    case LayerType::AveragePool:
      return "AveragePool";
    case LayerType::GlobalAveragePool:
      return "GlobalAveragePool";
    case LayerType::Dense:
      return "Gemm";
    case LayerType::Dropout:
      return "Dropout";
    case LayerType::Flatten:
      return "Flatten";
    case LayerType::Reshape:
      return "Reshape";
    case LayerType::Concat:
      return "Concat";
    case LayerType::Softmax:
      return "Softmax";
    case LayerType::BatchNorm:
      return "BatchNormalization";
    case LayerType::Add:
      return "Add";
    case LayerType::Identity:
      return "Identity";
  }
  return "?";
}

std::string_view kerasClassName(LayerType type) {
  switch (type) {
    case LayerType::Conv:
      return "Conv2D";
    case LayerType::Relu:
      return "ReLU";
    case LayerType::LRN:
      return "LRN";
    case LayerType::MaxPool:
      return "MaxPooling2D";
    case LayerType::AveragePool:
      return "AveragePooling2D";
    case LayerType::GlobalAveragePool:
      return "GlobalAveragePooling2D";
    case LayerType::Dense:
      return "Dense";
    case LayerType::Dropout:
      return "Dropout";
    case LayerType::Flatten:
      return "Flatten";
    case LayerType::Reshape:
      return "Reshape";
    case LayerType::Concat:
      return "Concatenate";
    case LayerType::Softmax:
      return "Softmax";
    case LayerType::BatchNorm:
      return "BatchNormalization";
    case LayerType::Add:
      return "Add";
    case LayerType::Identity:
      return "Identity";
  }
  return "?";
}

int64_t LayerSpec::paramCount() const {
  switch (type) {
    case LayerType::Conv:
    case LayerType::Dense:
    case LayerType::BatchNorm:
      return weights.numel() + bias.numel();
    default:
      return 0;
  }
}

}  // namespace zfvis
