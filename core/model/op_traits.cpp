#include "core/model/op_traits.h"

#include <algorithm>
#include <array>

namespace zfvis {

namespace {

using K = SpatialKind;

// One row per LayerType, in the enum's order (checked below).
struct Row {
  LayerType type;
  OpTraits traits;
};
constexpr std::array kTable{
    Row{LayerType::Conv, {"Conv", "Conv2D", K::Window, true}},
    Row{LayerType::Relu, {"Relu", "ReLU", K::Pointwise, false}},
    Row{LayerType::LRN, {"LRN", "LRN", K::Pointwise, false}},
    Row{LayerType::MaxPool, {"MaxPool", "MaxPooling2D", K::Window, false}},
    Row{LayerType::AveragePool, {"AveragePool", "AveragePooling2D", K::Window, false}},
    Row{LayerType::GlobalAveragePool,
        {"GlobalAveragePool", "GlobalAveragePooling2D", K::Global, false}},
    Row{LayerType::Dense, {"Gemm", "Dense", K::Global, true}},
    Row{LayerType::Dropout, {"Dropout", "Dropout", K::Pointwise, false, true}},
    Row{LayerType::Flatten, {"Flatten", "Flatten", K::Global, false, true}},
    Row{LayerType::Reshape, {"Reshape", "Reshape", K::Global, false, true}},
    Row{LayerType::Concat, {"Concat", "Concatenate", K::Pointwise, false, true}},
    Row{LayerType::Softmax, {"Softmax", "Softmax", K::Pointwise, false}},
    Row{LayerType::BatchNorm, {"BatchNormalization", "BatchNormalization", K::Pointwise, true}},
    Row{LayerType::Add, {"Add", "Add", K::Pointwise, false}},
    Row{LayerType::Identity, {"Identity", "Identity", K::Pointwise, false, true}},
};

constexpr bool inEnumOrder() {
  for (size_t i = 0; i < kTable.size(); ++i)
    if (static_cast<size_t>(kTable[i].type) != i) return false;
  return kTable.size() == static_cast<size_t>(LayerType::Identity) + 1;
}
static_assert(inEnumOrder(), "op_traits: one row per LayerType, in the enum's order");

}  // namespace

const OpTraits& opTraits(LayerType type) {
  return kTable[static_cast<size_t>(type)].traits;
}

const std::vector<LayerType>& allLayerTypes() {
  static const std::vector<LayerType> types = [] {
    std::vector<LayerType> v;
    for (const Row& r : kTable) v.push_back(r.type);
    return v;
  }();
  return types;
}

int64_t padAfterFor(const AxisWindow& a, int64_t inSize, int64_t outSize) {
  return std::max<int64_t>(a.padAfter,
                           (outSize - 1) * a.stride + a.extent() - inSize - a.padBefore);
}

std::optional<WindowGeometry> windowGeometry(const LayerSpec& l) {
  WindowGeometry g;
  if (l.type == LayerType::Conv) {
    const ConvParams& p = l.conv;
    g.y = {p.kernelH, p.strideH, p.pad.top, p.pad.bottom, p.dilationH};
    g.x = {p.kernelW, p.strideW, p.pad.left, p.pad.right, p.dilationW};
    return g;
  }
  if (l.type == LayerType::MaxPool || l.type == LayerType::AveragePool) {
    const PoolParams& p = l.pool;
    g.y = {p.kernelH, p.strideH, p.pad.top, p.pad.bottom, 1};
    g.x = {p.kernelW, p.strideW, p.pad.left, p.pad.right, 1};
    g.ceilMode = p.ceilMode;
    return g;
  }
  return std::nullopt;
}

}  // namespace zfvis
