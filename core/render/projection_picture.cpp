#include "core/render/projection_picture.h"

#include "core/base/position_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "core/base/error.h"

namespace zfvis {

namespace {

// Nearest-neighbour upscaling by the smallest integer factor that reaches `minSize`.
constexpr double kCaptionScale = 0.4;            // caption font (OpenCV Hershey scale)
constexpr double kSmallInputCaptionScale = 0.5;  // ... when the crop is upscaled 3x or more

int scaleFor(int side, int minSize) {
  return std::max(1, (minSize + std::max(1, side) - 1) / std::max(1, side));
}

cv::Mat upscale(const cv::Mat& m, int minSize, int fixed) {
  const int f = fixed > 0 ? fixed : scaleFor(std::min(m.cols, m.rows), minSize);
  if (f == 1) return m;
  cv::Mat out;
  cv::resize(m, out, cv::Size(m.cols * f, m.rows * f), 0, 0, cv::INTER_NEAREST);
  return out;
}

cv::Mat toBgr(const cv::Mat& m) {
  if (m.channels() == 3) return m;
  cv::Mat out;
  cv::cvtColor(m, out, cv::COLOR_GRAY2BGR);
  return out;
}

// "#<channel> (y <y>, x <x>) <activation>".
std::string unitText(const Projection& p) {
  char value[32];
  std::snprintf(value, sizeof value, "%.3g", double(p.activation));
  return "#" + std::to_string(p.channel) + " " + positionText(p.position.y, p.position.x) + " " +
         value;
}

int textWidth(const std::string& text, double fontScale) {
  int baseline = 0;
  return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, fontScale, 1, &baseline).width;
}

// "<layer> #<channel> (y <y>, x <x>) <activation>", the layer name shortened from the left ("...")
// until the text fits `width` pixels: long ONNX node names must not hide the channel; in a cell
// too narrow for the unit, the activation value goes too.
std::string caption(const Projection& p, const std::vector<std::string>& layerNames, int width,
                    double fontScale) {
  const std::string unit = unitText(p);
  const std::string name =
      p.layer < layerNames.size() ? layerNames[p.layer] : std::to_string(p.layer);
  auto fits = [&](const std::string& text) {
    int baseline = 0;
    return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, fontScale, 1, &baseline).width <= width;
  };
  std::string text = name + " " + unit;
  for (size_t cut = 1; !fits(text) && cut < name.size(); ++cut)
    text = "..." + name.substr(cut) + " " + unit;
  if (fits(text)) return text;
  if (fits(unit)) return unit;
  // A narrow cell: the channel and its position, without the value.
  return "#" + std::to_string(p.channel) + " " + positionText(p.position.y, p.position.x);
}

}  // namespace

cv::Mat renderProjection(const Tensor& projection, Preprocess preset, float scale) {
  const Shape& s = projection.shape();
  if (!(s.rank() == 3 || (s.rank() == 4 && s[0] == 1)))
    throw Error("renderProjection: expected C x H x W, got " + s.str());
  const int64_t C = s[s.rank() - 3], H = s[s.rank() - 2], W = s[s.rank() - 1];
  if (C != 1 && C != 3) throw Error("renderProjection: expected 1 or 3 channels, got " + s.str());
  if (scale <= 0) scale = projection.maxAbs();
  if (scale <= 0) scale = 1.0f;
  const bool rgb = preset != Preprocess::Caffe;
  cv::Mat out(int(H), int(W), C == 3 ? CV_8UC3 : CV_8UC1);
  for (int64_t c = 0; c < C; ++c) {
    const int dst = C == 1 ? 0 : (rgb ? 2 - int(c) : int(c));
    const float* in = projection.data() + c * H * W;
    for (int64_t y = 0; y < H; ++y) {
      uint8_t* row = out.ptr<uint8_t>(int(y));
      for (int64_t x = 0; x < W; ++x)
        row[x * C + dst] = cv::saturate_cast<uint8_t>(128.0f + 127.0f * in[y * W + x] / scale);
    }
  }
  return out;
}

cv::Mat renderProjectionView(const Projection& p, const cv::Mat& input, Preprocess preset,
                             const std::vector<std::string>& layerNames,
                             const ProjectionViewOptions& o) {
  cv::Mat full = toBgr(renderProjection(p.image, preset));
  cv::Rect box(0, 0, full.cols, full.rows);
  if (o.crop && p.field.area() > 0) box &= p.field;
  cv::Mat proj = upscale(full(box), o.minCellSize, o.scale);
  cv::Mat patch;
  if (o.withPatch && !input.empty()) {
    cv::Mat in = toBgr(input);
    if (in.size() != full.size())
      throw Error("renderProjectionView: input image " + std::to_string(in.cols) + "x" +
                  std::to_string(in.rows) + " does not match the projection " +
                  std::to_string(full.cols) + "x" + std::to_string(full.rows));
    patch = upscale(in(box), o.minCellSize, o.scale);
  }
  const int gap = patch.empty() ? 0 : 4;
  const int width = proj.cols + (patch.empty() ? 0 : gap + patch.cols);
  // Small inputs (a 32-pixel image, a 3 x 4 receptive field) are upscaled many times: their
  // captions grow too, or they would be a sliver under big blocks of pixels.
  const int factor =
      o.scale > 0 ? o.scale : scaleFor(std::min(box.width, box.height), o.minCellSize);
  const bool bigger =
      factor >= 3 && textWidth(caption(p, layerNames, width - 6, kSmallInputCaptionScale),
                               kSmallInputCaptionScale) <= width - 6;
  const double fontScale = bigger ? kSmallInputCaptionScale : kCaptionScale;
  const int captionHeight = o.captions ? int(std::lround(18 * fontScale / kCaptionScale)) : 0;
  cv::Mat out(proj.rows + captionHeight, std::max(width, 1), CV_8UC3, cv::Scalar(32, 32, 32));
  proj.copyTo(out(cv::Rect(0, 0, proj.cols, proj.rows)));
  if (!patch.empty()) patch.copyTo(out(cv::Rect(proj.cols + gap, 0, patch.cols, patch.rows)));
  if (o.captions) {
    cv::putText(out, caption(p, layerNames, out.cols - 6, fontScale),
                cv::Point(3, proj.rows + captionHeight - 5), cv::FONT_HERSHEY_SIMPLEX, fontScale,
                cv::Scalar(230, 230, 230), 1, cv::LINE_AA);
  }
  return out;
}

cv::Mat renderProjectionGrid(const std::vector<Projection>& ps, const cv::Mat& input,
                             Preprocess preset, const std::vector<std::string>& layerNames,
                             const ProjectionViewOptions& o) {
  if (ps.empty()) throw Error("renderProjectionGrid: no projections");
  // One scale for every cell, from the largest crop.
  ProjectionViewOptions cellOptions = o;
  if (cellOptions.scale <= 0) {
    int side = 1;
    for (const Projection& p : ps) {
      cv::Rect box(0, 0, int(p.image.shape()[p.image.shape().rank() - 1]),
                   int(p.image.shape()[p.image.shape().rank() - 2]));
      if (o.crop && p.field.area() > 0) box &= p.field;
      side = std::max(side, std::max(box.width, box.height));
    }
    cellOptions.scale = scaleFor(side, o.minCellSize);
  }
  std::vector<cv::Mat> cells;
  int cw = 0, ch = 0;
  for (const Projection& p : ps) {
    cells.push_back(renderProjectionView(p, input, preset, layerNames, cellOptions));
    cw = std::max(cw, cells.back().cols);
    ch = std::max(ch, cells.back().rows);
  }
  const int n = int(cells.size());
  const int cols = projectionGridColumns(n);
  const int rows = (n + cols - 1) / cols;
  const int sep = kProjectionGridGap;
  cv::Mat out(sep + rows * (ch + sep), sep + cols * (cw + sep), CV_8UC3, cv::Scalar(20, 20, 20));
  for (int i = 0; i < n; ++i) {
    const int r = i / cols, c = i % cols;
    cells[size_t(i)].copyTo(out(cv::Rect(sep + c * (cw + sep), sep + r * (ch + sep),
                                         cells[size_t(i)].cols, cells[size_t(i)].rows)));
  }
  return out;
}

int projectionGridColumns(int count) {
  return std::max(1, int(std::ceil(std::sqrt(double(count)))));
}

int projectionGridCellAt(cv::Size gridSize, int count, cv::Point pixel) {
  if (count <= 0) return -1;
  const int columns = projectionGridColumns(count), rows = (count + columns - 1) / columns;
  const int sep = kProjectionGridGap;
  const int col = (pixel.x - sep) * columns / std::max(1, gridSize.width - sep);
  const int row = (pixel.y - sep) * rows / std::max(1, gridSize.height - sep);
  const int i = row * columns + col;
  return pixel.x >= sep && pixel.y >= sep && col < columns && row < rows && i < count ? i : -1;
}

// The input with the projection laid over it where it is strong: every pixel blends toward the
// rendered projection by |v| / max |v| (largest over the channels), so the picture stays visible
// where the projection is zero.
cv::Mat renderProjectionOverlay(const Projection& p, const cv::Mat& input, Preprocess preset) {
  const cv::Mat projection = renderProjection(p.image, preset);
  if (input.empty() || input.size() != projection.size()) return projection;
  const Shape& s = p.image.shape();
  const int64_t c = s[s.rank() - 3], h = s[s.rank() - 2], w = s[s.rank() - 1];
  std::vector<float> magnitude(size_t(h * w), 0.0f);
  float top = 0;
  for (int64_t k = 0; k < c; ++k)
    for (int64_t i = 0; i < h * w; ++i) {
      magnitude[size_t(i)] = std::max(magnitude[size_t(i)], std::abs(p.image[k * h * w + i]));
      top = std::max(top, magnitude[size_t(i)]);
    }
  cv::Mat base = input;
  if (base.channels() == 1) cv::cvtColor(base, base, cv::COLOR_GRAY2BGR);
  cv::Mat proj = projection;
  if (proj.channels() == 1) cv::cvtColor(proj, proj, cv::COLOR_GRAY2BGR);
  cv::Mat out(base.size(), CV_8UC3);
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x) {
      const float a =
          top > 0 ? std::min(1.0f, 2.0f * magnitude[size_t(y) * size_t(w) + size_t(x)] / top) : 0;
      const auto& b = base.at<cv::Vec3b>(y, x);
      const auto& q = proj.at<cv::Vec3b>(y, x);
      for (int k = 0; k < 3; ++k)
        out.at<cv::Vec3b>(y, x)[k] = cv::saturate_cast<uchar>((1 - a) * b[k] * 0.8f + a * q[k]);
    }
  return out;
}

}  // namespace zfvis
