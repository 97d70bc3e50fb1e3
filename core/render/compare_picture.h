// The first-layer comparison (Zeiler & Fergus 2013, fig. 6): two or more filter banks drawn side
// by side on one value -> intensity scale and one integer upscaling (so 11x11 tiles look bigger
// than 7x7 ones), with titles and statistics, and a plot of their radial power spectra.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/analysis/compare/filter_bank.h"
#include "core/analysis/compare/filter_stats.h"
#include "core/render/filter_grid.h"

namespace zfvis {

/// One bank of the comparison.
struct CompareSide {
  FilterBank bank;        // weights and what is known about them
  FilterBankStats stats;  // computeFilterBankStats(bank.weights)
};

struct CompareViewOptions {
  // PerLayer: one symmetric scale (the largest |w| of all banks); Rms: one scale in units of the
  // pooled RMS of all banks; PerFilter: each filter stretched on its own (no shared scale).
  FilterNormalization normalization = FilterNormalization::PerLayer;
  int scale = 0;             // pixels per weight for every bank; 0: auto from the largest kernel
  bool spectrumPlot = true;  // append the radial spectrum plot below the grids
};

/// "caffe-alexnet conv1" / "alexnet_conv1_weight.npy", plus " (untrained)" when it applies.
std::string compareTitle(const FilterBank& bank);
/// "96 x 3 x 11x11, stride 4" ("stride ?" when unknown).
std::string compareShapeText(const FilterBank& bank);
/// The colour (BGR) of side i in titles and the spectrum plot.
cv::Scalar compareColour(int i);
/// The grid options each side is drawn with (shared range, scale and RMS axis filled in).
std::vector<FilterGridOptions> compareGridOptions(const std::vector<CompareSide>& sides,
                                                  const CompareViewOptions& options);

/// The grids side by side with titles and statistics (8-bit BGR); throws Error when a bank is not
/// O x I x kH x kW.
cv::Mat renderCompareView(const std::vector<CompareSide>& sides,
                          const CompareViewOptions& options = {});

/// One curve of the spectrum plot.
struct SpectrumCurve {
  std::string label;              // legend text
  std::vector<double> frequency;  // x: fraction of Nyquist
  std::vector<double> power;      // y: mean power (> 0 to be drawn; log axis)
  cv::Scalar colour;              // BGR
};

struct SpectrumPlotOptions {
  int width = 820, height = 460;  // pixels
  double lowEdge = 1.0 / 3.0;     // band edges drawn as shaded regions (fraction of Nyquist)
  double highEdge = 2.0 / 3.0;
  std::string title = "Radial power spectrum of the filters (mean over live filters)";  // top line
};

/// A log-y line plot of radial power spectra with axes, ticks, band regions and a legend.
cv::Mat renderSpectrumPlot(const std::vector<SpectrumCurve>& curves,
                           const SpectrumPlotOptions& options = {});
/// The spectrum curves of the sides (labels with their band shares).
std::vector<SpectrumCurve> compareSpectrumCurves(const std::vector<CompareSide>& sides);

}  // namespace zfvis
