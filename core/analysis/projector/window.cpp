#include "core/analysis/projector/window.h"

#include <algorithm>
#include <cstring>

namespace zfvis::projection {

Window fullWindow(const Shape& perSample) {
  Window w;
  w.set = true;
  w.spatial = perSample.rank() == 3;
  if (w.spatial) {
    w.h = static_cast<int>(perSample[1]);
    w.w = static_cast<int>(perSample[2]);
  }
  return w;
}

Window unite(const Window& a, const Window& b, int seedH, int seedW) {
  if (!a.set) return b;
  if (!b.set || !a.spatial) return a;
  Window r = a;
  if (a.jumpY == b.jumpY && a.jumpX == b.jumpX) {
    r.baseY = std::min(a.baseY, b.baseY);
    r.baseX = std::min(a.baseX, b.baseX);
    r.h = std::max(a.baseY + a.h, b.baseY + b.h) - r.baseY;
    r.w = std::max(a.baseX + a.w, b.baseX + b.w) - r.baseX;
    return r;
  }
  // Different strides: cover every seed position with one fixed window.
  auto lo = [](int base, int jump, int n) { return base + std::min(0, jump * (n - 1)); };
  auto hi = [](int base, int jump, int n, int size) {
    return base + std::max(0, jump * (n - 1)) + size;
  };
  r.baseY = std::min(lo(a.baseY, a.jumpY, seedH), lo(b.baseY, b.jumpY, seedH));
  r.baseX = std::min(lo(a.baseX, a.jumpX, seedW), lo(b.baseX, b.jumpX, seedW));
  r.h = std::max(hi(a.baseY, a.jumpY, seedH, a.h), hi(b.baseY, b.jumpY, seedH, b.h)) - r.baseY;
  r.w = std::max(hi(a.baseX, a.jumpX, seedW, a.w), hi(b.baseX, b.jumpX, seedW, b.w)) - r.baseX;
  r.jumpY = r.jumpX = 0;
  return r;
}

Window geometricInput(const Window& out, const WindowGeometry& g) {
  Window in = out;
  in.baseY = out.baseY * g.y.stride - g.y.padBefore;
  in.baseX = out.baseX * g.x.stride - g.x.padBefore;
  in.jumpY = out.jumpY * g.y.stride;
  in.jumpX = out.jumpX * g.x.stride;
  in.h = (out.h - 1) * g.y.stride + g.y.extent();
  in.w = (out.w - 1) * g.x.stride + g.x.extent();
  return in;
}

Window clipTo(const Window& w, int64_t H, int64_t W) {
  Window r = w;
  r.baseY = std::max(0, w.baseY);
  r.baseX = std::max(0, w.baseX);
  r.h = int(std::min<int64_t>(w.baseY + w.h, H)) - r.baseY;
  r.w = int(std::min<int64_t>(w.baseX + w.w, W)) - r.baseX;
  return r;
}

void zeroOutside(Tensor& g, const Window& win, const std::vector<Seed>& seeds, int64_t H,
                 int64_t W) {
  const int64_t K = g.shape()[0], C = g.shape()[1];
  for (int64_t k = 0; k < K; ++k) {
    const int oy = win.originY(seeds[size_t(k)]), ox = win.originX(seeds[size_t(k)]);
    if (oy >= 0 && ox >= 0 && oy + win.h <= H && ox + win.w <= W) continue;
    // Columns [x0, x1) of the window lie inside the map; rows outside are zeroed whole.
    const int x0 = int(std::clamp<int64_t>(-ox, 0, win.w));
    const int x1 = int(std::clamp<int64_t>(W - ox, x0, win.w));
    for (int64_t c = 0; c < C; ++c)
      for (int y = 0; y < win.h; ++y) {
        float* row = g.data() + ((k * C + c) * win.h + y) * win.w;
        if (oy + y < 0 || oy + y >= H) {
          std::fill_n(row, win.w, 0.0f);
        } else {
          std::fill_n(row, x0, 0.0f);
          std::fill_n(row + x1, win.w - x1, 0.0f);
        }
      }
  }
}

void accumulate(Tensor& acc, const Tensor& part, const Window& to, const Window& from) {
  if (acc.shape() == part.shape() && to.baseY == from.baseY && to.baseX == from.baseX) {
    for (int64_t i = 0; i < acc.numel(); ++i) acc[i] += part[i];
    return;
  }
  if (!to.spatial || to.jumpY != from.jumpY || to.jumpX != from.jumpX)
    throw Error("projector: incompatible gradient windows");
  const int dy = from.baseY - to.baseY, dx = from.baseX - to.baseX;
  const int64_t K = part.shape()[0], C = part.shape()[1];
  for (int64_t k = 0; k < K; ++k)
    for (int64_t c = 0; c < C; ++c)
      for (int y = 0; y < from.h; ++y)
        for (int x = 0; x < from.w; ++x) acc.at(k, c, y + dy, x + dx) += part.at(k, c, y, x);
}

bool windowsInside(const Window& win, const std::vector<Seed>& seeds, int64_t H, int64_t W) {
  for (const Seed& s : seeds) {
    const int oy = win.originY(s), ox = win.originX(s);
    if (oy < 0 || ox < 0 || oy + win.h > H || ox + win.w > W) return false;
  }
  return true;
}

}  // namespace zfvis::projection
