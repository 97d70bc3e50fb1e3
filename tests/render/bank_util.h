// Constructed filter banks for the render / compare tests.
#pragma once

#include <cmath>
#include <functional>

#include "core/base/tensor.h"

namespace zfvis::test {

/// An O x I x kH x kW bank with w[o][i][y][x] = fn(o, i, y, x).
inline Tensor makeBank(int o, int i, int kh, int kw,
                       const std::function<float(int, int, int, int)>& fn) {
  Tensor t(Shape{o, i, kh, kw});
  for (int a = 0; a < o; ++a)
    for (int b = 0; b < i; ++b)
      for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x) t.at(a, b, y, x) = fn(a, b, y, x);
  return t;
}

/// A centred Gaussian blob of standard deviation `sigma` on a k x k grid.
inline float gaussian(int y, int x, int k, double sigma) {
  double c = (k - 1) / 2.0, dy = y - c, dx = x - c;
  return static_cast<float>(std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)));
}

/// +1 / -1 checkerboard.
inline float checker(int y, int x) {
  return (x + y) % 2 == 0 ? 1.0f : -1.0f;
}

}  // namespace zfvis::test
