// Shape: the dimensions of a tensor, outermost first (N x C x H x W for image batches).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace zfvis {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : m_dims(dims) {}
  explicit Shape(std::vector<int64_t> dims) : m_dims(std::move(dims)) {}

  /// Number of dimensions.
  size_t rank() const { return m_dims.size(); }
  /// Dimension i (no bounds check beyond the vector's).
  int64_t operator[](size_t i) const { return m_dims[i]; }
  int64_t& operator[](size_t i) { return m_dims[i]; }
  /// All dimensions.
  const std::vector<int64_t>& dims() const { return m_dims; }
  /// Product of all dimensions (1 for rank 0).
  int64_t numel() const;
  /// "96 x 55 x 55".
  std::string str() const;
  /// A shape with `n` prepended (per-sample shape -> batch shape).
  Shape withBatch(int64_t n) const;
  /// The shape without its first dimension (batch shape -> per-sample shape).
  Shape dropFirst() const;

  bool operator==(const Shape&) const = default;

 private:
  std::vector<int64_t> m_dims;
};

/// Prints "96 x 55 x 55" (also used by GoogleTest failure messages).
inline std::ostream& operator<<(std::ostream& os, const Shape& s) {
  return os << s.str();
}

}  // namespace zfvis
