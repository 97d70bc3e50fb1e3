#include "core/analysis/occlusion/occlusion.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/analysis/occlusion/occlusion_windowed.h"
#include "core/analysis/predictions.h"
#include "core/base/error.h"

namespace zfvis {

namespace {

using detail::OcclusionBatch;
using detail::OcclusionSetup;

// Runs whole occluded copies through the network (any network; the reference path).
class WholeCopies {
 public:
  WholeCopies(std::shared_ptr<const CompiledNet> net, const Tensor& input,
              const OcclusionSetup& setup)
      : m_net(std::move(net)), m_session(m_net), m_input(input), m_setup(setup) {}

  OcclusionBatch evaluate(int first, int count, bool, const ProgressSink* cancel) {
    const Shape& s = m_input.shape();
    const int64_t C = s[1], H = s[2], W = s[3], size = C * H * W;
    const Shape batchShape{count, C, H, W};
    if (m_batch.shape() != batchShape) {
      m_batch = Tensor(batchShape);
      for (int k = 0; k < count; ++k)
        std::memcpy(m_batch.data() + k * size, m_input.data(), size_t(size) * sizeof(float));
      m_occluded.assign(size_t(count), {-1, -1});
    }
    const int P = m_setup.patch;
    for (int k = 0; k < count; ++k) {
      float* sample = m_batch.data() + k * size;
      // Restore the previous patch of this slot, then draw the new one.
      auto [py, px] = m_occluded[size_t(k)];
      if (py >= 0)
        for (int64_t c = 0; c < C; ++c)
          for (int y = py; y < py + P; ++y)
            std::memcpy(sample + (c * H + y) * W + px, m_input.data() + (c * H + y) * W + px,
                        size_t(P) * sizeof(float));
      const int p = first + k, y0 = (p / m_setup.cols) * m_setup.stride,
                x0 = (p % m_setup.cols) * m_setup.stride;
      for (int64_t c = 0; c < C; ++c)
        for (int y = y0; y < y0 + P; ++y) {
          float* row = sample + (c * H + y) * W + x0;
          std::fill(row, row + P, m_setup.fill);
        }
      m_occluded[size_t(k)] = {y0, x0};
    }
    CancellationOnly sink(cancel);
    RunOptions ro;
    ro.keepAll = false;
    ro.progress = &sink;
    if (m_setup.feature) ro.keep = {*m_setup.feature};
    auto acts = m_session.run(m_batch, ro);
    OcclusionBatch out;
    out.first = first;
    out.output = acts->finalOutput();
    if (m_setup.feature) {
      const Tensor& maps = acts->output(*m_setup.feature);
      const int64_t channels = maps.shape()[1];
      const int64_t plane = maps.numel() / (int64_t(count) * channels);
      for (int k = 0; k < count; ++k) {
        const float* m = maps.data() + (int64_t(k) * channels + m_setup.channel) * plane;
        double sum = 0;
        for (int64_t q = 0; q < plane; ++q) sum += m[q];
        out.feature.push_back(sum);
      }
    }
    return out;
  }

 private:
  std::shared_ptr<const CompiledNet> m_net;
  Session m_session;
  const Tensor& m_input;
  OcclusionSetup m_setup;
  Tensor m_batch;                               // the occluded copies, reused across batches
  std::vector<std::pair<int, int>> m_occluded;  // per slot: top-left of the patch drawn in it
};

int argmax(const std::vector<float>& p) {
  return int(std::max_element(p.begin(), p.end()) - p.begin());  // first of equal maxima
}

double channelTotal(const Tensor& maps, int64_t channel) {
  const int64_t plane = maps.numel() / maps.shape()[1];
  const float* m = maps.data() + channel * plane;
  double sum = 0;
  for (int64_t q = 0; q < plane; ++q) sum += m[q];
  return sum;
}

}  // namespace

OcclusionDefaults defaultOcclusionGeometry(int width, int height) {
  OcclusionDefaults d;
  if (width < 1 || height < 1) return d;
  const auto scaled = [width](double atPaper) {
    return std::max(1, int(std::lround(atPaper / 224.0 * double(width))));
  };
  d.patch = std::min(scaled(50), std::min(width, height));
  d.stride = std::min(scaled(8), std::min(width, height));
  return d;
}

int occlusionPlacements(int size, int patch, int stride) {
  if (patch < 1) throw Error("occlusion: patch must be at least 1, got " + std::to_string(patch));
  if (stride < 1)
    throw Error("occlusion: stride must be at least 1, got " + std::to_string(stride));
  if (patch > size)
    throw Error("occlusion: patch " + std::to_string(patch) + " is larger than the input (" +
                std::to_string(size) + " pixels)");
  return (size - patch) / stride + 1;
}

OcclusionResult runOcclusion(std::shared_ptr<const CompiledNet> net, const Tensor& input,
                             const OcclusionOptions& o, ProgressSink* progress) {
  if (!net) throw Error("occlusion: no network");
  const NetworkDef& def = net->def();
  const std::string model = "occlusion on model '" + def.name + "': ";
  if (def.input.shape.rank() != 3)
    throw Error(model + "the input is " + def.input.shape.str() + ", expected C x H x W");
  Tensor x = input;
  if (x.shape() == def.input.shape) x.reshape(def.input.shape.withBatch(1));
  if (x.shape() != def.input.shape.withBatch(1))
    throw Error(model + "input has shape " + input.shape().str() + ", expected 1 x " +
                def.input.shape.str());
  const int H = int(def.input.shape[1]), W = int(def.input.shape[2]);
  if (o.patch > H || o.patch > W)
    throw Error(model + "patch " + std::to_string(o.patch) + " is larger than the " +
                std::to_string(H) + " x " + std::to_string(W) + " input");
  if (o.batch < 1) throw Error(model + "batch must be at least 1, got " + std::to_string(o.batch));
  OcclusionResult r;
  r.rows = occlusionPlacements(H, o.patch, o.stride);
  r.cols = occlusionPlacements(W, o.patch, o.stride);
  r.patch = o.patch;
  r.stride = o.stride;
  r.fill = o.fill;
  if (o.layer) {
    if (*o.layer >= def.layers.size())
      throw Error(model + "layer index " + std::to_string(*o.layer) + " is out of range (" +
                  std::to_string(def.layers.size()) + " layers)");
    r.layer = o.layer;
    r.layerName = def.layers[*o.layer].name;
  }

  // The unoccluded run: base values, and every map the windowed evaluation starts from.
  reportProgress(progress, 0, int64_t(r.rows) * r.cols);
  Session session(net);
  auto base = session.run(x);
  const Tensor& out = base->finalOutput();
  const bool isSoftmax = def.layers.back().type == LayerType::Softmax;
  std::vector<float> p = classProbabilities(out.data(), out.numel(), isSoftmax);
  r.classes = int(p.size());
  r.baseClass = argmax(p);
  r.targetClass = o.targetClass < 0 ? r.baseClass : o.targetClass;
  if (r.targetClass >= r.classes)
    throw Error(model + "class " + std::to_string(o.targetClass) + " is out of range (" +
                std::to_string(r.classes) + " classes)");
  r.baseProbability = p[size_t(r.targetClass)];
  if (o.layer) {
    const Tensor& maps = base->output(*o.layer);
    const int64_t channels = maps.shape().rank() >= 2 ? maps.shape()[1] : 1;
    if (o.channel < 0) {
      double best = -INFINITY;
      for (int64_t c = 0; c < channels; ++c)
        if (double t = channelTotal(maps, c); t > best) {
          best = t;
          r.channel = int(c);
        }
    } else if (o.channel >= channels) {
      throw Error(model + "channel " + std::to_string(o.channel) + " is out of range: layer '" +
                  r.layerName + "' has " + std::to_string(channels) + " channels");
    } else {
      r.channel = o.channel;
    }
    r.baseFeatureActivation = float(channelTotal(maps, r.channel));
  }

  OcclusionSetup setup;
  setup.patch = o.patch;
  setup.stride = o.stride;
  setup.fill = o.fill;
  setup.rows = r.rows;
  setup.cols = r.cols;
  setup.feature = o.layer;
  setup.channel = r.channel;
  setup.batch = o.batch;
  std::unique_ptr<detail::WindowedOcclusion> windowed;
  if (o.incremental) windowed = detail::WindowedOcclusion::create(net, base, setup);
  r.incremental = windowed != nullptr;
  if (!windowed) base.reset();  // the whole-copies path does not need the maps
  std::unique_ptr<WholeCopies> whole;
  if (!windowed) whole = std::make_unique<WholeCopies>(net, x, setup);

  const int total = r.rows * r.cols;
  r.probability = Tensor(Shape{r.rows, r.cols});
  r.topClass.assign(size_t(total), 0);
  if (o.layer) r.featureActivation = Tensor(Shape{r.rows, r.cols});
  for (int first = 0; first < total; first += o.batch) {
    reportProgress(progress, first, total);
    const int count = std::min(o.batch, total - first);
    const bool last = first + count == total;
    OcclusionBatch b = windowed ? windowed->evaluate(first, count, last, progress)
                                : whole->evaluate(first, count, last, progress);
    const int rows = b.rows();
    const int64_t n = rows ? b.output.numel() / rows : 0;
    for (int k = 0; k < rows; ++k) {
      const int at = b.first + k;
      p = classProbabilities(b.output.data() + k * n, n, isSoftmax);
      r.probability[at] = p[size_t(r.targetClass)];
      r.topClass[size_t(at)] = argmax(p);
      if (o.layer) r.featureActivation[at] = float(b.feature[size_t(k)]);
    }
  }
  reportProgress(progress, total, total);
  return r;
}

}  // namespace zfvis
