// Tensor: a float32 value type with 64-byte aligned, contiguous row-major (NCHW) storage.
#pragma once

#include <cstdint>
#include <memory>

#include "core/base/shape.h"

namespace zfvis {

class Tensor {
 public:
  /// The largest tensor core will allocate (elements); larger requests throw Error.
  static constexpr int64_t kMaxElements = int64_t(1) << 32;

  Tensor() = default;
  /// A zero-filled tensor; throws Error on negative dims or more than kMaxElements.
  explicit Tensor(Shape shape);
  /// A tensor filled with `value`.
  Tensor(Shape shape, float value);
  /// A tensor whose values are not initialised (for buffers that are written whole right away).
  static Tensor uninitialized(Shape shape);
  /// A tensor holding a copy of `numel(shape)` floats from `data`.
  static Tensor fromData(Shape shape, const float* data);

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  /// The dimensions.
  const Shape& shape() const { return m_shape; }
  /// Number of elements.
  int64_t numel() const { return m_numel; }
  /// True for a default-constructed tensor.
  bool empty() const { return m_numel == 0; }
  /// Pointer to the first element (64-byte aligned).
  float* data() { return m_data.get(); }
  const float* data() const { return m_data.get(); }
  /// Flat element access.
  float& operator[](int64_t i) { return m_data[i]; }
  float operator[](int64_t i) const { return m_data[i]; }
  /// 4-D element access (N, C, H, W).
  float& at(int64_t n, int64_t c, int64_t h, int64_t w);
  float at(int64_t n, int64_t c, int64_t h, int64_t w) const;

  /// A copy with another shape of the same element count; throws Error otherwise.
  Tensor reshaped(Shape shape) const;
  /// Reinterprets the shape in place (same element count); throws Error otherwise.
  void reshape(Shape shape);
  /// Samples [first, first + count) along dimension 0, as a new tensor.
  Tensor slice(int64_t first, int64_t count = 1) const;
  /// Concatenates tensors along dimension 0 (all other dimensions must agree).
  static Tensor stack(const std::vector<Tensor>& parts);

  /// Largest absolute value (0 for an empty tensor).
  float maxAbs() const;

 private:
  struct AlignedFree {
    void operator()(float* p) const;
  };
  Shape m_shape;
  int64_t m_numel = 0;
  std::unique_ptr<float[], AlignedFree> m_data;
};

}  // namespace zfvis
