#include "core/analysis/projector/projector_impl.h"

namespace zfvis {

// A pooled buffer seen as `md`; zeroed when asked.
Grad Projector::Impl::alloc(const memory::desc& md, bool zero) {
  const size_t bytes = md.get_size();
  Grad g;
  g.hold = cache->buffers->get(bytes);
  g.mem = memory(md, engine, g.hold.get());
  if (zero) std::memset(g.hold.get(), 0, bytes);
  return g;
}

Grad Projector::Impl::fromTensor(Tensor t) {
  auto owned = std::make_shared<Tensor>(std::move(t));
  Grad g;
  g.mem = memory(detail::plainMd(dimsOf(*owned)), engine, owned->data());
  g.hold = owned;
  return g;
}

// A plain copy of a gradient.
Tensor Projector::Impl::toTensor(const Grad& g) {
  const memory::dims d = g.dims();
  Tensor out = Tensor::uninitialized(Shape(std::vector<int64_t>(d.begin(), d.end())));
  const memory::desc plain = detail::plainMd(d);
  if (g.md() == plain) {
    std::memcpy(out.data(), g.mem.get_data_handle(), size_t(out.numel()) * sizeof(float));
  } else {
    reorder(g.mem, memory(plain, engine, out.data()));
  }
  return out;
}

// Runs a primitive with a pooled user scratchpad.
void Projector::Impl::exec(const dnnl::primitive& p, std::unordered_map<int, memory> args) {
  const memory::desc md = detail::scratchpadOf(p);
  std::shared_ptr<void> scratch;
  if (md.get_size() > 0) {
    scratch = cache->buffers->get(md.get_size());
    args.emplace(DNNL_ARG_SCRATCHPAD, memory(md, engine, scratch.get()));
  }
  p.execute(stream, args);
}

// A cached primitive for layouts that do not depend on the seeds (reorders, eltwise ops).
dnnl::primitive Projector::Impl::miscPrimitive(const std::string& key,
                                               const std::function<dnnl::primitive()>& make) {
  std::lock_guard lock(cache->mutex);
  auto it = cache->misc.find(key);
  if (it == cache->misc.end()) it = cache->misc.emplace(key, make()).first;
  return it->second;
}

void Projector::Impl::reorder(const memory& src, const memory& dst) {
  const memory::desc s = src.get_desc(), d = dst.get_desc();
  dnnl::primitive r = miscPrimitive("reorder/" + mdKey(s) + "/" + mdKey(d), [&] {
    return dnnl::reorder(
        dnnl::reorder::primitive_desc(engine, s, engine, d, detail::scratchpadAttr()));
  });
  exec(r, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
}

// `g` in layout `want` (itself when it already is).
Grad Projector::Impl::inLayout(const Grad& g, const memory::desc& want) {
  if (g.md() == want) return g;
  Grad out = alloc(want);
  reorder(g.mem, out.mem);
  return out;
}

// `g` with a buffer nobody else holds, so it can be changed in place.
Grad Projector::Impl::unique(Grad g) {
  if (g.hold.use_count() <= 1) return g;
  Grad copy = alloc(g.md());
  std::memcpy(copy.hold.get(), g.mem.get_data_handle(), g.md().get_size());
  copy.c0 = g.c0;
  copy.c1 = g.c1;
  return copy;
}

// Zeroes every position of a K x C x h x w window gradient that lies outside an H x W map.
void Projector::Impl::zeroOutside(Grad& g, const Window& win, const std::vector<Seed>& seeds,
                                  int64_t H, int64_t W) {
  if (windowsInside(win, seeds, H, W)) return;
  g = unique(std::move(g));
  const Blocked b(g.md());
  if (!b.ok) {
    Tensor t = toTensor(g);
    ::zfvis::zeroOutside(t, win, seeds, H, W);
    g = fromTensor(std::move(t));
    return;
  }
  char* base = static_cast<char*>(g.mem.get_data_handle());
  for (size_t k = 0; k < seeds.size(); ++k) {
    const int oy = win.originY(seeds[k]), ox = win.originX(seeds[k]);
    for (int64_t cb = 0; cb < b.blocks; ++cb)
      for (int y = 0; y < win.h; ++y) {
        const bool rowOut = oy + y < 0 || oy + y >= H;
        for (int x = 0; x < win.w; ++x)
          if (rowOut || ox + x < 0 || ox + x >= W)
            std::memset(base + b.at(int64_t(k), cb, y, x) * int64_t(b.bytes), 0,
                        size_t(b.B) * b.bytes);
      }
  }
}

// The forward run's memory for layer `layer`'s output (-1: the network input), in whatever
// layout the engine used.
const memory& Projector::Impl::forwardView(int layer) const {
  const memory* m = acts.forwardMemory(layer);
  if (!m)
    throw Error("projector: the run did not keep the output of layer '" +
                def.layers[size_t(layer)].name + "' (run with keepAll)");
  return *m;
}

// Copies each seed's window of sample `sample` of a forward N x C x H x W memory (any layout,
// any data type) into `dst`, a K x C x h x w memory; parts of a window outside the map are
// left as they are (callers zero them). Row copies when both layouts are of the same blocked
// family, reorders of the windows otherwise.
void Projector::Impl::copyWindows(const memory& src, const Window& win,
                                  const std::vector<Seed>& seeds, const memory& dst) {
  const memory::dims d = src.get_desc().dims();
  const memory::dim C = d[1], H = d[2], W = d[3];
  const Blocked bs(src.get_desc()), bd(dst.get_desc());
  // Units of U = (destination block) channels that are contiguous on both sides: the same
  // blocking, or a channels-last source (the engine's nhwc) into a channel-blocked destination.
  const int64_t U = bd.B;
  const bool same = bs.compatible(bd);
  const bool fast = same || (bs.ok && bd.ok && bs.B == 1 && (U == 1 || bs.s[1] == 1) &&
                             bs.bytes == bd.bytes && C % U == 0 && bd.paddedC == C);
  const char* from = static_cast<const char*>(src.get_data_handle());
  char* to = static_cast<char*>(dst.get_data_handle());
  const int64_t es = int64_t(bs.bytes), unit = U * es;
  auto srcAt = [&](int64_t cb, int64_t y, int64_t x) {
    return same ? bs.at(sample, cb, y, x) : bs.at(sample, cb * U, y, x);
  };
  const bool rows = same && bs.s[3] == U && bd.s[3] == U;  // whole window rows per block
  for (size_t k = 0; k < seeds.size(); ++k) {
    const int oy = win.originY(seeds[k]), ox = win.originX(seeds[k]);
    const memory::dim y0 = std::max(0, oy), x0 = std::max(0, ox);
    const memory::dim y1 = std::min<memory::dim>(H, oy + win.h),
                      x1 = std::min<memory::dim>(W, ox + win.w);
    if (y0 >= y1 || x0 >= x1) continue;
    if (fast) {
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t cb = 0; cb < bd.blocks; ++cb) {
          const char* f = from + srcAt(cb, y, x0) * es;
          char* t = to + bd.at(int64_t(k), cb, y - oy, x0 - ox) * es;
          if (rows) {
            std::memcpy(t, f, size_t((x1 - x0) * unit));
          } else {
            for (int64_t x = 0; x < x1 - x0; ++x)
              std::memcpy(t + x * bd.s[3] * es, f + x * bs.s[3] * es, size_t(unit));
          }
        }
      continue;
    }
    const memory::dims region{1, C, y1 - y0, x1 - x0};
    memory fromMem(src.get_desc().submemory_desc(region, {sample, 0, y0, x0}), engine,
                   src.get_data_handle());
    memory toMem(dst.get_desc().submemory_desc(region, {memory::dim(k), 0, y0 - oy, x0 - ox}),
                 engine, dst.get_data_handle());
    detail::reorderNow(stream, fromMem, toMem);
  }
}

// The forward output of a spatial layer of this run when it is kept in a layout `Blocked`
// can address (f32), else null.
const memory* Projector::Impl::spatialOutput(size_t layer) const {
  const memory* m = acts.forwardMemory(int(layer));
  if (shapes[layer].rank() != 3 || !m) return nullptr;
  return Blocked(m->get_desc()).ok && m->get_desc().data_type() == DType::f32 ? m : nullptr;
}

// Per channel of `layer`'s output (this sample): its peak by core's one rule
// (core/engine/channel_peak.h: the first maximum in row-major order, NaN never wins) and where:
// y * W + x, or the channel itself for vectors. Read by the engine where the run keeps the output.
std::vector<std::pair<float, int64_t>> Projector::Impl::channelMaxima(size_t layer) const {
  const Shape& s = shapes[layer];
  std::vector<std::pair<float, int64_t>> best;
  if (s.rank() == 1 || s.rank() == 3) {
    const std::vector<ChannelPeak> peaks = acts.channelPeaks(layer, sample);
    const int64_t C = s[0], W = s.rank() == 3 ? s[2] : 1;
    for (int64_t c = 0; c < C; ++c) {
      const ChannelPeak& p = peaks[size_t(c)];
      best.push_back({p.value, s.rank() == 3 ? p.y * W + p.x : c});
    }
    return best;
  }
  // Other shapes (C x L): each channel's values as one row.
  const Tensor& t = acts.output(layer);
  const int64_t C = t.shape()[1], plane = t.numel() / (t.shape()[0] * C);
  for (int64_t c = 0; c < C; ++c) {
    ChannelPeak p;
    findChannelPeaks(t.data() + (int64_t(sample) * C + c) * plane, 1, plane, plane, 1, 1, &p);
    best.push_back({p.value, p.x});
  }
  return best;
}

// `layer`'s output (this sample) at channel c, position (y, x) (0, 0 for vectors).
float Projector::Impl::outputAt(size_t layer, int c, int y, int x) const {
  if (const memory* m = spatialOutput(layer)) {
    const Blocked b(m->get_desc());
    return static_cast<const float*>(m->get_data_handle())[b.at(sample, c / b.B, y, x) + c % b.B];
  }
  const Tensor& t = acts.output(layer);
  if (shapes[layer].rank() == 3) return t.at(sample, c, y, x);
  return t[int64_t(sample) * shapes[layer].numel() + c];
}

// A view of channels [c0, c1) of `g` (plain first when its blocking does not allow it). The
// offset goes into the data handle, not the descriptor, so cached reorders of one layout
// serve every channel.
memory Projector::Impl::channelSlice(Grad& g, int64_t c0, int64_t c1) {
  memory::dims d = g.dims();
  const memory::dims offsets{0, c0, 0, 0};
  d[1] = c1 - c0;
  memory::desc md;
  try {
    md = g.md().submemory_desc(d, offsets);
  } catch (const dnnl::error&) {
    g = inLayout(g, detail::plainMd(g.dims()));
    md = g.md().submemory_desc(d, offsets);
  }
  char* base =
      static_cast<char*>(g.mem.get_data_handle()) + md.data.offset0 * int64_t(sizeof(float));
  md.data.offset0 = 0;
  return memory(md, engine, base);
}

// `g` (any layout) as a plain memory of dims `dims` (same element count).
Grad Projector::Impl::reshaped(const Grad& g, const memory::dims& dims) {
  Grad plain = inLayout(g, detail::plainMd(g.dims()));
  plain.mem = memory(detail::plainMd(dims), engine, plain.mem.get_data_handle());
  return plain;
}

}  // namespace zfvis
