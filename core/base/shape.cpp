#include "core/base/shape.h"

namespace zfvis {

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : m_dims) n *= d;
  return n;
}

std::string Shape::str() const {
  if (m_dims.empty()) return "scalar";
  std::string s;
  for (size_t i = 0; i < m_dims.size(); ++i) {
    if (i) s += " x ";
    s += std::to_string(m_dims[i]);
  }
  return s;
}

Shape Shape::withBatch(int64_t n) const {
  std::vector<int64_t> d;
  d.reserve(m_dims.size() + 1);
  d.push_back(n);
  d.insert(d.end(), m_dims.begin(), m_dims.end());
  return Shape(std::move(d));
}

Shape Shape::dropFirst() const {
  if (m_dims.empty()) return {};
  return Shape(std::vector<int64_t>(m_dims.begin() + 1, m_dims.end()));
}

}  // namespace zfvis
