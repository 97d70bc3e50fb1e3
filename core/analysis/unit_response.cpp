#include "core/analysis/unit_response.h"

#include <string>

#include "core/error.h"

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

}  // namespace zfvis
