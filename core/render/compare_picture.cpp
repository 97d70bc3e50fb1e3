#include "core/render/compare_picture.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "core/base/error.h"

namespace zfvis {

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kTextScale = 0.5;
constexpr int kLine = 20;    // pixels per text line
constexpr int kMargin = 16;  // around the picture
constexpr int kGap = 36;     // between sides
const cv::Scalar kInk(30, 30, 30);
const cv::Scalar kPaper(250, 250, 250);

std::string format(const char* fmt, double a, double b = 0, double c = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

int textWidth(const std::string& s, double scale = kTextScale, int thickness = 1) {
  int base = 0;
  return cv::getTextSize(s, kFont, scale, thickness, &base).width;
}

void text(cv::Mat& img, const std::string& s, cv::Point at, const cv::Scalar& colour,
          double scale = kTextScale, int thickness = 1) {
  cv::putText(img, s, at, kFont, scale, colour, thickness, cv::LINE_AA);
}

std::vector<std::string> statsLines(const CompareSide& s) {
  const FilterBankStats& st = s.stats;
  std::vector<std::string> out;
  out.push_back(format("RMS median %.4f (min %.4f, max %.4f)", st.medianRms, st.minRms, st.maxRms));
  out.push_back("dead (RMS < " + format("%g", st.options.deadFraction) +
                " x median): " + std::to_string(st.deadCount) + "   RMS > " +
                format("%g", st.options.renormRadius) + ": " + std::to_string(st.aboveRadiusCount));
  out.push_back(format("power low %.2f  mid %.2f  high %.2f", st.meanBands.low, st.meanBands.mid,
                       st.meanBands.high));
  return out;
}

std::string scaleText(const CompareViewOptions& o, const FilterGridOptions& g, int pixels) {
  std::string px = ", " + std::to_string(pixels) + " px per weight for all";
  switch (o.normalization) {
    case FilterNormalization::PerLayer:
      return "one scale for all: 0 = gray, +-" + format("%.4g", g.range) +
             " (largest |w|) = white/black" + px;
    case FilterNormalization::Rms:
      return "one scale for all: 0 = gray, +-" + format("%g", kRmsSpan) + " x " +
             format("%.4g", g.range) + " (pooled RMS) = white/black; bars: filter RMS, tick " +
             format("%g", g.renormRadius) + px;
    default:
      return "each filter stretched to its own min..max (no shared scale)" + px;
  }
}

}  // namespace

std::string compareTitle(const FilterBank& b) {
  std::string t = b.layer.empty() ? std::filesystem::path(b.source).filename().string()
                                  : b.model + " " + b.layer;
  if (b.untrained) t += " (untrained)";
  return t;
}

std::string compareShapeText(const FilterBank& b) {
  std::string s = std::to_string(b.filters()) + " x " + std::to_string(b.inputChannels()) + " x " +
                  std::to_string(b.kernelH()) + "x" + std::to_string(b.kernelW()) + ", stride ";
  if (b.strideH <= 0) return s + "?";
  s += std::to_string(b.strideH);
  if (b.strideW != b.strideH) s += "x" + std::to_string(b.strideW);
  return s;
}

cv::Scalar compareColour(int i) {
  static const cv::Scalar colours[] = {
      {180, 100, 20},  // blue
      {20, 110, 230},  // orange
      {60, 150, 40},   // green
      {150, 40, 150},  // purple
  };
  return colours[static_cast<size_t>(i) % 4];
}

std::vector<FilterGridOptions> compareGridOptions(const std::vector<CompareSide>& sides,
                                                  const CompareViewOptions& o) {
  std::vector<FilterGridOptions> out;
  int kernel = 1;
  double range = 0, sumSq = 0, count = 0, axis = 0.1;
  for (const CompareSide& s : sides) {
    checkFilterBank(s.bank.weights, compareTitle(s.bank));
    FilterGridOptions g;
    g.normalization = o.normalization;
    g.channelOrder = s.bank.channelOrder;
    g.colourInput = s.bank.colourInput;
    kernel = std::max({kernel, s.bank.kernelH(), s.bank.kernelW()});
    const double r = filterDisplayRange(s.bank.weights, g);
    if (o.normalization == FilterNormalization::Rms) {
      // Pool the mean squares: R^2 weighted by the number of displayed values.
      const FilterChannels ch = resolveFilterChannels(s.bank.weights.shape(), g);
      double n = static_cast<double>(s.bank.weights.numel());
      if (ch != FilterChannels::Rgb && ch != FilterChannels::PerInput) n /= s.bank.inputChannels();
      sumSq += r * r * n;
      count += n;
    } else {
      range = std::max(range, r);
    }
    axis = std::max(axis, s.stats.maxRms);
    out.push_back(g);
  }
  if (o.normalization == FilterNormalization::Rms && count > 0) range = std::sqrt(sumSq / count);
  const int scale = o.scale > 0 ? o.scale : autoFilterScale(kernel, kernel);
  for (FilterGridOptions& g : out) {
    g.scale = scale;
    g.range = range;
    g.rmsAxisMax = axis * 1.1;
  }
  return out;
}

cv::Mat renderCompareView(const std::vector<CompareSide>& sides, const CompareViewOptions& o) {
  if (sides.empty()) throw Error("compare view: no filter banks to draw");
  std::vector<FilterGridOptions> opts = compareGridOptions(sides, o);
  std::vector<cv::Mat> grids;
  std::vector<std::vector<std::string>> lines;
  std::vector<int> widths;
  int gridsHeight = 0, statsRows = 0;
  for (size_t i = 0; i < sides.size(); ++i) {
    grids.push_back(renderFilterGrid(sides[i].bank.weights, opts[i]));
    std::vector<std::string> l = statsLines(sides[i]);
    int w = grids.back().cols;
    w = std::max(w, textWidth(compareTitle(sides[i].bank), 0.6, 2));
    w = std::max(w, textWidth(compareShapeText(sides[i].bank)));
    for (const std::string& s : l) w = std::max(w, textWidth(s));
    widths.push_back(w);
    gridsHeight = std::max(gridsHeight, grids.back().rows);
    statsRows = std::max(statsRows, static_cast<int>(l.size()));
    lines.push_back(std::move(l));
  }
  const std::string header = scaleText(o, opts[0], opts[0].scale);
  int sidesWidth = -kGap;
  for (int w : widths) sidesWidth += w + kGap;

  cv::Mat plot;
  if (o.spectrumPlot) {
    SpectrumPlotOptions po;
    po.lowEdge = sides[0].stats.options.lowEdge;
    po.highEdge = sides[0].stats.options.highEdge;
    po.width = std::max(po.width, sidesWidth);
    plot = renderSpectrumPlot(compareSpectrumCurves(sides), po);
  }
  const int width = 2 * kMargin + std::max({sidesWidth, textWidth(header), plot.cols});
  const int titleTop = kMargin + kLine + 8;  // below the header line
  const int gridTop = titleTop + 2 * kLine + 6;
  const int statsTop = gridTop + gridsHeight + 8;
  const int plotTop = statsTop + statsRows * kLine + 16;
  const int height = plotTop + (plot.empty() ? 0 : plot.rows + kMargin);
  cv::Mat img(height, width, CV_8UC3, kPaper);

  text(img, header, {kMargin, kMargin + 14}, kInk);
  int x = kMargin;
  for (size_t i = 0; i < sides.size(); ++i) {
    const cv::Scalar colour = compareColour(static_cast<int>(i));
    text(img, compareTitle(sides[i].bank), {x, titleTop + 14}, colour, 0.6, 2);
    text(img, compareShapeText(sides[i].bank), {x, titleTop + kLine + 16}, kInk);
    grids[i].copyTo(img(cv::Rect(x, gridTop, grids[i].cols, grids[i].rows)));
    for (size_t k = 0; k < lines[i].size(); ++k)
      text(img, lines[i][k], {x, statsTop + 14 + static_cast<int>(k) * kLine}, kInk);
    x += widths[i] + kGap;
  }
  if (!plot.empty()) plot.copyTo(img(cv::Rect(kMargin, plotTop, plot.cols, plot.rows)));
  return img;
}

std::vector<SpectrumCurve> compareSpectrumCurves(const std::vector<CompareSide>& sides) {
  std::vector<SpectrumCurve> out;
  for (size_t i = 0; i < sides.size(); ++i) {
    const FilterBankStats& st = sides[i].stats;
    SpectrumCurve c;
    c.label = compareTitle(sides[i].bank) + " (" + std::to_string(st.kernelH) + "x" +
              std::to_string(st.kernelW) + "): low/mid/high " +
              format("%.2f/%.2f/%.2f", st.meanBands.low, st.meanBands.mid, st.meanBands.high);
    c.frequency = st.radialFrequency;
    c.power = st.radialPower;
    c.colour = compareColour(static_cast<int>(i));
    out.push_back(std::move(c));
  }
  return out;
}

cv::Mat renderSpectrumPlot(const std::vector<SpectrumCurve>& curves, const SpectrumPlotOptions& o) {
  const int w = std::max(o.width, 320), h = std::max(o.height, 240);
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 84, right = w - 20, top = 44, bottom = h - 56;
  const cv::Rect area(left, top, right - left, bottom - top);

  // Ranges: x from 0 to the highest frequency (at least Nyquist), y in whole decades.
  double xMax = 1.0, yMax = 0, yMin = std::numeric_limits<double>::infinity();
  for (const SpectrumCurve& c : curves) {
    for (double f : c.frequency) xMax = std::max(xMax, f);
    for (double p : c.power)
      if (p > 0 && std::isfinite(p)) {
        yMax = std::max(yMax, p);
        yMin = std::min(yMin, p);
      }
  }
  int decHi = yMax > 0 ? static_cast<int>(std::ceil(std::log10(yMax) - 1e-9)) : 0;
  int decLo = yMax > 0 ? static_cast<int>(std::floor(std::log10(yMin) + 1e-9)) : -3;
  decLo = std::max(decLo, decHi - 6);
  if (decLo >= decHi) decLo = decHi - 1;
  auto px = [&](double f) { return left + static_cast<int>(std::lround((f / xMax) * area.width)); };
  auto py = [&](double p) {
    double t = (std::log10(p) - decLo) / (decHi - decLo);
    return bottom - static_cast<int>(std::lround(std::clamp(t, 0.0, 1.0) * area.height));
  };

  // Band regions with their names.
  const double edges[4] = {0.0, o.lowEdge, o.highEdge, xMax};
  const char* names[3] = {"low", "mid", "high"};
  const cv::Scalar shades[3] = {{238, 246, 238}, {226, 244, 252}, {250, 238, 236}};
  for (int b = 0; b < 3; ++b) {
    int x0 = px(std::min(edges[b], xMax)), x1 = px(std::min(edges[b + 1], xMax));
    if (x1 <= x0) continue;
    cv::rectangle(img, cv::Rect(x0, top, x1 - x0, area.height), shades[b], cv::FILLED);
    text(img, names[b], {x0 + 6, top + 16}, cv::Scalar(110, 110, 110), 0.45);
  }
  // Decade grid lines and labels.
  for (int d = decLo; d <= decHi; ++d) {
    int y = py(std::pow(10.0, d));
    cv::line(img, {left, y}, {right, y}, cv::Scalar(215, 215, 215), 1);
    std::string label = "1e" + std::to_string(d);
    text(img, label, {left - 8 - textWidth(label, 0.45), y + 5}, kInk, 0.45);
  }
  // Nyquist marker.
  for (int y = top; y < bottom; y += 8)
    cv::line(img, {px(1.0), y}, {px(1.0), std::min(bottom, y + 4)}, cv::Scalar(120, 120, 120), 1);
  text(img, "Nyquist", {px(1.0) + 4, bottom - 8}, cv::Scalar(110, 110, 110), 0.45);
  // Axes, x ticks.
  cv::rectangle(img, area, kInk, 1);
  for (double f = 0; f <= xMax + 1e-9; f += 0.25) {
    int x = px(f);
    cv::line(img, {x, bottom}, {x, bottom + 5}, kInk, 1);
    std::string label = format("%.2f", f);
    text(img, label, {x - textWidth(label, 0.45) / 2, bottom + 20}, kInk, 0.45);
  }
  const std::string xLabel = "radial frequency (fraction of Nyquist; 1 = 0.5 cycles per pixel)";
  text(img, xLabel, {left + (area.width - textWidth(xLabel)) / 2, h - 10}, kInk);
  // Vertical y label: drawn on a strip, rotated counter-clockwise.
  {
    const std::string yLabel = "mean power per frequency sample (log)";
    cv::Mat strip(22, textWidth(yLabel) + 8, CV_8UC3, cv::Scalar(255, 255, 255));
    text(strip, yLabel, {4, 16}, kInk);
    cv::Mat rotated;
    cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
    int y0 = std::max(0, top + (area.height - rotated.rows) / 2);
    cv::Rect dst(6, y0, rotated.cols, std::min(rotated.rows, h - y0));
    rotated(cv::Rect(0, 0, dst.width, dst.height)).copyTo(img(dst));
  }
  text(img, o.title, {left, 26}, kInk, 0.55);

  // Curves with point markers (points with power <= 0 are gaps).
  for (const SpectrumCurve& c : curves) {
    std::vector<cv::Point> run;
    auto flush = [&] {
      if (run.size() > 1) cv::polylines(img, run, false, c.colour, 2, cv::LINE_AA);
      run.clear();
    };
    for (size_t k = 0; k < c.frequency.size() && k < c.power.size(); ++k) {
      if (!(c.power[k] > 0) || !std::isfinite(c.power[k])) {
        flush();
        continue;
      }
      cv::Point p(px(c.frequency[k]), py(c.power[k]));
      run.push_back(p);
      cv::circle(img, p, 3, c.colour, cv::FILLED, cv::LINE_AA);
    }
    flush();
  }
  // Legend, top right inside the plot.
  if (!curves.empty()) {
    int lw = 0;
    for (const SpectrumCurve& c : curves) lw = std::max(lw, textWidth(c.label, 0.45));
    cv::Rect box(right - lw - 54, top + 26, lw + 46, static_cast<int>(curves.size()) * 20 + 10);
    box.x = std::max(box.x, left + 2);
    cv::rectangle(img, box, cv::Scalar(255, 255, 255), cv::FILLED);
    cv::rectangle(img, box, cv::Scalar(160, 160, 160), 1);
    for (size_t i = 0; i < curves.size(); ++i) {
      int y = box.y + 16 + static_cast<int>(i) * 20;
      cv::line(img, {box.x + 8, y - 4}, {box.x + 32, y - 4}, curves[i].colour, 2, cv::LINE_AA);
      cv::circle(img, {box.x + 20, y - 4}, 3, curves[i].colour, cv::FILLED, cv::LINE_AA);
      text(img, curves[i].label, {box.x + 38, y}, kInk, 0.45);
    }
  }
  return img;
}

}  // namespace zfvis
