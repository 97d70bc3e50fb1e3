#include "core/render/atlas_sheet.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/base/error.h"
#include "core/render/projection_picture.h"

namespace zfvis {
namespace {

constexpr int kSep = 12;     // pixels between units
constexpr int kGap = 2;      // pixels between cells of a grid
constexpr int kHeader = 24;  // title band
constexpr int kLabel = 18;   // unit label band above each unit
const cv::Scalar kBackground(20, 20, 20);
const cv::Scalar kEmpty(60, 60, 60);
const cv::Scalar kText(230, 230, 230);

// The crop of a cell: its receptive field clipped to the image.
cv::Rect cropBox(const AtlasCell& c) {
  // Patches alone (computeAtlasPatches) have no projection: the input gives the size.
  const Shape& s = c.projection.image.shape();
  const cv::Rect image = s.rank() >= 2 ? cv::Rect(0, 0, int(s[s.rank() - 1]), int(s[s.rank() - 2]))
                                       : cv::Rect(0, 0, c.input.cols, c.input.rows);
  return c.projection.field.area() > 0 ? (c.projection.field & image) : image;
}

int gridSide(const Atlas& a) {
  size_t most = 1;
  for (const AtlasUnit& u : a.units) most = std::max(most, u.cells.size());
  return int(std::ceil(std::sqrt(double(most))));
}

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale = 0.42) {
  cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, kText, 1, cv::LINE_AA);
}

}  // namespace

AtlasLayout atlasLayout(const Atlas& a, const AtlasSheetOptions& o) {
  AtlasLayout l;
  int side = 1;
  for (const AtlasUnit& u : a.units)
    for (const AtlasCell& c : u.cells) {
      const cv::Rect b = cropBox(c);
      side = std::max({side, b.width, b.height});
    }
  l.scale = std::max(1, (o.minCellSize + side - 1) / side);
  l.cell = side * l.scale;
  if (o.maxCellSize > 0) l.cell = std::min(l.cell, std::max(1, o.maxCellSize));
  const int g = gridSide(a);
  const int gridW = g * l.cell + (g - 1) * kGap;
  const bool both = o.patches && o.projections;
  const int blockW = both ? 2 * gridW + kSep / 2 : gridW;
  const int blockH = kLabel + gridW;
  const int perRow = std::max(1, std::min(o.unitsPerRow, int(a.units.size())));
  const int rows = (int(a.units.size()) + perRow - 1) / perRow;
  l.size = cv::Size(std::max(kSep + perRow * (blockW + kSep), 360),
                    kHeader + rows * (blockH + kSep) + kSep);
  for (size_t i = 0; i < a.units.size(); ++i) {
    const int bx = kSep + int(i) % perRow * (blockW + kSep);
    const int by = kHeader + int(i) / perRow * (blockH + kSep) + kLabel;
    std::vector<std::pair<cv::Rect, cv::Rect>> cells;
    for (size_t r = 0; r < a.units[i].cells.size(); ++r) {
      const int cx = int(r) % g * (l.cell + kGap), cy = int(r) / g * (l.cell + kGap);
      const cv::Rect proj = o.projections ? cv::Rect(bx + cx, by + cy, l.cell, l.cell) : cv::Rect();
      const int px = both ? bx + gridW + kSep / 2 : bx;
      const cv::Rect patch = o.patches ? cv::Rect(px + cx, by + cy, l.cell, l.cell) : cv::Rect();
      cells.push_back({proj, patch});
    }
    l.cells.push_back(std::move(cells));
    l.units.push_back(cv::Rect(bx, by - kLabel, blockW, blockH));
  }
  return l;
}

AtlasHit AtlasLayout::hitTest(cv::Point p) const {
  AtlasHit hit;
  for (size_t i = 0; i < units.size(); ++i) {
    if (!units[i].contains(p)) continue;
    hit.unit = int(i);
    for (size_t r = 0; r < cells[i].size(); ++r) {
      if (cells[i][r].first.contains(p)) hit.rank = int(r);
      if (cells[i][r].second.contains(p)) hit.rank = int(r), hit.patch = true;
    }
    break;
  }
  return hit;
}

cv::Mat renderAtlasCell(const AtlasCell& cell, Preprocess preprocess, int scale, bool patch) {
  const cv::Rect box = cropBox(cell);
  cv::Mat src;
  if (patch) {
    if (cell.input.empty()) throw Error("renderAtlasCell: the cell has no input image");
    src = cell.input(box);
  } else {
    src = renderProjection(cell.projection.image, preprocess)(box);
  }
  cv::Mat out;
  cv::resize(src, out, cv::Size(), scale, scale, cv::INTER_NEAREST);
  return out;
}

cv::Mat renderAtlasSheet(const Atlas& a, const AtlasSheetOptions& o) {
  const AtlasLayout l = atlasLayout(a, o);
  cv::Mat out(l.size, CV_8UC3, kBackground);
  const std::string top = std::to_string(a.units.empty() ? 0 : gridSide(a) * gridSide(a));
  text(out,
       o.projections ? a.layerName + ": top " + top + " activations per unit, projected (" +
                           projectionModeName(a.mode) + ")" + (o.patches ? " | image patches" : "")
                     : a.layerName + ": top " + top + " image patches per unit",
       cv::Point(kSep, 16), 0.45);
  for (size_t i = 0; i < a.units.size(); ++i) {
    const auto& cells = l.cells[i];
    const cv::Point labelAt = l.units[i].tl() + cv::Point(0, kLabel - 5);
    text(out, "#" + std::to_string(a.units[i].unit), labelAt);
    for (size_t r = 0; r < cells.size(); ++r) {
      const AtlasCell& c = a.units[i].cells[r];
      for (int p = o.projections ? 0 : 1; p < (o.patches ? 2 : 1); ++p) {
        const cv::Rect dst = p ? cells[r].second : cells[r].first;
        out(dst).setTo(kEmpty);
        cv::Mat m = renderAtlasCell(c, a.preprocess, l.scale, p == 1);
        if (m.channels() == 1) cv::cvtColor(m, m, cv::COLOR_GRAY2BGR);
        if (m.cols > dst.width || m.rows > dst.height) {
          const double f = std::min(double(dst.width) / m.cols, double(dst.height) / m.rows);
          cv::resize(m, m, cv::Size(std::max(1, int(m.cols * f)), std::max(1, int(m.rows * f))), 0,
                     0, cv::INTER_AREA);
        }
        m.copyTo(out(cv::Rect(dst.x + (dst.width - m.cols) / 2, dst.y + (dst.height - m.rows) / 2,
                              m.cols, m.rows)));
      }
    }
  }
  return out;
}

}  // namespace zfvis
