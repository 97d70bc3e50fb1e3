// A unit's response to an image: the maximum of one channel of a layer's output over positions
// (Zeiler & Fergus fig. 2 and fig. 4; ARCHITECTURE.md "Dataset scans"). One definition, used by
// the evolution figure and the dataset scan.
#pragma once

#include <cstdint>

#include "core/base/tensor.h"
#include "core/engine/channel_peak.h"

namespace zfvis {

/// Where a channel peaks in one sample (core/engine/channel_peak.h holds the rule).
using UnitResponse = ChannelPeak;

/// The response of channel `channel` of sample `sample` in a layer output `output` (N x C x H x W,
/// or N x C for vectors, C order). NaN values are never the maximum (a channel of NaNs gives
/// (NaN, 0, 0)). Throws Error when the sample or channel is out of range.
UnitResponse unitResponse(const Tensor& output, int64_t sample, int64_t channel);

/// The channel (axis 1) of sample `sample` of `output` (N x C x ..., any per-sample rank) whose
/// peak is the largest, by the same rule: ties go to the lower channel, NaN never wins. 0 for an
/// output without channels or samples.
int strongestChannel(const Tensor& output, int64_t sample = 0);

}  // namespace zfvis
