#include "core/engine/channel_peak.h"

#include <algorithm>
#include <limits>

namespace zfvis {

void findChannelPeaks(const float* p, int64_t height, int64_t width, int64_t rowStep,
                      int64_t colStep, int lanes, ChannelPeak* out) {
  constexpr int kChunk = 16;
  for (int first = 0; first < lanes; first += kChunk) {
    const int n = std::min(kChunk, lanes - first);
    float best[kChunk];
    int32_t at[kChunk];  // y * width + x (a map is far smaller than 2^31)
    std::fill(best, best + n, std::numeric_limits<float>::quiet_NaN());
    std::fill(at, at + n, 0);
    for (int64_t y = 0; y < height; ++y) {
      const float* row = p + y * rowStep + first;
      for (int64_t x = 0; x < width; ++x) {
        const float* q = row + x * colStep;
        const int32_t pos = int32_t(y * width + x);
        for (int l = 0; l < n; ++l) {
          const float v = q[l];
          // Strictly greater, so the first maximum wins; a NaN never compares greater, and the
          // first non-NaN value replaces the NaN the search starts from. Branch-free, so the
          // lanes of a channel block can vectorise.
          const bool take = v > best[l] || (best[l] != best[l] && v == v);
          best[l] = take ? v : best[l];
          at[l] = take ? pos : at[l];
        }
      }
    }
    for (int l = 0; l < n; ++l) out[first + l] = {best[l], int(at[l] / width), int(at[l] % width)};
  }
}

}  // namespace zfvis
