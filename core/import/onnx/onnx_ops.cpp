#include "core/import/onnx/onnx_ops.h"

#include <algorithm>

namespace zfvis::onnx_import {

const std::vector<OpEntry>& opTable() {
  static const std::vector<OpEntry> table = {
      {"Add", convertAdd},
      {"AveragePool", convertAveragePool},
      {"BatchNormalization", convertBatchNormalization},
      {"Concat", convertConcat},
      {"Constant", convertConstant},
      {"Conv", convertConv},
      {"Dropout", convertDropout},
      {"Flatten", convertFlatten},
      {"Gemm", convertGemm},
      {"GlobalAveragePool", convertGlobalAveragePool},
      {"Identity", convertIdentity},
      {"LRN", convertLrn},
      {"MatMul", convertMatMul},
      {"MaxPool", convertMaxPool},
      {"Relu", convertRelu},
      {"Reshape", convertReshape},
      {"Softmax", convertSoftmax},
  };
  return table;
}

const OpEntry* findOp(const std::string& domain, const std::string& opType) {
  if (!domain.empty() && domain != "ai.onnx") return nullptr;
  const auto& t = opTable();
  auto it = std::find_if(t.begin(), t.end(), [&](const OpEntry& e) { return opType == e.opType; });
  return it == t.end() ? nullptr : &*it;
}

int normaliseAxis(const NodeView& n, int64_t axis, size_t rank, const std::string& attribute) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    n.fail("attribute '" + attribute + "' = " + std::to_string(axis) + " is out of range for a " +
           std::to_string(rank) + "-D tensor");
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

}  // namespace zfvis::onnx_import
