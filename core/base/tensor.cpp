#include "core/base/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/base/error.h"

namespace zfvis {

namespace {

int64_t checkedNumel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape.dims()) {
    if (d < 0) throw Error("tensor shape " + shape.str() + " has a negative dimension");
    if (d != 0 && n > Tensor::kMaxElements / d)
      throw Error("tensor shape " + shape.str() + " is too large (more than 2^32 elements)");
    n *= d;
  }
  return n;
}

float* allocateFloats(int64_t n) {
  if (n == 0) return nullptr;
  size_t bytes = static_cast<size_t>(n) * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
  return static_cast<float*>(p);
}

}  // namespace

void Tensor::AlignedFree::operator()(float* p) const {
  std::free(p);
}

Tensor::Tensor(Shape shape) : Tensor(std::move(shape), 0.0f) {}

Tensor::Tensor(Shape shape, float value) : m_shape(std::move(shape)) {
  m_numel = checkedNumel(m_shape);
  m_data.reset(allocateFloats(m_numel));
  std::fill_n(m_data.get(), m_numel, value);
}

Tensor Tensor::uninitialized(Shape shape) {
  Tensor t;
  t.m_shape = std::move(shape);
  t.m_numel = checkedNumel(t.m_shape);
  t.m_data.reset(allocateFloats(t.m_numel));
  return t;
}

Tensor Tensor::fromData(Shape shape, const float* data) {
  Tensor t;
  t.m_shape = std::move(shape);
  t.m_numel = checkedNumel(t.m_shape);
  t.m_data.reset(allocateFloats(t.m_numel));
  if (t.m_numel) std::memcpy(t.m_data.get(), data, static_cast<size_t>(t.m_numel) * sizeof(float));
  return t;
}

Tensor::Tensor(const Tensor& other) : m_shape(other.m_shape), m_numel(other.m_numel) {
  m_data.reset(allocateFloats(m_numel));
  if (m_numel) std::memcpy(m_data.get(), other.m_data.get(), m_numel * sizeof(float));
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

float& Tensor::at(int64_t n, int64_t c, int64_t h, int64_t w) {
  const auto& d = m_shape.dims();
  return m_data[((n * d[1] + c) * d[2] + h) * d[3] + w];
}

float Tensor::at(int64_t n, int64_t c, int64_t h, int64_t w) const {
  const auto& d = m_shape.dims();
  return m_data[((n * d[1] + c) * d[2] + h) * d[3] + w];
}

Tensor Tensor::reshaped(Shape shape) const {
  Tensor t(*this);
  t.reshape(std::move(shape));
  return t;
}

void Tensor::reshape(Shape shape) {
  if (checkedNumel(shape) != m_numel)
    throw Error("cannot reshape a tensor of shape " + m_shape.str() + " to " + shape.str());
  m_shape = std::move(shape);
}

Tensor Tensor::slice(int64_t first, int64_t count) const {
  if (m_shape.rank() == 0 || first < 0 || count < 0 || first + count > m_shape[0])
    throw Error("slice [" + std::to_string(first) + ", " + std::to_string(first + count) +
                ") is outside a tensor of shape " + m_shape.str());
  Shape s = m_shape;
  s[0] = count;
  int64_t inner = m_shape[0] ? m_numel / m_shape[0] : 0;
  return fromData(s, m_data.get() + first * inner);
}

Tensor Tensor::stack(const std::vector<Tensor>& parts) {
  if (parts.empty()) return {};
  Shape s = parts[0].shape();
  int64_t total = 0;
  for (const Tensor& p : parts) {
    if (p.shape().rank() != s.rank() || p.shape().dropFirst() != s.dropFirst())
      throw Error("cannot stack tensors of shapes " + s.str() + " and " + p.shape().str());
    total += p.shape()[0];
  }
  s[0] = total;
  Tensor out(s);
  float* dst = out.data();
  for (const Tensor& p : parts) {
    if (p.numel()) std::memcpy(dst, p.data(), p.numel() * sizeof(float));
    dst += p.numel();
  }
  return out;
}

float Tensor::maxAbs() const {
  float m = 0.0f;
  for (int64_t i = 0; i < m_numel; ++i) m = std::max(m, std::fabs(m_data[i]));
  return m;
}

}  // namespace zfvis
