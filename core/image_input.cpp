#include "core/image_input.h"

#include <algorithm>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"

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

}  // namespace

cv::Mat decodeImageBgr(const std::string& bytes, const std::string& what) {
  if (bytes.empty()) throw Error("cannot read image " + what + ": the file is empty");
  if (looksTruncatedJpeg(bytes) || looksTruncatedPng(bytes))
    throw Error("cannot read image " + what + ": the file is truncated");
  cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat raw;
  try {
    raw = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw Error("cannot read image " + what + ": " + e.err);
  }
  if (raw.empty())
    throw Error("cannot read image " + what +
                ": not an image OpenCV can decode (expected PNG, JPEG, BMP, TIFF, WebP, ...)");
  cv::Mat bgr;
  if (raw.channels() == 4) {
    // Composite over white so transparent regions do not show whatever colour they store.
    cv::Mat f;
    raw.convertTo(
        f, CV_32F,
        raw.depth() == CV_16U ? 1.0 / 65535.0 : (raw.depth() == CV_8U ? 1.0 / 255.0 : 1.0));
    std::vector<cv::Mat> ch;
    cv::split(f, ch);
    cv::Mat inv = 1.0 - ch[3];
    for (int i = 0; i < 3; ++i) ch[i] = ch[i].mul(ch[3]) + inv;
    ch.resize(3);
    cv::merge(ch, f);
    f.convertTo(bgr, CV_8U, 255.0);
  } else {
    // Decode again with orientation applied (IMREAD_UNCHANGED ignores EXIF orientation).
    cv::Mat oriented;
    try {
      oriented = cv::imdecode(buf, cv::IMREAD_ANYDEPTH | cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
      throw Error("cannot read image " + what + ": " + e.err);
    }
    if (oriented.empty()) throw Error("cannot read image " + what + ": decoding failed");
    bgr = to8Bit(oriented);
  }
  return bgr;
}

cv::Mat loadImageBgr(const std::filesystem::path& path) {
  std::string bytes;
  try {
    bytes = readFile(path, size_t(1) << 30);
  } catch (const Error& e) {
    throw Error(std::string("cannot read image: ") + e.what());
  }
  return decodeImageBgr(bytes, "'" + path.string() + "'");
}

cv::Mat resizeAndCrop(const cv::Mat& bgr, int height, int width) {
  double scale = std::max(double(height) / bgr.rows, double(width) / bgr.cols);
  int rh = std::max(height, static_cast<int>(std::lround(bgr.rows * scale)));
  int rw = std::max(width, static_cast<int>(std::lround(bgr.cols * scale)));
  cv::Mat resized;
  if (rh == bgr.rows && rw == bgr.cols) {
    resized = bgr;
  } else {
    cv::resize(bgr, resized, cv::Size(rw, rh), 0, 0,
               scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  int y = (rh - height) / 2, x = (rw - width) / 2;
  return resized(cv::Rect(x, y, width, height)).clone();
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

Tensor loadNetworkInput(const std::filesystem::path& path, const InputSpec& spec) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  if (ext == ".npy") {
    Tensor t = readNpy(path);
    Shape want = spec.shape.withBatch(1);
    if (t.shape() == spec.shape) t.reshape(want);
    if (t.shape() != want)
      throw Error("input '" + path.string() + "' has shape " + t.shape().str() + ", expected " +
                  spec.shape.str() + " or " + want.str() + " for network input '" + spec.name +
                  "'");
    return t;
  }
  if (spec.shape.rank() != 3)
    throw Error("network input '" + spec.name + "' has shape " + spec.shape.str() +
                ", which is not an image (C x H x W); give a .npy tensor instead of '" +
                path.string() + "'");
  cv::Mat bgr = loadImageBgr(path);
  cv::Mat crop =
      resizeAndCrop(bgr, static_cast<int>(spec.shape[1]), static_cast<int>(spec.shape[2]));
  return imageToTensor(crop, static_cast<int>(spec.shape[0]), spec.preprocess);
}

}  // namespace zfvis
