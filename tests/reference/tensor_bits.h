// Bit-for-bit equality of two tensors' values, for results that must be identical (a resumed run
// against an uninterrupted one, weights written and read back), not merely close.
#pragma once

#include <cstring>

#include "core/base/tensor.h"

namespace zfvis::ref {

/// True when `a` and `b` hold the same number of values with the same bits (shapes are the
/// caller's to compare). Empty tensors are equal; their null data is never handed to memcmp.
inline bool sameBits(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() &&
         (a.numel() == 0 ||
          std::memcmp(a.data(), b.data(), size_t(a.numel()) * sizeof(float)) == 0);
}

}  // namespace zfvis::ref
