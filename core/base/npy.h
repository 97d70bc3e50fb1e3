// Minimal NumPy .npy reader and writer (format 1.0/2.0/3.0, little-endian, C order).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/base/tensor.h"

namespace zfvis {

/// Reads a little-endian float32 C-order .npy file (float64 is converted); throws Error naming
/// the file and what was found (dtype, order, truncated data).
Tensor readNpy(const std::filesystem::path& path);
/// Parses .npy bytes; `what` names the source in errors.
Tensor parseNpy(const std::string& bytes, const std::string& what);

/// Writes a tensor as little-endian float32 C-order .npy, atomically.
void writeNpy(const std::filesystem::path& path, const Tensor& t);
/// Writes int32 values with the given shape as .npy, atomically.
void writeNpyInt32(const std::filesystem::path& path, const Shape& shape,
                   const std::vector<int32_t>& values);
/// Serialises a float32 tensor to .npy bytes.
std::string npyBytes(const Tensor& t);

/// An int32 array read from .npy (used by tests for label maps).
struct NpyInt32 {
  Shape shape;                  // dimensions
  std::vector<int32_t> values;  // C order
};
/// Reads a little-endian int32 .npy file; throws Error otherwise.
NpyInt32 readNpyInt32(const std::filesystem::path& path);

}  // namespace zfvis
