// Colormaps for feature maps and heat maps.
#pragma once

#include <string_view>

#include <opencv2/core.hpp>

namespace zfvis {

enum class Colormap {
  Gray,     // black -> white
  Viridis,  // perceptually uniform dark blue -> yellow (matplotlib's viridis)
};

/// The BGR colour for t in [0, 1] (clamped).
cv::Vec3b colormapBgr(Colormap map, float t);
/// "gray", "viridis".
std::string_view colormapName(Colormap map);
/// Parses a colormap name; throws UsageError listing the valid ones.
Colormap parseColormap(std::string_view name);

}  // namespace zfvis
