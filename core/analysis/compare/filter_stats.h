// Statistics of a convolution filter bank (O x I x kH x kW): per-filter RMS, "dead" filters, the
// count above Zeiler & Fergus' RMS renormalisation radius, and frequency coverage from each
// filter's 2-D power spectrum split into low / mid / high radial bands (ZF 2013, fig. 6).
//
// Definitions (also written into the compare JSON):
// - RMS of a filter: sqrt(mean of its I * kH * kW squared weights).
// - Dead: RMS < deadFraction (0.1) x the layer's median filter RMS, or RMS exactly 0.
// - Above the renormalisation radius: RMS > renormRadius (0.1). Zeiler & Fergus renormalise
//   every filter whose RMS exceeds 0.1 back to 0.1 during training.
// - Power spectrum: each input channel is zero-padded (top-left) to N x N (N = 32, or the
//   kernel size when larger) so 7x7 and 11x11 kernels share one frequency grid; |DFT|^2 is summed
//   over the input channels. DC is kept by default (a colour blob's mean is low-frequency
//   content); removeMean subtracts each channel's mean first.
// - Radial frequency rho of DFT sample (u, v), u, v in [-N/2, N/2): sqrt(u^2 + v^2) * 2 / N, as a
//   fraction of Nyquist (0.5 cycles per input pixel); corners reach sqrt(2).
// - Bands: low rho < lowEdge (1/3), mid lowEdge <= rho < highEdge (2/3), high rho >= highEdge.
//   A filter's band shares are fractions of its total power; layer means average the shares of
//   the live (non-dead) filters; a live filter's dominant band is the one with its largest share.
// - Radial profile: each live filter's spectrum normalised to total power 1, averaged over the
//   DFT samples of each ring round(sqrt(u^2 + v^2)) = k (k = 0 .. round(N / sqrt(2))), then
//   averaged over the live filters; ring k sits at rho = 2k / N.
#pragma once

#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/base/tensor.h"

namespace zfvis {

struct FilterStatsOptions {
  double deadFraction = 0.1;    // dead: RMS below this fraction of the median filter RMS
  double renormRadius = 0.1;    // Zeiler & Fergus' RMS renormalisation radius
  int spectrumSize = 32;        // N: filters zero-padded to N x N (raised to the kernel size)
  double lowEdge = 1.0 / 3.0;   // low/mid band edge, fraction of Nyquist
  double highEdge = 2.0 / 3.0;  // mid/high band edge, fraction of Nyquist
  bool removeMean = false;      // subtract each input channel's mean before the DFT
};

/// Fractions of a filter's spectral power in the three radial bands (sum 1, or all 0 when the
/// filter has no power).
struct BandShares {
  double low = 0, mid = 0, high = 0;  // shares
};

/// One filter's statistics.
struct FilterStats {
  double rms = 0;            // sqrt(mean square weight)
  bool dead = false;         // RMS below the dead threshold
  bool aboveRadius = false;  // RMS above the renormalisation radius
  BandShares bands;          // spectral band shares
};

/// A whole bank's statistics.
struct FilterBankStats {
  FilterStatsOptions options;           // the definitions used
  int filters = 0;                      // O
  int inputChannels = 0;                // I
  int kernelH = 0, kernelW = 0;         // kernel size
  int spectrumSize = 0;                 // N actually used
  double layerRms = 0;                  // RMS over all weights of the layer
  double meanRms = 0, medianRms = 0;    // of the per-filter RMS values
  double minRms = 0, maxRms = 0;        // of the per-filter RMS values
  double deadThreshold = 0;             // deadFraction x medianRms
  int deadCount = 0;                    // filters that are dead
  int aboveRadiusCount = 0;             // filters with RMS > renormRadius
  BandShares meanBands;                 // band shares averaged over live filters
  int dominantLow = 0;                  // live filters whose largest share is low
  int dominantMid = 0;                  // ... is mid
  int dominantHigh = 0;                 // ... is high
  std::vector<FilterStats> perFilter;   // one entry per filter
  std::vector<double> radialFrequency;  // ring centres, fraction of Nyquist
  std::vector<double> radialPower;      // mean normalised power per DFT sample of each ring
};

/// RMS of every filter of an O x I x kH x kW bank.
std::vector<double> filterRms(const Tensor& weights);
/// Median of `values` (mean of the middle two for an even count; 0 when empty).
double median(std::vector<double> values);

/// The N x N power spectrum (row-major, unshifted: index [v * N + u], frequency 0 first) of one
/// filter with `channels` planes of kH x kW floats, summed over the planes. N >= kH, kW.
std::vector<double> filterPowerSpectrum(const float* filter, int channels, int kernelH, int kernelW,
                                        int n, bool removeMean);
/// Radial frequency (fraction of Nyquist) of unshifted DFT sample (row, col) of an N x N grid.
double radialFrequency(int row, int col, int n);
/// Band shares of an unshifted N x N power spectrum.
BandShares bandShares(const std::vector<double>& spectrum, int n, double lowEdge, double highEdge);

/// All statistics of a bank; throws Error when `weights` is not rank 4.
FilterBankStats computeFilterBankStats(const Tensor& weights,
                                       const FilterStatsOptions& options = {});

/// The definitions block of the compare JSON (what every number means).
nlohmann::ordered_json filterStatsDefinitionsJson(const FilterStatsOptions& options);
/// The statistics as JSON: filters, kernel, rms{...}, dead{...}, above_renorm_radius{...},
/// frequency{...}.
nlohmann::ordered_json toJson(const FilterBankStats& stats);

}  // namespace zfvis
