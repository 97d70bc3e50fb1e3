// Activation grids and colormaps: every pixel against values computed here from the maps
// (min-max per map or per layer, nearest-neighbour upscaling), matplotlib's viridis endpoints,
// the maximum's outline, the dense-layer heat strip and hit-testing of the layout.
#include <gtest/gtest.h>

#include <cmath>

#include "core/base/error.h"
#include "core/base/tensor.h"
#include "core/render/activation_grid.h"
#include "core/render/colormap.h"

namespace zfvis {
namespace {

// Maps with distinct ranges: map c holds c * 10 + (y * W + x), so per-map normalisation gives
// every map the same picture and per-layer normalisation makes later maps brighter.
Tensor rampMaps(int64_t C, int64_t H, int64_t W) {
  Tensor t(Shape{C, H, W});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t k = 0; k < H * W; ++k) t[c * H * W + k] = float(c * 10 + k);
  return t;
}

uint8_t grayOf(double t) {
  return uint8_t(std::lround(std::clamp(t, 0.0, 1.0) * 255.0));
}

TEST(Colormap, GrayIsLinearAndViridisHasMatplotlibsEndpoints) {
  EXPECT_EQ(colormapBgr(Colormap::Gray, 0.0f), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(colormapBgr(Colormap::Gray, 1.0f), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(colormapBgr(Colormap::Gray, 0.5f), cv::Vec3b(128, 128, 128));
  // viridis(0) = #440154, viridis(1) = #fde725 (RGB); BGR here.
  EXPECT_EQ(colormapBgr(Colormap::Viridis, 0.0f), cv::Vec3b(0x54, 0x01, 0x44));
  EXPECT_EQ(colormapBgr(Colormap::Viridis, 1.0f), cv::Vec3b(0x25, 0xe7, 0xfd));
  // viridis(0.5) = #21918c.
  EXPECT_EQ(colormapBgr(Colormap::Viridis, 0.5f), cv::Vec3b(0x8c, 0x91, 0x21));
  // Out of range and NaN clamp to the ends.
  EXPECT_EQ(colormapBgr(Colormap::Gray, -3.0f), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(colormapBgr(Colormap::Gray, 7.0f), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(colormapBgr(Colormap::Gray, std::nanf("")), cv::Vec3b(0, 0, 0));
  // Brightness (luma) rises monotonically along viridis.
  double last = -1;
  for (int i = 0; i <= 20; ++i) {
    cv::Vec3b c = colormapBgr(Colormap::Viridis, float(i) / 20);
    double luma = 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2];
    EXPECT_GT(luma, last) << i;
    last = luma;
  }
}

TEST(ActivationGrid, PerMapStretchesEachMapToItsOwnRange) {
  const int64_t C = 5, H = 3, W = 4;
  const Tensor maps = rampMaps(C, H, W);
  ActivationGridOptions o;
  o.colormap = Colormap::Gray;
  o.normalization = MapNormalization::PerMap;
  o.scale = 2;
  const cv::Mat img = renderActivationGrid(maps, o);
  const GridLayout g = activationGridLayout(maps.shape(), o);
  ASSERT_EQ(img.size(), g.size());
  EXPECT_EQ(g.columns, 3);  // ceil(sqrt(5))
  EXPECT_EQ(g.rows, 2);
  EXPECT_EQ(g.cellWidth, W * 2);
  EXPECT_EQ(g.cellHeight, H * 2);
  for (int c = 0; c < C; ++c) {
    const cv::Rect cell = g.cellRect(c);
    for (int y = 0; y < cell.height; ++y)
      for (int x = 0; x < cell.width; ++x) {
        const int k = (y / 2) * W + x / 2;
        const uint8_t want = grayOf(double(k) / double(H * W - 1));
        ASSERT_EQ(img.at<cv::Vec3b>(cell.y + y, cell.x + x), cv::Vec3b(want, want, want))
            << "map " << c << " pixel " << x << "," << y;
      }
  }
  // The sixth cell of the 3 x 2 grid is empty, and separators are not map pixels.
  const cv::Rect empty(g.cellRect(5));
  const cv::Vec3b background = img.at<cv::Vec3b>(empty.y + 1, empty.x + 1);
  EXPECT_EQ(img.at<cv::Vec3b>(0, 0), background);
  EXPECT_EQ(img.at<cv::Vec3b>(g.cellRect(1).y, g.cellRect(1).x - 1), background);
}

TEST(ActivationGrid, PerLayerUsesOneRangeSoWeakMapsLookWeak) {
  const int64_t C = 4, H = 2, W = 2;
  const Tensor maps = rampMaps(C, H, W);  // values 0 .. 33
  ActivationGridOptions o;
  o.colormap = Colormap::Gray;
  o.normalization = MapNormalization::PerLayer;
  o.scale = 1;
  const cv::Mat img = renderActivationGrid(maps, o);
  const GridLayout g = activationGridLayout(maps.shape(), o);
  const double lo = 0, hi = (C - 1) * 10 + H * W - 1;
  for (int c = 0; c < C; ++c) {
    const cv::Rect cell = g.cellRect(c);
    for (int k = 0; k < H * W; ++k) {
      const uint8_t want = grayOf((c * 10 + k - lo) / (hi - lo));
      EXPECT_EQ(img.at<cv::Vec3b>(cell.y + k / W, cell.x + k % W)[0], want) << c << " " << k;
    }
  }
}

TEST(ActivationGrid, ConstantMapIsTheColormapsLowEndAndBatchOfOneIsAccepted) {
  Tensor maps(Shape{1, 2, 3, 3}, 4.5f);
  ActivationGridOptions o;
  o.scale = 1;
  const cv::Mat img = renderActivationGrid(maps, o);
  const GridLayout g = activationGridLayout(maps.shape(), o);
  EXPECT_EQ(img.at<cv::Vec3b>(g.cellRect(1).y + 2, g.cellRect(1).x + 2),
            colormapBgr(Colormap::Viridis, 0.0f));
  EXPECT_THROW(renderActivationGrid(Tensor(Shape{2, 3, 4, 4}), o), Error);
}

TEST(ActivationGrid, MarkMaxOutlinesTheMaximumInRed) {
  Tensor maps(Shape{1, 6, 6}, 0.0f);
  maps[2 * 6 + 3] = 5.0f;  // max at y 2, x 3
  ActivationGridOptions o;
  o.colormap = Colormap::Gray;
  o.scale = 4;
  o.markMax = true;
  const cv::Mat img = renderActivationGrid(maps, o);
  const cv::Rect cell = activationGridLayout(maps.shape(), o).cellRect(0);
  const cv::Vec3b red(0, 0, 255);
  // The outline runs one pixel outside the 4 x 4 block of the maximum.
  EXPECT_EQ(img.at<cv::Vec3b>(cell.y + 2 * 4 - 1, cell.x + 3 * 4 + 1), red);
  EXPECT_EQ(img.at<cv::Vec3b>(cell.y + 3 * 4, cell.x + 3 * 4 - 1), red);
  // Inside, the maximum stays white; far away, nothing is red.
  EXPECT_EQ(img.at<cv::Vec3b>(cell.y + 2 * 4 + 1, cell.x + 3 * 4 + 1), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(img.at<cv::Vec3b>(cell.y + 22, cell.x + 1), cv::Vec3b(0, 0, 0));
}

TEST(ActivationGrid, DenseVectorIsAHeatStripOverTheWholeLayersRange) {
  Tensor v(Shape{1, 100});
  for (int i = 0; i < 100; ++i) v[i] = float(i) - 50.0f;
  ActivationGridOptions o;
  o.colormap = Colormap::Gray;
  const GridLayout g = activationGridLayout(v.shape(), o);
  EXPECT_EQ(g.columns, 64);
  EXPECT_EQ(g.rows, 2);
  const cv::Mat img = renderActivationGrid(v, o);
  for (int i : {0, 1, 63, 64, 99}) {
    const cv::Rect cell = g.cellRect(i);
    EXPECT_EQ(img.at<cv::Vec3b>(cell.y + cell.height / 2, cell.x + cell.width / 2)[1],
              grayOf(double(i) / 99.0))
        << i;
  }
}

TEST(ActivationGrid, CellAtInvertsCellRect) {
  const GridLayout g = activationGridLayout(Shape{7, 5, 5}, {});
  for (int i = 0; i < 7; ++i) {
    const cv::Rect r = g.cellRect(i);
    EXPECT_EQ(g.cellAt({r.x, r.y}), i);
    EXPECT_EQ(g.cellAt({r.x + r.width - 1, r.y + r.height - 1}), i);
    EXPECT_EQ(g.cellAt({r.x - 1, r.y}), -1);  // the separator to its left
  }
  const cv::Rect unused = g.cellRect(8);  // 3 x 3 grid, 7 maps
  EXPECT_EQ(g.cellAt({unused.x + 1, unused.y + 1}), -1);
  EXPECT_EQ(g.cellAt({-5, 3}), -1);
}

// Every pixel of a cell maps to the map element drawn there: maps with one hot element each, and
// positionAt says (x, y) exactly on the bright pixels of that element.
TEST(ActivationGrid, PositionAtIsTheMapElementDrawnUnderThePixel) {
  const int C = 3, H = 4, W = 6;
  Tensor maps(Shape{C, H, W});
  const cv::Point hot[C] = {{0, 0}, {5, 3}, {2, 1}};  // (x, y)
  for (int c = 0; c < C; ++c) maps[(c * H + hot[c].y) * W + hot[c].x] = 1.0f;
  ActivationGridOptions o;
  o.colormap = Colormap::Gray;
  o.scale = 5;
  const GridLayout g = activationGridLayout(maps.shape(), o);
  EXPECT_EQ(g.mapWidth, W);
  EXPECT_EQ(g.mapHeight, H);
  const cv::Mat img = renderActivationGrid(maps, o);
  for (int c = 0; c < C; ++c) {
    const cv::Rect r = g.cellRect(c);
    int bright = 0;
    for (int y = r.y; y < r.y + r.height; ++y)
      for (int x = r.x; x < r.x + r.width; ++x) {
        const bool isHot = img.at<cv::Vec3b>(y, x)[1] > 128;
        EXPECT_EQ(g.positionAt({x, y}) == hot[c], isHot) << c << " at " << x << "," << y;
        bright += isHot;
      }
    EXPECT_EQ(bright, 25);
  }
  EXPECT_EQ(g.positionAt({0, 0}), cv::Point(-1, -1));  // the separator
  const GridLayout strip = activationGridLayout(Shape{1, 10}, {});
  EXPECT_EQ(strip.positionAt({strip.cellRect(4).x + 2, strip.cellRect(4).y + 3}), cv::Point(0, 0));
}

}  // namespace
}  // namespace zfvis
