#include "core/analysis/compare/filter_stats.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/base/error.h"

namespace zfvis {

namespace {

using Json = nlohmann::ordered_json;

void requireBank(const Tensor& weights) {
  if (weights.shape().rank() != 4)
    throw Error("filter statistics: expected a filter bank O x I x kH x kW, got shape " +
                weights.shape().str());
}

// Signed frequency index of DFT sample i on an N-point grid: 0, 1, ..., N/2 - 1, -N/2, ..., -1.
int signedIndex(int i, int n) {
  return i < (n + 1) / 2 ? i : i - n;
}

int ringOf(int row, int col, int n) {
  double u = signedIndex(col, n), v = signedIndex(row, n);
  return static_cast<int>(std::lround(std::sqrt(u * u + v * v)));
}

Json bandsJson(const BandShares& b) {
  return {{"low", b.low}, {"mid", b.mid}, {"high", b.high}};
}

}  // namespace

std::vector<double> filterRms(const Tensor& weights) {
  requireBank(weights);
  const int64_t o = weights.shape()[0], per = weights.numel() / std::max<int64_t>(1, o);
  std::vector<double> out(static_cast<size_t>(o));
  for (int64_t f = 0; f < o; ++f) {
    const float* w = weights.data() + f * per;
    double sum = 0;
    for (int64_t k = 0; k < per; ++k) sum += double(w[k]) * w[k];
    out[static_cast<size_t>(f)] = per ? std::sqrt(sum / static_cast<double>(per)) : 0.0;
  }
  return out;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t m = values.size() / 2;
  return values.size() % 2 ? values[m] : 0.5 * (values[m - 1] + values[m]);
}

double radialFrequency(int row, int col, int n) {
  double u = signedIndex(col, n), v = signedIndex(row, n);
  return std::sqrt(u * u + v * v) * 2.0 / n;
}

std::vector<double> filterPowerSpectrum(const float* filter, int channels, int kernelH, int kernelW,
                                        int n, bool removeMean) {
  if (n < kernelH || n < kernelW || n <= 0)
    throw Error("filter spectrum: size " + std::to_string(n) + " is smaller than the kernel " +
                std::to_string(kernelH) + " x " + std::to_string(kernelW));
  std::vector<double> power(static_cast<size_t>(n) * n, 0.0);
  cv::Mat padded(n, n, CV_64F), spectrum;
  const int plane = kernelH * kernelW;
  for (int c = 0; c < channels; ++c) {
    const float* w = filter + static_cast<int64_t>(c) * plane;
    double mean = 0;
    if (removeMean) {
      for (int k = 0; k < plane; ++k) mean += w[k];
      mean /= plane;
    }
    padded.setTo(0.0);
    for (int y = 0; y < kernelH; ++y)
      for (int x = 0; x < kernelW; ++x) padded.at<double>(y, x) = w[y * kernelW + x] - mean;
    cv::dft(padded, spectrum, cv::DFT_COMPLEX_OUTPUT);
    for (int y = 0; y < n; ++y) {
      const auto* row = spectrum.ptr<cv::Vec2d>(y);
      for (int x = 0; x < n; ++x)
        power[static_cast<size_t>(y) * n + x] += row[x][0] * row[x][0] + row[x][1] * row[x][1];
    }
  }
  return power;
}

BandShares bandShares(const std::vector<double>& spectrum, int n, double lowEdge, double highEdge) {
  BandShares b;
  double total = 0;
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      double p = spectrum[static_cast<size_t>(y) * n + x];
      double rho = radialFrequency(y, x, n);
      total += p;
      (rho < lowEdge ? b.low : rho < highEdge ? b.mid : b.high) += p;
    }
  if (!(total > 0)) return {};
  b.low /= total;
  b.mid /= total;
  b.high /= total;
  return b;
}

FilterBankStats computeFilterBankStats(const Tensor& weights, const FilterStatsOptions& o) {
  requireBank(weights);
  FilterBankStats s;
  s.options = o;
  s.filters = static_cast<int>(weights.shape()[0]);
  s.inputChannels = static_cast<int>(weights.shape()[1]);
  s.kernelH = static_cast<int>(weights.shape()[2]);
  s.kernelW = static_cast<int>(weights.shape()[3]);
  const int n = std::max({o.spectrumSize, s.kernelH, s.kernelW, 1});
  s.spectrumSize = n;

  std::vector<double> rms = filterRms(weights);
  double sumSq = 0;
  for (int64_t i = 0; i < weights.numel(); ++i) sumSq += double(weights[i]) * weights[i];
  s.layerRms = weights.numel() ? std::sqrt(sumSq / static_cast<double>(weights.numel())) : 0.0;
  s.medianRms = median(rms);
  if (!rms.empty()) {
    s.minRms = *std::min_element(rms.begin(), rms.end());
    s.maxRms = *std::max_element(rms.begin(), rms.end());
    for (double r : rms) s.meanRms += r;
    s.meanRms /= static_cast<double>(rms.size());
  }
  s.deadThreshold = o.deadFraction * s.medianRms;

  const int rings = static_cast<int>(std::lround(n / std::sqrt(2.0))) + 1;
  std::vector<int> ringCount(static_cast<size_t>(rings), 0);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) ++ringCount[static_cast<size_t>(ringOf(y, x, n))];
  s.radialPower.assign(static_cast<size_t>(rings), 0.0);
  s.radialFrequency.resize(static_cast<size_t>(rings));
  for (int k = 0; k < rings; ++k) s.radialFrequency[static_cast<size_t>(k)] = 2.0 * k / n;

  const int64_t per = static_cast<int64_t>(s.inputChannels) * s.kernelH * s.kernelW;
  int live = 0;
  for (int f = 0; f < s.filters; ++f) {
    FilterStats fs;
    fs.rms = rms[static_cast<size_t>(f)];
    fs.dead = fs.rms == 0.0 || fs.rms < s.deadThreshold;
    fs.aboveRadius = fs.rms > o.renormRadius;
    std::vector<double> p = filterPowerSpectrum(weights.data() + f * per, s.inputChannels,
                                                s.kernelH, s.kernelW, n, o.removeMean);
    fs.bands = bandShares(p, n, o.lowEdge, o.highEdge);
    s.deadCount += fs.dead;
    s.aboveRadiusCount += fs.aboveRadius;
    double total = 0;
    for (double v : p) total += v;
    if (!fs.dead && total > 0) {
      ++live;
      s.meanBands.low += fs.bands.low;
      s.meanBands.mid += fs.bands.mid;
      s.meanBands.high += fs.bands.high;
      const BandShares& b = fs.bands;
      if (b.low >= b.mid && b.low >= b.high)
        ++s.dominantLow;
      else if (b.mid >= b.high)
        ++s.dominantMid;
      else
        ++s.dominantHigh;
      for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x)
          s.radialPower[static_cast<size_t>(ringOf(y, x, n))] +=
              p[static_cast<size_t>(y) * n + x] / total;
    }
    s.perFilter.push_back(fs);
  }
  if (live > 0) {
    s.meanBands.low /= live;
    s.meanBands.mid /= live;
    s.meanBands.high /= live;
    for (int k = 0; k < rings; ++k)
      s.radialPower[static_cast<size_t>(k)] /= double(live) * ringCount[static_cast<size_t>(k)];
  }
  return s;
}

Json filterStatsDefinitionsJson(const FilterStatsOptions& o) {
  const int n = o.spectrumSize;
  return {
      {"rms", "sqrt(mean of a filter's I*kH*kW squared weights)"},
      {"dead",
       "filter RMS < dead_fraction_of_median x the layer's median filter RMS, or exactly 0"},
      {"dead_fraction_of_median", o.deadFraction},
      {"renorm_radius", o.renormRadius},
      {"above_renorm_radius",
       "filter RMS > renorm_radius (Zeiler & Fergus renormalise such filters back to the radius "
       "during training)"},
      {"spectrum", "each input channel zero-padded (top-left) to " + std::to_string(n) + "x" +
                       std::to_string(n) +
                       " (or the kernel size when larger), |DFT|^2 summed over input "
                       "channels, " +
                       (o.removeMean ? std::string("each channel's mean removed (no DC)")
                                     : std::string("DC kept (mean not removed)"))},
      {"radial_frequency_unit",
       "fraction of Nyquist (1 = 0.5 cycles per input pixel); corners of the DFT grid reach 1.414"},
      {"bands",
       {{"low", {0.0, o.lowEdge}},
        {"mid", {o.lowEdge, o.highEdge}},
        {"high", {o.highEdge, std::sqrt(2.0)}}}},
      {"band_share", "fraction of a filter's total spectral power in the band"},
      {"mean_share", "band shares averaged over the live (non-dead) filters"},
      {"dominant_band_counts", "live filters whose largest band share is low / mid / high"},
      {"radial_power",
       "each live filter's spectrum normalised to total 1, averaged over the DFT samples of the "
       "ring round(sqrt(u^2+v^2)) = k (at frequency 2k/N of Nyquist), then over live filters"},
  };
}

Json toJson(const FilterBankStats& s) {
  Json perRms = Json::array(), perBands = Json::array(), dead = Json::array(),
       above = Json::array();
  for (size_t f = 0; f < s.perFilter.size(); ++f) {
    const FilterStats& fs = s.perFilter[f];
    perRms.push_back(fs.rms);
    perBands.push_back(bandsJson(fs.bands));
    if (fs.dead) dead.push_back(f);
    if (fs.aboveRadius) above.push_back(f);
  }
  return {
      {"filters", s.filters},
      {"input_channels", s.inputChannels},
      {"kernel_size", {s.kernelH, s.kernelW}},
      {"rms",
       {{"layer", s.layerRms},
        {"mean", s.meanRms},
        {"median", s.medianRms},
        {"min", s.minRms},
        {"max", s.maxRms},
        {"per_filter", perRms}}},
      {"dead",
       {{"count", static_cast<int>(dead.size())},
        {"threshold", s.deadThreshold},
        {"filters", dead}}},
      {"above_renorm_radius",
       {{"count", static_cast<int>(above.size())},
        {"radius", s.options.renormRadius},
        {"filters", above}}},
      {"frequency",
       {{"spectrum_size", s.spectrumSize},
        {"mean_share", bandsJson(s.meanBands)},
        {"dominant_band_counts",
         {{"low", s.dominantLow}, {"mid", s.dominantMid}, {"high", s.dominantHigh}}},
        {"per_filter", perBands},
        {"radial", {{"frequency", s.radialFrequency}, {"power", s.radialPower}}}}},
  };
}

}  // namespace zfvis
