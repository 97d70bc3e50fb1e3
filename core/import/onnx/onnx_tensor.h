// ONNX TensorProto checks and decoding for the importer: sizes are verified against the data
// actually present (and against the file size) before anything is allocated.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/tensor.h"

namespace zfvis::onnx_import {

/// "FLOAT", "INT64", ... for an ONNX TensorProto data type code.
std::string dataTypeName(int32_t dataType);

/// True when the tensor keeps its data in an external file (data_location or external_data set).
bool hasExternalData(const onnx::TensorProto& t);

/// Checks a tensor before anything is allocated for it: data stored inside the file (external data
/// is refused), non-negative dimensions whose product fits Tensor::kMaxElements and the file size
/// `fileSize`, and a data field whose length matches the dimensions. Throws Error starting with
/// `where` (e.g. "model.onnx: initializer 'conv1_w'").
void checkTensorProto(const onnx::TensorProto& t, size_t fileSize, const std::string& where);

/// The tensor's dimensions (call checkTensorProto first).
std::vector<int64_t> tensorDims(const onnx::TensorProto& t);

/// Decodes a checked FLOAT or DOUBLE tensor to float32 with shape = its dims (rank 0 = scalar);
/// throws Error naming `where` for other types.
Tensor decodeFloatTensor(const onnx::TensorProto& t, const std::string& where);

/// Decodes a checked INT64, INT32 or BOOL tensor to int64 values (C order).
std::vector<int64_t> decodeIntTensor(const onnx::TensorProto& t, const std::string& where);

}  // namespace zfvis::onnx_import
