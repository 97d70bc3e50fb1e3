#include "core/model/image_input.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/file_types.h"
#include "core/base/image_header.h"
#include "core/base/npy.h"
#include "core/base/stderr_capture.h"

namespace zfvis {

namespace {

// Per-preset channel order, scale and normalisation: value = (pixel * scale - mean[c]) / std[c]
// where c indexes the network's channels.
struct PresetConstants {
  bool rgb;
  float scale;
  float mean[3];
  float stddev[3];
};

PresetConstants constantsFor(Preprocess p) {
  switch (p) {
    case Preprocess::Caffe:
      return {false, 1.0f, {104.0f, 117.0f, 123.0f}, {1, 1, 1}};
    case Preprocess::Torchvision:
      return {true, 1.0f / 255.0f, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    case Preprocess::Raw:
      return {true, 1.0f / 255.0f, {0, 0, 0}, {1, 1, 1}};
  }
  return {false, 1.0f, {0, 0, 0}, {1, 1, 1}};
}

bool looksTruncatedJpeg(const std::string& b) {
  if (b.size() < 4 || static_cast<unsigned char>(b[0]) != 0xFF ||
      static_cast<unsigned char>(b[1]) != 0xD8)
    return false;
  size_t end = b.size();
  while (end > 2 && (b[end - 1] == '\0' || b[end - 1] == '\n' || b[end - 1] == '\r')) --end;
  return !(static_cast<unsigned char>(b[end - 2]) == 0xFF &&
           static_cast<unsigned char>(b[end - 1]) == 0xD9);
}

bool looksTruncatedPng(const std::string& b) {
  static const char sig[] = "\x89PNG\r\n\x1a\n";
  if (b.size() < 8 || b.compare(0, 8, std::string(sig, 8)) != 0) return false;
  return b.size() < 20 || b.find("IEND") == std::string::npos;
}

cv::Mat to8Bit(const cv::Mat& m) {
  if (m.depth() == CV_8U) return m;
  cv::Mat out;
  switch (m.depth()) {
    case CV_16U:
      m.convertTo(out, CV_8U, 1.0 / 257.0);
      break;
    case CV_32F:
    case CV_64F:
      m.convertTo(out, CV_8U, 255.0);
      break;
    default:
      m.convertTo(out, CV_8U);
      break;
  }
  return out;
}

// 4-channel (8- or 16-bit or float) BGRA composited over white into 8-bit BGR, row by row so no
// float copy of the whole image is made: out = round(255 * (c * a + (1 - a))) with c, a in 0..1.
cv::Mat compositeOverWhite(const cv::Mat& bgra) {
  const double unit = bgra.depth() == CV_16U  ? 1.0 / 65535.0
                      : bgra.depth() == CV_8U ? 1.0 / 255.0
                                              : 1.0;
  cv::Mat out(bgra.rows, bgra.cols, CV_8UC3);
  cv::Mat row;
  for (int y = 0; y < bgra.rows; ++y) {
    bgra.row(y).convertTo(row, CV_32F, unit);
    const float* in = row.ptr<float>(0);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int x = 0; x < bgra.cols; ++x) {
      const float a = in[4 * x + 3];
      for (int c = 0; c < 3; ++c)
        dst[3 * x + c] = cv::saturate_cast<uint8_t>((in[4 * x + c] * a + (1.0f - a)) * 255.0f);
    }
  }
  return out;
}

// The source taps (index, weight) of output pixels [offset, offset + count) when an axis of `src`
// pixels is scaled to `dst` pixels, with OpenCV's formulas, so the crop equals cv::resize of the
// whole image followed by the crop, up to float rounding: INTER_AREA (shrinking: each output
// pixel averages its footprint [J * s, (J + 1) * s) with partial edge pixels, s = src / dst) or
// INTER_LINEAR (enlarging: half-pixel centres, edge pixels repeated).
struct AxisTaps {
  std::vector<int> start;  // taps of output pixel i: [start[i], start[i + 1])
  std::vector<int> index;  // source pixel
  std::vector<float> weight;
};

AxisTaps axisTaps(int src, int64_t dst, int64_t offset, int count, bool area) {
  AxisTaps t;
  const double s = 1.0 / (double(dst) / src);  // as cv::resize computes its scale
  auto tap = [&t](int index, float weight) {
    t.index.push_back(index);
    t.weight.push_back(weight);
  };
  for (int i = 0; i < count; ++i) {
    t.start.push_back(int(t.index.size()));
    const int64_t j = offset + i;
    if (area) {
      const double f1 = double(j) * s, f2 = f1 + s;
      const double cell = std::min(s, src - f1);
      int s1 = static_cast<int>(std::ceil(f1)), s2 = static_cast<int>(std::floor(f2));
      s2 = std::min(s2, src - 1);
      s1 = std::min(s1, s2);
      if (s1 - f1 > 1e-3) tap(s1 - 1, float((s1 - f1) / cell));
      for (int k = s1; k < s2; ++k) tap(k, float(1.0 / cell));
      if (f2 - s2 > 1e-3) tap(s2, float(std::min(std::min(f2 - s2, 1.0), cell) / cell));
    } else {
      // In double, where OpenCV rounds to float first: the same weights for ordinary sizes, and
      // still exact where float has no fraction left (coordinates beyond 2^24).
      const double fd = (double(j) + 0.5) * s - 0.5;
      int k = static_cast<int>(std::floor(fd));
      float f = float(fd - k);
      if (k < 0) k = 0, f = 0.0f;
      if (k >= src - 1) k = src - 1, f = 0.0f;
      tap(k, 1.0f - f);
      if (f > 0.0f) tap(k + 1, f);
    }
  }
  t.start.push_back(int(t.index.size()));
  return t;
}

// cv::imdecode; a failure becomes one Error, quoting what the codec printed when that is
// collected (see StderrCapture).
cv::Mat decode(const cv::Mat& buf, int flags, const ImageHeader& header, const std::string& what,
               bool captureCodecOutput) {
  cv::Mat out;
  std::string failure;
  std::optional<StderrCapture> capture;
  if (captureCodecOutput) capture.emplace();
  try {
    out = cv::imdecode(buf, flags);
  } catch (const cv::Exception& e) {
    failure = e.err;
  }
  const std::string reason = capture ? codecReason(capture->finish()) : std::string();
  if (out.empty()) {
    if (failure.empty()) failure = reason.empty() ? "the decoder gave up" : reason;
    throw Error("cannot read image " + what + ": the " + header.format + " data is damaged (" +
                failure + ")");
  }
  return out;
}

}  // namespace

cv::Mat decodeImageBgr(const std::string& bytes, const std::string& what,
                       const ImageReadOptions& options) {
  const int64_t maxPixels = options.maxPixels;
  if (bytes.empty()) throw Error("cannot read image " + what + ": the file is empty");
  // Only formats whose header gives the size reach a decoder, and only within the pixel limit.
  const ImageHeader header = readImageHeader(bytes);
  if (header.format.empty())
    throw Error("cannot read image " + what +
                ": not an image zfvis reads (expected PNG, JPEG, BMP, TIFF, WebP, PNM, PFM, Sun "
                "raster, Radiance HDR or JPEG 2000)");
  if (header.width <= 0 || header.height <= 0)
    throw Error("cannot read image " + what + ": its " + header.format +
                " header is damaged (no valid width and height)");
  if (header.width > maxPixels / header.height)
    throw Error("cannot read image " + what + ": " + std::to_string(header.width) + " x " +
                std::to_string(header.height) + " = " +
                std::to_string(header.width * header.height) +
                " pixels is more than the limit of " + std::to_string(maxPixels) +
                " (raise it with --max-pixels)");
  if (looksTruncatedJpeg(bytes) || looksTruncatedPng(bytes))
    throw Error("cannot read image " + what + ": the file is truncated");
  cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat raw = decode(buf, cv::IMREAD_UNCHANGED, header, what, options.captureCodecOutput);
  if (int64_t(raw.total()) > maxPixels)  // the decoder disagrees with the header: refuse anyway
    throw Error("cannot read image " + what + ": it decodes to " + std::to_string(raw.cols) +
                " x " + std::to_string(raw.rows) + " pixels, more than its header declares");
  if (raw.channels() == 4) return compositeOverWhite(raw);
  // Decode again with orientation applied (IMREAD_UNCHANGED ignores EXIF orientation); the first
  // decode is released first so the two never hold memory together.
  raw.release();
  return to8Bit(decode(buf, cv::IMREAD_ANYDEPTH | cv::IMREAD_COLOR, header, what,
                       options.captureCodecOutput));
}

cv::Mat loadImageBgr(const std::filesystem::path& path, const ImageReadOptions& options) {
  std::string bytes;
  try {
    bytes = readFile(path, size_t(1) << 30);
  } catch (const Error& e) {
    throw Error(std::string("cannot read image: ") + e.what());
  }
  return decodeImageBgr(bytes, "'" + path.string() + "'", options);
}

cv::Mat resizeAndCrop(const cv::Mat& bgr, int height, int width) {
  if (bgr.depth() != CV_8U || bgr.empty() || height < 1 || width < 1)
    throw Error("resizeAndCrop: expected a non-empty 8-bit image and a positive size");
  // The scaled size (64-bit: a 1 x 20,000,000 strip scales to 227 x 4.5e9) and the crop offsets;
  // only the crop's pixels are computed.
  const double scale = std::max(double(height) / bgr.rows, double(width) / bgr.cols);
  const int64_t rh = std::max<int64_t>(height, std::llround(bgr.rows * scale));
  const int64_t rw = std::max<int64_t>(width, std::llround(bgr.cols * scale));
  if (rh == bgr.rows && rw == bgr.cols)
    return bgr(cv::Rect(int((rw - width) / 2), int((rh - height) / 2), width, height)).clone();
  const bool area = scale < 1.0;
  const AxisTaps rows = axisTaps(bgr.rows, rh, (rh - height) / 2, height, area);
  const AxisTaps cols = axisTaps(bgr.cols, rw, (rw - width) / 2, width, area);
  const int cn = bgr.channels();
  const int colLo = cols.index.front(), colHi = cols.index.back();  // source columns read
  std::vector<float> line(size_t(colHi - colLo + 1) * cn);
  cv::Mat out(height, width, bgr.type());
  for (int y = 0; y < height; ++y) {
    // Vertical pass over the source columns the crop reads, then the horizontal taps.
    std::fill(line.begin(), line.end(), 0.0f);
    for (int t = rows.start[y]; t < rows.start[y + 1]; ++t) {
      const uint8_t* src = bgr.ptr<uint8_t>(rows.index[t]) + size_t(colLo) * cn;
      const float w = rows.weight[t];
      for (size_t k = 0; k < line.size(); ++k) line[k] += w * src[k];
    }
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < cn; ++c) {
        float v = 0.0f;
        for (int t = cols.start[x]; t < cols.start[x + 1]; ++t)
          v += cols.weight[t] * line[size_t(cols.index[t] - colLo) * cn + c];
        dst[x * cn + c] = cv::saturate_cast<uint8_t>(v);
      }
  }
  return out;
}

Tensor imageToTensor(const cv::Mat& image, int channels, Preprocess preset) {
  if (channels != 1 && channels != 3)
    throw Error("images can only feed networks with 1 or 3 input channels, not " +
                std::to_string(channels) + " (give a .npy tensor instead)");
  cv::Mat src = image;
  if (channels == 3 && src.channels() == 1) cv::cvtColor(src, src, cv::COLOR_GRAY2BGR);
  if (channels == 1 && src.channels() == 3) cv::cvtColor(src, src, cv::COLOR_BGR2GRAY);
  PresetConstants k = constantsFor(preset);
  const int h = src.rows, w = src.cols;
  Tensor t(Shape{1, channels, h, w});
  for (int c = 0; c < channels; ++c) {
    // Network channel c reads BGR channel (2 - c) for RGB presets.
    int srcChannel = channels == 1 ? 0 : (k.rgb ? 2 - c : c);
    float mean = channels == 1 ? (k.mean[0] + k.mean[1] + k.mean[2]) / 3 : k.mean[c];
    float sd = channels == 1 ? (k.stddev[0] + k.stddev[1] + k.stddev[2]) / 3 : k.stddev[c];
    float* out = t.data() + int64_t(c) * h * w;
    for (int y = 0; y < h; ++y) {
      const uint8_t* row = src.ptr<uint8_t>(y);
      for (int x = 0; x < w; ++x)
        out[y * w + x] = (row[x * channels + srcChannel] * k.scale - mean) / sd;
    }
  }
  return t;
}

cv::Mat tensorToImage(const Tensor& input, Preprocess preset) {
  const Shape& s = input.shape();
  if (!(s.rank() == 3 || (s.rank() == 4 && s[0] == 1)))
    throw Error("tensorToImage: expected C x H x W, got " + s.str());
  const int64_t c = s[s.rank() - 3], h = s[s.rank() - 2], w = s[s.rank() - 1];
  if (c != 1 && c != 3) throw Error("tensorToImage: expected 1 or 3 channels, got " + s.str());
  PresetConstants k = constantsFor(preset);
  cv::Mat out(static_cast<int>(h), static_cast<int>(w), c == 3 ? CV_8UC3 : CV_8UC1);
  for (int64_t ch = 0; ch < c; ++ch) {
    int dst = c == 1 ? 0 : (k.rgb ? 2 - int(ch) : int(ch));
    float mean = c == 1 ? (k.mean[0] + k.mean[1] + k.mean[2]) / 3 : k.mean[ch];
    float sd = c == 1 ? (k.stddev[0] + k.stddev[1] + k.stddev[2]) / 3 : k.stddev[ch];
    const float* in = input.data() + ch * h * w;
    for (int64_t y = 0; y < h; ++y) {
      uint8_t* row = out.ptr<uint8_t>(static_cast<int>(y));
      for (int64_t x = 0; x < w; ++x) {
        float v = (in[y * w + x] * sd + mean) / k.scale;
        row[x * c + dst] = cv::saturate_cast<uint8_t>(v);
      }
    }
  }
  return out;
}

namespace {

void requireImageInput(const InputSpec& spec, const std::string& what) {
  if (spec.shape.rank() != 3)
    throw Error("network input '" + spec.name + "' has shape " + spec.shape.str() +
                ", which is not an image (C x H x W); give a .npy tensor instead of '" + what +
                "'");
}

}  // namespace

Tensor loadNetworkInput(const std::filesystem::path& path, const InputSpec& spec,
                        const ImageReadOptions& options) {
  if (hasNpyExtension(path)) {
    Tensor t = readNpy(path);
    Shape want = spec.shape.withBatch(1);
    if (t.shape() == spec.shape) t.reshape(want);
    if (t.shape() != want)
      throw Error("input '" + path.string() + "' has shape " + t.shape().str() + ", expected " +
                  spec.shape.str() + " or " + want.str() + " for network input '" + spec.name +
                  "'");
    return t;
  }
  requireImageInput(spec, path.string());
  return imageAsNetworkInput(loadImageBgr(path, options), spec, path.string()).tensor;
}

NetworkImage imageAsNetworkInput(const cv::Mat& bgr, const InputSpec& spec,
                                 const std::string& what) {
  requireImageInput(spec, what);
  NetworkImage out;
  out.view = resizeAndCrop(bgr, static_cast<int>(spec.shape[1]), static_cast<int>(spec.shape[2]));
  out.tensor = imageToTensor(out.view, static_cast<int>(spec.shape[0]), spec.preprocess);
  return out;
}

bool hasInputExtension(const std::filesystem::path& file) {
  return hasImageExtension(file) || hasNpyExtension(file);
}

}  // namespace zfvis
