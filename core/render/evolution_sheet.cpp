#include "core/render/evolution_sheet.h"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "core/base/error.h"
#include "core/render/filter_grid.h"
#include "core/render/projection_picture.h"

namespace zfvis {
namespace {

constexpr int kSep = 6;        // pixels between cells
constexpr int kHeader = 22;    // heading band
constexpr int kRowLabel = 64;  // unit label band on the left
const cv::Scalar kBackground(20, 20, 20);
const cv::Scalar kText(230, 230, 230);

// The side of the receptive-field crop a projection is shown at.
int cropSide(const UnitMaximum& m) {
  if (m.image < 0) return 1;
  const Shape& s = m.projection.image.shape();
  cv::Rect box(0, 0, int(s[s.rank() - 1]), int(s[s.rank() - 2]));
  if (m.projection.field.area() > 0) box &= m.projection.field;
  return std::max(box.width, box.height);
}

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale = 0.42) {
  cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, kText, 1, cv::LINE_AA);
}

}  // namespace

cv::Mat renderEvolutionCell(const UnitMaximum& m, Preprocess preprocess, int scale,
                            bool withPatch) {
  if (scale <= 0) scale = std::max(1, (96 + cropSide(m) - 1) / cropSide(m));
  if (m.image < 0) {
    const int side = cropSide(m) * scale;
    return cv::Mat(std::max(side, 16), std::max(side, 16), CV_8UC3, cv::Scalar(128, 128, 128));
  }
  ProjectionViewOptions o;
  o.crop = true;
  o.withPatch = withPatch && !m.input.empty();
  o.scale = scale;
  o.minCellSize = 1;
  o.captions = false;
  return renderProjectionView(m.projection, m.input, preprocess, {}, o);
}

cv::Mat renderEvolutionFilters(const EvolutionColumn& column, Preprocess preprocess) {
  if (column.filters.empty()) return {};
  FilterGridOptions o;
  o.normalization = FilterNormalization::PerFilter;
  o.channelOrder = channelOrderOf(preprocess);
  cv::Mat grid = renderFilterGrid(column.filters, o);
  if (grid.channels() == 1) cv::cvtColor(grid, grid, cv::COLOR_GRAY2BGR);
  return grid;
}

std::string evolutionColumnHeading(const EvolutionColumn& column) {
  std::string s = column.checkpoint.label();
  if (column.checkpoint.testAccuracy) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ", %.1f%%", 100.0 * *column.checkpoint.testAccuracy);
    s += buf;
  }
  return s;
}

cv::Mat renderEvolutionSheet(const Evolution& e, const EvolutionSheetOptions& options) {
  if (e.columns.empty()) throw Error("renderEvolutionSheet: no checkpoints");
  // One integer scale for every projection cell, from the largest crop, so sizes compare.
  int side = 1;
  for (const EvolutionColumn& c : e.columns)
    for (const UnitMaximum& m : c.units) side = std::max(side, cropSide(m));
  const int scale = std::max(1, (options.minCellSize + side - 1) / side);

  std::vector<std::vector<cv::Mat>> cells(e.columns.size());
  std::vector<cv::Mat> filters(e.columns.size());
  int cellW = 0, cellH = 0, filtersW = 0, filtersH = 0;
  for (size_t k = 0; k < e.columns.size(); ++k) {
    for (const UnitMaximum& m : e.columns[k].units) {
      cells[k].push_back(renderEvolutionCell(m, e.preprocess, scale, options.withPatch));
      cellW = std::max(cellW, cells[k].back().cols);
      cellH = std::max(cellH, cells[k].back().rows);
    }
    if (options.filters) {
      filters[k] = renderEvolutionFilters(e.columns[k], e.preprocess);
      filtersW = std::max(filtersW, filters[k].cols);
      filtersH = std::max(filtersH, filters[k].rows);
    }
  }
  const int colW = std::max({cellW, filtersW, 110});
  const int rows = int(e.units.size());
  const int filterBand = filtersH > 0 ? kHeader + filtersH + kSep : 0;
  const int width = kRowLabel + int(e.columns.size()) * (colW + kSep) + kSep;
  const int height = kHeader + kHeader + rows * (cellH + kSep) + filterBand + kSep;
  cv::Mat out(height, width, CV_8UC3, kBackground);
  text(out,
       e.layerName + ": strongest activation per unit, projected (" +
           projectionModeName(e.columns[0].units.empty() ? ProjectionMode::Deconvnet
                                                         : e.columns[0].units[0].projection.mode) +
           "), over " + std::to_string(e.images.size()) + " images",
       cv::Point(kSep, 15), 0.45);
  for (size_t k = 0; k < e.columns.size(); ++k) {
    const int x0 = kRowLabel + int(k) * (colW + kSep);
    text(out, evolutionColumnHeading(e.columns[k]), cv::Point(x0, kHeader + 15));
    for (int r = 0; r < rows && r < int(cells[k].size()); ++r) {
      const cv::Mat& c = cells[k][size_t(r)];
      const int y0 = 2 * kHeader + r * (cellH + kSep);
      c.copyTo(out(cv::Rect(x0 + (colW - c.cols) / 2, y0, c.cols, c.rows)));
    }
    if (!filters[k].empty()) {
      const int y0 = 2 * kHeader + rows * (cellH + kSep) + kHeader;
      filters[k].copyTo(
          out(cv::Rect(x0 + (colW - filters[k].cols) / 2, y0, filters[k].cols, filters[k].rows)));
    }
  }
  for (int r = 0; r < rows; ++r)
    text(out, "#" + std::to_string(e.units[size_t(r)]),
         cv::Point(kSep, 2 * kHeader + r * (cellH + kSep) + cellH / 2 + 5));
  if (filterBand > 0 && !e.columns[0].filtersLayer.empty())
    text(out, e.columns[0].filtersLayer + " filters",
         cv::Point(kSep, 2 * kHeader + rows * (cellH + kSep) + 15));
  return out;
}

int UnitGridLayout::unitAt(cv::Point p) const {
  for (size_t i = 0; i < cells.size(); ++i) {
    // The label band above the cell counts too.
    const cv::Rect r(cells[i].x, cells[i].y - kHeader, cells[i].width, cells[i].height + kHeader);
    if (r.contains(p)) return int(i);
  }
  return -1;
}

cv::Mat renderEvolutionUnitGrid(const EvolutionColumn& column, Preprocess preprocess,
                                const EvolutionSheetOptions& options, int columns,
                                UnitGridLayout* layout) {
  const int n = int(column.units.size());
  if (n == 0) throw Error("renderEvolutionUnitGrid: no units");
  int side = 1;
  for (const UnitMaximum& m : column.units) side = std::max(side, cropSide(m));
  const int scale = std::max(1, (options.minCellSize + side - 1) / side);
  std::vector<cv::Mat> cells;
  int cellW = 0, cellH = 0;
  for (const UnitMaximum& m : column.units) {
    cells.push_back(renderEvolutionCell(m, preprocess, scale, options.withPatch));
    cellW = std::max(cellW, cells.back().cols);
    cellH = std::max(cellH, cells.back().rows);
  }
  if (columns <= 0) {
    columns = 1;
    while (columns * columns < n) ++columns;
  }
  columns = std::min(columns, n);
  const int rows = (n + columns - 1) / columns;
  const int pitchX = cellW + kSep, pitchY = kHeader + cellH + kSep;
  cv::Mat out(kSep + rows * pitchY, kSep + columns * pitchX, CV_8UC3, kBackground);
  UnitGridLayout l;
  l.scale = scale;
  for (int i = 0; i < n; ++i) {
    const int x0 = kSep + (i % columns) * pitchX, y0 = kSep + (i / columns) * pitchY;
    text(out, "#" + std::to_string(column.units[size_t(i)].unit), cv::Point(x0, y0 + 15));
    const cv::Rect r(x0, y0 + kHeader, cells[size_t(i)].cols, cells[size_t(i)].rows);
    cells[size_t(i)].copyTo(out(r));
    l.cells.push_back(r);
  }
  if (layout) *layout = std::move(l);
  return out;
}

}  // namespace zfvis
