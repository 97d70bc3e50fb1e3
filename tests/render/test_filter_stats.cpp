// Filter bank statistics on constructed banks whose answers are known: RMS and threshold counts,
// dead filters, spectra against a naive DFT, band shares of blobs, checkerboards and cosines.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include <nlohmann/json.hpp>

#include "core/analysis/compare/filter_stats.h"
#include "core/base/error.h"
#include "tests/render/bank_util.h"

namespace zfvis {
namespace {

// Tolerances: the statistics are double arithmetic (unit roundoff 1.1e-16) on float32 weights of
// magnitude <= 1, and nothing here runs through oneDNN, so they hold on every CPU.
// A few dozen double operations on values of order 1: well inside 1e-12.
constexpr double kFewDoubleOps = 1e-12;
// DFT sums of up to 32 x 32 x 3 terms in cv::dft's order with its twiddle factors (each within a
// few 1e-16): about 3072 * 1e-16 = 3e-13 of the total, with room for OpenCV's SIMD variants.
constexpr double kDftRelative = 1e-9;

using test::checker;
using test::gaussian;
using test::makeBank;

// Naive DFT power (independent of cv::dft): sum over planes of |sum_{y,x} w e^{-2 pi i
// (vy+ux)/N}|^2, row-major [v * N + u].
std::vector<double> naivePower(const Tensor& bank, int f, int n) {
  const int in = static_cast<int>(bank.shape()[1]), kh = static_cast<int>(bank.shape()[2]),
            kw = static_cast<int>(bank.shape()[3]);
  std::vector<double> p(static_cast<size_t>(n) * n, 0.0);
  for (int c = 0; c < in; ++c)
    for (int v = 0; v < n; ++v)
      for (int u = 0; u < n; ++u) {
        double re = 0, im = 0;
        for (int y = 0; y < kh; ++y)
          for (int x = 0; x < kw; ++x) {
            double a = -2.0 * std::numbers::pi * (double(v) * y + double(u) * x) / n;
            re += bank.at(f, c, y, x) * std::cos(a);
            im += bank.at(f, c, y, x) * std::sin(a);
          }
        p[static_cast<size_t>(v) * n + u] += re * re + im * im;
      }
  return p;
}

// Band shares from a naive spectrum with the documented edges (1/3, 2/3 of Nyquist).
BandShares naiveBands(const std::vector<double>& p, int n) {
  BandShares b;
  double total = 0;
  for (int v = 0; v < n; ++v)
    for (int u = 0; u < n; ++u) {
      double fv = v < n / 2 ? v : v - n, fu = u < n / 2 ? u : u - n;
      double rho = std::hypot(fv, fu) / (n / 2.0);
      double x = p[static_cast<size_t>(v) * n + u];
      total += x;
      if (rho < 1.0 / 3.0)
        b.low += x;
      else if (rho < 2.0 / 3.0)
        b.mid += x;
      else
        b.high += x;
    }
  b.low /= total;
  b.mid /= total;
  b.high /= total;
  return b;
}

TEST(FilterStats, RmsOfKnownBankIsExact) {
  // Filter f holds +-a_f in a checker pattern: its RMS is exactly a_f.
  const float a[] = {0.001f, 0.05f, 0.1f, 0.15f, 0.3f};
  Tensor w = makeBank(5, 3, 7, 7, [&](int o, int i, int y, int x) {
    return a[o] * ((i + y + x) % 2 ? 1.0f : -1.0f);
  });
  std::vector<double> rms = filterRms(w);
  ASSERT_EQ(rms.size(), 5u);
  for (int f = 0; f < 5; ++f) EXPECT_NEAR(rms[f], double(a[f]), kFewDoubleOps) << "filter " << f;
  FilterBankStats s = computeFilterBankStats(w);
  EXPECT_NEAR(s.medianRms, double(a[2]), kFewDoubleOps);
  EXPECT_NEAR(s.deadThreshold, 0.1 * double(a[2]), kFewDoubleOps);
  EXPECT_EQ(s.deadCount, 1);  // 0.001 < 0.01
  EXPECT_TRUE(s.perFilter[0].dead);
  // Above ZF's radius 0.1: 0.15 and 0.3 only (0.1f is 0.100000001, so compare with it exactly).
  EXPECT_EQ(s.perFilter[2].aboveRadius, double(0.1f) > 0.1);
  EXPECT_TRUE(s.perFilter[3].aboveRadius);
  EXPECT_TRUE(s.perFilter[4].aboveRadius);
  EXPECT_FALSE(s.perFilter[1].aboveRadius);
  EXPECT_EQ(s.aboveRadiusCount, 2 + (double(0.1f) > 0.1));
  double sumSq = 0;
  for (float v : a) sumSq += double(v) * v;
  EXPECT_NEAR(s.layerRms, std::sqrt(sumSq / 5), kFewDoubleOps);
  EXPECT_NEAR(s.minRms, double(a[0]), kFewDoubleOps);
  EXPECT_NEAR(s.maxRms, double(a[4]), kFewDoubleOps);
}

TEST(FilterStats, ThresholdCountsFollowTheOptions) {
  Tensor w = makeBank(4, 1, 3, 3, [](int o, int, int, int) { return 0.25f * float(o + 1); });
  FilterStatsOptions o;
  o.renormRadius = 0.6;  // RMS 0.25, 0.5, 0.75, 1.0 -> two above
  o.deadFraction = 0.5;  // median 0.625 -> threshold 0.3125 -> one dead
  FilterBankStats s = computeFilterBankStats(w, o);
  EXPECT_EQ(s.aboveRadiusCount, 2);
  EXPECT_EQ(s.deadCount, 1);
  EXPECT_NEAR(s.deadThreshold, 0.3125, kFewDoubleOps);
}

TEST(FilterStats, ZeroBankIsAllDeadWithoutSpectrum) {
  Tensor w(Shape{6, 3, 11, 11});
  FilterBankStats s = computeFilterBankStats(w);
  EXPECT_EQ(s.deadCount, 6);
  EXPECT_EQ(s.aboveRadiusCount, 0);
  EXPECT_EQ(s.meanBands.low + s.meanBands.mid + s.meanBands.high, 0.0);
  for (double p : s.radialPower) EXPECT_EQ(p, 0.0);
}

TEST(FilterStats, ZeroFiltersAmongLiveOnesAreDead) {
  Tensor w = makeBank(
      4, 3, 5, 5, [](int o, int, int y, int x) { return o == 2 ? 0.0f : 0.1f * checker(y, x); });
  FilterBankStats s = computeFilterBankStats(w);
  EXPECT_EQ(s.deadCount, 1);
  EXPECT_TRUE(s.perFilter[2].dead);
  EXPECT_EQ(s.perFilter[2].bands.low + s.perFilter[2].bands.high, 0.0);
}

TEST(FilterStats, PowerSpectrumMatchesNaiveDft) {
  // Irregular 3-channel 7x5 filter.
  Tensor w = makeBank(1, 3, 7, 5, [](int, int i, int y, int x) {
    return static_cast<float>(std::sin(1.3 * y + 0.7 * x + 2.1 * i) + 0.1 * (i - 1));
  });
  const int n = 16;
  std::vector<double> ours = filterPowerSpectrum(w.data(), 3, 7, 5, n, false);
  std::vector<double> ref = naivePower(w, 0, n);
  ASSERT_EQ(ours.size(), ref.size());
  double energy = 0;
  for (int64_t k = 0; k < w.numel(); ++k) energy += double(w[k]) * w[k];
  double total = 0;
  for (size_t k = 0; k < ref.size(); ++k) {
    EXPECT_NEAR(ours[k], ref[k], kDftRelative * (1 + ref[k])) << "sample " << k;
    total += ours[k];
  }
  EXPECT_NEAR(total, energy * n * n, kDftRelative * total);  // Parseval
}

TEST(FilterStats, RemoveMeanDropsDc) {
  Tensor w = makeBank(1, 2, 4, 4, [](int, int i, int y, int x) { return 1.0f + i + 0.5f * x; });
  std::vector<double> kept = filterPowerSpectrum(w.data(), 2, 4, 4, 8, false);
  std::vector<double> removed = filterPowerSpectrum(w.data(), 2, 4, 4, 8, true);
  EXPECT_GT(kept[0], 1.0);
  EXPECT_NEAR(removed[0], 0.0, kFewDoubleOps);
  // A constant filter has no power at all once its mean is removed.
  Tensor flat(Shape{1, 1, 5, 5}, 2.0f);
  // 2.0 minus its mean 2.0 is exactly 0 in every sample: nothing can remain but 0.
  for (double p : filterPowerSpectrum(flat.data(), 1, 5, 5, 8, true)) EXPECT_EQ(p, 0.0);
}

TEST(FilterStats, RadialFrequencyIsFractionOfNyquist) {
  EXPECT_DOUBLE_EQ(radialFrequency(0, 0, 32), 0.0);
  EXPECT_DOUBLE_EQ(radialFrequency(0, 16, 32), 1.0);  // Nyquist along x
  EXPECT_DOUBLE_EQ(radialFrequency(0, 8, 32), 0.5);
  EXPECT_DOUBLE_EQ(radialFrequency(24, 0, 32), 0.5);  // -8
  EXPECT_DOUBLE_EQ(radialFrequency(16, 16, 32), std::sqrt(2.0));
}

TEST(FilterStats, CosineAtExactBinLandsInItsBand) {
  // 32x32 kernels on a 32-point grid: cos(2 pi k x / 32) has all its power at +-k, rho = k / 16.
  struct Case {
    int k;
    double low, mid, high;
  };
  for (Case c : {Case{3, 1, 0, 0}, Case{8, 0, 1, 0}, Case{13, 0, 0, 1}}) {
    Tensor w = makeBank(1, 1, 32, 32, [&](int, int, int, int x) {
      return static_cast<float>(std::cos(2 * std::numbers::pi * c.k * x / 32.0));
    });
    FilterBankStats s = computeFilterBankStats(w);
    EXPECT_NEAR(s.perFilter[0].bands.low, c.low, kDftRelative) << "k " << c.k;
    EXPECT_NEAR(s.perFilter[0].bands.mid, c.mid, kDftRelative) << "k " << c.k;
    EXPECT_NEAR(s.perFilter[0].bands.high, c.high, kDftRelative) << "k " << c.k;
    // The radial profile peaks at ring k.
    auto peak = std::max_element(s.radialPower.begin(), s.radialPower.end());
    EXPECT_EQ(peak - s.radialPower.begin(), c.k);
    EXPECT_DOUBLE_EQ(s.radialFrequency[static_cast<size_t>(c.k)], c.k / 16.0);
  }
}

TEST(FilterStats, BlobsAreLowAndCheckerboardsHigh) {
  // 11x11 (sigma 2) and 7x7 (sigma 1.5) blobs in three colours; checkerboards at both sizes.
  for (auto [k, sigma] : {std::pair{11, 2.0}, std::pair{7, 1.5}}) {
    Tensor blobs = makeBank(3, 3, k, k, [&, k = k, sigma = sigma](int o, int i, int y, int x) {
      return (o == i ? 1.0f : 0.2f) * gaussian(y, x, k, sigma);
    });
    FilterBankStats s = computeFilterBankStats(blobs);
    for (int f = 0; f < 3; ++f) {
      BandShares ref = naiveBands(naivePower(blobs, f, 32), 32);
      EXPECT_NEAR(s.perFilter[f].bands.low, ref.low, kDftRelative);
      EXPECT_NEAR(s.perFilter[f].bands.mid, ref.mid, kDftRelative);
      EXPECT_NEAR(s.perFilter[f].bands.high, ref.high, kDftRelative);
    }
    // Truncation at the kernel edge leaks a little: > 98% (11x11) / > 90% (7x7) in the low band.
    EXPECT_GT(s.meanBands.low, k == 11 ? 0.98 : 0.9) << k;
    EXPECT_LT(s.meanBands.high, 0.001) << k;
    EXPECT_EQ(s.dominantLow, 3);

    Tensor boards = makeBank(2, 3, k, k, [](int o, int i, int y, int x) {
      return (o + 1) * (i + 1) * 0.1f * checker(y, x);
    });
    FilterBankStats c = computeFilterBankStats(boards);
    EXPECT_GT(c.meanBands.high, 0.99) << k;
    EXPECT_EQ(c.dominantHigh, 2);
    BandShares ref = naiveBands(naivePower(boards, 1, 32), 32);
    EXPECT_NEAR(c.perFilter[1].bands.high, ref.high, kDftRelative);
    EXPECT_NEAR(c.meanBands.low + c.meanBands.mid + c.meanBands.high, 1.0, kFewDoubleOps);
  }
}

TEST(FilterStats, WhiteNoiseSpectrumIsFlat) {
  // A single 32x32 delta has a flat spectrum: every ring has the same mean power 1 / N^2.
  Tensor w = makeBank(1, 1, 32, 32, [](int, int, int y, int x) { return y == 5 && x == 9; });
  FilterBankStats s = computeFilterBankStats(w);
  for (double p : s.radialPower) EXPECT_NEAR(p, 1.0 / 1024, kFewDoubleOps);
  // Shares are then the bands' areas of the 32x32 grid.
  int low = 0, mid = 0;
  for (int v = -16; v < 16; ++v)
    for (int u = -16; u < 16; ++u) {
      double rho = std::hypot(u, v) / 16.0;
      low += rho < 1.0 / 3;
      mid += rho >= 1.0 / 3 && rho < 2.0 / 3;
    }
  EXPECT_NEAR(s.meanBands.low, low / 1024.0, kFewDoubleOps);
  EXPECT_NEAR(s.meanBands.mid, mid / 1024.0, kFewDoubleOps);
}

TEST(FilterStats, LargeKernelsRaiseTheSpectrumSize) {
  Tensor w(Shape{1, 1, 40, 40}, 1.0f);
  EXPECT_EQ(computeFilterBankStats(w).spectrumSize, 40);
}

TEST(FilterStats, RejectsNonBanks) {
  EXPECT_THROW(computeFilterBankStats(Tensor(Shape{3, 11, 11})), Error);
  EXPECT_THROW(filterRms(Tensor(Shape{96})), Error);
}

TEST(FilterStats, JsonCarriesEveryField) {
  Tensor w = makeBank(
      3, 3, 7, 7, [](int o, int, int y, int x) { return o == 0 ? 0.0f : 0.2f * checker(y, x); });
  FilterBankStats s = computeFilterBankStats(w);
  nlohmann::ordered_json j = toJson(s);
  EXPECT_EQ(j["filters"], 3);
  EXPECT_EQ(j["input_channels"], 3);
  EXPECT_EQ(j["kernel_size"], nlohmann::ordered_json({7, 7}));
  EXPECT_EQ(j["rms"]["per_filter"].size(), 3u);
  // A float32 filter of RMS 0.2: 0.2 is not a float, so within float32's rounding (6e-8 * 0.2).
  EXPECT_NEAR(j["rms"]["per_filter"][1].get<double>(), 0.2, 0.2 * 0x1p-24);
  EXPECT_EQ(j["dead"]["count"], 1);
  EXPECT_EQ(j["dead"]["filters"], nlohmann::ordered_json({0}));
  EXPECT_EQ(j["above_renorm_radius"]["count"], 2);
  EXPECT_EQ(j["above_renorm_radius"]["radius"], 0.1);
  EXPECT_EQ(j["frequency"]["spectrum_size"], 32);
  EXPECT_GT(j["frequency"]["mean_share"]["high"].get<double>(), 0.99);
  EXPECT_EQ(j["frequency"]["per_filter"].size(), 3u);
  EXPECT_EQ(j["frequency"]["dominant_band_counts"]["high"], 2);
  EXPECT_EQ(j["frequency"]["radial"]["frequency"].size(), j["frequency"]["radial"]["power"].size());
  nlohmann::ordered_json d = filterStatsDefinitionsJson(s.options);
  EXPECT_EQ(d["dead_fraction_of_median"], 0.1);
  EXPECT_EQ(d["renorm_radius"], 0.1);
  // Written and read back as JSON numbers: the same double (nlohmann writes round-trip digits).
  EXPECT_EQ(d["bands"]["mid"][0].get<double>(), 1.0 / 3);
  EXPECT_EQ(d["bands"]["high"][0].get<double>(), 2.0 / 3);
}

}  // namespace
}  // namespace zfvis
