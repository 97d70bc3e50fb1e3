#include "core/projector.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/engine_internal.h"
#include "core/error.h"

namespace zfvis {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using DType = dnnl::memory::data_type;
using Tag = dnnl::memory::format_tag;

const char* projectionModeName(ProjectionMode mode) {
  switch (mode) {
    case ProjectionMode::Deconvnet:
      return "deconvnet";
    case ProjectionMode::Guided:
      return "guided";
    case ProjectionMode::Saliency:
      return "saliency";
  }
  return "?";
}

ProjectionMode parseProjectionMode(const std::string& name) {
  if (name == "deconvnet" || name == "deconv") return ProjectionMode::Deconvnet;
  if (name == "guided") return ProjectionMode::Guided;
  if (name == "saliency" || name == "gradient") return ProjectionMode::Saliency;
  throw UsageError("unknown projection mode '" + name +
                   "' (expected deconvnet, guided or saliency)");
}

namespace {

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

// The union of two windows of the same layer (seed positions range over [0, seedH) x [0, seedW)).
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

// Input window of a sliding-window op (no local padding: the window carries it).
Window geometricInput(const Window& out, int kh, int kw, int sh, int sw, int pt, int pl, int dh,
                      int dw) {
  Window in = out;
  in.baseY = out.baseY * sh - pt;
  in.baseX = out.baseX * sw - pl;
  in.jumpY = out.jumpY * sh;
  in.jumpX = out.jumpX * sw;
  in.h = (out.h - 1) * sh + (kh - 1) * dh + 1;
  in.w = (out.w - 1) * sw + (kw - 1) * dw + 1;
  return in;
}

// A window of one seed (jump 0) cut to an H x W map.
Window clipTo(const Window& w, int64_t H, int64_t W) {
  Window r = w;
  r.baseY = std::max(0, w.baseY);
  r.baseX = std::max(0, w.baseX);
  r.h = int(std::min<int64_t>(w.baseY + w.h, H)) - r.baseY;
  r.w = int(std::min<int64_t>(w.baseX + w.w, W)) - r.baseX;
  return r;
}

// Zeroes every position of a K x C x h x w window tensor that lies outside an H x W map.
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

// Adds `part` (in window `from`) into `acc` (in window `to`, which contains it).
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

memory::dims dimsOf(const Tensor& t) {
  return memory::dims(t.shape().dims().begin(), t.shape().dims().end());
}

// True when every seed's window lies inside an H x W map (nothing to zero, nothing left unset).
bool windowsInside(const Window& win, const std::vector<Seed>& seeds, int64_t H, int64_t W) {
  for (const Seed& s : seeds) {
    const int oy = win.originY(s), ox = win.originX(s);
    if (oy < 0 || ox < 0 || oy + win.h > H || ox + win.w > W) return false;
  }
  return true;
}

// Addressing of a 4-D memory whose layout is plain strides plus at most one block of channels
// (nchw, nhwc, nChw8c, nChw16c, ...): element (n, c, y, x) lives at
// off0 + n s0 + (c / B) s1 + y s2 + x s3 + c % B. Lets window copies and zeroing run as plain
// row copies on the layouts the primitives chose, without a reorder primitive per window.
struct Blocked {
  bool ok = false;
  int64_t off0 = 0, s[4] = {0, 0, 0, 0}, blocks = 0, paddedC = 0;
  int64_t B = 1;
  size_t bytes = 0;  // element size
  explicit Blocked(const memory::desc& md) {
    const dnnl_memory_desc_t& d = md.data;
    if (d.ndims != 4 || d.format_kind != dnnl_blocked) return;
    const dnnl_blocking_desc_t& b = d.format_desc.blocking;
    if (b.inner_nblks > 1 || (b.inner_nblks == 1 && b.inner_idxs[0] != 1)) return;
    B = b.inner_nblks == 1 ? b.inner_blks[0] : 1;
    for (int i = 0; i < 4; ++i) s[i] = b.strides[i];
    off0 = d.offset0;
    paddedC = d.padded_dims[1];
    blocks = (paddedC + B - 1) / B;
    bytes = dnnl_data_type_size(d.data_type);
    ok = bytes > 0;
  }
  int64_t at(int64_t n, int64_t cb, int64_t y, int64_t x) const {
    return off0 + n * s[0] + cb * s[1] + y * s[2] + x * s[3];
  }
  bool compatible(const Blocked& o) const {
    return ok && o.ok && B == o.B && bytes == o.bytes && paddedC == o.paddedC;
  }
};

// A gradient: a oneDNN memory in whatever layout the primitive that produced it chose, and what
// keeps its buffer alive (a pooled buffer or a Tensor).
struct Grad {
  memory mem;
  std::shared_ptr<void> hold;
  // Channels [c0, c1) hold every nonzero value (c1 < 0: any channel may): a single seed
  // starts as one channel, and a grouped convolution then needs only that group's weights.
  int64_t c0 = 0, c1 = -1;
  explicit operator bool() const { return bool(mem); }
  memory::desc md() const { return mem.get_desc(); }
  memory::dims dims() const { return mem.get_desc().dims(); }
};

// Reusable 64-byte aligned buffers, so a projection does not page-fault fresh allocations in.
// Keeps at most kCap bytes of free buffers; thread-safe.
class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  ~BufferPool() {
    for (auto& [size, p] : m_free) std::free(p);
  }
  std::shared_ptr<void> get(size_t bytes) {
    bytes = std::max<size_t>(64, (bytes + 63) / 64 * 64);
    void* p = nullptr;
    {
      std::lock_guard lock(m_mutex);
      auto it = m_free.find(bytes);
      if (it != m_free.end()) {
        p = it->second;
        m_free.erase(it);
        m_freeBytes -= bytes;
      }
    }
    if (!p) p = std::aligned_alloc(64, bytes);
    if (!p) throw Error("projector: out of memory (" + std::to_string(bytes) + " bytes)");
    std::weak_ptr<BufferPool> self = weak_from_this();
    return std::shared_ptr<void>(p, [self, bytes](void* q) {
      if (auto pool = self.lock()) {
        pool->put(q, bytes);
      } else {
        std::free(q);
      }
    });
  }

 private:
  static constexpr size_t kCap = size_t(64) << 20;
  void put(void* p, size_t bytes) {
    {
      std::lock_guard lock(m_mutex);
      if (m_freeBytes + bytes <= kCap) {
        m_free.emplace(bytes, p);
        m_freeBytes += bytes;
        return;
      }
    }
    std::free(p);
  }
  std::mutex m_mutex;
  std::multimap<size_t, void*> m_free;
  size_t m_freeBytes = 0;
};

// The channels (axis 1) of dims `to` that hold the elements of channels [c0, c1) of dims `from`:
// the same elements in C order, as Flatten and Reshape keep them (c1 < 0, any channel, stays).
// Seed 5000 of caffe-alexnet's flatten (9216 = 256 x 6 x 6) is channel 5000 / 36 = 138 of pool5.
std::pair<int64_t, int64_t> reshapedChannels(int64_t c0, int64_t c1, const memory::dims& from,
                                             const memory::dims& to) {
  if (c1 < 0) return {0, -1};
  auto inner = [](const memory::dims& d) {
    int64_t n = 1;
    for (size_t a = 2; a < d.size(); ++a) n *= d[a];
    return n;
  };
  const int64_t per = inner(to);
  return {c0 * inner(from) / per, (c1 * inner(from) + per - 1) / per};
}

// A key for a memory layout (dims, type, blocking).
std::string mdKey(const memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  std::string k = std::to_string(int(d.data_type)) + ":" + std::to_string(int(d.format_kind));
  for (int i = 0; i < d.ndims; ++i) k += "," + std::to_string(d.dims[i]);
  if (d.format_kind == dnnl_blocked) {
    const dnnl_blocking_desc_t& b = d.format_desc.blocking;
    k += "/";
    for (int i = 0; i < d.ndims; ++i) k += std::to_string(b.strides[i]) + ",";
    for (int i = 0; i < b.inner_nblks; ++i)
      k += "b" + std::to_string(b.inner_idxs[i]) + "x" + std::to_string(b.inner_blks[i]);
    k += "@" + std::to_string(d.offset0);
  }
  return k;
}

// The layout family (nchw, nChw8c, nChw16c, nhwc) of a 4-D f32 `md`, applied to `dims`; empty
// when `md` is none of them.
memory::desc sameFamily(const memory::desc& md, const memory::dims& dims) {
  if (md.dims().size() == 4 && md.data_type() == DType::f32)
    for (Tag t : {Tag::nchw, Tag::nChw16c, Tag::nChw8c, Tag::nhwc})
      if (memory::desc(md.dims(), DType::f32, t) == md) return memory::desc(dims, DType::f32, t);
  return {};
}

}  // namespace

// ---- Impl ---------------------------------------------------------------------------------

struct Projector::Impl {
  const Activations& acts;
  const NetworkDef& def;
  const std::vector<Shape>& shapes;
  int sample;
  dnnl::engine engine;
  dnnl::stream stream;
  std::vector<ReceptiveField> fields;
  std::map<std::string, int> index;  // layer name -> index
  // Backward primitives and reordered weights, keyed by layer, problem dims and layout; shared
  // by every projector of the same CompiledNet (see CompiledNet::sharedState), so a new image or
  // a new run does not rebuild them. Every primitive uses a user scratchpad (any thread).
  struct ConvBackward {
    dnnl::convolution_backward_data::primitive_desc pd;
    dnnl::convolution_backward_data prim;
    memory weights;
  };
  struct PoolBackward {
    dnnl::pooling_backward::primitive_desc pd;
    dnnl::pooling_backward prim;
  };
  struct LrnPrims {
    dnnl::lrn_forward::primitive_desc fwdPd;
    dnnl::lrn_forward fwd;
    dnnl::lrn_backward::primitive_desc pd;
    dnnl::lrn_backward prim;
  };
  struct DenseBackward {
    memory weights;
    dnnl::inner_product_backward_data::primitive_desc pd;
    dnnl::inner_product_backward_data prim;
  };
  struct Cache {
    std::mutex mutex;
    std::map<std::string, ConvBackward> conv;
    std::map<std::string, PoolBackward> pool;
    std::map<std::string, LrnPrims> lrn;
    std::map<std::string, DenseBackward> dense;
    std::map<std::string, dnnl::primitive> misc;  // reorders and eltwise ops, by layouts
    std::map<std::string, memory> weights;        // reordered convolution weights
    std::shared_ptr<BufferPool> buffers = std::make_shared<BufferPool>();
  };
  std::shared_ptr<Cache> cache;

  Impl(const Activations& a, int s)
      : acts(a),
        def(a.net().def()),
        shapes(a.net().outputShapes()),
        sample(s),
        engine(a.plan().engine),
        stream(engine),
        fields(receptiveFields(def)) {
    for (size_t i = 0; i < def.layers.size(); ++i) index[def.layers[i].name] = int(i);
    cache = std::static_pointer_cast<Cache>(a.net().sharedState(
        "projector", [] { return std::static_pointer_cast<void>(std::make_shared<Cache>()); }));
  }

  int producer(const std::string& name) const {
    if (name == def.input.name) return -1;
    return index.at(name);
  }
  const Shape& shapeOf(int layer) const {
    return layer < 0 ? def.input.shape : shapes[size_t(layer)];
  }

  // Which layers lie on a path from the input to `target`.
  std::vector<bool> ancestors(size_t target) const {
    std::vector<bool> need(def.layers.size(), false);
    need[target] = true;
    for (size_t i = target + 1; i-- > 0;) {
      if (!need[i]) continue;
      for (const std::string& in : def.layers[i].inputs)
        if (int p = producer(in); p >= 0) need[size_t(p)] = true;
    }
    return need;
  }

  // True when windows can be cropped around each seed (every op between the target and the
  // input is local in space, or global and then whole below).
  bool canCrop(const std::vector<bool>& need) const {
    for (size_t i = 0; i < need.size(); ++i) {
      if (!need[i]) continue;
      const LayerSpec& l = def.layers[i];
      if (l.type == LayerType::Concat && l.axis.axis != 1) return false;
      if (l.type == LayerType::Add && l.inputs.size() == 2 &&
          shapeOf(producer(l.inputs[0])) != shapeOf(producer(l.inputs[1])))
        return false;
    }
    return true;
  }

  // Windows of every needed layer output (index layers.size() = the network input). With
  // `single` (one seed), windows are placed for that seed and cut to their maps (`clip` is set):
  // the backward ops then skip the parts outside, using padding as the forward did.
  std::vector<Window> computeWindows(size_t target, const std::vector<bool>& need,
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
      for (const std::string& name : l.inputs) {
        int p = producer(name);
        const Shape& in = shapeOf(p);
        Window w;
        if (in.rank() != 3) {
          w = fullWindow(in);
        } else {
          switch (l.type) {
            case LayerType::Conv:
              w = out.spatial ? geometricInput(out, l.conv.kernelH, l.conv.kernelW, l.conv.strideH,
                                               l.conv.strideW, l.conv.pad.top, l.conv.pad.left,
                                               l.conv.dilationH, l.conv.dilationW)
                              : fullWindow(in);
              break;
            case LayerType::MaxPool:
            case LayerType::AveragePool:
              w = out.spatial
                      ? geometricInput(out, l.pool.kernelH, l.pool.kernelW, l.pool.strideH,
                                       l.pool.strideW, l.pool.pad.top, l.pool.pad.left, 1, 1)
                      : fullWindow(in);
              break;
            case LayerType::GlobalAveragePool:
            case LayerType::Dense:
            case LayerType::Flatten:
            case LayerType::Reshape:
            case LayerType::Concat:
              w = (l.type == LayerType::Concat && out.spatial) ? out : fullWindow(in);
              break;
            default:
              w = out.spatial ? out : fullWindow(in);
              break;
          }
        }
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
  Window naturalInputWindow(size_t i, const Window& out, const Shape& in, bool clip) const {
    const Window w = geometricInputWindow(i, out, in);
    return clip && w.spatial ? clipTo(w, in[1], in[2]) : w;
  }

  // The window of layer i's input that its output window `out` reads, padding included.
  Window geometricInputWindow(size_t i, const Window& out, const Shape& in) const {
    const LayerSpec& l = def.layers[i];
    if (in.rank() != 3 || !out.spatial) return fullWindow(in);
    switch (l.type) {
      case LayerType::Conv:
        return geometricInput(out, l.conv.kernelH, l.conv.kernelW, l.conv.strideH, l.conv.strideW,
                              l.conv.pad.top, l.conv.pad.left, l.conv.dilationH, l.conv.dilationW);
      case LayerType::MaxPool:
      case LayerType::AveragePool:
        return geometricInput(out, l.pool.kernelH, l.pool.kernelW, l.pool.strideH, l.pool.strideW,
                              l.pool.pad.top, l.pool.pad.left, 1, 1);
      default:
        return out;
    }
  }

  // ---- buffers, layouts and execution ----

  // A pooled buffer seen as `md`; zeroed when asked.
  Grad alloc(const memory::desc& md, bool zero = false) {
    const size_t bytes = md.get_size();
    Grad g;
    g.hold = cache->buffers->get(bytes);
    g.mem = memory(md, engine, g.hold.get());
    if (zero) std::memset(g.hold.get(), 0, bytes);
    return g;
  }

  Grad fromTensor(Tensor t) {
    auto owned = std::make_shared<Tensor>(std::move(t));
    Grad g;
    g.mem = memory(detail::plainMd(dimsOf(*owned)), engine, owned->data());
    g.hold = owned;
    return g;
  }

  // A plain copy of a gradient.
  Tensor toTensor(const Grad& g) {
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
  void exec(const dnnl::primitive& p, std::unordered_map<int, memory> args) {
    const memory::desc md = detail::scratchpadOf(p);
    std::shared_ptr<void> scratch;
    if (md.get_size() > 0) {
      scratch = cache->buffers->get(md.get_size());
      args.emplace(DNNL_ARG_SCRATCHPAD, memory(md, engine, scratch.get()));
    }
    p.execute(stream, args);
  }

  // A cached primitive for layouts that do not depend on the seeds (reorders, eltwise ops).
  dnnl::primitive miscPrimitive(const std::string& key,
                                const std::function<dnnl::primitive()>& make) {
    std::lock_guard lock(cache->mutex);
    auto it = cache->misc.find(key);
    if (it == cache->misc.end()) it = cache->misc.emplace(key, make()).first;
    return it->second;
  }

  void reorder(const memory& src, const memory& dst) {
    const memory::desc s = src.get_desc(), d = dst.get_desc();
    dnnl::primitive r = miscPrimitive("reorder/" + mdKey(s) + "/" + mdKey(d), [&] {
      return dnnl::reorder(
          dnnl::reorder::primitive_desc(engine, s, engine, d, detail::scratchpadAttr()));
    });
    exec(r, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
  }

  // `g` in layout `want` (itself when it already is).
  Grad inLayout(const Grad& g, const memory::desc& want) {
    if (g.md() == want) return g;
    Grad out = alloc(want);
    reorder(g.mem, out.mem);
    return out;
  }

  // `g` with a buffer nobody else holds, so it can be changed in place.
  Grad unique(Grad g) {
    if (g.hold.use_count() <= 1) return g;
    Grad copy = alloc(g.md());
    std::memcpy(copy.hold.get(), g.mem.get_data_handle(), g.md().get_size());
    copy.c0 = g.c0;
    copy.c1 = g.c1;
    return copy;
  }

  // Zeroes every position of a K x C x h x w window gradient that lies outside an H x W map.
  void zeroOutside(Grad& g, const Window& win, const std::vector<Seed>& seeds, int64_t H,
                   int64_t W) {
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
  const memory& forwardView(int layer) const {
    const detail::Plan& plan = acts.plan();
    const int view = layer < 0 ? plan.inputView : plan.layers[size_t(layer)].out;
    if (view < 0)
      throw Error("projector: the run did not keep the output of layer '" +
                  def.layers[size_t(layer)].name + "' (run with keepAll)");
    return acts.state().views[size_t(view)];
  }

  // Copies each seed's window of sample `sample` of a forward N x C x H x W memory (any layout,
  // any data type) into `dst`, a K x C x h x w memory; parts of a window outside the map are
  // left as they are (callers zero them). Row copies when both layouts are of the same blocked
  // family, reorders of the windows otherwise.
  void copyWindows(const memory& src, const Window& win, const std::vector<Seed>& seeds,
                   const memory& dst) {
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
  const memory* spatialOutput(size_t layer) const {
    const int view = acts.plan().layers[layer].out;
    if (shapes[layer].rank() != 3 || view < 0) return nullptr;
    const memory& m = acts.state().views[size_t(view)];
    return Blocked(m.get_desc()).ok && m.get_desc().data_type() == DType::f32 ? &m : nullptr;
  }

  // Per channel of `layer`'s output (this sample): its largest value and the first position
  // (row-major: y * W + x, or the channel itself for vectors) that holds it. Read straight
  // from the forward memory when it can be, without a plain copy of the whole output.
  std::vector<std::pair<float, int64_t>> channelMaxima(size_t layer) const {
    const Shape& shape = shapes[layer];
    std::vector<std::pair<float, int64_t>> best;
    if (const memory* m = spatialOutput(layer)) {
      const Blocked b(m->get_desc());
      const int64_t C = shape[0], H = shape[1], W = shape[2];
      const float* base = static_cast<const float*>(m->get_data_handle());
      // Pixel by pixel, channels innermost (contiguous within a block): vectorizable, and
      // each channel still sees its positions in row-major order (strictly larger wins).
      // Runs of R contiguous channels: a block, or all channels when they are innermost (nhwc).
      const bool last = b.B == 1 && b.s[1] == 1;
      const int64_t R = last ? b.paddedC : b.B, runs = last ? 1 : b.blocks;
      std::vector<float> value(size_t(runs * R));
      std::vector<int32_t> at(value.size(), 0);
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
          const int32_t k = int32_t(y * W + x);
          const float* pixel = base + b.at(sample, 0, y, x);
          for (int64_t cb = 0; cb < runs; ++cb) {
            const float* __restrict v = pixel + cb * b.s[1] * (last ? 0 : 1);
            float* __restrict bv = value.data() + cb * R;
            int32_t* __restrict ba = at.data() + cb * R;
            if (k == 0) {
              std::copy_n(v, R, bv);
              continue;
            }
            for (int64_t j = 0; j < R; ++j) {
              const float now = v[j], was = bv[j];
              const int32_t mask = -int32_t(now > was);  // all ones when strictly larger
              bv[j] = std::bit_cast<float>((std::bit_cast<int32_t>(now) & mask) |
                                           (std::bit_cast<int32_t>(was) & ~mask));
              ba[j] = (k & mask) | (ba[j] & ~mask);
            }
          }
        }
      for (int64_t c = 0; c < C; ++c) best.push_back({value[size_t(c)], at[size_t(c)]});
      return best;
    }
    const Tensor& t = acts.output(layer);
    const int64_t C = t.shape()[1], plane = t.numel() / (t.shape()[0] * C);
    for (int64_t c = 0; c < C; ++c) {
      const float* p = t.data() + (int64_t(sample) * C + c) * plane;
      float value = p[0];
      int64_t at = 0;
      for (int64_t k = 1; k < plane; ++k)
        if (p[k] > value) {
          value = p[k];
          at = k;
        }
      best.push_back({value, plane == 1 ? c : at});
    }
    return best;
  }

  // `layer`'s output (this sample) at channel c, position (y, x) (0, 0 for vectors).
  float outputAt(size_t layer, int c, int y, int x) const {
    if (const memory* m = spatialOutput(layer)) {
      const Blocked b(m->get_desc());
      return static_cast<const float*>(m->get_data_handle())[b.at(sample, c / b.B, y, x) + c % b.B];
    }
    const Tensor& t = acts.output(layer);
    if (shapes[layer].rank() == 3) return t.at(sample, c, y, x);
    return t[int64_t(sample) * shapes[layer].numel() + c];
  }

  // ---- backward ops (K samples, any layouts) ----

  // Padding that turns the geometric input window of `out` into `inWin` (zero unless clipped):
  // top, left, bottom, right.
  std::array<memory::dim, 4> padsFor(size_t i, const Window& out, const Window& inWin) const {
    const Window g = geometricInputWindow(i, out, shapeOf(producer(def.layers[i].inputs[0])));
    if (!g.spatial) return {0, 0, 0, 0};
    return {inWin.baseY - g.baseY, inWin.baseX - g.baseX, g.baseY + g.h - inWin.baseY - inWin.h,
            g.baseX + g.w - inWin.baseX - inWin.w};
  }

  // A view of channels [c0, c1) of `g` (plain first when its blocking does not allow it). The
  // offset goes into the data handle, not the descriptor, so cached reorders of one layout
  // serve every channel.
  memory channelSlice(Grad& g, int64_t c0, int64_t c1) {
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

  // The transposed convolution of layer i. When the signal lives in the output channels of one
  // group (a single seed: one channel), only those channels and their weights take part: the
  // same primitive on the group's slice, placed into a zeroed full-channel result.
  Grad convBackward(size_t i, Grad g, const Window& outWin, const Window& inWin) {
    const LayerSpec& l = def.layers[i];
    const ConvParams& p = l.conv;
    const memory::dims dstDims = g.dims();
    const int64_t K = dstDims[0];
    const Shape& in = shapeOf(producer(l.inputs[0]));
    const int64_t OC = p.outChannels, IC = in[0], G = p.groups, OCg = OC / G, ICg = IC / G;
    // A range that does not fit the layer would address weights outside its tensor.
    if (g.c1 >= 0 && (g.c0 < 0 || g.c0 >= g.c1 || g.c1 > OC))
      throw Error("projector: internal error: the signal's channels [" + std::to_string(g.c0) +
                  ", " + std::to_string(g.c1) + ") do not fit layer '" + l.name + "' (" +
                  std::to_string(OC) + " channels)");
    const int64_t c0 = g.c1 < 0 ? 0 : g.c0, c1 = g.c1 < 0 ? OC : g.c1;
    const bool sliced = (c0 > 0 || c1 < OC) && c1 > c0 && c0 / OCg == (c1 - 1) / OCg;
    const int64_t group = sliced ? c0 / OCg : 0;
    // The problem the primitive solves: the whole layer, or one group's channels [c0, c1).
    const int64_t oc = sliced ? c1 - c0 : OC, ic = sliced ? ICg : IC, groups = sliced ? 1 : G;
    memory::dims srcDims{K, ic, inWin.h, inWin.w}, outDims{K, oc, dstDims[2], dstDims[3]};
    const auto pads = padsFor(i, outWin, inWin);
    std::string key = "conv/" + std::to_string(i) + "/" + std::to_string(K) + "/" +
                      std::to_string(oc) + "/" + std::to_string(dstDims[2]) + "x" +
                      std::to_string(dstDims[3]) + "/" + std::to_string(inWin.h) + "x" +
                      std::to_string(inWin.w);
    for (memory::dim v : pads) key += "," + std::to_string(v);
    std::unique_lock lock(cache->mutex);
    auto it = cache->conv.find(key);
    if (it == cache->conv.end()) {
      memory::dims wDims =
          groups > 1 ? memory::dims{groups, oc / groups, ic / groups, p.kernelH, p.kernelW}
                     : memory::dims{oc, ic, p.kernelH, p.kernelW};
      // Few input channels (a first layer): channel-blocked layouts pad 3 channels to 16, and
      // oneDNN's GEMM-based kernel on plain layouts is about 3x faster here (1.1 vs 3.4 ms for
      // AlexNet's conv1 window on one thread).
      const Tag layout = ic < 8 ? Tag::nchw : Tag::any;
      memory::desc srcAny(srcDims, DType::f32, layout), dstAny(outDims, DType::f32, layout),
          wAny(wDims, DType::f32, Tag::any);
      memory::dims strides{p.strideH, p.strideW}, dil{p.dilationH - 1, p.dilationW - 1};
      memory::dims padL{pads[0], pads[1]}, padR{pads[2], pads[3]};
      dnnl::convolution_forward::primitive_desc hint(
          {prop_kind::forward_training, algorithm::convolution_direct, srcAny, wAny, dstAny,
           strides, dil, padL, padR},
          engine);
      dnnl::convolution_backward_data::primitive_desc pd(
          {algorithm::convolution_direct, srcAny, wAny, dstAny, strides, dil, padL, padR},
          detail::scratchpadAttr(), engine, hint);
      it =
          cache->conv.emplace(key, ConvBackward{pd, dnnl::convolution_backward_data(pd), {}}).first;
    }
    ConvBackward cb = it->second;
    // Reordered weights (of the channels taking part), shared by every window geometry that
    // picks the same layout. Plain weights are G x OCg x ICg x kh x kw: output channels
    // [c0, c1) of one group are contiguous.
    memory& w =
        cache->weights["w/" + std::to_string(i) + "/" + std::to_string(sliced ? c0 : 0) + "-" +
                       std::to_string(sliced ? c1 : OC) + "/" + mdKey(cb.pd.weights_desc())];
    if (!w) {
      const memory::desc wMd = cb.pd.weights_desc();
      memory plainW(
          detail::plainMd(wMd.dims()), engine,
          const_cast<float*>(l.weights.data()) + (sliced ? c0 * ICg * p.kernelH * p.kernelW : 0));
      w = plainW;
      if (wMd != plainW.get_desc()) {
        w = memory(wMd, engine);
        detail::reorderNow(stream, plainW, w);
      }
    }
    cb.weights = w;
    lock.unlock();
    Grad diffDst;
    if (sliced) {
      diffDst = alloc(cb.pd.diff_dst_desc());
      reorder(channelSlice(g, c0, c1), diffDst.mem);
    } else {
      diffDst = inLayout(g, cb.pd.diff_dst_desc());
    }
    Grad diffSrc = alloc(cb.pd.diff_src_desc());
    exec(cb.prim, {{DNNL_ARG_DIFF_DST, diffDst.mem},
                   {DNNL_ARG_WEIGHTS, cb.weights},
                   {DNNL_ARG_DIFF_SRC, diffSrc.mem}});
    if (!sliced || G == 1) return diffSrc;
    // Place the group's input channels into a zeroed full-channel gradient.
    const memory::dims full{K, IC, inWin.h, inWin.w};
    memory::desc fullMd = sameFamily(diffSrc.md(), full);
    if (fullMd.is_zero()) fullMd = detail::plainMd(full);
    Grad out = alloc(fullMd, true);
    out.c0 = group * ICg;
    out.c1 = (group + 1) * ICg;
    reorder(diffSrc.mem, channelSlice(out, out.c0, out.c1));
    return out;
  }

  Grad maxPoolBackward(size_t i, Grad g, const Window& outWin, const Window& inWin,
                       const std::vector<Seed>& seeds) {
    const LayerSpec& l = def.layers[i];
    const PoolParams& p = l.pool;
    const memory::dims d = g.dims();
    const int64_t K = d[0], C = d[1], h = d[2], w = d[3];
    // Pool in the layout the gradient arrives in (plain when it is none of the usual ones).
    memory::desc srcMd = sameFamily(g.md(), {K, C, inWin.h, inWin.w});
    if (srcMd.is_zero()) {
      g = inLayout(g, detail::plainMd(d));
      srcMd = detail::plainMd({K, C, inWin.h, inWin.w});
    }
    const memory::desc dstMd = g.md();
    memory::dims strides{p.strideH, p.strideW}, kernel{p.kernelH, p.kernelW};
    const auto pads = padsFor(i, outWin, inWin);
    memory::dims padL{pads[0], pads[1]}, padR{pads[2], pads[3]};
    std::string key = "pool/" + std::to_string(i) + "/" + mdKey(dstMd) + "/" + mdKey(srcMd);
    for (memory::dim v : pads) key += "," + std::to_string(v);
    std::unique_lock lock(cache->mutex);
    auto it = cache->pool.find(key);
    if (it == cache->pool.end()) {
      dnnl::pooling_forward::primitive_desc hint(
          {prop_kind::forward_training, algorithm::pooling_max, srcMd, dstMd, strides, kernel, padL,
           padR},
          engine);
      dnnl::pooling_backward::primitive_desc pd(
          {algorithm::pooling_max, srcMd, dstMd, strides, kernel, padL, padR},
          detail::scratchpadAttr(), engine, hint);
      it = cache->pool.emplace(key, PoolBackward{pd, dnnl::pooling_backward(pd)}).first;
    }
    PoolBackward pb = it->second;
    lock.unlock();
    const memory::desc wsMd = pb.pd.workspace_desc();
    if (wsMd.dims() != memory::dims{K, C, h, w})
      throw Error("layer '" + l.name + "': unexpected max-pool workspace layout");
    // The forward workspace holds, per output, the switch as an offset inside its pooling
    // window (the same encoding the backward primitive reads; the window starts are the same
    // in the cropped geometry). Copy each seed's window of it; outside the map stays 0.
    const Shape& out = shapes[i];
    Grad ws = alloc(wsMd, !windowsInside(outWin, seeds, out[1], out[2]));
    const int wsView = acts.plan().layers[i].workspace;
    if (wsView < 0) throw Error("layer '" + l.name + "': the forward run kept no switches");
    copyWindows(acts.state().views[size_t(wsView)], outWin, seeds, ws.mem);
    Grad diffSrc = alloc(pb.pd.diff_src_desc());
    exec(pb.prim, {{DNNL_ARG_DIFF_DST, g.mem},
                   {DNNL_ARG_WORKSPACE, ws.mem},
                   {DNNL_ARG_DIFF_SRC, diffSrc.mem}});
    return diffSrc;
  }

  // Average pooling spreads each output's signal evenly over its window (its gradient).
  Tensor avgPoolBackward(size_t i, const Tensor& g, const Window& outWin, const Window& inWin,
                         const std::vector<Seed>& seeds) {
    const LayerSpec& l = def.layers[i];
    const PoolParams& p = l.pool;
    const Shape& in = shapeOf(producer(l.inputs[0]));
    const int64_t H = in[1], W = in[2];
    const int64_t K = g.shape()[0], C = g.shape()[1], h = g.shape()[2], w = g.shape()[3];
    Tensor out(Shape{K, C, inWin.h, inWin.w});
    for (int64_t k = 0; k < K; ++k) {
      const int oy0 = outWin.originY(seeds[size_t(k)]), ox0 = outWin.originX(seeds[size_t(k)]);
      const int iy0 = inWin.originY(seeds[size_t(k)]), ix0 = inWin.originX(seeds[size_t(k)]);
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const int64_t hs = (oy0 + y) * p.strideH - p.pad.top,
                        ws = (ox0 + x) * p.strideW - p.pad.left;
          const int64_t he = std::min<int64_t>(hs + p.kernelH, H + p.pad.bottom);
          const int64_t we = std::min<int64_t>(ws + p.kernelW, W + p.pad.right);
          const int64_t y0 = std::max<int64_t>(hs, 0), y1 = std::min(he, H);
          const int64_t x0 = std::max<int64_t>(ws, 0), x1 = std::min(we, W);
          if (y0 >= y1 || x0 >= x1) continue;
          const double div =
              p.countIncludePad ? double((he - hs) * (we - ws)) : double((y1 - y0) * (x1 - x0));
          for (int64_t c = 0; c < C; ++c) {
            const float v = float(g.at(k, c, y, x) / div);
            if (v == 0.0f) continue;
            for (int64_t yy = y0; yy < y1; ++yy)
              for (int64_t xx = x0; xx < x1; ++xx) out.at(k, c, yy - iy0, xx - ix0) += v;
          }
        }
    }
    return out;
  }

  Grad lrnBackward(size_t i, Grad g, const Window& win, const std::vector<Seed>& seeds) {
    const LayerSpec& l = def.layers[i];
    const int p = producer(l.inputs[0]);
    // oneDNN's fast LRN kernels want channel-blocked layouts; the plain one is a slow reference.
    const memory::dims dims = g.dims();
    const int64_t C = dims[1];
    const memory::desc b16(dims, DType::f32, Tag::nChw16c), b8(dims, DType::f32, Tag::nChw8c);
    memory::desc md = g.md();
    if (md != b16 && md != b8) md = C % 16 == 0 ? b16 : C % 8 == 0 ? b8 : detail::plainMd(dims);
    g = inLayout(g, md);
    std::string key = "lrn/" + std::to_string(i) + "/" + mdKey(md);
    std::unique_lock lock(cache->mutex);
    auto it = cache->lrn.find(key);
    if (it == cache->lrn.end()) {
      dnnl::lrn_forward::primitive_desc fwd(
          {prop_kind::forward_training, algorithm::lrn_across_channels, md, l.lrn.size, l.lrn.alpha,
           l.lrn.beta, l.lrn.bias},
          detail::scratchpadAttr(), engine);
      dnnl::lrn_backward::primitive_desc bwd(
          {algorithm::lrn_across_channels, md, md, l.lrn.size, l.lrn.alpha, l.lrn.beta, l.lrn.bias},
          detail::scratchpadAttr(), engine, fwd);
      it = cache->lrn
               .emplace(key, LrnPrims{fwd, dnnl::lrn_forward(fwd), bwd, dnnl::lrn_backward(bwd)})
               .first;
    }
    LrnPrims lb = it->second;
    lock.unlock();
    // The LRN's input, window by window, straight into the gradient's layout.
    const Shape& in = shapeOf(p);
    Grad src = alloc(md, !windowsInside(win, seeds, in[1], in[2]));
    copyWindows(forwardView(p), win, seeds, src.mem);
    Grad diffSrc = alloc(lb.pd.diff_src_desc());
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DIFF_DST, g.mem}, {DNNL_ARG_DIFF_SRC, diffSrc.mem}};
    Grad ws, dst;
    if (lb.pd.workspace_desc().get_size() > 0) {
      dst = alloc(lb.fwdPd.dst_desc());
      ws = alloc(lb.fwdPd.workspace_desc());
      exec(lb.fwd,
           {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DST, dst.mem}, {DNNL_ARG_WORKSPACE, ws.mem}});
      args[DNNL_ARG_WORKSPACE] = ws.mem;
    }
    exec(lb.prim, args);
    return diffSrc;
  }

  Grad reluBackward(size_t i, Grad g, const Window& win, const std::vector<Seed>& seeds,
                    ProjectionMode mode) {
    const bool spatial = shapes[i].rank() == 3;
    if (!spatial) g = inLayout(g, detail::plainMd(g.dims()));
    const memory::desc md = g.md();
    if (mode != ProjectionMode::Saliency) {
      // relu(g): the deconvnet rectifies the signal itself (guided does too, then masks).
      dnnl::primitive relu = miscPrimitive("relu/" + mdKey(md), [&] {
        return dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
            {prop_kind::forward_inference, algorithm::eltwise_relu, md, 0.0f, 0.0f},
            detail::scratchpadAttr(), engine));
      });
      Grad r = alloc(md);
      exec(relu, {{DNNL_ARG_SRC, g.mem}, {DNNL_ARG_DST, r.mem}});
      g = std::move(r);
    }
    if (mode == ProjectionMode::Deconvnet) return g;
    // g * [x > 0] with the forward ReLU output of this sample (x > 0 exactly where it is > 0).
    Grad dst;
    if (spatial) {
      const Shape& s = shapes[i];
      dst = alloc(md, !windowsInside(win, seeds, s[1], s[2]));
      copyWindows(forwardView(int(i)), win, seeds, dst.mem);
    } else {
      const Tensor& y = acts.output(i);
      const int64_t K = g.dims()[0], n = shapes[i].numel();
      dst = alloc(md);
      for (int64_t k = 0; k < K; ++k)
        std::memcpy(static_cast<float*>(dst.hold.get()) + k * n, y.data() + int64_t(sample) * n,
                    size_t(n) * sizeof(float));
    }
    dnnl::primitive mask = miscPrimitive("relu_bwd/" + mdKey(md), [&] {
      dnnl::eltwise_forward::primitive_desc hint(
          {prop_kind::forward_training, algorithm::eltwise_relu_use_dst_for_bwd, md, 0.0f, 0.0f},
          engine);
      return dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(
          {algorithm::eltwise_relu_use_dst_for_bwd, md, md, 0.0f, 0.0f}, detail::scratchpadAttr(),
          engine, hint));
    });
    Grad result = alloc(md);
    exec(mask,
         {{DNNL_ARG_DST, dst.mem}, {DNNL_ARG_DIFF_DST, g.mem}, {DNNL_ARG_DIFF_SRC, result.mem}});
    return result;
  }

  Grad denseBackward(size_t i, Grad g) {
    const LayerSpec& l = def.layers[i];
    const int64_t K = g.dims()[0], O = l.dense.units, I = l.weights.shape()[1];
    memory::desc srcMd = detail::plainMd({K, I}), dstMd = detail::plainMd({K, O});
    memory::desc wPlain = detail::plainMd({O, I});
    g = inLayout(g, detail::plainMd(g.dims()));
    std::string key = "dense/" + std::to_string(i) + "/" + std::to_string(K);
    std::unique_lock lock(cache->mutex);
    auto it = cache->dense.find(key);
    if (it == cache->dense.end()) {
      dnnl::inner_product_forward::primitive_desc hint(
          {prop_kind::forward_training, srcMd, wPlain, dstMd}, engine);
      dnnl::inner_product_backward_data::primitive_desc pd({srcMd, wPlain, dstMd},
                                                           detail::scratchpadAttr(), engine, hint);
      memory w(wPlain, engine, const_cast<float*>(l.weights.data()));
      it = cache->dense.emplace(key, DenseBackward{w, pd, dnnl::inner_product_backward_data(pd)})
               .first;
    }
    DenseBackward db = it->second;
    lock.unlock();
    memory diffDst(dstMd, engine, g.mem.get_data_handle());
    Grad diffSrc = alloc(db.pd.diff_src_desc());
    exec(db.prim, {{DNNL_ARG_DIFF_DST, diffDst},
                   {DNNL_ARG_WEIGHTS, db.weights},
                   {DNNL_ARG_DIFF_SRC, diffSrc.mem}});
    return diffSrc;
  }

  // `g` (any layout) as a plain memory of dims `dims` (same element count).
  Grad reshaped(const Grad& g, const memory::dims& dims) {
    Grad plain = inLayout(g, detail::plainMd(g.dims()));
    plain.mem = memory(detail::plainMd(dims), engine, plain.mem.get_data_handle());
    return plain;
  }

  // Runs the backward pass for a batch of seeds at `target`; returns K x C x H x W.
  Tensor run(size_t target, const std::vector<Seed>& seeds, ProjectionMode mode, LrnBackward lrn) {
    const std::vector<bool> need = ancestors(target);
    bool clip = false;
    const std::vector<Window> win =
        computeWindows(target, need, seeds.size() == 1 ? &seeds[0] : nullptr, clip);
    const int64_t K = static_cast<int64_t>(seeds.size());
    std::vector<Grad> grad(def.layers.size() + 1);
    auto gslot = [&](int p) -> size_t { return p < 0 ? def.layers.size() : size_t(p); };

    // The seed: zeros except the activation's own value at (c_k, p_k).
    const Shape& ts = shapes[target];
    {
      Tensor seed;
      if (ts.rank() == 3) {
        const Window& w = win[target];
        seed = Tensor(Shape{K, ts[0], w.h, w.w});
        for (int64_t k = 0; k < K; ++k) {
          const Seed& s = seeds[size_t(k)];
          seed.at(k, s.channel, s.y - w.originY(s), s.x - w.originX(s)) = s.value;
        }
      } else {
        seed = Tensor(ts.withBatch(K));
        const int64_t n = ts.numel();
        for (int64_t k = 0; k < K; ++k)
          seed[k * n + seeds[size_t(k)].channel] = seeds[size_t(k)].value;
      }
      grad[target] = fromTensor(std::move(seed));
      if (K == 1) {
        grad[target].c0 = seeds[0].channel;
        grad[target].c1 = seeds[0].channel + 1;
      }
    }

    for (size_t i = target + 1; i-- > 0;) {
      if (!need[i] || !grad[i]) continue;
      const LayerSpec& l = def.layers[i];
      Grad g = std::move(grad[i]);
      grad[i] = Grad();  // free as we go
      const Window& outWin = win[i];
      std::vector<Grad> inGrads;  // one per input, in its natural window
      auto natural = [&](size_t k) {
        return naturalInputWindow(i, outWin, shapeOf(producer(l.inputs[k])), clip);
      };
      try {
        switch (l.type) {
          case LayerType::Conv:
            inGrads.push_back(convBackward(i, g, outWin, natural(0)));
            break;
          case LayerType::MaxPool:
            inGrads.push_back(maxPoolBackward(i, g, outWin, natural(0), seeds));
            inGrads.back().c0 = g.c0;
            inGrads.back().c1 = g.c1;
            break;
          case LayerType::AveragePool:
            inGrads.push_back(
                fromTensor(avgPoolBackward(i, toTensor(g), outWin, natural(0), seeds)));
            break;
          case LayerType::GlobalAveragePool: {
            const Tensor gt = toTensor(g);
            const Shape& in = shapeOf(producer(l.inputs[0]));
            Tensor out = Tensor::uninitialized(Shape{K, in[0], in[1], in[2]});
            const int64_t hw = in[1] * in[2];
            for (int64_t k = 0; k < K; ++k)
              for (int64_t c = 0; c < in[0]; ++c) {
                const float v = gt[k * in[0] + c] / float(hw);
                std::fill_n(out.data() + (k * in[0] + c) * hw, hw, v);
              }
            inGrads.push_back(fromTensor(std::move(out)));
            break;
          }
          case LayerType::LRN:
            inGrads.push_back(lrn == LrnBackward::Pass ? g : lrnBackward(i, g, outWin, seeds));
            break;
          case LayerType::Relu:
            inGrads.push_back(reluBackward(i, g, outWin, seeds, mode));
            inGrads.back().c0 = g.c0;
            inGrads.back().c1 = g.c1;
            break;
          case LayerType::Dense: {
            const Shape in = shapeOf(producer(l.inputs[0])).withBatch(K);
            inGrads.push_back(
                reshaped(denseBackward(i, g), memory::dims(in.dims().begin(), in.dims().end())));
            break;
          }
          case LayerType::Flatten:
          case LayerType::Reshape: {
            const Shape in = shapeOf(producer(l.inputs[0])).withBatch(K);
            const memory::dims inDims(in.dims().begin(), in.dims().end());
            Grad r = reshaped(g, inDims);
            // The seed's channel range indexes the output's axis 1; below, the same elements
            // lie in other channels (a flat index is not a channel of the map it came from).
            std::tie(r.c0, r.c1) = reshapedChannels(g.c0, g.c1, g.dims(), inDims);
            inGrads.push_back(std::move(r));
            break;
          }
          case LayerType::Dropout:
          case LayerType::Identity:
          case LayerType::Softmax:  // a class is projected from its score: passed unchanged
            inGrads.push_back(g);
            break;
          case LayerType::BatchNorm: {
            Tensor t = toTensor(g);
            const int64_t C = t.shape()[1], inner = t.numel() / (K * C);
            for (int64_t k = 0; k < K; ++k)
              for (int64_t c = 0; c < C; ++c) {
                const float f =
                    l.weights[c] / std::sqrt(l.weights[3 * C + c] + l.batchNorm.epsilon);
                float* row = t.data() + (k * C + c) * inner;
                for (int64_t e = 0; e < inner; ++e) row[e] *= f;
              }
            inGrads.push_back(fromTensor(std::move(t)));
            break;
          }
          case LayerType::Add:
            for (size_t k = 0; k < l.inputs.size(); ++k) inGrads.push_back(g);
            break;
          case LayerType::Concat: {
            // Split along the axis (plain layout: outer x len x inner blocks).
            const Tensor gt = toTensor(g);
            const auto& d = gt.shape().dims();
            const int axis = l.axis.axis;
            int64_t outer = 1, inner = 1;
            for (int a = 0; a < axis; ++a) outer *= d[size_t(a)];
            for (size_t a = size_t(axis) + 1; a < d.size(); ++a) inner *= d[a];
            int64_t offset = 0;
            for (const std::string& name : l.inputs) {
              std::vector<int64_t> pd = d;
              const Shape& in = shapeOf(producer(name));
              const int64_t len = in[size_t(axis - 1)];
              pd[size_t(axis)] = len;
              Tensor part = Tensor::uninitialized(Shape(pd));
              for (int64_t o = 0; o < outer; ++o)
                std::memcpy(part.data() + o * len * inner,
                            gt.data() + (o * d[size_t(axis)] + offset) * inner,
                            size_t(len * inner) * sizeof(float));
              offset += len;
              inGrads.push_back(fromTensor(std::move(part)));
            }
            break;
          }
        }
      } catch (const dnnl::error& e) {
        throw Error("projection through layer '" + l.name + "' (" +
                    std::string(onnxOpName(l.type)) + ") failed in oneDNN: " + e.what());
      }
      g = Grad();
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        const int p = producer(l.inputs[k]);
        const size_t slot = gslot(p);
        const Shape& in = shapeOf(p);
        const Window nat = natural(k);
        Grad part = std::move(inGrads[k]);
        if (in.rank() == 3) zeroOutside(part, nat, seeds, in[1], in[2]);
        if (!grad[slot]) {
          if (win[slot].spatial && (nat.baseY != win[slot].baseY || nat.baseX != win[slot].baseX ||
                                    nat.h != win[slot].h || nat.w != win[slot].w)) {
            Tensor acc(Shape{K, in[0], win[slot].h, win[slot].w});
            accumulate(acc, toTensor(part), win[slot], nat);
            grad[slot] = fromTensor(std::move(acc));
          } else {
            grad[slot] = std::move(part);
          }
        } else {
          Tensor acc = toTensor(grad[slot]);
          accumulate(acc, toTensor(part), win[slot], nat);
          grad[slot] = fromTensor(std::move(acc));
        }
      }
    }

    // Place each seed's input window into a full-size image.
    const Shape& is = def.input.shape;
    Tensor out(is.withBatch(K));
    const size_t inSlot = def.layers.size();
    if (!grad[inSlot]) return out;
    Grad gp = inLayout(grad[inSlot], detail::plainMd(grad[inSlot].dims()));
    const float* gi = static_cast<const float*>(gp.mem.get_data_handle());
    if (is.rank() != 3) {
      std::memcpy(out.data(), gi, size_t(out.numel()) * sizeof(float));
      return out;
    }
    const Window& w = win[inSlot];
    const int64_t C = is[0], H = is[1], W = is[2];
    for (int64_t k = 0; k < K; ++k) {
      const int oy = w.originY(seeds[size_t(k)]), ox = w.originX(seeds[size_t(k)]);
      const int x0 = std::max(0, -ox), x1 = std::min<int>(w.w, int(W) - ox);
      if (x0 >= x1) continue;
      for (int64_t c = 0; c < C; ++c)
        for (int y = std::max(0, -oy); y < std::min<int>(w.h, int(H) - oy); ++y)
          std::memcpy(&out.at(k, c, oy + y, ox + x0), gi + ((k * C + c) * w.h + y) * w.w + x0,
                      size_t(x1 - x0) * sizeof(float));
    }
    stream.wait();
    return out;
  }

  // The seed of request `r` (its channel, position and value), checked as project() documents;
  // `maxima` holds the layer's channel maxima once a request needed them.
  Seed seedOf(const ProjectionRequest& r, std::vector<std::pair<float, int64_t>>& maxima) const;
  // Projection `k` of a backward pass's K x C x H x W result.
  Projection finish(const Tensor& images, int64_t k, const Seed& seed, size_t layer,
                    ProjectionMode mode) const;
};

// ---- Projector ----------------------------------------------------------------------------

Projector::Projector(std::shared_ptr<const Activations> activations, int sample)
    : m_activations(std::move(activations)), m_sample(sample) {
  if (!m_activations) throw Error("projector: no activations");
  if (sample < 0 || sample >= m_activations->batch())
    throw Error("projector: sample " + std::to_string(sample) + " is out of range");
  m_impl = std::make_unique<Impl>(*m_activations, sample);
}

Projector::~Projector() = default;

namespace {

// The k channels with the largest maxima, strongest first (ties: lower channel first).
std::vector<int> strongest(const std::vector<std::pair<float, int64_t>>& maxima, int k) {
  std::vector<std::pair<float, int>> order;
  for (size_t c = 0; c < maxima.size(); ++c) order.push_back({maxima[c].first, int(c)});
  std::stable_sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<int> out;
  for (int i = 0; i < std::min<int>(k, int(order.size())); ++i)
    out.push_back(order[size_t(i)].second);
  return out;
}

}  // namespace

std::vector<int> Projector::topChannels(size_t layer, int k) const {
  if (layer >= m_activations->layerCount())
    throw Error("projector: layer index " + std::to_string(layer) + " is out of range");
  return strongest(m_impl->channelMaxima(layer), k);
}

Seed Projector::Impl::seedOf(const ProjectionRequest& r,
                             std::vector<std::pair<float, int64_t>>& maxima) const {
  if (r.layer >= def.layers.size())
    throw Error("model '" + def.name + "': layer index " + std::to_string(r.layer) +
                " is out of range");
  const LayerSpec& l = def.layers[r.layer];
  if (!acts.has(r.layer)) acts.output(r.layer);  // throws: not kept
  const Shape& s = acts.net().outputShapes()[r.layer];
  const int C = int(s[0]);
  if ((r.channel < 0 || (s.rank() == 3 && !r.position)) && maxima.empty())
    maxima = channelMaxima(r.layer);
  const int channel = r.channel < 0 ? strongest(maxima, 1).front() : r.channel;
  if (channel >= C)
    throw Error("layer '" + l.name + "': channel " + std::to_string(channel) +
                " is out of range (the layer has " + std::to_string(C) + " channels)");
  Seed seed;
  seed.channel = channel;
  if (s.rank() == 3) {
    if (r.position) {
      if (r.position->y < 0 || r.position->y >= s[1] || r.position->x < 0 || r.position->x >= s[2])
        throw Error("layer '" + l.name + "': position " + std::to_string(r.position->y) + "," +
                    std::to_string(r.position->x) + " is outside its " + std::to_string(s[1]) +
                    " x " + std::to_string(s[2]) + " maps");
      seed.y = r.position->y;
      seed.x = r.position->x;
    } else {
      const int64_t at = maxima[size_t(channel)].second;
      seed.y = int(at / s[2]);
      seed.x = int(at % s[2]);
    }
  } else if (r.position) {
    throw Error("layer '" + l.name + "' (" + std::string(onnxOpName(l.type)) + ") has output " +
                s.str() + " with no spatial positions; give a channel only");
  }
  seed.value = outputAt(r.layer, channel, seed.y, seed.x);
  return seed;
}

Projection Projector::project(const ProjectionRequest& r) {
  std::vector<std::pair<float, int64_t>> maxima;
  const Seed seed = m_impl->seedOf(r, maxima);
  setEngineThreads(m_activations->net().options().threads);
  // One seed: the backward pass is clipped to its receptive field.
  return m_impl->finish(m_impl->run(r.layer, {seed}, r.mode, r.lrn), 0, seed, r.layer, r.mode);
}

Projection Projector::Impl::finish(const Tensor& images, int64_t k, const Seed& seed, size_t layer,
                                   ProjectionMode mode) const {
  const Shape& in = def.input.shape;
  Projection p;
  p.image = images.slice(k);
  p.image.reshape(in);
  p.layer = layer;
  p.channel = seed.channel;
  p.position = {seed.x, seed.y};
  p.activation = seed.value;
  p.mode = mode;
  if (in.rank() == 3) p.field = fields[layer].box(seed.y, seed.x, cv::Size(int(in[2]), int(in[1])));
  return p;
}

std::vector<Projection> Projector::projectBatch(const std::vector<ProjectionRequest>& requests,
                                                ProgressSink* progress) {
  if (requests.empty()) return {};
  const ProjectionRequest& first = requests.front();
  std::vector<std::pair<float, int64_t>> maxima;
  std::vector<Seed> seeds;
  for (const ProjectionRequest& r : requests) {
    if (r.layer != first.layer || r.mode != first.mode || r.lrn != first.lrn)
      throw Error("projector: a batch of projections must share one layer, mode and LRN rule");
    seeds.push_back(m_impl->seedOf(r, maxima));
  }
  setEngineThreads(m_activations->net().options().threads);
  constexpr size_t kChunk = 32;  // seeds per backward pass: bounds memory, keeps batches large
  std::vector<Projection> out;
  for (size_t from = 0; from < seeds.size(); from += kChunk) {
    reportProgress(progress, int64_t(from), int64_t(seeds.size()));
    const std::vector<Seed> chunk(seeds.begin() + long(from),
                                  seeds.begin() + long(std::min(seeds.size(), from + kChunk)));
    const Tensor images = m_impl->run(first.layer, chunk, first.mode, first.lrn);
    for (size_t k = 0; k < chunk.size(); ++k)
      out.push_back(m_impl->finish(images, int64_t(k), chunk[k], first.layer, first.mode));
  }
  reportProgress(progress, int64_t(seeds.size()), int64_t(seeds.size()));
  return out;
}

std::vector<Projection> Projector::projectChannels(size_t layer, const std::vector<int>& channels,
                                                   ProjectionMode mode, LrnBackward lrn,
                                                   ProgressSink* progress) {
  std::vector<ProjectionRequest> requests;
  for (int c : channels) {
    // project()'s -1 ("the strongest") is no channel here.
    const NetworkDef& def = m_activations->net().def();
    if (c < 0 && layer < def.layers.size())
      throw Error("layer '" + def.layers[layer].name + "': channel " + std::to_string(c) +
                  " is out of range (the layer has " +
                  std::to_string(m_activations->net().outputShapes()[layer][0]) + " channels)");
    requests.push_back({layer, c, std::nullopt, mode, lrn});
  }
  return projectBatch(requests, progress);
}

}  // namespace zfvis
