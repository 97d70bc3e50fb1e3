#include "core/analysis/occlusion/occlusion_windowed.h"

#include <algorithm>
#include <cfloat>
#include <cstring>

#include "core/analysis/occlusion/occlusion_dense.h"
#include "core/base/error.h"
#include "core/engine/layer_range_runner.h"
#include "core/model/op_traits.h"

namespace zfvis::detail {

namespace {

int64_t floorDiv(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int64_t ceilDiv(int64_t a, int64_t b) {
  return -floorDiv(-a, b);
}

// A layer's sliding window along one axis: output o reads inputs [o * stride - pad,
// o * stride - pad + kernel).
struct Axis {
  int kernel = 1;       // effective (dilated) kernel
  int stride = 1;       // step
  int pad = 0;          // leading padding
  int in = 0, out = 0;  // input and output sizes
  bool pointwise() const { return kernel == 1 && stride == 1 && pad == 0 && in == out; }
};

struct LayerGeometry {
  Axis y, x;
  float padValue = 0;  // what the padding stands for: 0 (Conv), -FLT_MAX (MaxPool)
};

// A half-open interval of positions along one axis.
struct Span {
  int64_t lo = 0, hi = 0;
  int64_t size() const { return hi - lo; }
};

// The outputs whose window meets the inputs `a`.
Span propagate(Span a, const Axis& g) {
  if (a.size() <= 0) return {0, 0};
  int64_t lo = std::max<int64_t>(0, ceilDiv(a.lo + g.pad - g.kernel + 1, g.stride));
  int64_t hi = std::min<int64_t>(g.out, floorDiv(a.hi - 1 + g.pad, g.stride) + 1);
  return {lo, std::max(lo, hi)};
}

// The window geometry of layer i when it can be computed on crops: a single-input link of the
// leading chain, C x H x W in and out, of a supported type. nullopt otherwise.
std::optional<LayerGeometry> geometry(const NetworkDef& def, const std::vector<Shape>& shapes,
                                      size_t i) {
  if (i + 1 >= def.layers.size()) return std::nullopt;  // the output layer runs on whole maps
  const LayerSpec& l = def.layers[i];
  const std::string& producer = i == 0 ? def.input.name : def.layers[i - 1].name;
  if (l.inputs.size() != 1 || l.inputs[0] != producer) return std::nullopt;
  const std::vector<size_t> consumers = def.consumers(i);
  if (consumers.size() != 1 || consumers[0] != i + 1) return std::nullopt;
  if (i == 0)  // the whole-map part never sees the input: nothing after layer 0 may read it
    for (size_t k = 1; k < def.layers.size(); ++k)
      for (const std::string& name : def.layers[k].inputs)
        if (name == def.input.name) return std::nullopt;
  const Shape& in = i == 0 ? def.input.shape : shapes[i - 1];
  const Shape& out = shapes[i];
  if (in.rank() != 3 || out.rank() != 3) return std::nullopt;
  LayerGeometry g;
  g.y = {1, 1, 0, int(in[1]), int(out[1])};
  g.x = {1, 1, 0, int(in[2]), int(out[2])};
  if (const auto w = windowGeometry(l)) {
    g.y = {w->y.extent(), w->y.stride, w->y.padBefore, int(in[1]), int(out[1])};
    g.x = {w->x.extent(), w->x.stride, w->x.padBefore, int(in[2]), int(out[2])};
    if (l.type == LayerType::Conv) {
      g.padValue = 0.0f;
      return g;
    }
    if (l.type == LayerType::MaxPool) {
      g.padValue = -FLT_MAX;  // padding never wins a max
      return g;
    }
    // An average's divisor depends on how much of its window is padding: only windows that
    // stay inside the map can be cropped.
    const bool inside = l.pool.pad == Padding{} &&
                        (int64_t(g.y.out) - 1) * g.y.stride + g.y.kernel <= g.y.in &&
                        (int64_t(g.x.out) - 1) * g.x.stride + g.x.kernel <= g.x.in;
    if (!inside) return std::nullopt;
    return g;
  }
  switch (l.type) {
    case LayerType::Relu:
    case LayerType::LRN:
    case LayerType::BatchNorm:
    case LayerType::Dropout:
    case LayerType::Identity:
      if (in != out) return std::nullopt;
      return g;
    default:
      return std::nullopt;
  }
}

// Fills `dst` (C x lh x lw) with the crop of `base` (C x H x W) whose top-left corner is
// (cy, cx), `pad` outside the map, then overwrites the part of it covered by the window
// (C x wh x ww at (wy, wx) in map coordinates): from `window`, or with `fill` when it is null.
void fillCrop(float* dst, int64_t C, int lh, int lw, int cy, int cx, const float* base, int H,
              int W, float pad, const float* window, int wh, int ww, int wy, int wx, float fill) {
  const int x0 = std::clamp(-cx, 0, lw), x1 = std::clamp(W - cx, x0, lw);
  for (int64_t c = 0; c < C; ++c) {
    for (int r = 0; r < lh; ++r) {
      float* d = dst + (c * lh + r) * lw;
      const int y = cy + r;
      if (y < 0 || y >= H || x1 <= x0) {
        std::fill(d, d + lw, pad);
        continue;
      }
      std::fill(d, d + x0, pad);
      std::memcpy(d + x0, base + (c * H + y) * W + cx + x0, size_t(x1 - x0) * sizeof(float));
      std::fill(d + x1, d + lw, pad);
    }
  }
  const int ry0 = std::max(cy, wy), ry1 = std::min(cy + lh, wy + wh);
  const int rx0 = std::max(cx, wx), rx1 = std::min(cx + lw, wx + ww);
  if (ry0 >= ry1 || rx0 >= rx1) return;
  for (int64_t c = 0; c < C; ++c)
    for (int y = ry0; y < ry1; ++y) {
      float* d = dst + (c * lh + (y - cy)) * lw + (rx0 - cx);
      if (window)
        std::memcpy(d, window + (c * wh + (y - wy)) * ww + (rx0 - wx),
                    size_t(rx1 - rx0) * sizeof(float));
      else
        std::fill(d, d + (rx1 - rx0), fill);
    }
}

void throwIfCancelled(const ProgressSink* cancel) {
  if (cancel && cancel->cancelled()) throw Cancelled();
}

// One group: a windowed layer and the pointwise layers after it, run on crops.
struct Group {
  size_t first = 0, last = 0;  // layers
  LayerGeometry geometry;      // of the first layer
  int channelsIn = 0, channelsOut = 0;
  int wh = 0, ww = 0;                        // output window
  int lh = 0, lw = 0;                        // input crop
  std::vector<int> oy, ox;                   // window origin per placement row / column
  std::vector<int> cy, cx;                   // crop origin per placement row / column
  const Tensor* baseIn = nullptr;            // the unoccluded input map (1 x C x H x W)
  const Tensor* baseOut = nullptr;           // the unoccluded output map
  std::unique_ptr<LayerRangeRunner> runner;  // runs the crop network
  Tensor crop;                               // n x C x lh x lw, reused across batches
  Tensor window;                             // n x C x wh x ww: the output window, reused
  bool feature = false;                      // the feature layer is this group's last layer
};

}  // namespace

struct WindowedOcclusion::Impl {
  std::shared_ptr<const CompiledNet> net;
  std::shared_ptr<const Activations> base;
  OcclusionSetup setup;
  std::vector<Group> groups;
  std::vector<size_t> keep;                // layers the whole-map plan must keep
  std::unique_ptr<LayerRangeRunner> tail;  // the rest of the network on whole maps
  Tensor whole;                 // n x C x H x W: the head's output pasted into whole maps
  Tensor tailOutput;            // n x ...: the output of the last layer run on whole maps
  Tensor featureMaps;           // n x ...: the feature layer's output when it runs on whole maps
  double baseFeatureTotal = 0;  // unoccluded total of the feature map
  // The classifier on large batches: layers [denseStart, end) run by `dense` on rows gathered
  // from several batches.
  std::unique_ptr<DenseTail> dense;
  size_t denseStart = 0;
  std::vector<float> pending;          // gathered rows, pendingCount x features
  std::vector<double> pendingFeature;  // their feature totals
  int pendingFirst = 0, pendingCount = 0;

  size_t headLast() const { return groups.back().last; }

  void runGroup(Group& g, size_t index, int first, int count, OcclusionBatch& out,
                const ProgressSink* cancel);
  void runTail(int first, int count, OcclusionBatch& out, const ProgressSink* cancel);
  OcclusionBatch gather(int first, int count, bool last, OcclusionBatch& batch,
                        const ProgressSink* cancel);
};

WindowedOcclusion::WindowedOcclusion(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

WindowedOcclusion::~WindowedOcclusion() = default;

size_t WindowedOcclusion::headLayers() const {
  return m_impl->headLast() + 1;
}

std::unique_ptr<WindowedOcclusion> WindowedOcclusion::create(
    std::shared_ptr<const CompiledNet> net, std::shared_ptr<const Activations> base,
    const OcclusionSetup& setup) {
  const NetworkDef& def = net->def();
  const std::vector<Shape>& shapes = net->outputShapes();
  auto impl = std::make_unique<Impl>();
  // Affected spans per placement row / column, starting with the patch itself.
  std::vector<Span> ay(size_t(setup.rows)), ax(size_t(setup.cols));
  for (int r = 0; r < setup.rows; ++r)
    ay[size_t(r)] = {int64_t(r) * setup.stride, int64_t(r) * setup.stride + setup.patch};
  for (int c = 0; c < setup.cols; ++c)
    ax[size_t(c)] = {int64_t(c) * setup.stride, int64_t(c) * setup.stride + setup.patch};

  size_t i = 0;
  while (i < def.layers.size()) {
    auto geom = geometry(def, shapes, i);
    if (!geom) break;
    Group g;
    g.first = i;
    g.geometry = *geom;
    size_t last = i;
    while (!(setup.feature && *setup.feature == last)) {
      auto next = geometry(def, shapes, last + 1);
      if (!next || !next->y.pointwise() || !next->x.pointwise()) break;
      ++last;
    }
    g.last = last;
    std::vector<Span> ny(ay.size()), nx(ax.size());
    int64_t wh = 1, ww = 1;
    for (size_t r = 0; r < ay.size(); ++r) {
      ny[r] = propagate(ay[r], geom->y);
      wh = std::max(wh, ny[r].size());
    }
    for (size_t c = 0; c < ax.size(); ++c) {
      nx[c] = propagate(ax[c], geom->x);
      ww = std::max(ww, nx[c].size());
    }
    const Axis& gy = geom->y;
    const Axis& gx = geom->x;
    if (double(wh) * double(ww) > kMaxWindowFraction * double(gy.out) * double(gx.out)) break;
    g.wh = int(wh);
    g.ww = int(ww);
    g.lh = (g.wh - 1) * gy.stride + gy.kernel;
    g.lw = (g.ww - 1) * gx.stride + gx.kernel;
    for (const Span& s : ny) {
      g.oy.push_back(int(std::clamp<int64_t>(s.lo, 0, gy.out - g.wh)));
      g.cy.push_back(g.oy.back() * gy.stride - gy.pad);
    }
    for (const Span& s : nx) {
      g.ox.push_back(int(std::clamp<int64_t>(s.lo, 0, gx.out - g.ww)));
      g.cx.push_back(g.ox.back() * gx.stride - gx.pad);
    }
    const Shape& inShape = i == 0 ? def.input.shape : shapes[i - 1];
    g.channelsIn = int(inShape[0]);
    g.channelsOut = int(shapes[last][0]);
    g.feature = setup.feature && *setup.feature == last;
    ay = std::move(ny);
    ax = std::move(nx);
    impl->groups.push_back(std::move(g));
    i = last + 1;
  }
  if (impl->groups.empty()) return nullptr;

  // The crop networks: the group's layers on a crop, padding written into the crop.
  for (Group& g : impl->groups) {
    auto sub = std::make_shared<NetworkDef>(
        subNetwork(def, g.first, g.last + 1, Shape{g.channelsIn, g.lh, g.lw},
                   "occlusion window at " + def.layers[g.first].name));
    LayerSpec& windowed = sub->layers.front();  // its padding is written into the crop
    windowed.conv.pad = Padding{};
    windowed.pool.pad = Padding{};
    windowed.pool.ceilMode = false;
    auto compiled = CompiledNet::compile(sub, net->options());
    const Shape want{g.channelsOut, g.wh, g.ww};
    if (compiled->outputShapes().back() != want)
      throw Error("occlusion: internal: the crop network at layer '" + def.layers[g.first].name +
                  "' gives " + compiled->outputShapes().back().str() + ", expected " + want.str());
    g.runner = std::make_unique<LayerRangeRunner>(compiled, std::vector<size_t>{});
    g.baseIn = g.first == 0 ? &base->input() : &base->output(g.first - 1);
    g.baseOut = &base->output(g.last);
  }
  // The classifier runs on batches of about 256 rows (evenly split, so every run is full).
  if (auto start = DenseTail::findStart(def);
      start && *start > impl->headLast() && (!setup.feature || *setup.feature < *start)) {
    const int total = setup.rows * setup.cols;
    const int most = std::max(256, setup.batch);
    const int runs = (total + most - 1) / most;
    impl->denseStart = *start;
    impl->dense = std::make_unique<DenseTail>(net, *start, (total + runs - 1) / runs);
  }
  std::vector<size_t> keep = {impl->headLast()};
  if (impl->dense) keep.push_back(impl->denseStart - 1);
  if (setup.feature) keep.push_back(*setup.feature);
  // The whole-map part: the net's plan from the first layer after the head on (nothing is
  // allocated for the head's layers at this batch size), fed the head's output.
  impl->tail = std::make_unique<LayerRangeRunner>(net, keep, impl->headLast() + 1);
  impl->net = std::move(net);
  impl->base = std::move(base);
  impl->setup = setup;
  if (setup.feature) {
    for (const Group& g : impl->groups)
      if (g.feature) {
        const Tensor& m = *g.baseOut;
        const int64_t plane = m.numel() / g.channelsOut;
        const float* p = m.data() + int64_t(setup.channel) * plane;
        for (int64_t k = 0; k < plane; ++k) impl->baseFeatureTotal += p[k];
      }
  }
  return std::unique_ptr<WindowedOcclusion>(new WindowedOcclusion(std::move(impl)));
}

void WindowedOcclusion::Impl::runGroup(Group& g, size_t index, int first, int count,
                                       OcclusionBatch& out, const ProgressSink* cancel) {
  const Shape cropShape{count, g.channelsIn, g.lh, g.lw};
  if (g.crop.shape() != cropShape) g.crop = Tensor(cropShape);
  const int H = g.geometry.y.in, W = g.geometry.x.in;
  const int64_t cropSize = int64_t(g.channelsIn) * g.lh * g.lw;
  const Group* prev = index > 0 ? &groups[index - 1] : nullptr;
  const int64_t prevSize = prev ? int64_t(prev->channelsOut) * prev->wh * prev->ww : 0;
  for (int k = 0; k < count; ++k) {
    const int p = first + k, r = p / setup.cols, c = p % setup.cols;
    float* dst = g.crop.data() + k * cropSize;
    if (prev)
      fillCrop(dst, g.channelsIn, g.lh, g.lw, g.cy[size_t(r)], g.cx[size_t(c)], g.baseIn->data(), H,
               W, g.geometry.padValue, prev->window.data() + k * prevSize, prev->wh, prev->ww,
               prev->oy[size_t(r)], prev->ox[size_t(c)], 0.0f);
    else  // the first group's window is the patch itself
      fillCrop(dst, g.channelsIn, g.lh, g.lw, g.cy[size_t(r)], g.cx[size_t(c)], g.baseIn->data(), H,
               W, g.geometry.padValue, nullptr, setup.patch, setup.patch, r * setup.stride,
               c * setup.stride, setup.fill);
  }
  throwIfCancelled(cancel);
  const int layers = int(g.last - g.first + 1);
  g.runner->write(count, -1, g.crop.data());
  g.runner->run(count, 0, layers, cancel);
  g.runner->read(count, size_t(layers - 1), g.window);
  if (!g.feature) return;
  // The feature map's total: the unoccluded total with the window's part replaced.
  const int OH = g.geometry.y.out, OW = g.geometry.x.out;
  const float* baseMap = g.baseOut->data() + int64_t(setup.channel) * OH * OW;
  out.feature.resize(size_t(count));
  for (int k = 0; k < count; ++k) {
    const int p = first + k, r = p / setup.cols, c = p % setup.cols;
    const int oy = g.oy[size_t(r)], ox = g.ox[size_t(c)];
    const float* w =
        g.window.data() + (int64_t(k) * g.channelsOut + setup.channel) * int64_t(g.wh) * g.ww;
    double fresh = 0, old = 0;
    for (int y = 0; y < g.wh; ++y)
      for (int x = 0; x < g.ww; ++x) {
        fresh += w[y * g.ww + x];
        old += baseMap[(oy + y) * OW + (ox + x)];
      }
    out.feature[size_t(k)] = baseFeatureTotal - old + fresh;
  }
}

void WindowedOcclusion::Impl::runTail(int first, int count, OcclusionBatch& out,
                                      const ProgressSink* cancel) {
  const Group& g = groups.back();
  const std::vector<Shape>& shapes = net->outputShapes();
  const Shape& mapShape = shapes[g.last];
  const int C = int(mapShape[0]), H = int(mapShape[1]), W = int(mapShape[2]);
  const Shape wholeShape = mapShape.withBatch(count);
  if (whole.shape() != wholeShape) whole = Tensor(wholeShape);
  const int64_t mapSize = mapShape.numel(), winSize = int64_t(C) * g.wh * g.ww;
  for (int k = 0; k < count; ++k) {
    const int p = first + k, r = p / setup.cols, c = p % setup.cols;
    fillCrop(whole.data() + k * mapSize, C, H, W, 0, 0, g.baseOut->data(), H, W, 0.0f,
             g.window.data() + k * winSize, g.wh, g.ww, g.oy[size_t(r)], g.ox[size_t(c)], 0.0f);
  }
  throwIfCancelled(cancel);
  const size_t stop = dense ? denseStart : shapes.size();  // layers run here: (g.last, stop)
  if (stop == g.last + 1) {  // the head ends right before the classifier
    out.output = whole;
    return;
  }
  tail->write(count, int(g.last), whole.data());
  tail->run(count, int(g.last) + 1, int(stop), cancel);
  tail->read(count, stop - 1, tailOutput);
  out.output = tailOutput;
  if (setup.feature && *setup.feature > g.last) {
    const size_t f = *setup.feature;
    tail->read(count, f, featureMaps);
    const int64_t plane = shapes[f].numel() / shapes[f][0];
    out.feature.resize(size_t(count));
    for (int k = 0; k < count; ++k) {
      const float* m = featureMaps.data() + (int64_t(k) * shapes[f][0] + setup.channel) * plane;
      double sum = 0;
      for (int64_t q = 0; q < plane; ++q) sum += m[q];
      out.feature[size_t(k)] = sum;
    }
  }
}

OcclusionBatch WindowedOcclusion::Impl::gather(int first, int count, bool last,
                                               OcclusionBatch& batch, const ProgressSink* cancel) {
  const int64_t features = dense->features();
  if (pendingCount == 0) pendingFirst = first;
  pending.resize(size_t(pendingCount + count) * size_t(features));
  std::memcpy(pending.data() + int64_t(pendingCount) * features, batch.output.data(),
              size_t(count) * size_t(features) * sizeof(float));
  pendingFeature.insert(pendingFeature.end(), batch.feature.begin(), batch.feature.end());
  pendingCount += count;
  OcclusionBatch out;
  out.first = pendingFirst;
  std::vector<Tensor> parts;
  int done = 0;
  while (pendingCount - done >= dense->rows() || (last && pendingCount > done)) {
    const int n = std::min(dense->rows(), pendingCount - done);
    std::memcpy(dense->row(0), pending.data() + int64_t(done) * features,
                size_t(n) * size_t(features) * sizeof(float));
    parts.push_back(dense->run(n, cancel));
    done += n;
  }
  if (done == 0) return out;
  out.output = parts.size() == 1 ? std::move(parts[0]) : Tensor::stack(parts);
  if (!pendingFeature.empty())
    out.feature.assign(pendingFeature.begin(), pendingFeature.begin() + done);
  // Keep the rest for the next run.
  pending.erase(pending.begin(), pending.begin() + int64_t(done) * features);
  if (!pendingFeature.empty())
    pendingFeature.erase(pendingFeature.begin(), pendingFeature.begin() + done);
  pendingCount -= done;
  pendingFirst += done;
  return out;
}

OcclusionBatch WindowedOcclusion::evaluate(int first, int count, bool last,
                                           const ProgressSink* cancel) {
  OcclusionBatch out;
  out.first = first;
  for (size_t g = 0; g < m_impl->groups.size(); ++g)
    m_impl->runGroup(m_impl->groups[g], g, first, count, out, cancel);
  m_impl->runTail(first, count, out, cancel);
  if (!m_impl->dense) return out;
  return m_impl->gather(first, count, last, out, cancel);
}

}  // namespace zfvis::detail
