#include "core/analysis/unit_response.h"

#include <cmath>
#include <string>

#include "core/base/error.h"

namespace zfvis {

UnitResponse unitResponse(const Tensor& output, int64_t sample, int64_t channel) {
  const Shape& s = output.shape();
  if (s.rank() != 2 && s.rank() != 4)
    throw Error("unitResponse: expected an N x C or N x C x H x W output, got " + s.str());
  if (sample < 0 || sample >= s[0] || channel < 0 || channel >= s[1])
    throw Error("unitResponse: sample " + std::to_string(sample) + ", channel " +
                std::to_string(channel) + " outside " + s.str());
  const int64_t H = s.rank() == 4 ? s[2] : 1, W = s.rank() == 4 ? s[3] : 1;
  const float* p = output.data() + (sample * s[1] + channel) * H * W;
  UnitResponse r;
  findChannelPeaks(p, H, W, W, 1, 1, &r);
  return r;
}

int strongestChannel(const Tensor& output, int64_t sample) {
  const Shape& s = output.shape();
  if (s.rank() < 2 || output.empty() || sample < 0 || sample >= s[0]) return 0;
  const int64_t C = s[1], plane = output.numel() / (s[0] * C);
  int best = 0;
  float bestValue = 0;
  for (int64_t c = 0; c < C; ++c) {
    ChannelPeak peak;
    findChannelPeaks(output.data() + (sample * C + c) * plane, 1, plane, plane, 1, 1, &peak);
    if (c == 0 || peak.value > bestValue || (std::isnan(bestValue) && !std::isnan(peak.value))) {
      best = int(c);
      bestValue = peak.value;
    }
  }
  return best;
}

}  // namespace zfvis
