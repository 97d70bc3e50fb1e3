// The first-layer comparison view: one value scale and one upscaling for all banks, grids drawn
// unchanged into the composite, and the spectrum plot.
#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/base/error.h"
#include "core/render/compare_picture.h"
#include "tests/render/bank_util.h"

namespace zfvis {
namespace {

using test::checker;
using test::gaussian;
using test::makeBank;

CompareSide side(Tensor w, std::string name, int stride) {
  CompareSide s;
  s.bank.weights = std::move(w);
  s.bank.model = name;
  s.bank.source = name + ".npy";
  s.bank.strideH = s.bank.strideW = stride;
  s.bank.colourInput = true;
  s.bank.channelOrder = ChannelOrder::Bgr;
  s.stats = computeFilterBankStats(s.bank.weights);
  return s;
}

// True when `part` occurs pixel for pixel somewhere in `whole` (matchTemplate finds the best
// place; the exact comparison is done on the pixels).
bool containsExactly(const cv::Mat& whole, const cv::Mat& part) {
  cv::Mat result;
  cv::matchTemplate(whole, part, result, cv::TM_SQDIFF);
  cv::Point best;
  cv::minMaxLoc(result, nullptr, nullptr, &best);
  return cv::norm(whole(cv::Rect(best, part.size())), part, cv::NORM_INF) == 0.0;
}

std::vector<CompareSide> twoBanks() {
  // A: 12 blobs 11x11 (max |w| 0.3), B: 8 checkerboards 7x7 (max |w| 0.8).
  std::vector<CompareSide> s;
  s.push_back(side(makeBank(12, 3, 11, 11,
                            [](int o, int i, int y, int x) {
                              return (o % 3 == i ? 0.3f : -0.1f) * gaussian(y, x, 11, 2.0);
                            }),
                   "blobs", 4));
  s.push_back(side(
      makeBank(8, 3, 7, 7, [](int o, int, int y, int x) { return (o + 1) * 0.1f * checker(y, x); }),
      "boards", 2));
  return s;
}

TEST(CompareView, BanksShareOneScaleAndOneUpscaling) {
  std::vector<CompareSide> s = twoBanks();
  std::vector<FilterGridOptions> o = compareGridOptions(s, {});
  ASSERT_EQ(o.size(), 2u);
  EXPECT_DOUBLE_EQ(o[0].range, double(0.8f));  // the largest |w| of both banks
  EXPECT_DOUBLE_EQ(o[1].range, double(0.8f));
  EXPECT_EQ(o[0].scale, 3);  // from the larger kernel (11 -> 33 px)
  EXPECT_EQ(o[1].scale, 3);
  EXPECT_EQ(filterGridLayout(s[0].bank.weights.shape(), o[0]).cellWidth, 33);
  EXPECT_EQ(filterGridLayout(s[1].bank.weights.shape(), o[1]).cellWidth, 21);
  EXPECT_EQ(o[0].channelOrder, ChannelOrder::Bgr);
}

TEST(CompareView, RmsScaleIsPooledOverBanks) {
  Tensor a = makeBank(2, 3, 3, 3, [](int, int, int y, int x) { return 0.1f * checker(y, x); });
  Tensor b = makeBank(4, 3, 5, 5, [](int, int, int y, int x) { return 0.4f * checker(y, x); });
  std::vector<CompareSide> s = {side(a, "a", 1), side(b, "b", 1)};
  CompareViewOptions vo;
  vo.normalization = FilterNormalization::Rms;
  std::vector<FilterGridOptions> o = compareGridOptions(s, vo);
  const double na = 2 * 3 * 9, nb = 4 * 3 * 25;
  const double pooled =
      std::sqrt((na * double(0.1f) * 0.1f + nb * double(0.4f) * 0.4f) / (na + nb));
  // Double sums of a few hundred float32 squares: about 300 * 1.1e-16, far below 1e-9.
  EXPECT_NEAR(o[0].range, pooled, 1e-9);
  EXPECT_NEAR(o[1].range, pooled, 1e-9);
  EXPECT_NEAR(o[0].rmsAxisMax, 1.1 * double(0.4f), 1e-9);
}

TEST(CompareView, CompositeHoldsBothGridsUnchangedAndThePlot) {
  std::vector<CompareSide> s = twoBanks();
  CompareViewOptions vo;
  cv::Mat img = renderCompareView(s, vo);
  ASSERT_EQ(img.type(), CV_8UC3);
  std::vector<FilterGridOptions> o = compareGridOptions(s, vo);
  EXPECT_TRUE(containsExactly(img, renderFilterGrid(s[0].bank.weights, o[0])));
  EXPECT_TRUE(containsExactly(img, renderFilterGrid(s[1].bank.weights, o[1])));
  cv::Mat plot = renderSpectrumPlot(compareSpectrumCurves(s), [&] {
    SpectrumPlotOptions po;
    po.width = std::max(po.width, img.cols - 32);
    return po;
  }());
  EXPECT_GE(img.rows, plot.rows + 200);
  vo.spectrumPlot = false;
  EXPECT_LT(renderCompareView(s, vo).rows, img.rows - plot.rows + 1);
  EXPECT_THROW(renderCompareView({}, vo), Error);
}

int countColour(const cv::Mat& img, const cv::Scalar& c) {
  cv::Mat mask;
  cv::inRange(img, c, c, mask);
  return cv::countNonZero(mask);
}

TEST(CompareView, SpectrumPlotDrawsEveryCurve) {
  std::vector<CompareSide> s = twoBanks();
  std::vector<SpectrumCurve> curves = compareSpectrumCurves(s);
  ASSERT_EQ(curves.size(), 2u);
  EXPECT_EQ(curves[0].frequency, s[0].stats.radialFrequency);
  EXPECT_EQ(curves[1].power, s[1].stats.radialPower);
  EXPECT_NE(curves[0].label.find("low/mid/high"), std::string::npos);
  SpectrumPlotOptions po;
  cv::Mat plot = renderSpectrumPlot(curves, po);
  EXPECT_EQ(plot.size(), cv::Size(po.width, po.height));
  EXPECT_GT(countColour(plot, compareColour(0)), 100);
  EXPECT_GT(countColour(plot, compareColour(1)), 100);
  // Zero / negative powers are gaps, an empty plot still has axes; neither crashes.
  curves[0].power.assign(curves[0].power.size(), 0.0);
  EXPECT_NO_THROW(renderSpectrumPlot(curves, po));
  EXPECT_NO_THROW(renderSpectrumPlot({}, po));
}

TEST(CompareView, TitlesNameModelLayerAndStride) {
  FilterBank b;
  b.weights = Tensor(Shape{96, 3, 11, 11});
  b.model = "caffe-alexnet";
  b.layer = "conv1";
  b.strideH = b.strideW = 4;
  b.untrained = true;
  EXPECT_EQ(compareTitle(b), "caffe-alexnet conv1 (untrained)");
  EXPECT_EQ(compareShapeText(b), "96 x 3 x 11x11, stride 4");
  b.strideH = b.strideW = 0;
  b.layer.clear();
  b.untrained = false;
  b.source = "/tmp/x/bank.npy";
  EXPECT_EQ(compareTitle(b), "bank.npy");
  EXPECT_EQ(compareShapeText(b), "96 x 3 x 11x11, stride ?");
}

}  // namespace
}  // namespace zfvis
