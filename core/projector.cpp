#include "core/projector.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <string>

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
  // Backward primitives and reordered weights, keyed by layer and problem dims; shared by every
  // projector of the same CompiledNet (see CompiledNet::sharedState), so a new image or a new
  // run does not rebuild them.
  struct ConvBackward {
    dnnl::convolution_backward_data::primitive_desc pd;
    dnnl::convolution_backward_data prim;
    memory weights;
  };
  struct Cache {
    std::mutex mutex;
    std::map<std::string, ConvBackward> conv;
    std::map<std::string, dnnl::pooling_backward::primitive_desc> pool;
    std::map<std::string,
             std::pair<dnnl::lrn_forward::primitive_desc, dnnl::lrn_backward::primitive_desc>>
        lrn;
    std::map<std::string, std::pair<memory, dnnl::inner_product_backward_data::primitive_desc>>
        dense;
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

  // Windows of every needed layer output (index layers.size() = the network input).
  std::vector<Window> computeWindows(size_t target, const std::vector<bool>& need) const {
    std::vector<Window> win(def.layers.size() + 1);
    const Shape& ts = shapes[target];
    const bool crop = canCrop(need);
    const int seedH = ts.rank() == 3 ? int(ts[1]) : 1, seedW = ts.rank() == 3 ? int(ts[2]) : 1;
    if (ts.rank() == 3 && crop) {
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
        slot(p) = unite(slot(p), w, seedH, seedW);
      }
    }
    return win;
  }

  // The window of input `inputIndex` of layer i as that layer's backward produces it.
  Window naturalInputWindow(size_t i, const Window& out, const Shape& in) const {
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

  // ---- backward ops (plain tensors, K samples) ----

  Tensor runReorderedIn(const memory::desc& want, const Tensor& t, memory& holder) {
    memory plain(detail::plainMd(dimsOf(t)), engine, const_cast<float*>(t.data()));
    if (plain.get_desc() == want) {
      holder = plain;
      return {};
    }
    holder = memory(want, engine);
    detail::reorderNow(stream, plain, holder);
    return {};
  }

  Tensor toPlain(const memory& m, Shape shape) {
    Tensor out = Tensor::uninitialized(std::move(shape));
    memory plain(detail::plainMd(dimsOf(out)), engine, out.data());
    if (m.get_desc() == plain.get_desc()) {
      std::memcpy(out.data(), m.get_data_handle(), size_t(out.numel()) * sizeof(float));
    } else {
      detail::reorderNow(stream, m, plain);
    }
    return out;
  }

  Tensor convBackward(size_t i, const Tensor& g, const Window& inWin) {
    const LayerSpec& l = def.layers[i];
    const ConvParams& p = l.conv;
    const int64_t K = g.shape()[0];
    const Shape& in = shapeOf(producer(l.inputs[0]));
    memory::dims dstDims = dimsOf(g);
    memory::dims srcDims{K, in[0], inWin.h, inWin.w};
    std::string key = "conv/" + std::to_string(i) + "/" + std::to_string(K) + "/" +
                      std::to_string(g.shape()[2]) + "x" + std::to_string(g.shape()[3]);
    std::unique_lock lock(cache->mutex);
    auto it = cache->conv.find(key);
    if (it == cache->conv.end()) {
      memory::dims wDims = p.groups > 1 ? memory::dims{p.groups, p.outChannels / p.groups,
                                                       in[0] / p.groups, p.kernelH, p.kernelW}
                                        : memory::dims{p.outChannels, in[0], p.kernelH, p.kernelW};
      // Few input channels (a first layer): channel-blocked layouts pad 3 channels to 16, and
      // oneDNN's GEMM-based kernel on plain layouts is about 3x faster here (1.1 vs 3.4 ms for
      // AlexNet's conv1 window on one thread).
      const Tag layout = in[0] < 8 ? Tag::nchw : Tag::any;
      memory::desc srcAny(srcDims, DType::f32, layout), dstAny(dstDims, DType::f32, layout),
          wAny(wDims, DType::f32, Tag::any);
      memory::dims strides{p.strideH, p.strideW}, dil{p.dilationH - 1, p.dilationW - 1}, zero{0, 0};
      dnnl::convolution_forward::primitive_desc hint(
          {prop_kind::forward_training, algorithm::convolution_direct, srcAny, wAny, dstAny,
           strides, dil, zero, zero},
          engine);
      dnnl::convolution_backward_data::primitive_desc pd(
          {algorithm::convolution_direct, srcAny, wAny, dstAny, strides, dil, zero, zero},
          detail::scratchpadAttr(), engine, hint);
      memory plainW(detail::plainMd(wDims), engine, const_cast<float*>(l.weights.data()));
      memory w = plainW;
      if (pd.weights_desc() != plainW.get_desc()) {
        w = memory(pd.weights_desc(), engine);
        detail::reorderNow(stream, plainW, w);
      }
      it = cache->conv.emplace(key, ConvBackward{pd, dnnl::convolution_backward_data(pd), w}).first;
    }
    ConvBackward cb = it->second;
    lock.unlock();
    memory diffDst;
    runReorderedIn(cb.pd.diff_dst_desc(), g, diffDst);
    memory diffSrc(cb.pd.diff_src_desc(), engine);
    detail::executeWithScratchpad(cb.prim, stream,
                                  {{DNNL_ARG_DIFF_DST, diffDst},
                                   {DNNL_ARG_WEIGHTS, cb.weights},
                                   {DNNL_ARG_DIFF_SRC, diffSrc}});
    return toPlain(diffSrc, Shape{K, in[0], inWin.h, inWin.w});
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
  // any data type) into `dst`, a K x C x h x w memory already zeroed: parts of a window outside
  // the map stay zero. Reorders only the windows, not the whole map.
  void copyWindows(const memory& src, const Window& win, const std::vector<Seed>& seeds,
                   const memory& dst) {
    const memory::dims d = src.get_desc().dims();
    const memory::dim C = d[1], H = d[2], W = d[3];
    for (size_t k = 0; k < seeds.size(); ++k) {
      const int oy = win.originY(seeds[k]), ox = win.originX(seeds[k]);
      const memory::dim y0 = std::max(0, oy), x0 = std::max(0, ox);
      const memory::dim y1 = std::min<memory::dim>(H, oy + win.h),
                        x1 = std::min<memory::dim>(W, ox + win.w);
      if (y0 >= y1 || x0 >= x1) continue;
      const memory::dims region{1, C, y1 - y0, x1 - x0};
      memory from(src.get_desc().submemory_desc(region, {sample, 0, y0, x0}), engine,
                  src.get_data_handle());
      memory to(dst.get_desc().submemory_desc(region, {memory::dim(k), 0, y0 - oy, x0 - ox}),
                engine, dst.get_data_handle());
      detail::reorderNow(stream, from, to);
    }
  }

  // Windows of a forward feature map (layer output or the input) as a K x C x h x w tensor.
  Tensor forwardWindows(int layer, const Window& win, const std::vector<Seed>& seeds) {
    const memory& src = forwardView(layer);
    const memory::dims d = src.get_desc().dims();
    Tensor out(Shape{int64_t(seeds.size()), d[1], win.h, win.w});
    copyWindows(src, win, seeds, memory(detail::plainMd(dimsOf(out)), engine, out.data()));
    return out;
  }

  Tensor maxPoolBackward(size_t i, const Tensor& g, const Window& outWin, const Window& inWin,
                         const std::vector<Seed>& seeds) {
    const LayerSpec& l = def.layers[i];
    const PoolParams& p = l.pool;
    const int64_t K = g.shape()[0], C = g.shape()[1], h = g.shape()[2], w = g.shape()[3];
    memory::desc dstMd = detail::plainMd({K, C, h, w});
    memory::desc srcMd = detail::plainMd({K, C, inWin.h, inWin.w});
    memory::dims strides{p.strideH, p.strideW}, kernel{p.kernelH, p.kernelW}, zero{0, 0};
    std::string key = "pool/" + std::to_string(i) + "/" + std::to_string(K) + "/" +
                      std::to_string(h) + "x" + std::to_string(w);
    std::unique_lock lock(cache->mutex);
    auto it = cache->pool.find(key);
    if (it == cache->pool.end()) {
      dnnl::pooling_forward::primitive_desc hint(
          {prop_kind::forward_training, algorithm::pooling_max, srcMd, dstMd, strides, kernel, zero,
           zero},
          engine);
      dnnl::pooling_backward::primitive_desc pd(
          {algorithm::pooling_max, srcMd, dstMd, strides, kernel, zero, zero},
          detail::scratchpadAttr(), engine, hint);
      it = cache->pool.emplace(key, pd).first;
    }
    auto pd = it->second;
    lock.unlock();
    memory::desc wsMd = pd.workspace_desc();
    if (wsMd.dims() != memory::dims{K, C, h, w} || !detail::isPlain(wsMd))
      throw Error("layer '" + l.name + "': unexpected max-pool workspace layout");
    // The forward workspace holds, per output, the switch as an offset inside its pooling
    // window (the same encoding the backward primitive reads; the window starts are the same
    // in the cropped geometry). Copy each seed's window of it; outside the map stays 0.
    memory ws(wsMd, engine);
    std::memset(ws.get_data_handle(), 0, wsMd.get_size());
    const int wsView = acts.plan().layers[i].workspace;
    if (wsView < 0) throw Error("layer '" + l.name + "': the forward run kept no switches");
    copyWindows(acts.state().views[size_t(wsView)], outWin, seeds, ws);
    memory diffDst(dstMd, engine, const_cast<float*>(g.data()));
    Tensor result = Tensor::uninitialized(Shape{K, C, inWin.h, inWin.w});  // written whole
    memory diffSrc(srcMd, engine, result.data());
    detail::executeWithScratchpad(
        dnnl::pooling_backward(pd), stream,
        {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WORKSPACE, ws}, {DNNL_ARG_DIFF_SRC, diffSrc}});
    return result;
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

  Tensor lrnBackward(size_t i, const Tensor& g, const Window& win, const std::vector<Seed>& seeds) {
    const LayerSpec& l = def.layers[i];
    const int p = producer(l.inputs[0]);
    // oneDNN's fast LRN kernels want channel-blocked layouts; the plain one is a slow reference.
    const int64_t C = g.shape()[1];
    memory::dims dims = dimsOf(g);
    memory::desc plain = detail::plainMd(dims);
    memory::desc md = C % 16 == 0  ? memory::desc(dims, DType::f32, Tag::nChw16c)
                      : C % 8 == 0 ? memory::desc(dims, DType::f32, Tag::nChw8c)
                                   : plain;
    std::string key = "lrn/" + std::to_string(i) + "/" + std::to_string(g.shape()[0]) + "/" +
                      std::to_string(win.h) + "x" + std::to_string(win.w);
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
      it = cache->lrn.emplace(key, std::make_pair(fwd, bwd)).first;
    }
    auto [fwd, bwd] = it->second;
    lock.unlock();
    // The LRN's input, window by window, straight into the blocked layout.
    memory srcMem(md, engine);
    std::memset(srcMem.get_data_handle(), 0, md.get_size());
    copyWindows(forwardView(p), win, seeds, srcMem);
    memory diffDst;
    runReorderedIn(md, g, diffDst);
    memory diffSrc(md, engine);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, srcMem}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_SRC, diffSrc}};
    if (bwd.workspace_desc().get_size() > 0) {
      memory dst(fwd.dst_desc(), engine), ws(fwd.workspace_desc(), engine);
      detail::executeWithScratchpad(
          dnnl::lrn_forward(fwd), stream,
          {{DNNL_ARG_SRC, srcMem}, {DNNL_ARG_DST, dst}, {DNNL_ARG_WORKSPACE, ws}});
      args[DNNL_ARG_WORKSPACE] = ws;
    }
    detail::executeWithScratchpad(dnnl::lrn_backward(bwd), stream, args);
    return toPlain(diffSrc, g.shape());
  }

  void reluBackward(size_t i, Tensor& g, const Window& win, const std::vector<Seed>& seeds,
                    ProjectionMode mode) {
    memory::desc md = detail::plainMd(dimsOf(g));
    memory gm(md, engine, g.data());
    if (mode != ProjectionMode::Saliency) {
      // relu(g): the deconvnet rectifies the signal itself (guided does too, then masks).
      dnnl::eltwise_forward::primitive_desc pd(
          {prop_kind::forward_inference, algorithm::eltwise_relu, md, 0.0f, 0.0f},
          detail::scratchpadAttr(), engine);
      detail::executeWithScratchpad(dnnl::eltwise_forward(pd), stream,
                                    {{DNNL_ARG_SRC, gm}, {DNNL_ARG_DST, gm}});
    }
    if (mode == ProjectionMode::Deconvnet) return;
    // g * [x > 0] with the forward ReLU output of this sample (x > 0 exactly where it is > 0).
    Tensor dst = shapes[i].rank() == 3 ? forwardWindows(int(i), win, seeds) : [&] {
      const Tensor& y = acts.output(i);
      Tensor t(g.shape());
      const int64_t n = g.numel() / g.shape()[0];
      for (int64_t k = 0; k < g.shape()[0]; ++k)
        std::memcpy(t.data() + k * n, y.data() + int64_t(sample) * n, size_t(n) * sizeof(float));
      return t;
    }();
    dnnl::eltwise_forward::primitive_desc hint(
        {prop_kind::forward_training, algorithm::eltwise_relu_use_dst_for_bwd, md, 0.0f, 0.0f},
        engine);
    dnnl::eltwise_backward::primitive_desc pd(
        {algorithm::eltwise_relu_use_dst_for_bwd, md, md, 0.0f, 0.0f}, detail::scratchpadAttr(),
        engine, hint);
    memory dm(md, engine, dst.data());
    Tensor result = Tensor::uninitialized(g.shape());
    memory rm(md, engine, result.data());
    detail::executeWithScratchpad(
        dnnl::eltwise_backward(pd), stream,
        {{DNNL_ARG_DST, dm}, {DNNL_ARG_DIFF_DST, gm}, {DNNL_ARG_DIFF_SRC, rm}});
    g = std::move(result);
  }

  Tensor denseBackward(size_t i, const Tensor& g) {
    const LayerSpec& l = def.layers[i];
    const int64_t K = g.shape()[0], O = l.dense.units, I = l.weights.shape()[1];
    memory::desc srcMd = detail::plainMd({K, I}), dstMd = detail::plainMd({K, O});
    memory::desc wPlain = detail::plainMd({O, I});
    std::string key = "dense/" + std::to_string(i) + "/" + std::to_string(K);
    std::unique_lock lock(cache->mutex);
    auto it = cache->dense.find(key);
    if (it == cache->dense.end()) {
      dnnl::inner_product_forward::primitive_desc hint(
          {prop_kind::forward_training, srcMd, wPlain, dstMd}, engine);
      dnnl::inner_product_backward_data::primitive_desc pd({srcMd, wPlain, dstMd},
                                                           detail::scratchpadAttr(), engine, hint);
      memory w(wPlain, engine, const_cast<float*>(l.weights.data()));
      it = cache->dense.emplace(key, std::make_pair(w, pd)).first;
    }
    auto [w, pd] = it->second;
    lock.unlock();
    memory diffDst(dstMd, engine, const_cast<float*>(g.data()));
    memory diffSrc(pd.diff_src_desc(), engine);
    detail::executeWithScratchpad(
        dnnl::inner_product_backward_data(pd), stream,
        {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, diffSrc}});
    return toPlain(diffSrc, Shape{K, I});
  }

  // Runs the backward pass for a batch of seeds at `target`; returns K x C x H x W.
  Tensor run(size_t target, const std::vector<Seed>& seeds, ProjectionMode mode, LrnBackward lrn) {
    const std::vector<bool> need = ancestors(target);
    const std::vector<Window> win = computeWindows(target, need);
    const int64_t K = static_cast<int64_t>(seeds.size());
    std::vector<Tensor> grad(def.layers.size() + 1);
    std::vector<bool> has(def.layers.size() + 1, false);
    auto gslot = [&](int p) -> size_t { return p < 0 ? def.layers.size() : size_t(p); };

    // The seed: zeros except the activation's own value at (c_k, p_k).
    const Shape& ts = shapes[target];
    if (ts.rank() == 3) {
      const Window& w = win[target];
      grad[target] = Tensor(Shape{K, ts[0], w.h, w.w});
      for (int64_t k = 0; k < K; ++k) {
        const Seed& s = seeds[size_t(k)];
        grad[target].at(k, s.channel, s.y - w.originY(s), s.x - w.originX(s)) = s.value;
      }
    } else {
      grad[target] = Tensor(ts.withBatch(K));
      const int64_t n = ts.numel();
      for (int64_t k = 0; k < K; ++k)
        grad[target][k * n + seeds[size_t(k)].channel] = seeds[size_t(k)].value;
    }
    has[target] = true;

    for (size_t i = target + 1; i-- > 0;) {
      if (!need[i] || !has[i]) continue;
      const LayerSpec& l = def.layers[i];
      Tensor& g = grad[i];
      const Window& outWin = win[i];
      std::vector<Tensor> inGrads;  // one per input, in its natural window
      try {
        switch (l.type) {
          case LayerType::Conv:
            inGrads.push_back(
                convBackward(i, g, naturalInputWindow(i, outWin, shapeOf(producer(l.inputs[0])))));
            break;
          case LayerType::MaxPool:
            inGrads.push_back(maxPoolBackward(
                i, g, outWin, naturalInputWindow(i, outWin, shapeOf(producer(l.inputs[0]))),
                seeds));
            break;
          case LayerType::AveragePool:
            inGrads.push_back(avgPoolBackward(
                i, g, outWin, naturalInputWindow(i, outWin, shapeOf(producer(l.inputs[0]))),
                seeds));
            break;
          case LayerType::GlobalAveragePool: {
            const Shape& in = shapeOf(producer(l.inputs[0]));
            Tensor out(Shape{K, in[0], in[1], in[2]});
            const int64_t hw = in[1] * in[2];
            for (int64_t k = 0; k < K; ++k)
              for (int64_t c = 0; c < in[0]; ++c) {
                const float v = g[k * in[0] + c] / float(hw);
                std::fill_n(out.data() + (k * in[0] + c) * hw, hw, v);
              }
            inGrads.push_back(std::move(out));
            break;
          }
          case LayerType::LRN:
            inGrads.push_back(lrn == LrnBackward::Pass ? g : lrnBackward(i, g, outWin, seeds));
            break;
          case LayerType::Relu:
            reluBackward(i, g, outWin, seeds, mode);
            inGrads.push_back(std::move(g));
            break;
          case LayerType::Dense: {
            Tensor d = denseBackward(i, g);
            d.reshape(shapeOf(producer(l.inputs[0])).withBatch(K));
            inGrads.push_back(std::move(d));
            break;
          }
          case LayerType::Flatten:
          case LayerType::Reshape:
            inGrads.push_back(g.reshaped(shapeOf(producer(l.inputs[0])).withBatch(K)));
            break;
          case LayerType::Dropout:
          case LayerType::Identity:
          case LayerType::Softmax:  // a class is projected from its score: passed unchanged
            inGrads.push_back(std::move(g));
            break;
          case LayerType::BatchNorm: {
            const int64_t C = g.shape()[1], inner = g.numel() / (K * C);
            for (int64_t k = 0; k < K; ++k)
              for (int64_t c = 0; c < C; ++c) {
                const float f =
                    l.weights[c] / std::sqrt(l.weights[3 * C + c] + l.batchNorm.epsilon);
                float* row = g.data() + (k * C + c) * inner;
                for (int64_t e = 0; e < inner; ++e) row[e] *= f;
              }
            inGrads.push_back(std::move(g));
            break;
          }
          case LayerType::Add:
            for (size_t k = 0; k < l.inputs.size(); ++k) inGrads.push_back(g);
            break;
          case LayerType::Concat: {
            // Split along the axis (plain layout: outer x len x inner blocks).
            const auto& d = g.shape().dims();
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
              Tensor part{Shape(pd)};
              for (int64_t o = 0; o < outer; ++o)
                std::memcpy(part.data() + o * len * inner,
                            g.data() + (o * d[size_t(axis)] + offset) * inner,
                            size_t(len * inner) * sizeof(float));
              offset += len;
              inGrads.push_back(std::move(part));
            }
            break;
          }
        }
      } catch (const dnnl::error& e) {
        throw Error("projection through layer '" + l.name + "' (" +
                    std::string(onnxOpName(l.type)) + ") failed in oneDNN: " + e.what());
      }
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        const int p = producer(l.inputs[k]);
        const size_t slot = gslot(p);
        const Shape& in = shapeOf(p);
        Window natural = naturalInputWindow(i, outWin, in);
        Tensor& part = inGrads[k];
        if (in.rank() == 3) zeroOutside(part, natural, seeds, in[1], in[2]);
        if (!has[slot]) {
          if (win[slot].spatial &&
              (natural.baseY != win[slot].baseY || natural.baseX != win[slot].baseX ||
               natural.h != win[slot].h || natural.w != win[slot].w)) {
            grad[slot] = Tensor(Shape{K, in[0], win[slot].h, win[slot].w});
            accumulate(grad[slot], part, win[slot], natural);
          } else {
            grad[slot] = std::move(part);
          }
          has[slot] = true;
        } else {
          accumulate(grad[slot], part, win[slot], natural);
        }
      }
      grad[i] = Tensor();  // free as we go
    }

    // Place each seed's input window into a full-size image.
    const Shape& is = def.input.shape;
    Tensor out(is.withBatch(K));
    const size_t inSlot = def.layers.size();
    if (!has[inSlot]) return out;
    const Tensor& gi = grad[inSlot];
    if (is.rank() != 3) return gi.reshaped(is.withBatch(K));
    const Window& w = win[inSlot];
    const int64_t C = is[0], H = is[1], W = is[2];
    for (int64_t k = 0; k < K; ++k) {
      const int oy = w.originY(seeds[size_t(k)]), ox = w.originX(seeds[size_t(k)]);
      const int x0 = std::max(0, -ox), x1 = std::min<int>(w.w, int(W) - ox);
      if (x0 >= x1) continue;
      for (int64_t c = 0; c < C; ++c)
        for (int y = std::max(0, -oy); y < std::min<int>(w.h, int(H) - oy); ++y)
          std::memcpy(&out.at(k, c, oy + y, ox + x0),
                      gi.data() + ((k * C + c) * w.h + y) * w.w + x0,
                      size_t(x1 - x0) * sizeof(float));
    }
    stream.wait();
    return out;
  }
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

// Largest value of channel c (sample s) and where it is.
std::pair<float, int64_t> channelMax(const Tensor& t, int s, int c) {
  const int64_t C = t.shape()[1], plane = t.numel() / (t.shape()[0] * C);
  const float* p = t.data() + (int64_t(s) * C + c) * plane;
  int64_t best = 0;
  for (int64_t k = 1; k < plane; ++k)
    if (p[k] > p[best]) best = k;
  return {p[best], best};
}

}  // namespace

std::vector<int> Projector::topChannels(size_t layer, int k) const {
  if (layer >= m_activations->layerCount())
    throw Error("projector: layer index " + std::to_string(layer) + " is out of range");
  const Tensor& t = m_activations->output(layer);
  const int C = int(t.shape()[1]);
  std::vector<std::pair<float, int>> maxima;
  for (int c = 0; c < C; ++c) maxima.push_back({channelMax(t, m_sample, c).first, c});
  std::stable_sort(maxima.begin(), maxima.end(),
                   [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<int> out;
  for (int i = 0; i < std::min(k, C); ++i) out.push_back(maxima[size_t(i)].second);
  return out;
}

Projection Projector::project(const ProjectionRequest& r) {
  const NetworkDef& def = m_activations->net().def();
  if (r.layer >= def.layers.size())
    throw Error("model '" + def.name + "': layer index " + std::to_string(r.layer) +
                " is out of range");
  const LayerSpec& l = def.layers[r.layer];
  const Tensor& t = m_activations->output(r.layer);
  const Shape& s = m_activations->net().outputShapes()[r.layer];
  const int C = int(s[0]);
  int channel = r.channel;
  if (channel < 0) channel = topChannels(r.layer, 1).front();
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
      int64_t at = channelMax(t, m_sample, channel).second;
      seed.y = int(at / s[2]);
      seed.x = int(at % s[2]);
    }
    seed.value = t.at(m_sample, channel, seed.y, seed.x);
  } else {
    if (r.position)
      throw Error("layer '" + l.name + "' (" + std::string(onnxOpName(l.type)) + ") has output " +
                  s.str() + " with no spatial positions; give a channel only");
    seed.value = t[int64_t(m_sample) * s.numel() + channel];
  }
  setEngineThreads(m_activations->net().options().threads);
  Tensor img = m_impl->run(r.layer, {seed}, r.mode, r.lrn);
  Projection p;
  img.reshape(def.input.shape);
  p.image = std::move(img);
  p.layer = r.layer;
  p.channel = channel;
  p.position = {seed.x, seed.y};
  p.activation = seed.value;
  p.mode = r.mode;
  const Shape& in = def.input.shape;
  if (in.rank() == 3)
    p.field = m_impl->fields[r.layer].box(seed.y, seed.x, cv::Size(int(in[2]), int(in[1])));
  return p;
}

std::vector<Projection> Projector::projectChannels(size_t layer, const std::vector<int>& channels,
                                                   ProjectionMode mode, LrnBackward lrn,
                                                   ProgressSink* progress) {
  const NetworkDef& def = m_activations->net().def();
  if (layer >= def.layers.size())
    throw Error("model '" + def.name + "': layer index " + std::to_string(layer) +
                " is out of range");
  const Tensor& t = m_activations->output(layer);
  const Shape& s = m_activations->net().outputShapes()[layer];
  std::vector<Seed> seeds;
  for (int c : channels) {
    if (c < 0 || c >= s[0])
      throw Error("layer '" + def.layers[layer].name + "': channel " + std::to_string(c) +
                  " is out of range (the layer has " + std::to_string(s[0]) + " channels)");
    Seed seed;
    seed.channel = c;
    if (s.rank() == 3) {
      int64_t at = channelMax(t, m_sample, c).second;
      seed.y = int(at / s[2]);
      seed.x = int(at % s[2]);
      seed.value = t.at(m_sample, c, seed.y, seed.x);
    } else {
      seed.value = t[int64_t(m_sample) * s.numel() + c];
    }
    seeds.push_back(seed);
  }
  setEngineThreads(m_activations->net().options().threads);
  constexpr size_t kChunk = 32;  // seeds per backward pass: bounds memory, keeps batches large
  std::vector<Projection> out;
  const Shape& in = def.input.shape;
  for (size_t first = 0; first < seeds.size(); first += kChunk) {
    reportProgress(progress, int64_t(first), int64_t(seeds.size()));
    std::vector<Seed> chunk(seeds.begin() + long(first),
                            seeds.begin() + long(std::min(seeds.size(), first + kChunk)));
    Tensor imgs = m_impl->run(layer, chunk, mode, lrn);
    for (size_t k = 0; k < chunk.size(); ++k) {
      Projection p;
      p.image = imgs.slice(int64_t(k));
      p.image.reshape(in);
      p.layer = layer;
      p.channel = chunk[k].channel;
      p.position = {chunk[k].x, chunk[k].y};
      p.activation = chunk[k].value;
      p.mode = mode;
      if (in.rank() == 3)
        p.field =
            m_impl->fields[layer].box(chunk[k].y, chunk[k].x, cv::Size(int(in[2]), int(in[1])));
      out.push_back(std::move(p));
    }
  }
  reportProgress(progress, int64_t(seeds.size()), int64_t(seeds.size()));
  return out;
}

}  // namespace zfvis
