// Image loading and the preprocessing presets on images with known pixel values.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/base/error.h"
#include "core/base/npy.h"
#include "core/model/image_input.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;

class ImageInput : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() /
            ("zfvis-image-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  fs::path path(const std::string& name) const { return m_dir / name; }
  fs::path m_dir;
};

// A 4 x 6 BGR image whose pixel (y, x) is (B, G, R) = (10 + x, 100 + y, 200 + x + y).
cv::Mat knownImage() {
  cv::Mat m(4, 6, CV_8UC3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 6; ++x)
      m.at<cv::Vec3b>(y, x) = {uint8_t(10 + x), uint8_t(100 + y), uint8_t(200 + x + y)};
  return m;
}

TEST_F(ImageInput, CaffePresetIsBgrMinusMeanAfterCenterCrop) {
  ASSERT_TRUE(cv::imwrite(path("k.png").string(), knownImage()));
  InputSpec spec{"data", {3, 4, 4}, Preprocess::Caffe};
  Tensor t = loadNetworkInput(path("k.png"), spec);
  ASSERT_EQ(t.shape(), (Shape{1, 3, 4, 4}));
  // Width 6 is cropped to 4 around the centre: columns 1..4.
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      EXPECT_FLOAT_EQ(t.at(0, 0, y, x), float(10 + x + 1) - 104.0f);
      EXPECT_FLOAT_EQ(t.at(0, 1, y, x), float(100 + y) - 117.0f);
      EXPECT_FLOAT_EQ(t.at(0, 2, y, x), float(200 + x + 1 + y) - 123.0f);
    }
}

TEST_F(ImageInput, TorchvisionPresetIsRgbNormalised) {
  ASSERT_TRUE(cv::imwrite(path("k.png").string(), knownImage()));
  Tensor t = loadNetworkInput(path("k.png"), {"data", {3, 4, 4}, Preprocess::Torchvision});
  // float32: v / 255, minus the mean, divided by the std: three roundings of values below 4
  // (and the float constants' own), so 8 u of 4 at most.
  const double tol = 8 * ref::kUnitRoundoff * 4;
  EXPECT_NEAR(t.at(0, 0, 2, 3), ((200 + 4 + 2) / 255.0 - 0.485) / 0.229, tol);  // R
  EXPECT_NEAR(t.at(0, 1, 2, 3), ((100 + 2) / 255.0 - 0.456) / 0.224, tol);      // G
  EXPECT_NEAR(t.at(0, 2, 2, 3), ((10 + 4) / 255.0 - 0.406) / 0.225, tol);       // B
}

TEST_F(ImageInput, RawPresetIsRgbInUnitRange) {
  ASSERT_TRUE(cv::imwrite(path("k.png").string(), knownImage()));
  Tensor t = loadNetworkInput(path("k.png"), {"data", {3, 4, 4}, Preprocess::Raw});
  // One float32 division (or a multiplication by a rounded 1/255): two roundings of values <= 1.
  EXPECT_NEAR(t.at(0, 0, 0, 0), (200 + 1) / 255.0, 2 * ref::kUnitRoundoff);
  EXPECT_NEAR(t.at(0, 2, 0, 0), (10 + 1) / 255.0, 2 * ref::kUnitRoundoff);
}

// The reference: OpenCV scales the whole image, then the centre is cropped (the definition of
// the network's view; resizeAndCrop computes only the cropped pixels).
cv::Mat wholeResizeThenCrop(const cv::Mat& bgr, int height, int width) {
  const double scale = std::max(double(height) / bgr.rows, double(width) / bgr.cols);
  const int rh = std::max(height, static_cast<int>(std::lround(bgr.rows * scale)));
  const int rw = std::max(width, static_cast<int>(std::lround(bgr.cols * scale)));
  cv::Mat resized;
  cv::resize(bgr, resized, cv::Size(rw, rh), 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  return resized(cv::Rect((rw - width) / 2, (rh - height) / 2, width, height)).clone();
}

int maxAbsDifference(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  double m = 0;
  cv::minMaxLoc(d.reshape(1), nullptr, &m);
  return int(m);
}

TEST_F(ImageInput, CropMatchesOpenCvResizeOfTheWholeImage) {
  // Random pixels (the worst case for interpolation differences) over shrinking, enlarging,
  // integer and fractional scales, wide and tall images, strips and the sample photos. Tolerance
  // 1 level: OpenCV's bilinear uses 11-bit fixed-point weights and its integer-scale area path
  // rounds halves up, where this code sums float weights and rounds to nearest.
  cv::RNG rng(11);
  struct Size {
    int rows, cols, height, width;
  };
  for (const Size& z : std::vector<Size>{{300, 451, 227, 227},
                                         {400, 600, 224, 224},
                                         {427, 640, 227, 227},
                                         {512, 512, 227, 227},
                                         {454, 908, 227, 227},
                                         {97, 301, 64, 64},
                                         {100, 150, 227, 227},
                                         {3, 200, 17, 17},
                                         {1, 2000, 16, 16},
                                         {2000, 1, 16, 16},
                                         {40, 7, 9, 5},
                                         {5, 3, 9, 9},
                                         {640, 480, 224, 200}}) {
    cv::Mat m(z.rows, z.cols, CV_8UC3);
    rng.fill(m, cv::RNG::UNIFORM, 0, 256);
    const cv::Mat got = resizeAndCrop(m, z.height, z.width);
    ASSERT_EQ(got.size(), cv::Size(z.width, z.height));
    EXPECT_LE(maxAbsDifference(got, wholeResizeThenCrop(m, z.height, z.width)), 1)
        << z.cols << " x " << z.rows << " -> " << z.width << " x " << z.height;
  }
  for (const char* name : {"chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"}) {
    const cv::Mat m = loadImageBgr(fs::path(ZFVIS_SOURCE_DIR) / "resources/images" / name);
    for (int side : {227, 224, 32})
      EXPECT_LE(maxAbsDifference(resizeAndCrop(m, side, side), wholeResizeThenCrop(m, side, side)),
                1)
          << name << " -> " << side;
  }
}

TEST_F(ImageInput, CropOfAStripTooLongToScaleWhole) {
  // 1 x 12,000,000: scaled whole it would be 227 x 2.7e9 pixels (more than OpenCV can hold). The
  // crop is the middle source pixel's width, centred on the edge where black turns white, so
  // bilinear interpolation makes it the ramp 255 * x / 227 along every row.
  cv::Mat strip(1, 12000000, CV_8UC3, cv::Scalar(0, 0, 0));
  strip(cv::Rect(6000000, 0, 6000000, 1)).setTo(cv::Scalar(255, 255, 255));
  const cv::Mat crop = resizeAndCrop(strip, 227, 227);
  ASSERT_EQ(crop.size(), cv::Size(227, 227));
  for (int y : {0, 113, 226})
    for (int x = 0; x < 227; ++x)
      EXPECT_NEAR(crop.at<cv::Vec3b>(y, x)[1], 255.0 * x / 227, 1.0) << y << ", " << x;
}

TEST_F(ImageInput, ShorterSideIsResizedThenCropped) {
  cv::Mat m(10, 20, CV_8UC3, cv::Scalar(0, 0, 0));
  m(cv::Rect(10, 0, 10, 10)).setTo(cv::Scalar(255, 255, 255));  // right half white
  ASSERT_TRUE(cv::imwrite(path("r.png").string(), m));
  cv::Mat crop = resizeAndCrop(loadImageBgr(path("r.png")), 5, 5);
  ASSERT_EQ(crop.size(), cv::Size(5, 5));
  // Resized to 5 x 10 and cropped to columns 2..6: black on the left, white on the right.
  EXPECT_EQ(crop.at<cv::Vec3b>(2, 0)[0], 0);
  EXPECT_EQ(crop.at<cv::Vec3b>(2, 4)[0], 255);
}

TEST_F(ImageInput, GraySixteenBitAndAlphaImages) {
  cv::Mat gray(3, 3, CV_8UC1, cv::Scalar(77));
  ASSERT_TRUE(cv::imwrite(path("g.png").string(), gray));
  cv::Mat g = loadImageBgr(path("g.png"));
  EXPECT_EQ(g.channels(), 3);
  EXPECT_EQ(g.at<cv::Vec3b>(1, 1), cv::Vec3b(77, 77, 77));

  cv::Mat deep(3, 3, CV_16UC3, cv::Scalar(65535, 0, 257 * 100));
  ASSERT_TRUE(cv::imwrite(path("d.png").string(), deep));
  EXPECT_EQ(loadImageBgr(path("d.png")).at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 100));

  cv::Mat rgba(3, 3, CV_8UC4, cv::Scalar(0, 0, 255, 0));  // fully transparent red
  rgba.at<cv::Vec4b>(0, 0) = {0, 0, 255, 255};            // one opaque red pixel
  ASSERT_TRUE(cv::imwrite(path("a.png").string(), rgba));
  cv::Mat a = loadImageBgr(path("a.png"));
  EXPECT_EQ(a.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(a.at<cv::Vec3b>(1, 1), cv::Vec3b(255, 255, 255));  // composited over white
}

// Inserts an EXIF APP1 segment with the given orientation right after the JPEG SOI marker.
std::string withExifOrientation(const std::vector<uchar>& jpeg, uint16_t orientation) {
  std::string tiff = std::string("II*\0", 4) + std::string("\x08\0\0\0", 4);  // header, IFD at 8
  tiff += std::string("\x01\0", 2);                                           // one entry
  tiff += std::string("\x12\x01\x03\0\x01\0\0\0", 8);  // tag 0x0112 SHORT count 1
  tiff += char(orientation & 0xff);
  tiff += std::string("\0\0\0", 3);
  tiff += std::string("\0\0\0\0", 4);  // no next IFD
  std::string body = std::string("Exif\0\0", 6) + tiff;
  size_t len = body.size() + 2;
  std::string app1 = "\xFF\xE1";
  app1 += char(len >> 8);
  app1 += char(len & 0xff);
  app1 += body;
  std::string out(jpeg.begin(), jpeg.end());
  out.insert(2, app1);
  return out;
}

TEST_F(ImageInput, ExifOrientationIsApplied) {
  cv::Mat wide(40, 80, CV_8UC3, cv::Scalar(0, 0, 0));
  wide(cv::Rect(40, 0, 40, 40)).setTo(cv::Scalar(255, 255, 255));
  std::vector<uchar> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", wide, jpeg));
  std::string bytes = withExifOrientation(jpeg, 6);  // rotate 90 degrees clockwise to display
  cv::Mat m = decodeImageBgr(bytes, "exif.jpg");
  ASSERT_EQ(m.size(), cv::Size(40, 80));
  // The white right half ends up at the bottom.
  EXPECT_LT(m.at<cv::Vec3b>(10, 20)[0], 30);
  EXPECT_GT(m.at<cv::Vec3b>(70, 20)[0], 225);
}

TEST_F(ImageInput, TruncatedMissingAndNonImageFilesAreClearErrors) {
  std::vector<uchar> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", knownImage(), jpeg));
  {
    std::ofstream f(path("t.jpg"), std::ios::binary);
    f.write(reinterpret_cast<const char*>(jpeg.data()), std::streamsize(jpeg.size() / 2));
  }
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", knownImage(), png));
  {
    std::ofstream f(path("t.png"), std::ios::binary);
    f.write(reinterpret_cast<const char*>(png.data()), std::streamsize(png.size() - 20));
  }
  {
    std::ofstream f(path("text.png"));
    f << "not an image";
  }
  InputSpec spec{"data", {3, 4, 4}, Preprocess::Caffe};
  auto message = [&](const fs::path& p) {
    try {
      loadNetworkInput(p, spec);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(path("t.jpg")).find("truncated"), std::string::npos) << message(path("t.jpg"));
  EXPECT_NE(message(path("t.png")).find("truncated"), std::string::npos) << message(path("t.png"));
  EXPECT_NE(message(path("text.png")).find("not an image"), std::string::npos);
  EXPECT_NE(message(path("missing.png")).find("no such file"), std::string::npos);
  EXPECT_NE(message(path("t.png")).find(path("t.png").string()), std::string::npos);
}

TEST_F(ImageInput, NpyInputsAreUsedAsIsAndShapeChecked) {
  Tensor chw(Shape{3, 4, 4});
  for (int64_t i = 0; i < chw.numel(); ++i) chw[i] = float(i) * 0.5f;
  writeNpy(path("x.npy"), chw);
  InputSpec spec{"data", {3, 4, 4}, Preprocess::Caffe};
  Tensor t = loadNetworkInput(path("x.npy"), spec);
  EXPECT_EQ(t.shape(), (Shape{1, 3, 4, 4}));
  EXPECT_FLOAT_EQ(t[17], 8.5f);
  writeNpy(path("bad.npy"), Tensor(Shape{3, 5, 4}));
  try {
    loadNetworkInput(path("bad.npy"), spec);
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("3 x 5 x 4"), std::string::npos) << m;
    EXPECT_NE(m.find("3 x 4 x 4"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace zfvis
