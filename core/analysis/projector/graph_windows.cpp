#include "core/analysis/projector/projector_impl.h"

namespace zfvis {

int Projector::Impl::producer(size_t layer, size_t k) const {
  return inputs[layer][k];
}

const Shape& Projector::Impl::shapeOf(int layer) const {
  return layer < 0 ? def.input.shape : shapes[size_t(layer)];
}

// Which layers lie on a path from the input to `target`.
std::vector<bool> Projector::Impl::ancestors(size_t target) const {
  std::vector<bool> need(def.layers.size(), false);
  need[target] = true;
  for (size_t i = target + 1; i-- > 0;) {
    if (!need[i]) continue;
    for (int p : inputs[i])
      if (p != kNetworkInput) need[size_t(p)] = true;
  }
  return need;
}

// True when windows can be cropped around each seed (every op between the target and the
// input is local in space, or global and then whole below).
bool Projector::Impl::canCrop(const std::vector<bool>& need) const {
  for (size_t i = 0; i < need.size(); ++i) {
    if (!need[i]) continue;
    const LayerSpec& l = def.layers[i];
    if (l.type == LayerType::Concat && l.axis.axis != 1) return false;
    if (l.type == LayerType::Add && l.inputs.size() == 2 &&
        shapeOf(producer(i, 0)) != shapeOf(producer(i, 1)))
      return false;
  }
  return true;
}

// Windows of every needed layer output (index layers.size() = the network input). With
// `single` (one seed), windows are placed for that seed and cut to their maps (`clip` is set):
// the backward ops then skip the parts outside, using padding as the forward did.
std::vector<Window> Projector::Impl::computeWindows(size_t target, const std::vector<bool>& need,
                                                    const Seed* single, bool& clip) const {
  std::vector<Window> win(def.layers.size() + 1);
  const Shape& ts = shapes[target];
  const bool crop = canCrop(need);
  clip = false;
  const int seedH = ts.rank() == 3 ? int(ts[1]) : 1, seedW = ts.rank() == 3 ? int(ts[2]) : 1;
  if (ts.rank() == 3 && crop && single) {
    win[target] = {true, true, single->y, single->x, 0, 0, 1, 1};
    clip = true;
  } else if (ts.rank() == 3 && crop) {
    win[target] = {true, true, 0, 0, 1, 1, 1, 1};
  } else {
    win[target] = fullWindow(ts);
  }
  auto slot = [&](int p) -> Window& { return p < 0 ? win.back() : win[size_t(p)]; };
  for (size_t i = target + 1; i-- > 0;) {
    if (!need[i]) continue;
    const LayerSpec& l = def.layers[i];
    const Window& out = win[i];
    for (int p : inputs[i]) {
      const Shape& in = shapeOf(p);
      // Global operators read their whole input; the others what the output window reads.
      Window w = in.rank() != 3 || opTraits(l.type).spatial == SpatialKind::Global
                     ? fullWindow(in)
                     : geometricInputWindow(i, out, in);
      if (clip && w.spatial) {
        w = clipTo(w, in[1], in[2]);
        if (w.h <= 0 || w.w <= 0) return computeWindows(target, need, nullptr, clip);
      }
      slot(p) = unite(slot(p), w, seedH, seedW);
    }
  }
  return win;
}

// The window of input `inputIndex` of layer i as that layer's backward produces it.
// (cut to the input map when `clip`).
Window Projector::Impl::naturalInputWindow(size_t i, const Window& out, const Shape& in,
                                           bool clip) const {
  const Window w = geometricInputWindow(i, out, in);
  return clip && w.spatial ? clipTo(w, in[1], in[2]) : w;
}

// The window of layer i's input that its output window `out` reads, padding included.
Window Projector::Impl::geometricInputWindow(size_t i, const Window& out, const Shape& in) const {
  if (in.rank() != 3 || !out.spatial) return fullWindow(in);
  const auto g = windowGeometry(def.layers[i]);
  return g ? geometricInput(out, *g) : out;
}

}  // namespace zfvis
