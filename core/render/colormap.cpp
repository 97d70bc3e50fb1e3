#include "core/render/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "core/base/error.h"

namespace zfvis {

namespace {

// matplotlib's viridis sampled at 9 evenly spaced points (#440154 ... #fde725), as RGB.
constexpr std::array<std::array<uint8_t, 3>, 9> kViridis = {{
    {0x44, 0x01, 0x54},
    {0x47, 0x2d, 0x7b},
    {0x3b, 0x52, 0x8b},
    {0x2c, 0x72, 0x8e},
    {0x21, 0x91, 0x8c},
    {0x28, 0xae, 0x80},
    {0x5e, 0xc9, 0x62},
    {0xad, 0xdc, 0x30},
    {0xfd, 0xe7, 0x25},
}};

}  // namespace

cv::Vec3b colormapBgr(Colormap map, float t) {
  if (!(t >= 0.0f)) t = 0.0f;  // also catches NaN
  t = std::min(t, 1.0f);
  if (map == Colormap::Gray) {
    auto v = static_cast<uint8_t>(std::lround(t * 255.0f));
    return {v, v, v};
  }
  float x = t * (kViridis.size() - 1);
  size_t i = std::min(static_cast<size_t>(x), kViridis.size() - 2);
  float f = x - static_cast<float>(i);
  cv::Vec3b out;
  for (int c = 0; c < 3; ++c) {
    float v = kViridis[i][c] * (1.0f - f) + kViridis[i + 1][c] * f;
    out[2 - c] = static_cast<uint8_t>(std::lround(v));  // RGB -> BGR
  }
  return out;
}

std::string_view colormapName(Colormap map) {
  return map == Colormap::Gray ? "gray" : "viridis";
}

Colormap parseColormap(std::string_view name) {
  if (name == "gray" || name == "grey") return Colormap::Gray;
  if (name == "viridis") return Colormap::Viridis;
  throw UsageError("unknown colormap '" + std::string(name) + "' (expected viridis or gray)");
}

}  // namespace zfvis
