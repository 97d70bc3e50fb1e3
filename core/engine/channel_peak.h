// Where a channel of a feature map peaks: the one definition of "a unit's response" (Zeiler &
// Fergus fig. 2 and fig. 4; ARCHITECTURE.md "Dataset scans") shared by the engine's
// Activations::channelPeaks (on the engine's own layout, no copy) and analysis' unitResponse
// (on a plain tensor).
#pragma once

#include <cstdint>

namespace zfvis {

/// The maximum of one channel over positions, and where it is.
struct ChannelPeak {
  float value = 0;   // the maximum over positions
  int y = 0, x = 0;  // its position; ties: the first in row-major order (0, 0 for vectors)
};

/// The peaks of `lanes` neighbouring channels whose values sit side by side: channel l's value at
/// position (y, x) is p[y * rowStep + x * colStep + l]. A plain C x H x W map is one lane with
/// rowStep W and colStep 1; a channel-blocked layout (oneDNN's nChw8c) is 8 lanes with colStep 8.
/// The first maximum in row-major order wins; NaN never does (a channel of NaNs gives (NaN, 0, 0)).
void findChannelPeaks(const float* p, int64_t height, int64_t width, int64_t rowStep,
                      int64_t colStep, int lanes, ChannelPeak* out);

}  // namespace zfvis
