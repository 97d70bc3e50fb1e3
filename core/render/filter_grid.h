// A convolution layer's filters (O x I x kH x kW) as a grid image: one tile per filter (RGB for
// a first layer, or the mean / one input channel in gray) or one tile per (filter, input
// channel), 1-pixel separators, integer upscaling so 7x7 and 11x11 kernels are visible.
//
// Normalisations (value -> intensity):
// - PerFilter: each filter's displayed values stretched to its own min..max (gray 128 when
//   constant). Shows every filter's pattern, hides its strength.
// - PerLayer: one symmetric scale for the whole layer, 0 -> gray 128, +-M -> white/black with
//   M = the largest |value| displayed (or `range`). Weak filters look weak.
// - Rms (Zeiler & Fergus style): one symmetric scale in units of the layer's RMS: 0 -> gray 128,
//   +-kRmsSpan x R -> white/black (clipped beyond), R = RMS of all displayed values (or `range`).
//   Like PerLayer but robust to a few large weights, so the picture shows each filter's energy
//   relative to the layer. Under every tile a bar shows the filter's RMS (over all its input
//   channels) on a common axis; a yellow tick marks ZF's renormalisation radius (0.1) and bars
//   of filters above it are drawn red (ZF would have clipped them back to 0.1). The bar axis runs
//   from 0 to 1.1 x max(largest filter RMS, radius), or to `rmsAxisMax`.
//
// Colour tiles: the weights' three input channels are shown as the colours they were trained on
// (`channelOrder`): Caffe-trained (BGR) weights show channel 0 as blue, Torchvision / Keras (RGB)
// weights show channel 0 as red.
#pragma once

#include <string_view>

#include <opencv2/core.hpp>

#include "core/analysis/compare/filter_bank.h"
#include "core/base/tensor.h"
#include "core/render/activation_grid.h"

namespace zfvis {

enum class FilterNormalization {
  PerFilter,  // each filter min..max
  PerLayer,   // one symmetric scale (max |w|) for the layer
  Rms,        // one symmetric scale of kRmsSpan x layer RMS, with RMS bars
};

enum class FilterChannels {
  Auto,      // Rgb for a colour first layer (I == 3), the only channel for I == 1, else PerInput
             // up to 16384 tiles (O x I), else Mean
  Rgb,       // one colour tile per filter (I must be 3)
  PerInput,  // one gray tile per (filter, input channel); each filter's tiles are consecutive
  Single,    // one gray tile per filter: input channel `inputChannel`
  Mean,      // one gray tile per filter: the mean over input channels
};

/// Rms normalisation: values of +-kRmsSpan x the layer RMS map to white / black.
inline constexpr double kRmsSpan = 3.0;
/// Rms normalisation: pixel rows under each tile for the RMS bar (1 gap + 4 bar).
inline constexpr int kRmsBarRows = 5;

struct FilterGridOptions {
  FilterNormalization normalization = FilterNormalization::PerFilter;  // value -> intensity
  FilterChannels channels = FilterChannels::Auto;                      // what a tile shows
  int inputChannel = 0;                           // Single: the input channel shown
  ChannelOrder channelOrder = ChannelOrder::Rgb;  // Rgb tiles: colour order of the weights
  bool colourInput = true;                        // Auto: I == 3 means image colours
  int columns = 0;        // tiles per row; 0: about square (PerInput: a multiple of I)
  int scale = 0;          // integer upscaling per weight; 0: auto, tiles >= 33 px
  int separator = 1;      // pixels between tiles
  double range = 0;       // PerLayer: M; Rms: R (see above); 0: from the weights. Same-scale views
  double rmsAxisMax = 0;  // Rms bars: RMS at full bar length; 0: max(filter RMS, radius) x 1.1
  double renormRadius = 0.1;  // Rms bars: the radius marked
};

/// "per-filter", "per-layer", "rms".
std::string_view filterNormalizationName(FilterNormalization n);
/// Parses "filter" / "per-filter", "layer" / "per-layer", "rms"; throws UsageError otherwise.
FilterNormalization parseFilterNormalization(std::string_view name);

/// The channel mode Auto resolves to for a bank of this shape.
FilterChannels resolveFilterChannels(const Shape& weights, const FilterGridOptions& options);
/// The auto upscaling factor: the smallest integer making a kernel of this size >= 33 px.
int autoFilterScale(int kernelH, int kernelW);

/// Where the tiles are (for hit-testing: GridLayout::cellAt, then filterCellInfo). Throws Error
/// when the options do not fit the shape or the image would exceed 100 megapixels.
GridLayout filterGridLayout(const Shape& weights, const FilterGridOptions& options = {});

/// What one tile shows, for tooltips.
struct FilterCellInfo {
  int filter = -1;        // output channel
  int inputChannel = -1;  // input channel shown, -1: all (RGB) or the mean
  double rms = 0;         // the filter's RMS over all its weights
};
/// The tile `cell` of the grid (cell from GridLayout::cellAt); filter -1 when out of range.
FilterCellInfo filterCellInfo(const Tensor& weights, const FilterGridOptions& options, int cell);

/// The value -> intensity scale the options give these weights: M for PerLayer, R for Rms, 0 for
/// PerFilter. Pass max over several banks as `range` to draw them on one scale.
double filterDisplayRange(const Tensor& weights, const FilterGridOptions& options);

/// Renders the bank as an 8-bit BGR grid; throws Error for a tensor that is not O x I x kH x kW
/// or options that do not fit it (Rgb with I != 3, inputChannel out of range).
cv::Mat renderFilterGrid(const Tensor& weights, const FilterGridOptions& options = {});

}  // namespace zfvis
