#include "core/render/filter_grid.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/analysis/compare/filter_stats.h"
#include "core/base/error.h"

namespace zfvis {

namespace {

constexpr double kMaxPixels = 100e6;             // refuse larger images
constexpr double kAutoPixels = 50e6;             // auto scale shrinks tiles to stay below this
constexpr int kMinTilePixels = 33;               // auto scale: tiles at least this big
constexpr int64_t kMaxTiles = int64_t(1) << 24;  // refuse more tiles
constexpr int64_t kAutoPerInputTiles = 16384;    // Auto: per-input tiles up to this many
const cv::Vec3b kBackground(40, 40, 40);

struct Dims {
  int o, i, kh, kw;
};

Dims dimsOf(const Shape& s) {
  if (s.rank() != 4 || s[0] <= 0 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0)
    throw Error("filter grid: expected filters O x I x kH x kW, got shape " +
                (s.rank() ? s.str() : std::string("()")));
  return {static_cast<int>(s[0]), static_cast<int>(s[1]), static_cast<int>(s[2]),
          static_cast<int>(s[3])};
}

int tilesPerFilter(FilterChannels c, const Dims& d) {
  return c == FilterChannels::PerInput ? d.i : 1;
}

// A column count that divides n near sqrt(n) (so groups such as AlexNet's 2 x 48 filters fill
// whole rows), else ceil(sqrt(n)).
int squareishColumns(int n) {
  double s = std::sqrt(static_cast<double>(n));
  for (int c = static_cast<int>(std::ceil(s)); c <= static_cast<int>(1.5 * s); ++c)
    if (n % c == 0) return c;
  return std::max(1, static_cast<int>(std::ceil(s)));
}

// The planes a filter shows and how to read a value of tile t at (y, x).
struct FilterView {
  const Tensor& w;
  Dims d;
  FilterChannels channels;
  int single;

  const float* plane(int f, int c) const {
    return w.data() + (static_cast<int64_t>(f) * d.i + c) * d.kh * d.kw;
  }
  // Gray value of tile `tile` (within filter f) at k = y * kW + x.
  float gray(int f, int tile, int k) const {
    switch (channels) {
      case FilterChannels::PerInput:
        return plane(f, tile)[k];
      case FilterChannels::Single:
        return plane(f, single)[k];
      case FilterChannels::Mean: {
        double s = 0;
        for (int c = 0; c < d.i; ++c) s += plane(f, c)[k];
        return static_cast<float>(s / d.i);
      }
      default:
        return 0.0f;
    }
  }
  // Calls fn(value) for every displayed value of filter f.
  template <typename Fn>
  void forEachValue(int f, Fn fn) const {
    const int plane = d.kh * d.kw;
    if (channels == FilterChannels::Rgb || channels == FilterChannels::PerInput) {
      for (int c = 0; c < d.i; ++c)
        for (int k = 0; k < plane; ++k) fn(this->plane(f, c)[k]);
    } else {
      for (int k = 0; k < plane; ++k) fn(gray(f, 0, k));
    }
  }
};

FilterView viewOf(const Tensor& w, const FilterGridOptions& o) {
  Dims d = dimsOf(w.shape());
  FilterChannels c = resolveFilterChannels(w.shape(), o);
  return {w, d, c, o.channels == FilterChannels::Single ? o.inputChannel : 0};
}

uint8_t toByte(double t) {
  if (!(t >= 0.0)) t = 0.0;
  return static_cast<uint8_t>(std::lround(std::min(t, 1.0) * 255.0));
}

}  // namespace

std::string_view filterNormalizationName(FilterNormalization n) {
  switch (n) {
    case FilterNormalization::PerFilter:
      return "per-filter";
    case FilterNormalization::PerLayer:
      return "per-layer";
    default:
      return "rms";
  }
}

FilterNormalization parseFilterNormalization(std::string_view name) {
  if (name == "filter" || name == "per-filter") return FilterNormalization::PerFilter;
  if (name == "layer" || name == "per-layer") return FilterNormalization::PerLayer;
  if (name == "rms") return FilterNormalization::Rms;
  throw UsageError("unknown normalisation '" + std::string(name) +
                   "' (expected filter, layer or rms)");
}

FilterChannels resolveFilterChannels(const Shape& weights, const FilterGridOptions& o) {
  Dims d = dimsOf(weights);
  FilterChannels c = o.channels;
  if (c == FilterChannels::Auto) {
    if (d.i == 3 && o.colourInput)
      c = FilterChannels::Rgb;
    else if (d.i == 1)
      c = FilterChannels::Single;
    else if (static_cast<int64_t>(d.o) * d.i <= kAutoPerInputTiles)
      c = FilterChannels::PerInput;
    else
      c = FilterChannels::Mean;
  }
  if (c == FilterChannels::Rgb && d.i != 3)
    throw Error("filter grid: RGB tiles need 3 input channels, the filters have " +
                std::to_string(d.i) + " (" + weights.str() + ")");
  if (c == FilterChannels::Single && o.channels == FilterChannels::Single &&
      (o.inputChannel < 0 || o.inputChannel >= d.i))
    throw Error("filter grid: input channel " + std::to_string(o.inputChannel) +
                " out of range, the filters have " + std::to_string(d.i) + " (" + weights.str() +
                ")");
  return c;
}

int autoFilterScale(int kernelH, int kernelW) {
  int k = std::max(1, std::max(kernelH, kernelW));
  return std::clamp((kMinTilePixels + k - 1) / k, 1, kMinTilePixels);
}

GridLayout filterGridLayout(const Shape& weights, const FilterGridOptions& o) {
  Dims d = dimsOf(weights);
  FilterChannels ch = resolveFilterChannels(weights, o);
  const int per = tilesPerFilter(ch, d);
  GridLayout g;
  if (static_cast<int64_t>(d.o) * per > kMaxTiles)
    throw Error("filter grid: " + std::to_string(static_cast<int64_t>(d.o) * per) + " tiles for " +
                weights.str() + " are too many (at most " + std::to_string(kMaxTiles) +
                "); show one input channel or the mean instead");
  g.count = d.o * per;
  g.separator = std::max(0, o.separator);
  if (o.columns > 0) {
    g.columns = (o.columns + per - 1) / per * per;
  } else if (per == 1) {
    g.columns = squareishColumns(d.o);
  } else {
    double k = std::sqrt(static_cast<double>(d.o) * per) / per;
    g.columns = std::clamp(static_cast<int>(std::lround(k)), 1, d.o) * per;
  }
  g.columns = std::max(1, std::min(g.columns, g.count));
  g.rows = (g.count + g.columns - 1) / g.columns;
  const int bar = o.normalization == FilterNormalization::Rms ? kRmsBarRows : 0;
  auto pixels = [&](int s) {
    return (g.separator + g.columns * (double(d.kw) * s + g.separator)) *
           (g.separator + g.rows * (double(d.kh) * s + bar + g.separator));
  };
  int scale = o.scale;
  if (scale <= 0) {
    scale = autoFilterScale(d.kh, d.kw);
    while (scale > 1 && pixels(scale) > kAutoPixels) --scale;
  }
  if (pixels(scale) > kMaxPixels)
    throw Error("filter grid: " + std::to_string(g.count) + " tiles of " + std::to_string(d.kh) +
                " x " + std::to_string(d.kw) + " at scale " + std::to_string(scale) +
                " exceed 100 megapixels (" + weights.str() +
                "); show one input channel or the mean instead");
  g.cellWidth = d.kw * scale;
  g.cellHeight = d.kh * scale + bar;
  return g;
}

FilterCellInfo filterCellInfo(const Tensor& weights, const FilterGridOptions& o, int cell) {
  Dims d = dimsOf(weights.shape());
  FilterChannels ch = resolveFilterChannels(weights.shape(), o);
  const int per = tilesPerFilter(ch, d);
  FilterCellInfo info;
  if (cell < 0 || cell >= static_cast<int64_t>(d.o) * per) return info;
  info.filter = cell / per;
  info.inputChannel = ch == FilterChannels::PerInput ? cell % per
                      : ch == FilterChannels::Single
                          ? (o.channels == FilterChannels::Single ? o.inputChannel : 0)
                          : -1;
  const int64_t n = static_cast<int64_t>(d.i) * d.kh * d.kw;
  const float* w = weights.data() + info.filter * n;
  double sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += double(w[k]) * w[k];
  info.rms = std::sqrt(sum / static_cast<double>(n));
  return info;
}

double filterDisplayRange(const Tensor& weights, const FilterGridOptions& o) {
  FilterView v = viewOf(weights, o);
  if (o.normalization == FilterNormalization::PerFilter) return 0.0;
  double maxAbs = 0, sumSq = 0;
  int64_t count = 0;
  for (int f = 0; f < v.d.o; ++f)
    v.forEachValue(f, [&](float x) {
      maxAbs = std::max(maxAbs, std::abs(double(x)));
      sumSq += double(x) * x;
      ++count;
    });
  if (o.normalization == FilterNormalization::PerLayer) return maxAbs;
  return count ? std::sqrt(sumSq / static_cast<double>(count)) : 0.0;
}

cv::Mat renderFilterGrid(const Tensor& weights, const FilterGridOptions& o) {
  FilterView v = viewOf(weights, o);
  const Dims& d = v.d;
  GridLayout g = filterGridLayout(weights.shape(), o);
  const int per = tilesPerFilter(v.channels, d);
  const int scale = (g.cellWidth) / d.kw;
  cv::Mat img(g.size(), CV_8UC3, cv::Scalar(kBackground[0], kBackground[1], kBackground[2]));

  // The layer scale: t = 0.5 + 0.5 * value / half.
  double half = o.range > 0 ? o.range : filterDisplayRange(weights, o);
  if (o.normalization == FilterNormalization::Rms) half *= kRmsSpan;

  const std::vector<double> rms = filterRms(weights);
  double axisMax = o.rmsAxisMax;
  if (!(axisMax > 0)) {
    axisMax = o.renormRadius;
    for (double r : rms) axisMax = std::max(axisMax, r);
    axisMax *= 1.1;
  }
  // Rgb tiles: which weight channel feeds the image's B, G and R.
  const int srcOf[3] = {o.channelOrder == ChannelOrder::Bgr ? 0 : 2, 1,
                        o.channelOrder == ChannelOrder::Bgr ? 2 : 0};

  for (int f = 0; f < d.o; ++f) {
    double lo = 0, scaleT = 0, offset = 0.5;
    if (o.normalization == FilterNormalization::PerFilter) {
      double mn = std::numeric_limits<double>::infinity(), mx = -mn;
      v.forEachValue(f, [&](float x) {
        mn = std::min(mn, double(x));
        mx = std::max(mx, double(x));
      });
      if (mx > mn) {
        lo = mn;
        scaleT = 1.0 / (mx - mn);
        offset = 0.0;
      }
    } else if (half > 0) {
      scaleT = 0.5 / half;
    }
    auto intensity = [&](float x) { return toByte(offset + (x - lo) * scaleT); };

    for (int t = 0; t < per; ++t) {
      cv::Rect cell = g.cellRect(f * per + t);
      for (int y = 0; y < d.kh; ++y)
        for (int x = 0; x < d.kw; ++x) {
          const int k = y * d.kw + x;
          cv::Vec3b px;
          if (v.channels == FilterChannels::Rgb) {
            for (int c = 0; c < 3; ++c) px[c] = intensity(v.plane(f, srcOf[c])[k]);
          } else {
            uint8_t b = intensity(v.gray(f, t, k));
            px = {b, b, b};
          }
          for (int yy = 0; yy < scale; ++yy) {
            auto* row = img.ptr<cv::Vec3b>(cell.y + y * scale + yy) + cell.x + x * scale;
            std::fill(row, row + scale, px);
          }
        }
      if (o.normalization == FilterNormalization::Rms) {
        // RMS bar: 1 gap row, then 4 rows of track, fill and the radius tick.
        const int top = cell.y + d.kh * scale + 1, h = kRmsBarRows - 1, w = cell.width;
        const double r = rms[static_cast<size_t>(f)];
        const int fill = static_cast<int>(std::lround(w * std::min(1.0, r / axisMax)));
        const bool above = r > o.renormRadius;
        cv::rectangle(img, cv::Rect(cell.x, top, w, h), cv::Scalar(80, 80, 80), cv::FILLED);
        if (fill > 0)
          cv::rectangle(img, cv::Rect(cell.x, top, fill, h),
                        above ? cv::Scalar(40, 40, 230) : cv::Scalar(215, 215, 215), cv::FILLED);
        if (o.renormRadius > 0 && o.renormRadius <= axisMax) {
          int tx = std::min(w - 1, static_cast<int>(std::lround(w * o.renormRadius / axisMax)));
          cv::rectangle(img, cv::Rect(cell.x + tx, top, 1, h), cv::Scalar(0, 220, 255), cv::FILLED);
        }
      }
    }
  }
  return img;
}

}  // namespace zfvis
