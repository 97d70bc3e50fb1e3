// Windows of the deconvnet: the part of each layer output that a batch of projections touches,
// placed per seed, and the tensor helpers that cut, zero and add them.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/error.h"
#include "core/base/tensor.h"
#include "core/model/op_traits.h"

namespace zfvis::projection {

// One unit to project: channel c at (y, x) of the target layer's output, sample s.
struct Seed {
  int channel = 0;
  int y = 0, x = 0;
  float value = 0;
};

// The part of a layer's output that a batch of projections touches. Every seed k uses a window
// of the same size h x w whose origin is (baseY + jumpY * y_k, baseX + jumpX * x_k), where
// (y_k, x_k) is the seed's position in the target layer. Windows may extend past the layer's
// borders (virtual zero padding); positions outside are kept at zero. Non-spatial outputs have
// spatial == false and are always whole.
struct Window {
  bool set = false;
  bool spatial = false;
  int baseY = 0, baseX = 0, jumpY = 0, jumpX = 0, h = 0, w = 0;
  int originY(const Seed& s) const { return baseY + jumpY * s.y; }
  int originX(const Seed& s) const { return baseX + jumpX * s.x; }
};

Window fullWindow(const Shape& perSample);

// The union of two windows of the same layer (seed positions range over [0, seedH) x [0, seedW)).
Window unite(const Window& a, const Window& b, int seedH, int seedW);

// Input window of a sliding-window op (no local padding: the window carries it).
Window geometricInput(const Window& out, const WindowGeometry& g);

// A window of one seed (jump 0) cut to an H x W map.
Window clipTo(const Window& w, int64_t H, int64_t W);

// Zeroes every position of a K x C x h x w window tensor that lies outside an H x W map.
void zeroOutside(Tensor& g, const Window& win, const std::vector<Seed>& seeds, int64_t H,
                 int64_t W);

// Adds `part` (in window `from`) into `acc` (in window `to`, which contains it).
void accumulate(Tensor& acc, const Tensor& part, const Window& to, const Window& from);

// True when every seed's window lies inside an H x W map (nothing to zero, nothing left unset).
bool windowsInside(const Window& win, const std::vector<Seed>& seeds, int64_t H, int64_t W);

}  // namespace zfvis::projection
