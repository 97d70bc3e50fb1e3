// Pictures of projections: zero is mid-grey and the scale is symmetric (128 + 127 v / max|v|),
// channel order follows the preprocessing preset, the crop is the receptive field next to the
// same input patch, captions keep the unit readable, and a K-channel grid uses one scale.
#include <gtest/gtest.h>

#include <cmath>

#include "core/base/error.h"
#include "core/render/projection_picture.h"

namespace zfvis {
namespace {

uint8_t display(float v, float scale) {
  return cv::saturate_cast<uint8_t>(128.0f + 127.0f * v / scale);
}

// A 3 x H x W projection whose value at (c, y, x) is (c + 1) * (x - y), so it has both signs.
Projection makeProjection(int H, int W, cv::Rect field, int channel = 7) {
  Projection p;
  p.image = Tensor(Shape{3, H, W});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) p.image[(c * H + y) * W + x] = float((c + 1) * (x - y));
  p.layer = 0;
  p.channel = channel;
  p.position = {2, 3};
  p.activation = 42.5f;
  p.field = field;
  return p;
}

// An input picture whose pixel (y, x) is (x, y, 200) in BGR, so crops can be located.
cv::Mat makeInput(int H, int W) {
  cv::Mat m(H, W, CV_8UC3);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(x), uint8_t(y), 200);
  return m;
}

TEST(ProjectionPicture, ZeroIsMidGreyAndScalingIsSymmetric) {
  Tensor t(Shape{1, 1, 2, 3});
  const float values[] = {0.0f, 2.0f, -2.0f, 1.0f, -0.5f, 0.25f};
  for (int i = 0; i < 6; ++i) t[i] = values[i];
  const cv::Mat img = renderProjection(t, Preprocess::Caffe);
  ASSERT_EQ(img.type(), CV_8UC1);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(img.at<uint8_t>(i / 3, i % 3), display(values[i], 2.0f)) << i;
  EXPECT_EQ(img.at<uint8_t>(0, 0), 128);
  EXPECT_EQ(img.at<uint8_t>(0, 1), 255);
  EXPECT_EQ(img.at<uint8_t>(0, 2), 1);
  // A fixed scale: larger values saturate.
  const cv::Mat fixed = renderProjection(t, Preprocess::Caffe, 1.0f);
  EXPECT_EQ(fixed.at<uint8_t>(0, 1), 255);
  EXPECT_EQ(fixed.at<uint8_t>(1, 0), 255);
  EXPECT_EQ(fixed.at<uint8_t>(1, 1), display(-0.5f, 1.0f));
  // All zeros: mid-grey, no division by zero.
  EXPECT_EQ(renderProjection(Tensor(Shape{1, 2, 2}, 0.0f), Preprocess::Raw).at<uint8_t>(1, 1), 128);
  EXPECT_THROW(renderProjection(Tensor(Shape{2, 2, 2}), Preprocess::Caffe), Error);
}

TEST(ProjectionPicture, ChannelOrderFollowsThePreset) {
  Tensor t(Shape{3, 1, 1});
  t[0] = 1.0f;  // first network channel: B for caffe, R for torchvision and raw
  t[1] = 0.0f;
  t[2] = -1.0f;
  const cv::Vec3b caffe = renderProjection(t, Preprocess::Caffe).at<cv::Vec3b>(0, 0);
  EXPECT_EQ(caffe, cv::Vec3b(255, 128, 1));
  for (Preprocess rgb : {Preprocess::Torchvision, Preprocess::Raw}) {
    const cv::Vec3b px = renderProjection(t, rgb).at<cv::Vec3b>(0, 0);
    EXPECT_EQ(px, cv::Vec3b(1, 128, 255));
  }
}

TEST(ProjectionPicture, ViewCropsToTheReceptiveFieldBesideTheSamePatch) {
  const int H = 20, W = 20;
  const cv::Rect field(5, 6, 8, 8);
  const Projection p = makeProjection(H, W, field);
  const cv::Mat input = makeInput(H, W);
  ProjectionViewOptions o;
  o.minCellSize = 32;  // 8 px crop -> x4
  const cv::Mat img = renderProjectionView(p, input, Preprocess::Caffe, {"conv1"}, o);
  const int f = 4, gap = 4, caption = 18;
  ASSERT_EQ(img.cols, 8 * f + gap + 8 * f);
  ASSERT_EQ(img.rows, 8 * f + caption);
  const cv::Mat full = renderProjection(p.image, Preprocess::Caffe);
  for (int y = 0; y < 8 * f; ++y)
    for (int x = 0; x < 8 * f; ++x) {
      ASSERT_EQ(img.at<cv::Vec3b>(y, x), full.at<cv::Vec3b>(field.y + y / f, field.x + x / f))
          << x << "," << y;
      ASSERT_EQ(img.at<cv::Vec3b>(y, 8 * f + gap + x),
                input.at<cv::Vec3b>(field.y + y / f, field.x + x / f))
          << x << "," << y;
    }
  // The scale is the whole projection's (max |v| = 3 * 19), not the crop's.
  EXPECT_EQ(img.at<cv::Vec3b>(0, 0)[0], display(float(field.x - field.y), 57.0f));

  // Uncropped, without the patch: the whole projection, x2 to reach 32 px.
  o.crop = false;
  o.withPatch = false;
  o.captions = false;
  const cv::Mat whole = renderProjectionView(p, cv::Mat(), Preprocess::Caffe, {"conv1"}, o);
  ASSERT_EQ(whole.size(), cv::Size(W * 2, H * 2));
  EXPECT_EQ(whole.at<cv::Vec3b>(2 * 13 + 1, 2 * 4), full.at<cv::Vec3b>(13, 4));

  // The input must be the network's view of the image.
  o.withPatch = true;
  EXPECT_THROW(renderProjectionView(p, makeInput(H + 1, W), Preprocess::Caffe, {"conv1"}, o),
               Error);
}

// A crop upscaled 3x or more (a 28-pixel input's 4 x 4 field) gets a larger caption when the unit
// fits at that size; a crop shown 1:1 keeps the small one.
TEST(ProjectionPicture, SmallInputsGetLargerCaptions) {
  ProjectionViewOptions o;  // cells of at least 128 px
  const Projection small = makeProjection(28, 28, cv::Rect(0, 0, 4, 4));
  const cv::Mat a = renderProjectionView(small, makeInput(28, 28), Preprocess::Caffe, {"conv1"}, o);
  ASSERT_EQ(a.cols, 128 + 4 + 128);
  EXPECT_EQ(a.rows, 128 + 23);
  const Projection big = makeProjection(160, 160, cv::Rect(0, 0, 160, 160));
  const cv::Mat b = renderProjectionView(big, makeInput(160, 160), Preprocess::Caffe, {"conv1"}, o);
  EXPECT_EQ(b.rows, 160 + 18);
}

// Columns of the caption band (below the picture) that hold any text pixel.
int lastTextColumn(const cv::Mat& img, int captionTop) {
  const cv::Vec3b background(32, 32, 32);
  int last = -1;
  for (int y = captionTop; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      if (img.at<cv::Vec3b>(y, x) != background) last = std::max(last, x);
  return last;
}

TEST(ProjectionPicture, LongLayerNamesAreShortenedSoTheCaptionFits) {
  const Projection p = makeProjection(16, 16, cv::Rect(0, 0, 16, 16), 123);
  ProjectionViewOptions o;
  o.withPatch = false;  // one 128 px cell: too narrow for the whole ONNX node name
  const std::string longName = "/features/features.10/expand1x1_activation/Relu";
  const cv::Mat img = renderProjectionView(p, cv::Mat(), Preprocess::Caffe, {longName}, o);
  ASSERT_EQ(img.cols, 128);
  const int last = lastTextColumn(img, 128);
  EXPECT_GE(last, 64);            // a caption across most of the cell
  EXPECT_LT(last, img.cols - 2);  // that ends inside it
  // A short name fits as it is; its caption ends where the long one's shortened caption does
  // not reach the edge either.
  const cv::Mat shortName = renderProjectionView(p, cv::Mat(), Preprocess::Caffe, {"c1"}, o);
  EXPECT_LT(lastTextColumn(shortName, 128), img.cols - 2);
  EXPECT_LE(lastTextColumn(shortName, 128), last);
}

TEST(ProjectionPicture, GridPutsKCellsInAboutSquareRowsAtOneScale) {
  const int H = 24, W = 24;
  std::vector<Projection> ps;
  // Five crops: the largest is 12 px, so every cell is upscaled x3 to reach 32 px.
  for (int i = 0; i < 5; ++i)
    ps.push_back(makeProjection(H, W, cv::Rect(i, i, i == 2 ? 12 : 8, i == 2 ? 12 : 8), i));
  ProjectionViewOptions o;
  o.minCellSize = 32;
  o.withPatch = false;
  o.captions = false;
  const cv::Mat grid = renderProjectionGrid(ps, cv::Mat(), Preprocess::Caffe, {"conv1"}, o);
  const int sep = 6, cell = 12 * 3;
  EXPECT_EQ(grid.cols, sep + 3 * (cell + sep));  // ceil(sqrt(5)) = 3 columns
  EXPECT_EQ(grid.rows, sep + 2 * (cell + sep));  // 2 rows
  // Cell 1 (an 8 px crop at (1, 1)) is drawn at x3, top-left aligned in its slot.
  const cv::Mat full = renderProjection(ps[1].image, Preprocess::Caffe);
  const int x0 = sep + (cell + sep), y0 = sep;
  EXPECT_EQ(grid.at<cv::Vec3b>(y0 + 3 * 5 + 1, x0 + 3 * 7 + 2), full.at<cv::Vec3b>(1 + 5, 1 + 7));
  // Beyond its 24 px the slot is background.
  EXPECT_EQ(grid.at<cv::Vec3b>(y0 + 30, x0 + 30), cv::Vec3b(20, 20, 20));
  EXPECT_THROW(renderProjectionGrid({}, cv::Mat(), Preprocess::Caffe, {}, o), Error);
  // A click anywhere inside cell i's slot finds cell i (the GUI selects its channel); the outer
  // margin and the empty sixth slot find none.
  for (int i = 0; i < 5; ++i) {
    const int sx = sep + (i % 3) * (cell + sep), sy = sep + (i / 3) * (cell + sep);
    for (cv::Point at : {cv::Point(sx, sy), cv::Point(sx + cell / 2, sy + cell / 2),
                         cv::Point(sx + cell - 1, sy + cell - 1)})
      EXPECT_EQ(projectionGridCellAt(grid.size(), 5, at), i) << "cell " << i << " at " << at;
  }
  EXPECT_EQ(projectionGridCellAt(grid.size(), 5, cv::Point(2, 2)), -1);
  EXPECT_EQ(projectionGridCellAt(grid.size(), 5,
                                 cv::Point(sep + 2 * (cell + sep) + 4, sep + cell + sep + 4)),
            -1);
  EXPECT_EQ(projectionGridCellAt(grid.size(), 5, cv::Point(grid.cols + 3, 10)), -1);
}

}  // namespace
}  // namespace zfvis

namespace zfvis {
namespace {

TEST(ProjectionPicture, OverlayDimsTheInputWhereTheProjectionIsZeroAndShowsItWhereStrong) {
  // A 3 x 4 x 4 projection that is zero except at (1, 1), where it peaks, and (2, 3), at a
  // quarter of the peak (blend weight 2 x 1/4 = 1/2).
  Projection p;
  p.image = Tensor(Shape{3, 4, 4}, 0.0f);
  p.image[0 * 16 + 1 * 4 + 1] = -2.0f;  // |v| over the channels: the largest counts
  p.image[2 * 16 + 1 * 4 + 1] = 1.0f;
  p.image[1 * 16 + 2 * 4 + 3] = 0.5f;
  cv::Mat input(4, 4, CV_8UC3, cv::Scalar(100, 150, 200));
  const cv::Mat rendered = renderProjection(p.image, Preprocess::Caffe);
  const cv::Mat out = renderProjectionOverlay(p, input, Preprocess::Caffe);
  ASSERT_EQ(out.type(), CV_8UC3);
  ASSERT_EQ(out.size(), input.size());
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(out.at<cv::Vec3b>(0, 0)[k],
              cv::saturate_cast<uchar>(0.8f * input.at<cv::Vec3b>(0, 0)[k]));
    EXPECT_EQ(out.at<cv::Vec3b>(1, 1)[k], rendered.at<cv::Vec3b>(1, 1)[k]);
    const float half =
        0.5f * 0.8f * input.at<cv::Vec3b>(2, 3)[k] + 0.5f * rendered.at<cv::Vec3b>(2, 3)[k];
    EXPECT_NEAR(out.at<cv::Vec3b>(2, 3)[k], half, 0.51f);
  }
  // Another size than the input: the rendered projection alone.
  const cv::Mat other = renderProjectionOverlay(p, cv::Mat(5, 5, CV_8UC3), Preprocess::Caffe);
  EXPECT_EQ(cv::norm(other, rendered, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace zfvis
