// The occlusion pictures: each placement's value painted on the stride x stride cell at its
// patch centre (viridis over the map's min..max, blended with the image), border darkened, label
// colours by class frequency, distinct legend colours.
#include <gtest/gtest.h>

#include <set>

#include "core/base/error.h"
#include "core/render/colormap.h"
#include "core/render/occlusion_picture.h"

namespace zfvis {
namespace {

// The pictures' layout: a 48-pixel title, then panels 12 pixels apart starting at x = 12.
constexpr int kTitle = 48, kGap = 12;

// A 3 x 4 result on a 16 x 20 input (patch 8, stride 4), probabilities 0, 1/11, ..., 11/11.
OcclusionResult sampleResult() {
  OcclusionResult r;
  r.rows = 3;
  r.cols = 4;
  r.patch = 8;
  r.stride = 4;
  r.classes = 10;
  r.targetClass = 3;
  r.baseClass = 7;
  r.baseProbability = 0.5f;
  r.probability = Tensor(Shape{3, 4});
  for (int k = 0; k < 12; ++k) r.probability[k] = float(k) / 11.0f;
  // Class 7 six times, class 2 four times, class 9 twice.
  r.topClass = {7, 7, 2, 9, 7, 2, 2, 7, 9, 7, 2, 7};
  return r;
}

// Blended pixels round to 8 bits twice (the colormap's colour, then the blend): +-1 each.
void expectNear(const cv::Vec3b& got, const cv::Vec3d& want, const std::string& what) {
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(double(got[c]), want[c], 2.0) << what << " channel " << c;
}

TEST(OcclusionView, CellIsTheStrideSquareCentredOnThePatch) {
  OcclusionResult r = sampleResult();
  EXPECT_EQ(occlusionCell(r, 0, 0), cv::Rect(2, 2, 4, 4));  // patch 0..7, centre 4
  EXPECT_EQ(occlusionCell(r, 2, 3), cv::Rect(14, 10, 4, 4));
  r.patch = 50;
  r.stride = 8;
  EXPECT_EQ(occlusionCell(r, 1, 0), cv::Rect(21, 29, 8, 8));  // patch 8..57, centre 33
}

TEST(OcclusionView, HeatmapPaintsEachValueOnItsCellOverTheDarkenedImage) {
  OcclusionResult r = sampleResult();
  cv::Mat input(16, 20, CV_8UC3, cv::Scalar(128, 128, 128));
  cv::Mat img = renderOcclusionHeatmap(r, input);
  const int s = 20;  // 400 / max(16, 20)
  const int heatX = kGap + 20 * s + kGap;
  ASSERT_GE(img.cols, heatX + 20 * s);
  ASSERT_GE(img.rows, kTitle + 16 * s);
  for (int i = 0; i < r.rows; ++i)
    for (int j = 0; j < r.cols; ++j) {
      const cv::Rect cell = occlusionCell(r, i, j);
      const cv::Point at(heatX + (cell.x * s + cell.width * s / 2),
                         kTitle + (cell.y * s + cell.height * s / 2));
      const cv::Vec3b v = colormapBgr(Colormap::Viridis, float(i * 4 + j) / 11.0f);
      const cv::Vec3d want(0.72 * v[0] + 0.28 * 128, 0.72 * v[1] + 0.28 * 128,
                           0.72 * v[2] + 0.28 * 128);
      expectNear(img.at<cv::Vec3b>(at), want,
                 "cell " + std::to_string(i) + "," + std::to_string(j));
    }
  // The border no patch centre reaches: the image darkened (x 0.45).
  expectNear(img.at<cv::Vec3b>(kTitle + 5, heatX + 5), {57.6, 57.6, 57.6}, "border");
  // The input panel shows the image itself away from the outlined patch.
  expectNear(img.at<cv::Vec3b>(kTitle + 16 * s - 3, kGap + 20 * s - 3), {128, 128, 128}, "input");
}

TEST(OcclusionView, LabelMapColoursClassesByFrequencyAndListsThem) {
  OcclusionResult r = sampleResult();
  cv::Mat input(16, 20, CV_8UC3, cv::Scalar(128, 128, 128));
  cv::Mat img = renderOcclusionLabelMap(r, input, 10);
  const int s = 20, mapX = kGap + 20 * s + kGap;
  const std::map<int, int> slot{{7, 0}, {2, 1}, {9, 2}};  // most frequent first
  for (int i = 0; i < r.rows; ++i)
    for (int j = 0; j < r.cols; ++j) {
      const cv::Rect cell = occlusionCell(r, i, j);
      const cv::Point at(mapX + cell.x * s + cell.width * s / 2,
                         kTitle + cell.y * s + cell.height * s / 2);
      const cv::Vec3b c = occlusionLabelColour(slot.at(r.topClass[size_t(i * 4 + j)]));
      expectNear(img.at<cv::Vec3b>(at),
                 {0.8 * c[0] + 0.2 * 128, 0.8 * c[1] + 0.2 * 128, 0.8 * c[2] + 0.2 * 128},
                 "cell " + std::to_string(i) + "," + std::to_string(j));
    }
  // The legend's swatches, one per class, in frequency order, right of the map.
  const int legendX = mapX + 20 * s + kGap;
  for (int k = 0; k < 3; ++k) {
    const cv::Vec3b c = occlusionLabelColour(k);
    expectNear(img.at<cv::Vec3b>(kTitle + 4 + k * 22 + 10, legendX + 9),
               {double(c[0]), double(c[1]), double(c[2])}, "swatch " + std::to_string(k));
  }
}

TEST(OcclusionView, LegendColoursAreDistinct) {
  std::set<std::tuple<int, int, int>> seen;
  for (int k = 0; k < 64; ++k) {
    cv::Vec3b c = occlusionLabelColour(k);
    EXPECT_TRUE(seen.insert({c[0], c[1], c[2]}).second) << "slot " << k;
  }
}

TEST(OcclusionView, FeatureMapNeedsARecordedLayerAndWorksWithoutAnImage) {
  OcclusionResult r = sampleResult();
  EXPECT_THROW(renderOcclusionFeatureMap(r, cv::Mat()), Error);
  r.layer = 4;
  r.layerName = "conv3";
  r.channel = 2;
  r.featureActivation = Tensor(Shape{3, 4}, 1.0f);  // constant: no range, still renders
  r.featureActivation[5] = 3.0f;
  cv::Mat img = renderOcclusionFeatureMap(r, cv::Mat());
  EXPECT_EQ(img.type(), CV_8UC3);
  EXPECT_GT(img.cols, 2 * 16 * 20);
  EXPECT_NO_THROW(renderOcclusionHeatmap(r, cv::Mat()));
  EXPECT_NO_THROW(renderOcclusionLabelMap(r, cv::Mat(), 1000));
}

}  // namespace
}  // namespace zfvis
