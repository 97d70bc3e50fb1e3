// The real ImageNet-trained first layers in ../shared/data/weights (BVLC AlexNet conv1 11x11
// stride 4, ResNet-152 conv1 7x7 stride 2; BGR input order). Skipped when the folder is absent.
// Reference numbers come from NumPy's FFT: tests/render/first_layer_reference.py.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/analysis/compare/filter_bank.h"
#include "core/analysis/compare/filter_stats.h"
#include "core/render/filter_grid.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;

const fs::path kWeights = fs::path(ZFVIS_SHARED_DIR) / "data" / "weights";

class SharedFirstLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kWeights / "alexnet_conv1_weight.npy") ||
        !fs::exists(kWeights / "resnet152_conv1_weight.npy"))
      GTEST_SKIP() << "no shared weights in " << kWeights;
    m_alex = readFilterBankNpy(kWeights / "alexnet_conv1_weight.npy", 4, ChannelOrder::Bgr);
    m_resnet = readFilterBankNpy(kWeights / "resnet152_conv1_weight.npy", 2, ChannelOrder::Bgr);
  }
  FilterBank m_alex, m_resnet;
};

// Mean chroma (max - min of B, G, R) of the pixels of tiles [first, first + count).
double meanChroma(const cv::Mat& img, const GridLayout& g, int first, int count) {
  double sum = 0;
  int64_t n = 0;
  for (int t = first; t < first + count; ++t) {
    cv::Rect r = g.cellRect(t);
    for (int y = r.y; y < r.y + r.height; ++y)
      for (int x = r.x; x < r.x + r.width; ++x) {
        cv::Vec3b p = img.at<cv::Vec3b>(y, x);
        sum += std::max({p[0], p[1], p[2]}) - std::min({p[0], p[1], p[2]});
        ++n;
      }
  }
  return sum / static_cast<double>(n);
}

TEST_F(SharedFirstLayers, AlexNetFirstGroupIsColourSecondIsGray) {
  ASSERT_EQ(m_alex.weights.shape(), (Shape{96, 3, 11, 11}));
  FilterGridOptions o;
  o.channelOrder = m_alex.channelOrder;
  GridLayout g = filterGridLayout(m_alex.weights.shape(), o);
  EXPECT_EQ(g.columns, 12);  // the two GPU groups of 48 fill four rows each
  cv::Mat img = renderFilterGrid(m_alex.weights, o);
  const double first = meanChroma(img, g, 0, 48), second = meanChroma(img, g, 48, 48);
  // Colour blobs and colour edges vs mostly black-and-white Gabor-like edges.
  EXPECT_GT(first, 2.0 * second) << "chroma first 48 " << first << ", last 48 " << second;
}

TEST_F(SharedFirstLayers, StatisticsMatchNumPyReference) {
  FilterBankStats a = computeFilterBankStats(m_alex.weights);
  FilterBankStats r = computeFilterBankStats(m_resnet.weights);
  // first_layer_reference.py, all in double like ours and printed to 9 decimals: the print's
  // rounding (5e-10) dominates the two FFTs' orders (about 1e-13): 1e-8 covers both.
  EXPECT_NEAR(a.medianRms, 0.048366578, 1e-8);
  EXPECT_EQ(a.deadCount, 0);
  EXPECT_EQ(a.aboveRadiusCount, 3);
  EXPECT_NEAR(a.meanBands.low, 0.594180900, 1e-8);
  EXPECT_NEAR(a.meanBands.mid, 0.265935248, 1e-8);
  EXPECT_NEAR(a.meanBands.high, 0.139883852, 1e-8);
  EXPECT_EQ(a.dominantLow, 67);
  EXPECT_EQ(a.dominantMid, 19);
  EXPECT_EQ(a.dominantHigh, 10);
  EXPECT_NEAR(r.medianRms, 0.078398874, 1e-8);
  EXPECT_EQ(r.deadCount, 7);
  EXPECT_EQ(r.aboveRadiusCount, 31);
  EXPECT_NEAR(r.meanBands.low, 0.401352287, 1e-8);
  EXPECT_NEAR(r.meanBands.mid, 0.392354579, 1e-8);
  EXPECT_NEAR(r.meanBands.high, 0.206293134, 1e-8);
  // ZF fig. 6: AlexNet's 11x11 stride-4 layer covers the mid frequencies less than a 7x7
  // stride-2 layer; its power sits at the extremes (here mostly the low end).
  EXPECT_LT(a.meanBands.mid, r.meanBands.mid);
  EXPECT_GT(a.meanBands.low + a.meanBands.high, r.meanBands.low + r.meanBands.high);
}

}  // namespace
}  // namespace zfvis
