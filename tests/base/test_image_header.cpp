// Image sizes read from headers before decoding: every format OpenCV writes here is recognised
// with the size OpenCV decodes, oversized images are refused before a decoder sees them, damaged
// files give one error line quoting the codec and nothing else reaches stderr.
#include <gtest/gtest.h>

#include <zlib.h>

#include <opencv2/imgcodecs.hpp>

#include "core/base/error.h"
#include "core/base/image_header.h"
#include "core/model/image_input.h"

namespace zfvis {
namespace {

std::string encode(const std::string& ext, const cv::Mat& m) {
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(ext, m, bytes)) << ext;
  return std::string(bytes.begin(), bytes.end());
}

void putBe32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = char((v >> (24 - 8 * i)) & 0xff);
}

// A PNG whose IHDR declares width x height (CRC fixed up), followed by `rest`'s chunks.
std::string pngDeclaring(uint32_t width, uint32_t height) {
  std::string png = encode(".png", cv::Mat(2, 3, CV_8UC1, cv::Scalar(0)));
  putBe32(png, 16, width);
  putBe32(png, 20, height);
  putBe32(png, 29, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(png.data() + 12), 17)));
  return png;
}

// The error decodeImageBgr throws (collecting codec output, as zfvis-cli does), and what reached
// stderr meanwhile.
std::pair<std::string, std::string> decodeError(const std::string& bytes,
                                                int64_t maxPixels = kDefaultMaxImagePixels) {
  ImageReadOptions options;
  options.maxPixels = maxPixels;
  options.captureCodecOutput = true;
  std::string message = "no error";
  ::testing::internal::CaptureStderr();
  try {
    decodeImageBgr(bytes, "'x'", options);
  } catch (const Error& e) {
    message = e.what();
  }
  return {message, ::testing::internal::GetCapturedStderr()};
}

TEST(ImageHeader, EveryFormatOpenCvWritesIsRecognisedWithItsSize) {
  cv::Mat colour(37, 53, CV_8UC3), grey(37, 53, CV_8UC1), wide(37, 53, CV_16UC3);
  cv::RNG(3).fill(colour, cv::RNG::UNIFORM, 0, 256);
  cv::RNG(4).fill(grey, cv::RNG::UNIFORM, 0, 256);
  cv::RNG(5).fill(wide, cv::RNG::UNIFORM, 0, 65536);
  cv::Mat hdr;
  colour.convertTo(hdr, CV_32FC3, 1.0 / 255);
  struct Case {
    std::string ext, format;
    cv::Mat image;
  };
  for (const Case& c : std::vector<Case>{{".png", "PNG", colour},
                                         {".png", "PNG", wide},
                                         {".jpg", "JPEG", colour},
                                         {".bmp", "BMP", colour},
                                         {".tif", "TIFF", colour},
                                         {".webp", "WebP", colour},
                                         {".ppm", "PNM", colour},
                                         {".pgm", "PNM", grey},
                                         {".pbm", "PNM", grey},
                                         {".pam", "PAM", colour},
                                         {".pfm", "PFM", hdr},
                                         {".ras", "Sun raster", colour},
                                         {".hdr", "HDR", hdr},
                                         {".jp2", "JPEG 2000", colour}}) {
    const std::string bytes = encode(c.ext, c.image);
    const ImageHeader h = readImageHeader(bytes);
    EXPECT_EQ(h.format, c.format) << c.ext;
    EXPECT_EQ(h.width, 53) << c.ext;
    EXPECT_EQ(h.height, 37) << c.ext;
    const cv::Mat decoded = decodeImageBgr(bytes, c.ext);
    EXPECT_EQ(decoded.size(), cv::Size(53, 37)) << c.ext;
  }
  // Lossless WebP (quality above 100) has its own header layout.
  std::vector<uchar> lossless;
  ASSERT_TRUE(cv::imencode(".webp", colour, lossless, {cv::IMWRITE_WEBP_QUALITY, 101}));
  const ImageHeader h = readImageHeader(std::string(lossless.begin(), lossless.end()));
  EXPECT_EQ(h.format, "WebP");
  EXPECT_EQ(h.width, 53);
  EXPECT_EQ(h.height, 37);
}

TEST(ImageHeader, HandMadeHeadersOfTheRarerLayouts) {
  // BigTIFF, big-endian, one IFD entry each for width (LONG8) and height (SHORT).
  std::string big("MM\0+\0\x08\0\0\0\0\0\0\0\0\0\x10", 16);
  big += std::string("\0\0\0\0\0\0\0\x02", 8);
  big += std::string("\x01\x00\0\x10\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\x75\x30", 20);  // 30000
  big += std::string("\x01\x01\0\x03\0\0\0\0\0\0\0\x01\x4e\x20\0\0\0\0\0\0", 20);  // 20000
  ImageHeader h = readImageHeader(big);
  EXPECT_EQ(h.format, "TIFF");
  EXPECT_EQ(h.width, 30000);
  EXPECT_EQ(h.height, 20000);
  // PAM with comments, PNM with a comment between the numbers.
  h = readImageHeader("P7\n# made by hand\nWIDTH 7\nHEIGHT 9\nDEPTH 3\nMAXVAL 255\nENDHDR\n");
  EXPECT_EQ(h.format, "PAM");
  EXPECT_EQ(h.width * 100 + h.height, 709);
  h = readImageHeader("P6 12 # width\n 34\n255\n");
  EXPECT_EQ(h.width * 100 + h.height, 1234);
  // Radiance: "-Y rows +X columns".
  h = readImageHeader("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 40 +X 70\n");
  EXPECT_EQ(h.format, "HDR");
  EXPECT_EQ(h.width * 100 + h.height, 7040);
}

TEST(ImageHeader, UnknownAndDamagedHeaders) {
  EXPECT_EQ(readImageHeader("GIF89a\x01\0\x01\0").format, "");
  EXPECT_EQ(readImageHeader(std::string("\x76\x2f\x31\x01", 4)).format, "");  // OpenEXR
  EXPECT_EQ(readImageHeader("hello").format, "");
  EXPECT_EQ(readImageHeader("").format, "");
  // Recognised, but without a usable size: cut short, zero width, 2^31 and more.
  const std::string png = pngDeclaring(5, 5);
  EXPECT_EQ(readImageHeader(png.substr(0, 20)).format, "PNG");
  EXPECT_EQ(readImageHeader(png.substr(0, 20)).width, 0);
  EXPECT_EQ(readImageHeader(pngDeclaring(0, 5)).width, 0);
  EXPECT_EQ(readImageHeader(pngDeclaring(0x80000000u, 5)).width, 0);
  EXPECT_EQ(readImageHeader(std::string("\xff\xd8\xff\xd9", 4)).width, 0);  // JPEG without SOF
  // A JPEG header is found after other segments.
  const ImageHeader j = readImageHeader(encode(".jpg", cv::Mat(1, 20000, CV_8UC1, cv::Scalar(9))));
  EXPECT_EQ(j.width * 10 + j.height, 200001);
}

TEST(ImageHeader, ImagesAboveThePixelLimitAreRefusedBeforeDecoding) {
  // 30000 x 30000 declared in 60-odd bytes: refused from the header alone (decoding would need
  // 2.7 GB before failing on the missing data).
  auto [message, err] = decodeError(pngDeclaring(30000, 30000));
  EXPECT_EQ(message,
            "cannot read image 'x': 30000 x 30000 = 900000000 pixels is more than the limit of "
            "128000000 (raise it with --max-pixels)");
  EXPECT_EQ(err, "");
  // The limit is the caller's: a 6-pixel image passes 6 and is refused at 5.
  const std::string six = encode(".png", cv::Mat(2, 3, CV_8UC3, cv::Scalar(1, 2, 3)));
  EXPECT_EQ(decodeImageBgr(six, "six", {6, false}).size(), cv::Size(3, 2));
  EXPECT_EQ(decodeError(six, 5).first,
            "cannot read image 'x': 3 x 2 = 6 pixels is more than the limit of 5 (raise it with "
            "--max-pixels)");
}

TEST(ImageHeader, CodecMessagesBecomeOneErrorLineAndNeverReachStderr) {
  // A bad IHDR CRC, a damaged compressed stream and an invalid bit depth: libpng prints up to four
  // "libpng warning/error" lines for these on its own.
  std::string crc = pngDeclaring(3, 2);
  crc[29] = char(crc[29] ^ 0x55);
  auto [m1, e1] = decodeError(crc);
  EXPECT_EQ(m1, "cannot read image 'x': the PNG data is damaged (libpng error: IHDR: CRC error)");
  EXPECT_EQ(e1, "");

  cv::Mat noise(64, 64, CV_8UC3);
  cv::RNG(9).fill(noise, cv::RNG::UNIFORM, 0, 256);
  std::string flipped = encode(".png", noise);
  for (size_t i = 200; i < 240; ++i) flipped[i] = char(~flipped[i]);
  auto [m2, e2] = decodeError(flipped);
  EXPECT_EQ(m2.rfind("cannot read image 'x': the PNG data is damaged (libpng error: ", 0), 0u)
      << m2;
  EXPECT_EQ(e2, "");

  std::string depth = pngDeclaring(3, 2);
  depth[24] = 7;  // bit depth 7
  putBe32(depth, 29, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(depth.data() + 12), 17)));
  auto [m3, e3] = decodeError(depth);
  EXPECT_EQ(m3, "cannot read image 'x': the PNG data is damaged (libpng error: Invalid IHDR data)");
  EXPECT_EQ(e3, "");

  // Without collecting (the GUI, where other threads may write to stderr meanwhile) the failure is
  // the same one Error without the codec's words, which libpng prints itself.
  ::testing::internal::CaptureStderr();
  std::string uncollected = "no error";
  try {
    decodeImageBgr(crc, "'x'");
  } catch (const Error& e) {
    uncollected = e.what();
  }
  EXPECT_EQ(uncollected, "cannot read image 'x': the PNG data is damaged (the decoder gave up)");
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("libpng error: IHDR: CRC error"),
            std::string::npos);

  // Output other code writes to stderr before and after a decode is untouched.
  ::testing::internal::CaptureStderr();
  std::fputs("before\n", stderr);
  EXPECT_THROW(decodeImageBgr(crc, "'x'", {kDefaultMaxImagePixels, true}), Error);
  std::fputs("after\n", stderr);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "before\nafter\n");
}

}  // namespace
}  // namespace zfvis
