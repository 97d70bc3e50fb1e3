#include "core/render/occlusion_picture.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include <opencv2/imgproc.hpp>

#include "core/base/error.h"
#include "core/base/labels.h"
#include "core/render/colormap.h"

namespace zfvis {

namespace {

const cv::Scalar kBackground(32, 32, 32);
const cv::Scalar kText(235, 235, 235);
const cv::Scalar kDimText(175, 175, 175);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.5;
constexpr int kGap = 12;
constexpr int kTitleHeight = 48;

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string shorten(std::string s, size_t n) {
  if (s.size() > n) s = s.substr(0, n - 3) + "...";
  return s;
}

void text(cv::Mat& img, const std::string& s, cv::Point at, const cv::Scalar& colour = kText,
          double scale = kFontScale) {
  cv::putText(img, s, at, kFont, scale, colour, 1, cv::LINE_AA);
}

int textWidth(const std::string& s, double scale = kFontScale) {
  int base = 0;
  return cv::getTextSize(s, kFont, scale, 1, &base).width;
}

// The input as the network sees it, H x W: the given image, or dark grey when none was given.
cv::Mat baseImage(const OcclusionResult& r, const cv::Mat& input) {
  if (input.empty()) {
    const int h = (r.rows - 1) * r.stride + r.patch, w = (r.cols - 1) * r.stride + r.patch;
    return cv::Mat(h, w, CV_8UC3, cv::Scalar(90, 90, 90));
  }
  if (input.depth() != CV_8U || (input.channels() != 1 && input.channels() != 3))
    throw Error("occlusion picture: expected an 8-bit gray or BGR input image");
  cv::Mat bgr;
  if (input.channels() == 1)
    cv::cvtColor(input, bgr, cv::COLOR_GRAY2BGR);
  else
    bgr = input;
  return bgr;
}

int displayScale(const cv::Mat& img) {
  return std::max(1, int(std::lround(400.0 / std::max(img.cols, img.rows))));
}

cv::Mat upscale(const cv::Mat& img, int s) {
  if (s == 1) return img.clone();
  cv::Mat out;
  cv::resize(img, out, cv::Size(img.cols * s, img.rows * s), 0, 0,
             s >= 4 ? cv::INTER_NEAREST : cv::INTER_LINEAR);
  return out;
}

cv::Rect scaled(const cv::Rect& r, int s) {
  return {r.x * s, r.y * s, r.width * s, r.height * s};
}

// Paints `colourOf(row, col)` into every placement's cell of `canvas` (the upscaled image),
// blended with the image; everything outside the cells is darkened.
template <typename ColourOf>
cv::Mat paintCells(const OcclusionResult& r, const cv::Mat& image, int s, double alpha,
                   ColourOf colourOf) {
  cv::Mat out;
  image.convertTo(out, -1, 0.45, 0);  // darkened: the border no patch centre reaches
  const cv::Rect bounds(0, 0, image.cols, image.rows);
  for (int i = 0; i < r.rows; ++i)
    for (int j = 0; j < r.cols; ++j) {
      const cv::Rect cell = scaled(occlusionCell(r, i, j), s) & bounds;
      if (cell.empty()) continue;
      const cv::Vec3b c = colourOf(i, j);
      for (int y = cell.y; y < cell.y + cell.height; ++y) {
        const auto* src = image.ptr<cv::Vec3b>(y);
        auto* dst = out.ptr<cv::Vec3b>(y);
        for (int x = cell.x; x < cell.x + cell.width; ++x)
          for (int k = 0; k < 3; ++k)
            dst[x][k] = cv::saturate_cast<uint8_t>(alpha * c[k] + (1.0 - alpha) * src[x][k]);
      }
    }
  return out;
}

// The placement with the smallest value (first in row-major order).
std::pair<int, int> argminPlacement(const OcclusionResult& r, const Tensor& values) {
  int64_t best = 0;
  for (int64_t k = 1; k < values.numel(); ++k)
    if (values[k] < values[best]) best = k;
  return {int(best / r.cols), int(best % r.cols)};
}

// The input panel: the image with the patch outlined at one placement.
cv::Mat inputPanel(const OcclusionResult& r, const cv::Mat& big, int s, int row, int col,
                   const std::string& label) {
  cv::Mat out = big.clone();
  const cv::Rect patch = scaled(cv::Rect(col * r.stride, row * r.stride, r.patch, r.patch), s);
  cv::rectangle(out, patch, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
  cv::rectangle(out, patch, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  const int y = patch.y > 18 ? patch.y - 6 : std::min(out.rows - 4, patch.y + patch.height + 16);
  cv::putText(out, label, cv::Point(patch.x + 2, y), kFont, 0.45, cv::Scalar(0, 0, 0), 3,
              cv::LINE_AA);
  cv::putText(out, label, cv::Point(patch.x + 2, y), kFont, 0.45, cv::Scalar(255, 255, 255), 1,
              cv::LINE_AA);
  return out;
}

// A vertical colour bar (max on top) with the range and a marked reference value.
cv::Mat colourBar(int height, float lo, float hi, float reference, const std::string& refLabel,
                  const char* fmt) {
  const int barW = 22, top = 8, bottom = height - 8;
  const std::string hiText = format(fmt, hi), loText = format(fmt, lo),
                    refText = refLabel + " " + format(fmt, reference);
  const int width =
      barW + 10 + std::max({textWidth(hiText), textWidth(loText), textWidth(refText)}) + 6;
  cv::Mat bar(height, width, CV_8UC3, kBackground);
  for (int y = top; y <= bottom; ++y) {
    const float t = float(bottom - y) / float(std::max(1, bottom - top));
    cv::line(bar, {0, y}, {barW - 1, y}, cv::Scalar(colormapBgr(Colormap::Viridis, t)));
  }
  cv::rectangle(bar, cv::Rect(0, top, barW, bottom - top + 1), kDimText, 1);
  text(bar, hiText, {barW + 6, top + 10});
  text(bar, loText, {barW + 6, bottom});
  if (std::isfinite(reference)) {
    const float t = hi > lo ? std::clamp((reference - lo) / (hi - lo), 0.0f, 1.0f) : 1.0f;
    const int y = bottom - int(std::lround(t * (bottom - top)));
    cv::line(bar, {0, y}, {barW + 4, y}, cv::Scalar(255, 255, 255), 2);
    const int ty = std::clamp(y + 5, top + 28, bottom - 20);
    text(bar, refText, {barW + 6, ty}, cv::Scalar(255, 255, 255));
  }
  return bar;
}

// Lays out [title | panels side by side], panels top-aligned.
cv::Mat compose(const std::string& title, const std::string& subtitle,
                const std::vector<cv::Mat>& panels) {
  int width = kGap, height = 0;
  for (const cv::Mat& p : panels) {
    width += p.cols + kGap;
    height = std::max(height, p.rows);
  }
  width = std::max({width, textWidth(title, 0.6) + 2 * kGap, textWidth(subtitle) + 2 * kGap});
  cv::Mat out(kTitleHeight + height + kGap, width, CV_8UC3, kBackground);
  text(out, title, {kGap, 20}, kText, 0.6);
  text(out, subtitle, {kGap, 40}, kDimText);
  int x = kGap;
  for (const cv::Mat& p : panels) {
    p.copyTo(out(cv::Rect(x, kTitleHeight, p.cols, p.rows)));
    x += p.cols + kGap;
  }
  return out;
}

std::string placementsText(const OcclusionResult& r) {
  return "patch " + std::to_string(r.patch) + ", stride " + std::to_string(r.stride) + ", " +
         std::to_string(r.rows) + " x " + std::to_string(r.cols) + " placements, fill " +
         format("%g", r.fill);
}

cv::Mat heatPicture(const OcclusionResult& r, const cv::Mat& input, const Tensor& values,
                    float reference, const std::string& title, const std::string& refLabel,
                    const char* fmt) {
  if (values.numel() != int64_t(r.rows) * r.cols || values.numel() == 0)
    throw Error("occlusion picture: expected " + std::to_string(r.rows) + " x " +
                std::to_string(r.cols) + " values, got " + values.shape().str());
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int64_t k = 0; k < values.numel(); ++k) {
    lo = std::min(lo, values[k]);
    hi = std::max(hi, values[k]);
  }
  const cv::Mat image = baseImage(r, input);
  const int s = displayScale(image);
  const cv::Mat big = upscale(image, s);
  const float range = hi - lo;
  cv::Mat heat = paintCells(r, big, s, 0.72, [&](int i, int j) {
    const float v = values[int64_t(i) * r.cols + j];
    return colormapBgr(Colormap::Viridis, range > 0 ? (v - lo) / range : 0.5f);
  });
  auto [mi, mj] = argminPlacement(r, values);
  cv::Mat left = inputPanel(r, big, s, mi, mj, "lowest");
  cv::Mat bar = colourBar(big.rows, lo, hi, reference, refLabel, fmt);
  return compose(title, placementsText(r) + "; range " + format(fmt, lo) + " .. " + format(fmt, hi),
                 {left, heat, bar});
}

}  // namespace

cv::Mat stackOcclusionPictures(const std::vector<cv::Mat>& pictures) {
  int width = 0, height = 0;
  for (const cv::Mat& p : pictures) {
    if (p.empty()) continue;
    if (p.type() != CV_8UC3) throw Error("occlusion pictures: expected 8-bit BGR pictures");
    width = std::max(width, p.cols);
    height += p.rows;
  }
  if (width == 0) return {};
  cv::Mat out(height, width, CV_8UC3, kBackground);
  int y = 0;
  for (const cv::Mat& p : pictures) {
    if (p.empty()) continue;
    p.copyTo(out(cv::Rect(0, y, p.cols, p.rows)));
    y += p.rows;
  }
  return out;
}

cv::Rect occlusionCell(const OcclusionResult& r, int row, int col) {
  const int offset = (r.patch - r.stride) / 2;
  return {col * r.stride + offset, row * r.stride + offset, r.stride, r.stride};
}

cv::Vec3b occlusionLabelColour(int slot) {
  // Distinct colours (BGR), brightest contrasts first.
  static constexpr std::array<std::array<uint8_t, 3>, 20> kColours = {{
      {48, 48, 230},   {75, 180, 60},   {25, 225, 255},  {200, 130, 0},   {48, 130, 245},
      {180, 30, 145},  {240, 240, 70},  {230, 50, 240},  {60, 245, 210},  {212, 190, 250},
      {128, 128, 0},   {255, 190, 220}, {40, 110, 170},  {200, 250, 255}, {0, 0, 128},
      {195, 255, 170}, {0, 128, 128},   {180, 215, 255}, {128, 0, 0},     {160, 160, 160},
  }};
  if (slot >= 0 && slot < int(kColours.size()))
    return {kColours[size_t(slot)][0], kColours[size_t(slot)][1], kColours[size_t(slot)][2]};
  cv::Mat hsv(1, 1, CV_8UC3,
              cv::Scalar(std::fmod(slot * 137.508, 360.0) / 2.0, 200, slot % 2 ? 200 : 255));
  cv::Mat bgr;
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  return bgr.at<cv::Vec3b>(0, 0);
}

cv::Mat renderOcclusionHeatmap(const OcclusionResult& r, const cv::Mat& input,
                               const std::vector<std::string>& names) {
  const int classes = r.classes > 0 ? r.classes : 0;
  const std::string name = shorten(classDisplayName(r.targetClass, classes, names), 48);
  return heatPicture(
      r, input, r.probability, r.baseProbability,
      "Occlusion: probability of class " + std::to_string(r.targetClass) + " (" + name + ")",
      "unoccluded", "%.4g");
}

cv::Mat renderOcclusionFeatureMap(const OcclusionResult& r, const cv::Mat& input) {
  if (r.featureActivation.empty())
    throw Error("occlusion picture: this run recorded no feature map (give a layer)");
  const std::string layer = r.layerName.empty() && r.layer ? std::to_string(*r.layer) : r.layerName;
  return heatPicture(
      r, input, r.featureActivation, r.baseFeatureActivation,
      "Occlusion: total activation of " + layer + " channel " + std::to_string(r.channel),
      "unoccluded", "%.4g");
}

cv::Mat renderOcclusionLabelMap(const OcclusionResult& r, const cv::Mat& input, int classes,
                                const std::vector<std::string>& names) {
  if (r.topClass.size() != size_t(r.rows) * size_t(r.cols) || r.topClass.empty())
    throw Error("occlusion picture: expected " + std::to_string(r.rows) + " x " +
                std::to_string(r.cols) + " labels, got " + std::to_string(r.topClass.size()));
  if (classes <= 0) classes = r.classes;
  // Classes by frequency (ties: lower index first); each gets a legend slot and a colour.
  std::map<int, int> counts;
  for (int32_t c : r.topClass) ++counts[c];
  std::vector<std::pair<int, int>> order(counts.begin(), counts.end());
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  constexpr int kMaxEntries = 24;
  const cv::Vec3b other(110, 110, 110);
  std::map<int, cv::Vec3b> colour;
  for (size_t k = 0; k < order.size(); ++k)
    colour[order[k].first] = k < size_t(kMaxEntries) ? occlusionLabelColour(int(k)) : other;

  const cv::Mat image = baseImage(r, input);
  const int s = displayScale(image);
  const cv::Mat big = upscale(image, s);
  cv::Mat labels = paintCells(r, big, s, 0.8, [&](int i, int j) {
    return colour[r.topClass[size_t(i) * size_t(r.cols) + size_t(j)]];
  });
  // How many placements change the top-1 class (in the subtitle).
  int changed = 0;
  for (int32_t c : r.topClass) changed += c != r.baseClass;

  // The legend: swatch, class, placements; the unoccluded top-1 and the target are marked.
  const int rowH = 22;
  const int entries = std::min<int>(int(order.size()), kMaxEntries);
  const bool more = int(order.size()) > kMaxEntries;
  std::vector<std::string> lines;
  int legendW = 0;
  for (int k = 0; k < entries; ++k) {
    const int c = order[size_t(k)].first;
    std::string line = std::to_string(c) + " " + shorten(classDisplayName(c, classes, names), 34) +
                       " (" + std::to_string(order[size_t(k)].second) + ")";
    if (c == r.baseClass) line += " unoccluded";
    lines.push_back(line);
    legendW = std::max(legendW, textWidth(line));
  }
  if (more) {
    int rest = 0;
    for (size_t k = size_t(kMaxEntries); k < order.size(); ++k) rest += order[k].second;
    lines.push_back("+" + std::to_string(order.size() - size_t(kMaxEntries)) + " more classes (" +
                    std::to_string(rest) + ")");
    legendW = std::max(legendW, textWidth(lines.back()));
  }
  cv::Mat legend(std::max(big.rows, int(lines.size()) * rowH + 8), 26 + legendW + 4, CV_8UC3,
                 kBackground);
  for (size_t k = 0; k < lines.size(); ++k) {
    const int y = 4 + int(k) * rowH;
    const cv::Vec3b c = k < size_t(entries) ? colour[order[k].first] : other;
    cv::rectangle(legend, cv::Rect(0, y + 3, 18, 14), cv::Scalar(c[0], c[1], c[2]), cv::FILLED);
    cv::rectangle(legend, cv::Rect(0, y + 3, 18, 14), kDimText, 1);
    const bool base = k < size_t(entries) && order[k].first == r.baseClass;
    text(legend, lines[k], {26, y + 15}, base ? cv::Scalar(255, 255, 255) : kText);
  }
  auto [mi, mj] = argminPlacement(r, r.probability);
  cv::Mat left = inputPanel(r, big, s, mi, mj, "lowest p");
  const std::string title = "Occlusion: most probable class per placement (" +
                            std::to_string(order.size()) + " classes occur)";
  const std::string subtitle = placementsText(r) + "; unoccluded top-1 " +
                               std::to_string(r.baseClass) + " (" +
                               shorten(classDisplayName(r.baseClass, classes, names), 30) + "), " +
                               std::to_string(changed) + " placements change it";
  return compose(title, subtitle, {left, labels, legend});
}

}  // namespace zfvis
