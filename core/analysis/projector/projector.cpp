#include "core/analysis/projector/projector_impl.h"

namespace zfvis {

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

// ---- Impl ---------------------------------------------------------------------------------

Projector::Impl::Impl(const Activations& a, int s)
    : acts(a),
      def(a.net().def()),
      shapes(a.net().outputShapes()),
      sample(s),
      engine(a.dnnlEngine()),
      stream(engine),
      fields(receptiveFields(def)),
      inputs(def.inputIndices()) {
  cache = a.net().cache<BackwardCache>();
}

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
