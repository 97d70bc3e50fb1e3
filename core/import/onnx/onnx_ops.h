// The ONNX operator table: one converter per supported op type (OpenCV dnn's init.cpp idea: one
// explicit list; anything else is refused by name).
#pragma once

#include <string>
#include <vector>

#include "core/import/onnx/onnx_context.h"

namespace zfvis::onnx_import {

/// Turns one node into layers (or constants) of the context.
using OpConverter = void (*)(NodeView& node);

struct OpEntry {
  const char* opType;   // ONNX operator name (default domain)
  OpConverter convert;  // converter
};

/// Every supported operator, sorted by name.
const std::vector<OpEntry>& opTable();
/// The entry for `opType` in the default domain, or null.
const OpEntry* findOp(const std::string& domain, const std::string& opType);

// Converters, grouped by file.
// onnx_ops_spatial.cpp
void convertConv(NodeView& n);
void convertMaxPool(NodeView& n);
void convertAveragePool(NodeView& n);
void convertGlobalAveragePool(NodeView& n);
void convertLrn(NodeView& n);
void convertBatchNormalization(NodeView& n);
// onnx_ops_dense.cpp
void convertGemm(NodeView& n);
void convertMatMul(NodeView& n);
void convertAdd(NodeView& n);
// onnx_ops_shape.cpp
void convertRelu(NodeView& n);
void convertDropout(NodeView& n);
void convertIdentity(NodeView& n);
void convertFlatten(NodeView& n);
void convertReshape(NodeView& n);
void convertSoftmax(NodeView& n);
void convertConcat(NodeView& n);
void convertConstant(NodeView& n);

/// Normalises an ONNX axis (negative counts from the end) for a tensor of `rank` dimensions
/// (batch included); fails naming the attribute when it is out of range.
int normaliseAxis(const NodeView& n, int64_t axis, size_t rank, const std::string& attribute);

}  // namespace zfvis::onnx_import
