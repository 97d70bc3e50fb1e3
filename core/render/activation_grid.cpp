#include "core/render/activation_grid.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "core/base/error.h"

namespace zfvis {

namespace {

struct MapsView {
  int64_t count = 0, height = 1, width = 1;
  bool vector = false;
};

MapsView viewOf(const Shape& s) {
  const auto& d = s.dims();
  if (d.size() == 4 && d[0] == 1) return {d[1], d[2], d[3], false};
  if (d.size() == 3) return {d[0], d[1], d[2], false};
  if (d.size() == 2 && d[0] == 1) return {d[1], 1, 1, true};
  if (d.size() == 1) return {d[0], 1, 1, true};
  throw Error("activation grid: expected C x H x W, 1 x C x H x W or a vector, got " + s.str());
}

}  // namespace

cv::Rect GridLayout::cellRect(int i) const {
  int r = i / columns, c = i % columns;
  return {separator + c * (cellWidth + separator), separator + r * (cellHeight + separator),
          cellWidth, cellHeight};
}

int GridLayout::cellAt(cv::Point p) const {
  if (columns == 0) return -1;
  int c = (p.x - separator) / (cellWidth + separator);
  int r = (p.y - separator) / (cellHeight + separator);
  if (p.x < separator || p.y < separator || c >= columns || r >= rows) return -1;
  int i = r * columns + c;
  if (i >= count || !cellRect(i).contains(p)) return -1;
  return i;
}

cv::Point GridLayout::positionAt(cv::Point p) const {
  const int i = cellAt(p);
  if (i < 0 || mapWidth <= 0 || mapHeight <= 0) return {-1, -1};
  const cv::Rect r = cellRect(i);
  return {std::clamp((p.x - r.x) * mapWidth / std::max(1, r.width), 0, mapWidth - 1),
          std::clamp((p.y - r.y) * mapHeight / std::max(1, r.height), 0, mapHeight - 1)};
}

cv::Size GridLayout::size() const {
  return {separator + columns * (cellWidth + separator),
          separator + rows * (cellHeight + separator)};
}

GridLayout activationGridLayout(const Shape& maps, const ActivationGridOptions& o) {
  MapsView v = viewOf(maps);
  GridLayout g;
  g.count = static_cast<int>(v.count);
  g.separator = std::max(0, o.separator);
  if (v.vector) {
    // A heat strip: up to 64 cells per row, each 8 x 16 pixels.
    g.columns = static_cast<int>(std::min<int64_t>(v.count, 64));
    g.rows = static_cast<int>((v.count + g.columns - 1) / g.columns);
    int s = o.scale > 0 ? o.scale : 1;
    g.cellWidth = 8 * s;
    g.cellHeight = 16 * s;
    g.mapWidth = g.mapHeight = 1;
    return g;
  }
  g.columns = o.columns > 0 ? o.columns
                            : static_cast<int>(std::ceil(std::sqrt(static_cast<double>(v.count))));
  g.columns = std::max(1, std::min<int>(g.columns, static_cast<int>(v.count)));
  g.rows = static_cast<int>((v.count + g.columns - 1) / g.columns);
  int scale = o.scale;
  if (scale <= 0)
    scale = static_cast<int>(std::clamp<int64_t>(48 / std::max(v.height, v.width), 1, 16));
  g.cellWidth = static_cast<int>(v.width) * scale;
  g.cellHeight = static_cast<int>(v.height) * scale;
  g.mapWidth = static_cast<int>(v.width);
  g.mapHeight = static_cast<int>(v.height);
  return g;
}

cv::Mat renderActivationGrid(const Tensor& maps, const ActivationGridOptions& o) {
  MapsView v = viewOf(maps.shape());
  GridLayout g = activationGridLayout(maps.shape(), o);
  cv::Mat img(g.size(), CV_8UC3, cv::Scalar(40, 40, 40));
  const int64_t plane = v.height * v.width;
  float layerLo = std::numeric_limits<float>::infinity(), layerHi = -layerLo;
  for (int64_t i = 0; i < maps.numel(); ++i) {
    layerLo = std::min(layerLo, maps[i]);
    layerHi = std::max(layerHi, maps[i]);
  }
  for (int64_t c = 0; c < v.count; ++c) {
    const float* m = maps.data() + c * plane;
    float lo = layerLo, hi = layerHi;
    int64_t argmax = 0;
    if (!v.vector && o.normalization == MapNormalization::PerMap) {
      lo = std::numeric_limits<float>::infinity();
      hi = -lo;
      for (int64_t k = 0; k < plane; ++k) {
        lo = std::min(lo, m[k]);
        hi = std::max(hi, m[k]);
      }
    }
    for (int64_t k = 1; k < plane; ++k)
      if (m[k] > m[argmax]) argmax = k;
    const float range = hi - lo;
    cv::Rect cell = g.cellRect(static_cast<int>(c));
    const int sx = cell.width / static_cast<int>(v.width),
              sy = cell.height / static_cast<int>(v.height);
    for (int y = 0; y < cell.height; ++y) {
      auto* row = img.ptr<cv::Vec3b>(cell.y + y);
      for (int x = 0; x < cell.width; ++x) {
        float value = m[(y / sy) * v.width + x / sx];
        float t = range > 0 ? (value - lo) / range : 0.0f;
        row[cell.x + x] = colormapBgr(o.colormap, t);
      }
    }
    if (o.markMax && !v.vector) {
      int ay = static_cast<int>(argmax / v.width), ax = static_cast<int>(argmax % v.width);
      cv::Rect r(cell.x + ax * sx, cell.y + ay * sy, sx, sy);
      r -= cv::Point(1, 1);
      r += cv::Size(2, 2);
      cv::rectangle(img, r & cv::Rect(cell.x, cell.y, cell.width, cell.height),
                    cv::Scalar(0, 0, 255), 1);
    }
  }
  return img;
}

}  // namespace zfvis
