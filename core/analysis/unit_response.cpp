#include "core/analysis/unit_response.h"

#include <cmath>
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
  r.value = std::nanf("");
  for (int64_t i = 0; i < H * W; ++i) {
    // Strictly greater: the first maximum in row-major order wins; NaN never compares greater.
    if (std::isnan(r.value) ? !std::isnan(p[i]) : p[i] > r.value) {
      r.value = p[i];
      r.y = int(i / W);
      r.x = int(i % W);
    }
  }
  return r;
}

}  // namespace zfvis
