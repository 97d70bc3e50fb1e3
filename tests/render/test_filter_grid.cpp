// Filter grids: geometry (tiles, separators, integer upscaling), colour order, normalisation
// modes on known values, channel modes, hit-testing and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "core/base/error.h"
#include "core/render/filter_grid.h"
#include "tests/render/bank_util.h"

namespace zfvis {
namespace {

using test::makeBank;

const cv::Vec3b kSeparator(40, 40, 40);

uint8_t byteOf(double t) {
  return static_cast<uint8_t>(std::lround(std::clamp(t, 0.0, 1.0) * 255));
}

TEST(FilterGrid, AlexNetSizedBankLayout) {
  Tensor w(Shape{96, 3, 11, 11}, 0.5f);
  GridLayout g = filterGridLayout(w.shape());
  EXPECT_EQ(g.count, 96);
  EXPECT_EQ(g.columns, 12);  // divides 96, so the two groups of 48 fill whole rows
  EXPECT_EQ(g.rows, 8);
  EXPECT_EQ(g.cellWidth, 33);  // 11 x 3: auto scale makes tiles >= 33 px
  EXPECT_EQ(g.cellHeight, 33);
  EXPECT_EQ(g.size(), cv::Size(1 + 12 * 34, 1 + 8 * 34));
  cv::Mat img = renderFilterGrid(w);
  EXPECT_EQ(img.size(), g.size());
  EXPECT_EQ(img.type(), CV_8UC3);
  // 1-pixel separators around and between tiles.
  for (int x = 0; x < img.cols; ++x) {
    EXPECT_EQ(img.at<cv::Vec3b>(0, x), kSeparator);
    EXPECT_EQ(img.at<cv::Vec3b>(34, x), kSeparator);
  }
  for (int y = 0; y < img.rows; ++y) EXPECT_EQ(img.at<cv::Vec3b>(y, 34 * 5), kSeparator);
  EXPECT_EQ(g.cellRect(13), cv::Rect(1 + 34, 1 + 34, 33, 33));
}

TEST(FilterGrid, SevenBySevenTilesUpscaleToAtLeast33Pixels) {
  GridLayout g = filterGridLayout(Shape{64, 3, 7, 7});
  EXPECT_EQ(g.cellWidth, 35);
  EXPECT_EQ(g.columns, 8);
  EXPECT_EQ(g.size(), cv::Size(1 + 8 * 36, 1 + 8 * 36));
  EXPECT_EQ(autoFilterScale(11, 11), 3);
  EXPECT_EQ(autoFilterScale(7, 7), 5);
  EXPECT_EQ(autoFilterScale(3, 3), 11);
  EXPECT_EQ(autoFilterScale(1, 1), 33);
  FilterGridOptions o;
  o.scale = 2;
  o.separator = 3;
  o.columns = 5;
  g = filterGridLayout(Shape{12, 3, 7, 5}, o);
  EXPECT_EQ(g.columns, 5);
  EXPECT_EQ(g.rows, 3);
  EXPECT_EQ(g.cellWidth, 10);
  EXPECT_EQ(g.cellHeight, 14);
  EXPECT_EQ(g.size(), cv::Size(3 + 5 * 13, 3 + 3 * 17));
}

TEST(FilterGrid, EachWeightIsAnIntegerBlock) {
  // Two 1-channel 3x4 filters with distinct values; per-filter min-max by hand.
  Tensor w = makeBank(2, 1, 3, 4, [](int o, int, int y, int x) {
    return static_cast<float>((o + 1) * (y * 4 + x) * (x % 2 ? 1 : -1));
  });
  FilterGridOptions o;
  o.scale = 4;
  GridLayout g = filterGridLayout(w.shape(), o);
  cv::Mat img = renderFilterGrid(w, o);
  for (int f = 0; f < 2; ++f) {
    float lo = 1e9f, hi = -1e9f;
    for (int k = 0; k < 12; ++k) {
      lo = std::min(lo, w[f * 12 + k]);
      hi = std::max(hi, w[f * 12 + k]);
    }
    cv::Rect cell = g.cellRect(f);
    for (int py = 0; py < cell.height; ++py)
      for (int px = 0; px < cell.width; ++px) {
        float v = w.at(f, 0, py / 4, px / 4);
        uint8_t expect = byteOf((v - lo) / (hi - lo));
        ASSERT_EQ(img.at<cv::Vec3b>(cell.y + py, cell.x + px), cv::Vec3b(expect, expect, expect))
            << "filter " << f << " pixel " << px << "," << py;
      }
  }
}

TEST(FilterGrid, BlueFilterInBgrOrderRendersBlue) {
  // Weights' channel 0 is blue in BGR order: the tile must be pure blue (OpenCV pixel B=255).
  Tensor bgrBlue = makeBank(1, 3, 2, 2, [](int, int i, int, int) { return i == 0 ? 1.0f : 0.0f; });
  FilterGridOptions o;
  o.channelOrder = ChannelOrder::Bgr;
  o.scale = 1;
  cv::Mat img = renderFilterGrid(bgrBlue, o);
  EXPECT_EQ(img.at<cv::Vec3b>(1, 1), cv::Vec3b(255, 0, 0));
  EXPECT_EQ(img.at<cv::Vec3b>(2, 2), cv::Vec3b(255, 0, 0));
  // The same weights read as RGB are red.
  o.channelOrder = ChannelOrder::Rgb;
  EXPECT_EQ(renderFilterGrid(bgrBlue, o).at<cv::Vec3b>(1, 1), cv::Vec3b(0, 0, 255));
  // Blue in RGB order is channel 2.
  Tensor rgbBlue = makeBank(1, 3, 2, 2, [](int, int i, int, int) { return i == 2 ? 1.0f : 0.0f; });
  EXPECT_EQ(renderFilterGrid(rgbBlue, o).at<cv::Vec3b>(1, 1), cv::Vec3b(255, 0, 0));
  // Green stays green either way; on the per-layer scale 0 is mid-gray.
  Tensor green = makeBank(1, 3, 2, 2, [](int, int i, int, int) { return i == 1 ? 0.5f : 0.0f; });
  o.normalization = FilterNormalization::PerLayer;
  EXPECT_EQ(renderFilterGrid(green, o).at<cv::Vec3b>(1, 1), cv::Vec3b(128, 255, 128));
}

TEST(FilterGrid, PerFilterStretchesPerLayerKeepsWeakFiltersWeak) {
  // Filter 0: +-1, filter 1: +-0.1 (same pattern).
  Tensor w = makeBank(2, 1, 2, 2, [](int o, int, int y, int x) {
    return (o == 0 ? 1.0f : 0.1f) * ((x + y) % 2 ? 1.0f : -1.0f);
  });
  FilterGridOptions o;
  o.scale = 1;
  GridLayout g = filterGridLayout(w.shape(), o);
  auto px = [&](const cv::Mat& img, int f, int y, int x) {
    return img.at<cv::Vec3b>(g.cellRect(f).y + y, g.cellRect(f).x + x)[0];
  };
  cv::Mat perFilter = renderFilterGrid(w, o);
  for (int f = 0; f < 2; ++f) {
    EXPECT_EQ(px(perFilter, f, 0, 0), 0);
    EXPECT_EQ(px(perFilter, f, 0, 1), 255);
  }
  o.normalization = FilterNormalization::PerLayer;
  EXPECT_DOUBLE_EQ(filterDisplayRange(w, o), 1.0);
  cv::Mat perLayer = renderFilterGrid(w, o);
  EXPECT_EQ(px(perLayer, 0, 0, 0), 0);
  EXPECT_EQ(px(perLayer, 0, 0, 1), 255);
  EXPECT_EQ(px(perLayer, 1, 0, 0), byteOf(0.5 - 0.5 * double(0.1f)));  // 115
  EXPECT_EQ(px(perLayer, 1, 0, 1), byteOf(0.5 + 0.5 * double(0.1f)));  // 140
  // An explicit range (a shared scale) replaces the layer's own.
  o.range = 2.0;
  EXPECT_EQ(px(renderFilterGrid(w, o), 0, 0, 1), byteOf(0.75));
}

TEST(FilterGrid, ConstantFilterIsMidGrayPerFilter) {
  Tensor w(Shape{1, 1, 3, 3}, 0.7f);
  FilterGridOptions o;
  o.scale = 1;
  EXPECT_EQ(renderFilterGrid(w, o).at<cv::Vec3b>(2, 2), cv::Vec3b(128, 128, 128));
}

TEST(FilterGrid, RmsViewScalesByLayerRmsAndMarksTheRadius) {
  // Filter 0: +-0.05, filter 1: +-0.2. Layer RMS R = sqrt((0.05^2 + 0.2^2) / 2).
  const float a[2] = {0.05f, 0.2f};
  Tensor w = makeBank(
      2, 1, 4, 4, [&](int o, int, int y, int x) { return a[o] * ((x + y) % 2 ? 1.0f : -1.0f); });
  FilterGridOptions o;
  o.normalization = FilterNormalization::Rms;
  o.scale = 5;
  const double r = std::sqrt((double(a[0]) * a[0] + double(a[1]) * a[1]) / 2);
  // A double RMS of two float32 values: a few double roundings, far below 1e-9.
  EXPECT_NEAR(filterDisplayRange(w, o), r, 1e-9);
  GridLayout g = filterGridLayout(w.shape(), o);
  EXPECT_EQ(g.cellWidth, 20);
  EXPECT_EQ(g.cellHeight, 20 + kRmsBarRows);
  cv::Mat img = renderFilterGrid(w, o);
  for (int f = 0; f < 2; ++f) {
    cv::Rect c = g.cellRect(f);
    EXPECT_EQ(img.at<cv::Vec3b>(c.y, c.x + 5)[0], byteOf(0.5 + 0.5 * a[f] / (kRmsSpan * r)));
    EXPECT_EQ(img.at<cv::Vec3b>(c.y, c.x)[0], byteOf(0.5 - 0.5 * a[f] / (kRmsSpan * r)));
  }
  // Bars: axis 0 .. 1.1 x max(RMS, 0.1) = 0.22; filter 1 (0.2 > 0.1) red, filter 0 light gray;
  // the radius tick (yellow) at 20 * 0.1 / 0.22 = 9 px.
  const double axis = 1.1 * double(a[1]);
  const int barY = g.cellRect(0).y + 20 + 2;
  const cv::Rect c0 = g.cellRect(0), c1 = g.cellRect(1);
  EXPECT_EQ(img.at<cv::Vec3b>(barY, c0.x), cv::Vec3b(215, 215, 215));
  EXPECT_EQ(img.at<cv::Vec3b>(barY, c1.x), cv::Vec3b(40, 40, 230));
  const int fill0 = static_cast<int>(std::lround(20 * a[0] / axis));  // 5
  EXPECT_EQ(img.at<cv::Vec3b>(barY, c0.x + fill0 - 1), cv::Vec3b(215, 215, 215));
  EXPECT_EQ(img.at<cv::Vec3b>(barY, c0.x + fill0), cv::Vec3b(80, 80, 80));
  const int tick = static_cast<int>(std::lround(20 * 0.1 / axis));
  EXPECT_EQ(img.at<cv::Vec3b>(barY, c0.x + tick), cv::Vec3b(0, 220, 255));
  EXPECT_EQ(img.at<cv::Vec3b>(g.cellRect(0).y + 20, c0.x), kSeparator);  // gap row
}

TEST(FilterGrid, PerInputTilesAreConsecutivePerFilter) {
  // 4 filters x 2 input channels: tile 2f + c shows channel c of filter f, on filter f's scale.
  Tensor w = makeBank(4, 2, 3, 3, [](int o, int i, int y, int x) {
    return static_cast<float>(o * 100 + i * 10 + y * 3 + x);
  });
  FilterGridOptions o;
  o.scale = 1;
  EXPECT_EQ(resolveFilterChannels(w.shape(), o), FilterChannels::PerInput);
  GridLayout g = filterGridLayout(w.shape(), o);
  EXPECT_EQ(g.count, 8);
  EXPECT_EQ(g.columns % 2, 0);
  cv::Mat img = renderFilterGrid(w, o);
  for (int t = 0; t < 8; ++t) {
    FilterCellInfo info = filterCellInfo(w, o, t);
    EXPECT_EQ(info.filter, t / 2);
    EXPECT_EQ(info.inputChannel, t % 2);
    const float lo = w.at(t / 2, 0, 0, 0), hi = w.at(t / 2, 1, 2, 2);
    cv::Rect c = g.cellRect(t);
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x)
        EXPECT_EQ(img.at<cv::Vec3b>(c.y + y, c.x + x)[0],
                  byteOf((w.at(t / 2, t % 2, y, x) - lo) / (hi - lo)));
  }
  // Columns given by the user are rounded up to whole filters.
  o.columns = 3;
  EXPECT_EQ(filterGridLayout(w.shape(), o).columns, 4);
}

TEST(FilterGrid, MeanAndSingleChannelTiles) {
  // Channel 0: 0 1 2 3, channel 1: 2 3 4 5 -> mean 1 2 3 4.
  Tensor w = makeBank(
      1, 2, 2, 2, [](int, int i, int y, int x) { return static_cast<float>(2 * i + 2 * y + x); });
  FilterGridOptions o;
  o.scale = 1;
  o.channels = FilterChannels::Mean;
  o.normalization = FilterNormalization::PerLayer;
  EXPECT_DOUBLE_EQ(filterDisplayRange(w, o), 4.0);
  cv::Mat mean = renderFilterGrid(w, o);
  EXPECT_EQ(mean.at<cv::Vec3b>(1, 1)[0], byteOf(0.5 + 0.5 * 1 / 4.0));
  EXPECT_EQ(mean.at<cv::Vec3b>(2, 2)[0], 255);
  EXPECT_EQ(filterCellInfo(w, o, 0).inputChannel, -1);
  o.channels = FilterChannels::Single;
  o.inputChannel = 1;
  o.normalization = FilterNormalization::PerFilter;
  cv::Mat single = renderFilterGrid(w, o);
  EXPECT_EQ(single.at<cv::Vec3b>(1, 1)[0], 0);
  EXPECT_EQ(single.at<cv::Vec3b>(1, 2)[0], 85);
  EXPECT_EQ(single.at<cv::Vec3b>(2, 1)[0], 170);
  EXPECT_EQ(single.at<cv::Vec3b>(2, 2)[0], 255);
  EXPECT_EQ(filterCellInfo(w, o, 0).inputChannel, 1);
}

TEST(FilterGrid, AutoChannelModes) {
  FilterGridOptions o;
  EXPECT_EQ(resolveFilterChannels(Shape{96, 3, 11, 11}, o), FilterChannels::Rgb);
  EXPECT_EQ(resolveFilterChannels(Shape{20, 1, 5, 5}, o), FilterChannels::Single);
  EXPECT_EQ(resolveFilterChannels(Shape{256, 48, 5, 5}, o), FilterChannels::PerInput);
  EXPECT_EQ(resolveFilterChannels(Shape{384, 256, 3, 3}, o), FilterChannels::Mean);
  o.colourInput = false;  // a deeper layer that happens to have 3 inputs
  EXPECT_EQ(resolveFilterChannels(Shape{8, 3, 3, 3}, o), FilterChannels::PerInput);
}

TEST(FilterGrid, CellInfoAndHitTesting) {
  const float a[3] = {0.5f, 0.25f, 2.0f};
  Tensor w = makeBank(3, 3, 5, 5, [&](int o, int, int, int) { return a[o]; });
  FilterGridOptions o;
  GridLayout g = filterGridLayout(w.shape(), o);
  cv::Rect r = g.cellRect(2);
  int cell = g.cellAt({r.x + 3, r.y + 4});
  EXPECT_EQ(cell, 2);
  FilterCellInfo info = filterCellInfo(w, o, cell);
  EXPECT_EQ(info.filter, 2);
  EXPECT_EQ(info.inputChannel, -1);
  // RMS of +-2 (exact in float and double): only the double sqrt's rounding, far below 1e-12.
  EXPECT_NEAR(info.rms, 2.0, 1e-12);
  EXPECT_EQ(g.cellAt({0, 0}), -1);
  EXPECT_EQ(filterCellInfo(w, o, 7).filter, -1);
}

TEST(FilterGrid, RejectsBadShapesAndOptions) {
  EXPECT_THROW(renderFilterGrid(Tensor(Shape{3, 11, 11})), Error);
  FilterGridOptions o;
  o.channels = FilterChannels::Rgb;
  EXPECT_THROW(renderFilterGrid(Tensor(Shape{4, 2, 3, 3}), o), Error);
  o.channels = FilterChannels::Single;
  o.inputChannel = 2;
  EXPECT_THROW(renderFilterGrid(Tensor(Shape{4, 2, 3, 3}), o), Error);
  o.inputChannel = -1;
  EXPECT_THROW(renderFilterGrid(Tensor(Shape{4, 2, 3, 3}), o), Error);
  // Per-input tiles of a huge layer at a forced scale exceed the pixel limit: an error, not a
  // multi-gigabyte allocation.
  FilterGridOptions huge;
  huge.channels = FilterChannels::PerInput;
  huge.scale = 11;
  EXPECT_THROW(filterGridLayout(Shape{1024, 1024, 3, 3}, huge), Error);
  // Auto scale shrinks instead.
  huge.scale = 0;
  GridLayout g = filterGridLayout(Shape{1024, 256, 3, 3}, huge);
  EXPECT_LE(double(g.size().area()), 50e6);
  EXPECT_THROW(parseFilterNormalization("max"), UsageError);
  EXPECT_EQ(parseFilterNormalization("layer"), FilterNormalization::PerLayer);
  EXPECT_EQ(filterNormalizationName(FilterNormalization::Rms), "rms");
}

}  // namespace
}  // namespace zfvis
