#include "core/analysis/evolution/evolution.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>

#include "core/analysis/training/run_files.h"
#include "core/analysis/unit_response.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/import/model_loader.h"
#include "core/model/small_nets.h"

namespace zfvis {
namespace fs = std::filesystem;

std::vector<EvolutionCheckpoint> resolveCheckpoints(const std::vector<fs::path>& sources) {
  if (sources.empty()) throw UsageError("no checkpoints given");
  std::vector<EvolutionCheckpoint> out;
  for (const fs::path& source : sources) {
    std::error_code ec;
    fs::path dir = source;
    // A shipped trained model's name (zf-small) stands for its run folder.
    if (!fs::exists(source, ec))
      if (auto shipped = shippedRunDir(source.string())) dir = *shipped;
    if (fs::is_directory(dir, ec)) {
      const std::vector<RunCheckpoint> run = listRunCheckpoints(dir);
      if (run.empty())
        throw Error("'" + source.string() +
                    "' holds no checkpoint-*.onnx or final.onnx (expected a zfvis-cli train "
                    "run folder)");
      for (const RunCheckpoint& c : run) out.push_back({c.file, c.step, c.epoch, c.testAccuracy});
    } else if (fs::is_regular_file(source, ec)) {
      // The note is read when the column is computed (the file is loaded then anyway).
      out.push_back({source, std::nullopt, std::nullopt, std::nullopt});
    } else {
      throw Error("'" + source.string() +
                  "' is neither a model file nor a run folder (nor a shipped trained model: "
                  "alex-small, zf-small)");
    }
  }
  return out;
}

std::vector<int> evolutionUnits(const NetworkDef& def, size_t layer,
                                const EvolutionOptions& options) {
  const Shape shape = def.outputShapes().at(layer);
  if (shape.rank() != 1 && shape.rank() != 3)
    throw Error("layer '" + def.layers[layer].name + "' has output " + shape.str() +
                "; expected channels (C or C x H x W)");
  const int channels = int(shape[0]);
  if (options.units.empty()) {
    std::vector<int> units(size_t(std::min(8, channels)));
    for (size_t i = 0; i < units.size(); ++i) units[i] = int(i);
    return units;
  }
  for (int u : options.units)
    if (u < 0 || u >= channels)
      throw Error("unit " + std::to_string(u) + " is outside layer '" + def.layers[layer].name +
                  "' (" + std::to_string(channels) + " channels: 0.." +
                  std::to_string(channels - 1) + ")");
  return options.units;
}

namespace {

// Fills in step / epoch / accuracy from the file's own note when the caller had none.
void readNote(const NetworkDef& def, EvolutionCheckpoint& c) {
  if (c.step) return;
  auto it = def.metadata.find(kTrainingMetadataKey);
  if (it == def.metadata.end()) return;
  try {
    const nlohmann::json j = nlohmann::json::parse(it->second);
    c.step = j.at("step").get<int64_t>();
    c.epoch = j.at("epoch").get<double>();
    if (j.contains("test_accuracy") && !j["test_accuracy"].is_null())
      c.testAccuracy = j["test_accuracy"].get<double>();
  } catch (const nlohmann::json::exception&) {
    // A malformed note only loses the label; the weights are what the figure shows.
    c.step.reset();
    c.epoch.reset();
  }
}

struct Best {
  int64_t image = -1;
  UnitResponse response;
};

}  // namespace

void requireSameArchitecture(const NetworkDef& reference, const NetworkDef& def,
                             const fs::path& file) {
  if (reference.layers.size() != def.layers.size())
    throw Error("'" + file.string() + "' has " + std::to_string(def.layers.size()) +
                " layers; expected " + std::to_string(reference.layers.size()) +
                " like the first checkpoint");
  const std::vector<Shape> a = reference.outputShapes(), b = def.outputShapes();
  for (size_t i = 0; i < def.layers.size(); ++i) {
    const LayerSpec &x = reference.layers[i], &y = def.layers[i];
    if (x.name != y.name || x.type != y.type || a[i] != b[i])
      throw Error("'" + file.string() + "' layer " + std::to_string(i) + " is '" + y.name + "' (" +
                  std::string(onnxOpName(y.type)) + ", " + b[i].str() + "); expected '" + x.name +
                  "' (" + std::string(onnxOpName(x.type)) + ", " + a[i].str() +
                  ") like the first checkpoint");
  }
}

namespace {

// The search of evolveCheckpoint over `count` inputs that `input(i)` produces (read from a file or
// copied from memory), so both overloads share one definition of the strongest activation.
EvolutionColumn evolveInputs(const NetworkDef& def, const EvolutionCheckpoint& checkpoint,
                             size_t layer, const std::vector<int>& units, size_t count,
                             const std::function<Tensor(size_t)>& input,
                             const EvolutionOptions& options, ProgressSink* progress) {
  if (count == 0) throw UsageError("no images to search");
  if (layer >= def.layers.size()) throw Error("evolution: layer index out of range");
  EvolutionColumn column;
  column.checkpoint = checkpoint;
  readNote(def, column.checkpoint);
  for (const LayerSpec& l : def.layers)
    if (l.type == LayerType::Conv) {
      column.filtersLayer = l.name;
      column.filters = l.weights;
      break;
    }

  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  RunOptions lean;
  lean.keepAll = false;
  lean.keep = {layer};
  const int64_t total = int64_t(count + units.size());
  const int64_t batch = std::max(1, options.batch);
  const bool spatial = def.outputShapes()[layer].rank() == 3;

  // Both passes below stop when `progress` asks; it sees only this function's own progress. The
  // sink outlives every run that points at it.
  CancellationOnly cancel(progress);
  lean.progress = &cancel;
  std::vector<Best> best(units.size());
  for (size_t start = 0; start < count; start += size_t(batch)) {
    const size_t end = std::min(count, start + size_t(batch));
    std::vector<Tensor> inputs;
    for (size_t i = start; i < end; ++i) inputs.push_back(input(i));
    const Tensor input = Tensor::stack(inputs);
    auto acts = session.run(input, lean);
    const std::vector<ChannelPeak> peaks = acts->channelPeaks(layer);
    const size_t channels = peaks.size() / (end - start);
    for (size_t u = 0; u < units.size(); ++u)
      for (size_t i = start; i < end; ++i) {
        const UnitResponse& r = peaks[(i - start) * channels + size_t(units[u])];
        // Strictly greater: the earlier image wins a tie; NaN never wins.
        if (!std::isnan(r.value) && (best[u].image < 0 || r.value > best[u].response.value))
          best[u] = {int64_t(i), r};
      }
    reportProgress(progress, int64_t(end), total);
  }

  // Project each unit's maximum; units that peak on the same image share its run.
  std::map<int64_t, std::pair<std::shared_ptr<const Activations>, std::unique_ptr<Projector>>> runs;
  for (size_t u = 0; u < units.size(); ++u) {
    UnitMaximum m;
    m.unit = units[u];
    m.image = best[u].image;
    if (m.image >= 0) {
      m.value = best[u].response.value;
      m.position = cv::Point(best[u].response.x, best[u].response.y);
      auto& run = runs[m.image];
      if (!run.second) {
        run.first = session.run(input(size_t(m.image)), lean);
        run.second = std::make_unique<Projector>(run.first);
      }
      ProjectionRequest r;
      r.layer = layer;
      r.channel = m.unit;
      if (spatial) r.position = m.position;
      r.mode = options.mode;
      m.projection = run.second->project(r);
      m.input = tensorToImage(run.first->input(), def.input.preprocess);
    }
    column.units.push_back(std::move(m));
    reportProgress(progress, int64_t(count + u + 1), total);
  }
  return column;
}

}  // namespace

EvolutionColumn evolveCheckpoint(const NetworkDef& def, const EvolutionCheckpoint& checkpoint,
                                 size_t layer, const std::vector<int>& units,
                                 const std::vector<ImageEntry>& images,
                                 const EvolutionOptions& options, ProgressSink* progress) {
  return evolveInputs(
      def, checkpoint, layer, units, images.size(),
      [&](size_t i) { return loadNetworkInput(images[i].path, def.input, options.read); }, options,
      progress);
}

EvolutionColumn evolveCheckpoint(const NetworkDef& def, const EvolutionCheckpoint& checkpoint,
                                 size_t layer, const std::vector<int>& units,
                                 const std::vector<Tensor>& inputs, const EvolutionOptions& options,
                                 ProgressSink* progress) {
  const Shape& want = def.input.shape;
  const Shape batched = want.withBatch(1);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].shape() != want && inputs[i].shape() != batched)
      throw Error("evolution: input " + std::to_string(i) + " has shape " +
                  inputs[i].shape().str() + "; the model '" + def.name + "' takes " + want.str());
  // 1 x C x H x W, as loadNetworkInput returns it for the file overload.
  return evolveInputs(
      def, checkpoint, layer, units, inputs.size(),
      [&](size_t i) { return inputs[i].reshaped(batched); }, options, progress);
}

Evolution computeEvolution(const std::vector<EvolutionCheckpoint>& checkpoints,
                           const std::string& layerArg, const std::vector<ImageEntry>& images,
                           const EvolutionOptions& options, ProgressSink* progress) {
  if (checkpoints.empty()) throw UsageError("no checkpoints given");
  if (images.empty()) throw UsageError("no images to search");
  Evolution e;
  e.images = images;
  // Every checkpoint is checked before any column is computed, so a mixed series fails at once
  // (one checkpoint in memory at a time: the columns load them again).
  {
    const NetworkDef first = loadModel(checkpoints[0].file.string());
    e.layer = first.resolveLayer(layerArg);
    e.layerName = first.layers[e.layer].name;
    e.units = evolutionUnits(first, e.layer, options);
    e.preprocess = first.input.preprocess;
    for (const LayerSpec& l : first.layers) e.layerNames.push_back(l.name);
    for (size_t k = 1; k < checkpoints.size(); ++k)
      requireSameArchitecture(first, loadModel(checkpoints[k].file.string()), checkpoints[k].file);
  }
  const int64_t perColumn = int64_t(images.size() + 1);
  for (size_t k = 0; k < checkpoints.size(); ++k) {
    const NetworkDef def = loadModel(checkpoints[k].file.string());
    // Each column reports into its share of the whole.
    struct Scaled : ProgressSink {
      ProgressSink* outer;
      int64_t base, share, columns;
      void report(int64_t done, int64_t total) override {
        if (outer && total > 0) outer->report(base * share + done * share / total, columns * share);
      }
      bool cancelled() const override { return outer && outer->cancelled(); }
    } scaled;
    scaled.outer = progress;
    scaled.base = int64_t(k);
    scaled.share = perColumn;
    scaled.columns = int64_t(checkpoints.size());
    e.columns.push_back(
        evolveCheckpoint(def, checkpoints[k], e.layer, e.units, images, options, &scaled));
  }
  return e;
}

}  // namespace zfvis
