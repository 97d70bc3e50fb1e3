#include "core/import/onnx/onnx_tensor.h"

#include <cstring>

#include "core/base/error.h"

namespace zfvis::onnx_import {

namespace {

using TP = onnx::TensorProto;

// Bytes per element in raw_data (0 for types without a fixed size, e.g. STRING).
size_t elementSize(int32_t type) {
  switch (type) {
    case TP::FLOAT:
    case TP::INT32:
    case TP::UINT32:
      return 4;
    case TP::DOUBLE:
    case TP::INT64:
    case TP::UINT64:
    case TP::COMPLEX64:
      return 8;
    case TP::COMPLEX128:
      return 16;
    case TP::UINT8:
    case TP::INT8:
    case TP::BOOL:
      return 1;
    case TP::UINT16:
    case TP::INT16:
    case TP::FLOAT16:
    case TP::BFLOAT16:
      return 2;
    default:
      return 0;
  }
}

// Number of values in the typed (non-raw) data field that holds this data type, and the number
// of such values per element (2 for complex types); -1 when the type has no typed field.
int64_t typedFieldSize(const TP& t, int64_t* perElement) {
  *perElement = 1;
  switch (t.data_type()) {
    case TP::FLOAT:
      return t.float_data_size();
    case TP::COMPLEX64:
      *perElement = 2;
      return t.float_data_size();
    case TP::DOUBLE:
      return t.double_data_size();
    case TP::COMPLEX128:
      *perElement = 2;
      return t.double_data_size();
    case TP::INT32:
    case TP::INT16:
    case TP::INT8:
    case TP::UINT8:
    case TP::UINT16:
    case TP::BOOL:
    case TP::FLOAT16:
    case TP::BFLOAT16:
      return t.int32_data_size();
    case TP::INT64:
      return t.int64_data_size();
    case TP::UINT32:
    case TP::UINT64:
      return t.uint64_data_size();
    case TP::STRING:
      return t.string_data_size();
    default:
      return -1;
  }
}

std::string dimsText(const TP& t) {
  if (t.dims_size() == 0) return "a scalar";
  std::string s;
  for (int i = 0; i < t.dims_size(); ++i) s += (i ? " x " : "") + std::to_string(t.dims(i));
  return s;
}

}  // namespace

std::string dataTypeName(int32_t type) {
  if (onnx::TensorProto_DataType_IsValid(type))
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(type));
  return "type " + std::to_string(type);
}

bool hasExternalData(const TP& t) {
  return t.data_location() == TP::EXTERNAL || t.external_data_size() > 0;
}

void checkTensorProto(const TP& t, size_t fileSize, const std::string& where) {
  if (hasExternalData(t)) {
    std::string location;
    for (const auto& e : t.external_data())
      if (e.key() == "location") location = e.value();
    throw Error(where + " keeps its data in an external file" +
                (location.empty() ? std::string() : " ('" + location + "')") +
                "; zfvis reads only self-contained .onnx files (re-save the model with "
                "onnx.save(model, path, save_as_external_data=False))");
  }
  if (t.has_segment())
    throw Error(where + " is a segment of a larger tensor, which zfvis does not support");
  int64_t n = 1;
  for (int i = 0; i < t.dims_size(); ++i) {
    const int64_t d = t.dims(i);
    if (d < 0) throw Error(where + " has a negative dimension (" + dimsText(t) + ")");
    if (d != 0 && n > Tensor::kMaxElements / d)
      throw Error(where + " declares " + dimsText(t) +
                  " elements, more than zfvis accepts (2^32 elements)");
    n *= d;
  }
  if (n > Tensor::kMaxElements)
    throw Error(where + " declares " + dimsText(t) +
                " elements, more than zfvis accepts (2^32 elements)");
  const size_t elem = elementSize(t.data_type());
  if (elem != 0 && static_cast<uint64_t>(n) * elem > fileSize)
    throw Error(where + " declares " + dimsText(t) + " " + dataTypeName(t.data_type()) + " (" +
                std::to_string(static_cast<uint64_t>(n) * elem) +
                " bytes), more than the whole file holds (" + std::to_string(fileSize) + " bytes)");
  if (!t.raw_data().empty()) {
    if (elem == 0)
      throw Error(where + " stores " + dataTypeName(t.data_type()) +
                  " values in raw_data, which has no fixed element size");
    const uint64_t expected = static_cast<uint64_t>(n) * elem;
    if (t.raw_data().size() != expected)
      throw Error(where + " declares " + dimsText(t) + " " + dataTypeName(t.data_type()) + " (" +
                  std::to_string(expected) + " bytes) but holds " +
                  std::to_string(t.raw_data().size()) + " bytes of raw data");
    return;
  }
  int64_t perElement = 1;
  const int64_t have = typedFieldSize(t, &perElement);
  if (have < 0)
    throw Error(where + " has data type " + dataTypeName(t.data_type()) +
                ", which zfvis cannot read");
  if (have != n * perElement)
    throw Error(where + " declares " + dimsText(t) + " (" + std::to_string(n) + " " +
                dataTypeName(t.data_type()) + " values) but holds " + std::to_string(have) +
                " values");
}

std::vector<int64_t> tensorDims(const TP& t) {
  return std::vector<int64_t>(t.dims().begin(), t.dims().end());
}

Tensor decodeFloatTensor(const TP& t, const std::string& where) {
  Shape shape(tensorDims(t));
  if (t.data_type() == TP::FLOAT) {
    if (!t.raw_data().empty()) {
      Tensor out(shape);
      if (static_cast<uint64_t>(out.numel()) * sizeof(float) != t.raw_data().size())
        throw Error(where + ": raw data size does not match its dimensions");
      std::memcpy(out.data(), t.raw_data().data(), t.raw_data().size());
      return out;
    }
    Tensor out(shape);
    if (out.numel() != t.float_data_size())
      throw Error(where + ": float_data size does not match its dimensions");
    if (out.numel()) std::memcpy(out.data(), t.float_data().data(), out.numel() * sizeof(float));
    return out;
  }
  if (t.data_type() == TP::DOUBLE) {
    Tensor out(shape);
    if (!t.raw_data().empty()) {
      if (static_cast<uint64_t>(out.numel()) * sizeof(double) != t.raw_data().size())
        throw Error(where + ": raw data size does not match its dimensions");
      for (int64_t i = 0; i < out.numel(); ++i) {
        double v;
        std::memcpy(&v, t.raw_data().data() + i * sizeof(double), sizeof(double));
        out[i] = static_cast<float>(v);
      }
      return out;
    }
    if (out.numel() != t.double_data_size())
      throw Error(where + ": double_data size does not match its dimensions");
    for (int64_t i = 0; i < out.numel(); ++i) out[i] = static_cast<float>(t.double_data(i));
    return out;
  }
  throw Error(where + " has data type " + dataTypeName(t.data_type()) +
              " (zfvis needs FLOAT or DOUBLE here)");
}

std::vector<int64_t> decodeIntTensor(const TP& t, const std::string& where) {
  int64_t n = 1;
  for (int64_t d : t.dims()) n *= d;  // bounded by checkTensorProto
  std::vector<int64_t> out;
  const std::string& raw = t.raw_data();
  switch (t.data_type()) {
    case TP::INT64:
      if (!raw.empty()) {
        if (raw.size() != static_cast<uint64_t>(n) * 8)
          throw Error(where + ": raw data size does not match its dimensions");
        out.resize(static_cast<size_t>(n));
        if (n) std::memcpy(out.data(), raw.data(), raw.size());
        return out;
      }
      if (t.int64_data_size() != n)
        throw Error(where + ": int64_data size does not match its dimensions");
      return std::vector<int64_t>(t.int64_data().begin(), t.int64_data().end());
    case TP::INT32:
    case TP::BOOL: {
      const size_t elem = t.data_type() == TP::BOOL ? 1 : 4;
      if (!raw.empty()) {
        if (raw.size() != static_cast<uint64_t>(n) * elem)
          throw Error(where + ": raw data size does not match its dimensions");
        out.resize(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
          if (elem == 1) {
            out[i] = static_cast<unsigned char>(raw[i]) != 0;
          } else {
            int32_t v;
            std::memcpy(&v, raw.data() + i * 4, 4);
            out[i] = v;
          }
        }
        return out;
      }
      if (t.int32_data_size() != n)
        throw Error(where + ": int32_data size does not match its dimensions");
      return std::vector<int64_t>(t.int32_data().begin(), t.int32_data().end());
    }
    default:
      throw Error(where + " has data type " + dataTypeName(t.data_type()) +
                  " (zfvis needs INT64 here)");
  }
}

}  // namespace zfvis::onnx_import
