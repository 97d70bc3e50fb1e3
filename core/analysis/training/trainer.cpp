#include "core/analysis/training/trainer.h"

#include <chrono>
#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "core/analysis/training/run_files.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/engine/training/train_plan.h"
#include "core/import/model_loader.h"
#include "core/import/onnx/onnx_writer.h"
#include "core/model/builtin_models.h"
#include "core/model/net_builder.h"
#include "core/model/small_nets.h"

namespace zfvis {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// Gives the classifier one output per class (a last Dense layer is resized; anything else must
// already have the right number of outputs).
void fitClasses(NetworkDef& def, int classes) {
  const size_t scores = scoresLayer(def);
  LayerSpec& l = def.layers[scores];
  const int64_t outputs = def.outputShapes()[scores].numel();
  if (outputs == classes) return;
  if (l.type != LayerType::Dense)
    throw Error("model '" + def.name + "' has " + std::to_string(outputs) +
                " outputs and its layer '" + l.name + "' is not a dense layer that could get the " +
                std::to_string(classes) + " the dataset needs");
  l.dense.units = classes;
  l.weights = Tensor(Shape{classes, l.weights.shape()[1]});
  if (l.dense.hasBias) l.bias = Tensor(Shape{classes});
}

// He-normal weights (fan-in) from `seed`, one stream per layer, zero biases.
void initialiseWeights(NetworkDef& def, uint64_t seed) {
  for (size_t i = 0; i < def.layers.size(); ++i) {
    LayerSpec& l = def.layers[i];
    if (l.type != LayerType::Conv && l.type != LayerType::Dense) continue;
    const int64_t fanIn = l.weights.numel() / l.weights.shape()[0];
    fillNormal(l.weights, float(std::sqrt(2.0 / double(fanIn))), seed, i);
    if (!l.bias.empty()) l.bias = Tensor(l.bias.shape());
  }
}

// The model and dataset of a run, built the same way by create() and resume().
void buildModel(const TrainConfig& c, Dataset& data, NetworkDef& def) {
  if (isSmallNet(c.model)) {
    Shape shape = naturalInputShape(c.data);
    if (shape.rank() == 0) shape = Shape{3, 32, 32};  // folders: CIFAR-sized colour images
    data = loadDataset(c.data, shape);
    def = makeSmallNet(c.model, shape, int(data.classNames.size()), c.seed);
  } else {
    def = loadModel(c.model);
    if (def.input.shape.rank() != 3)
      throw Error("model '" + c.model + "' has input " + def.input.shape.str() +
                  "; training needs an image input (C x H x W)");
    data = loadDataset(c.data, def.input.shape);
    fitClasses(def, int(data.classNames.size()));
    def.metadata.clear();
  }
  initialiseWeights(def, c.seed);
  def.classNames = data.classNames;
  def.untrained = false;
  def.source = "zfvis-cli train --data " + c.data;
  def.notes.push_back("trained by zfvis on " + data.name + " (seed " + std::to_string(c.seed) +
                      ")");
  checkTrainable(def);
}

}  // namespace

struct Trainer::State {
  TrainConfig config;
  fs::path dir;
  Dataset data;
  NetworkDef model;
  std::unique_ptr<TrainPlan> plan;
  int64_t step = 0, perEpoch = 0, total = 0;
  std::vector<int64_t> checkpointSteps;
  std::vector<LogRow> log;
  double secondsBefore = 0;  // training time of earlier sessions
  Clock::time_point started = Clock::now();
  RunWindow window;                                     // steps since the last log row
  std::optional<std::pair<int64_t, double>> evaluated;  // (step, test accuracy) of the last test
  std::vector<int64_t> order;
  int64_t orderEpoch = -1;
  std::vector<float> input;
  std::vector<int32_t> labels;

  double seconds() const {
    return secondsBefore + std::chrono::duration<double>(Clock::now() - started).count();
  }
  double epochAt(int64_t s) const { return double(s) / double(perEpoch); }
  double learningRateAt(int64_t epoch) const {
    return config.learningRate * std::pow(config.lrDecay, double(epoch));
  }

  void prepare() {
    perEpoch = data.train.size() / config.batch;
    if (perEpoch < 1)
      throw Error("dataset '" + config.data + "' has " + std::to_string(data.train.size()) +
                  " training images, fewer than one batch of " + std::to_string(config.batch));
    if (data.test.size() < 1) throw Error("dataset '" + config.data + "' has no test images");
    total = perEpoch * config.epochs;
    for (int k = 0; k < config.checkpoints; ++k) {
      const int64_t s = total * k / config.checkpoints;
      if (checkpointSteps.empty() || checkpointSteps.back() != s) checkpointSteps.push_back(s);
    }
    TrainPlanOptions o;
    o.batch = config.batch;
    o.dropoutRatio = float(config.dropout);
    o.threads = config.threads;
    plan = std::make_unique<TrainPlan>(model, o);
    const int64_t per = model.input.shape.numel();
    input.resize(size_t(per * config.batch));
    labels.resize(size_t(config.batch));
  }

  // The shuffled order of epoch `e`: a Fisher-Yates shuffle driven by mt19937_64 (whose output
  // the C++ standard fixes) seeded from (seed, epoch).
  const std::vector<int64_t>& epochOrder(int64_t e) {
    if (orderEpoch == e) return order;
    const int64_t n = data.train.size();
    order.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
    std::mt19937_64 rng(config.seed * 0x9E3779B97F4A7C15ull + uint64_t(e));
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[size_t(i)], order[rng() % uint64_t(i + 1)]);
    orderEpoch = e;
    return order;
  }

  double evaluate() {
    if (evaluated && evaluated->first == step) return evaluated->second;
    const int batch = config.batch;
    const int64_t per = model.input.shape.numel(), n = data.test.size();
    int64_t correct = 0;
    for (int64_t first = 0; first < n; first += batch) {
      const int64_t count = std::min<int64_t>(batch, n - first);
      std::fill(input.begin(), input.end(), 0.0f);
      for (int64_t k = 0; k < count; ++k)
        sampleToInput(data.test, first + k, model.input, input.data() + k * per);
      const Tensor logits = plan->evaluate(input.data());
      const int classes = plan->classes();
      for (int64_t k = 0; k < count; ++k) {
        const float* row = logits.data() + k * classes;
        correct +=
            std::max_element(row, row + classes) - row == data.test.labels[size_t(first + k)];
      }
    }
    evaluated = {step, double(correct) / double(n)};
    return evaluated->second;
  }

  LogRow flushRow(std::optional<double> testAccuracy) {
    LogRow r;
    r.step = step;
    r.epoch = epochAt(step);
    if (window.steps > 0) {
      r.loss = window.loss / double(window.steps);
      r.trainAccuracy = double(window.correct) / double(window.samples);
    }
    r.testAccuracy = testAccuracy;
    r.learningRate = learningRateAt(std::max<int64_t>(0, step - 1) / perEpoch);
    r.seconds = seconds();
    window = {};
    log.push_back(r);
    return r;
  }

  // The current weights with the zfvis.training note (run_files.h).
  NetworkDef snapshot() const {
    NetworkDef def = plan->snapshot();
    nlohmann::ordered_json j;
    j["step"] = step;
    j["steps_total"] = total;
    j["epoch"] = epochAt(step);
    j["test_accuracy"] = evaluated && evaluated->first == step
                             ? nlohmann::ordered_json(evaluated->second)
                             : nlohmann::ordered_json(nullptr);
    j["config"] = configJson(config);
    def.metadata[kTrainingMetadataKey] = j.dump();
    return def;
  }

  void writeResume() {
    ResumeState r;
    r.config = config;
    r.step = step;
    r.seconds = seconds();
    r.window = window;
    std::vector<Tensor> momentum;
    for (size_t i = 0; i < plan->params().size(); ++i) momentum.push_back(plan->paramMomentum(i));
    writeResumeState(dir, r, snapshot(), momentum);
    writeLog(dir, log);
  }
};

Trainer::Trainer(std::unique_ptr<State> state) : m_state(std::move(state)) {}
Trainer::~Trainer() = default;

std::unique_ptr<Trainer> Trainer::create(const TrainConfig& config, const fs::path& outDir) {
  validateConfig(config);
  std::error_code ec;
  if (fs::exists(outDir / "resume.json", ec) || fs::exists(outDir / "final.onnx", ec))
    throw Error("'" + outDir.string() +
                "' already holds a training run (continue it with --resume, or choose another "
                "--out)");
  auto s = std::make_unique<State>();
  s->config = config;
  s->dir = outDir;
  buildModel(config, s->data, s->model);
  s->prepare();
  fs::create_directories(outDir, ec);
  if (ec) throw Error("cannot create '" + outDir.string() + "': " + ec.message());
  return std::unique_ptr<Trainer>(new Trainer(std::move(s)));
}

std::unique_ptr<Trainer> Trainer::resume(const fs::path& dir, int threads) {
  LoadedResume loaded = readResumeState(dir);
  auto s = std::make_unique<State>();
  s->config = loaded.state.config;
  if (threads > 0) s->config.threads = threads;
  s->dir = dir;
  buildModel(s->config, s->data, s->model);
  s->prepare();
  // Weights and momentum exactly as they were, by parameter name.
  const auto& params = s->plan->params();
  if (loaded.momentum.size() != params.size())
    throw Error("'" + (dir / "resume.json").string() + "': the saved state has " +
                std::to_string(loaded.momentum.size()) + " momentum buffers, the model " +
                std::to_string(params.size()) + " parameters");
  for (size_t i = 0; i < params.size(); ++i) {
    const int layer = loaded.weights.indexOf(s->model.layers[params[i].layer].name);
    if (layer < 0)
      throw Error("'" + loaded.weightsFile.string() + "' has no layer '" +
                  s->model.layers[params[i].layer].name + "'");
    const LayerSpec& l = loaded.weights.layers[size_t(layer)];
    s->plan->setParamValue(i, params[i].bias ? l.bias : l.weights);
    s->plan->setParamMomentum(i, loaded.momentum[i]);
  }
  s->step = loaded.state.step;
  s->secondsBefore = loaded.state.seconds;
  s->window = loaded.state.window;
  s->log = readLog(dir);
  std::erase_if(s->log, [&](const LogRow& r) { return r.step > s->step; });
  if (s->step > s->total)
    throw Error("'" + (dir / "resume.json").string() + "': step " + std::to_string(s->step) +
                " is past the end of the run (" + std::to_string(s->total) + " steps)");
  return std::unique_ptr<Trainer>(new Trainer(std::move(s)));
}

TrainOutcome Trainer::run(TrainingObserver* observer) {
  State& s = *m_state;
  s.started = Clock::now();
  setEngineThreads(s.config.threads);
  SgdSettings sgd;
  sgd.momentum = float(s.config.momentum);
  sgd.weightDecay = float(s.config.weightDecay);
  sgd.renormRms = s.config.renormRms;
  const int64_t per = s.model.input.shape.numel();
  auto writeCheckpoint = [&](const fs::path& file) {
    const double acc = s.evaluate();
    if (s.log.empty() || s.log.back().step != s.step) {  // an epoch end may have logged it
      const LogRow row = s.flushRow(acc);
      if (observer) observer->onLogRow(row);
    }
    writeOnnx(file, s.snapshot());
    if (observer) observer->onCheckpoint({s.step, s.epochAt(s.step), file, acc});
  };
  while (s.step < s.total) {
    if (observer && observer->cancelled()) {
      s.writeResume();
      TrainOutcome out{false, s.step, s.total, s.evaluate(), s.seconds()};
      return out;
    }
    if (std::binary_search(s.checkpointSteps.begin(), s.checkpointSteps.end(), s.step))
      writeCheckpoint(s.dir / checkpointFileName(s.step));
    const int64_t epoch = s.step / s.perEpoch;
    sgd.learningRate = float(s.learningRateAt(epoch));
    const std::vector<int64_t>& order = s.epochOrder(epoch);
    const int64_t first = (s.step % s.perEpoch) * s.config.batch;
    for (int k = 0; k < s.config.batch; ++k) {
      const int64_t idx = order[size_t(first + k)];
      sampleToInput(s.data.train, idx, s.model.input, s.input.data() + k * per);
      s.labels[size_t(k)] = s.data.train.labels[size_t(idx)];
    }
    const BatchResult r =
        s.plan->trainBatch(s.input.data(), s.labels.data(), s.config.seed, uint64_t(s.step));
    s.plan->applySgd(sgd);
    ++s.step;
    s.window.loss += r.loss;
    s.window.correct += r.correct;
    s.window.samples += s.config.batch;
    s.window.steps += 1;
    if (!std::isfinite(r.loss))
      throw Error("training diverged at step " + std::to_string(s.step) +
                  " (the loss is not finite); try a smaller --lr");
    if (observer) {
      observer->onStep({s.step, s.total, int(epoch), r.loss, double(r.correct) / s.config.batch,
                        double(sgd.learningRate), s.seconds()});
      observer->report(s.step, s.total);  // cancellation is checked before the next step
    }
    if (s.step % s.perEpoch == 0) {
      const LogRow row = s.flushRow(s.evaluate());
      if (observer) observer->onLogRow(row);
      if (s.step < s.total) s.writeResume();
    } else if (s.step % s.config.logEvery == 0) {
      const LogRow row = s.flushRow(std::nullopt);
      if (observer) observer->onLogRow(row);
    }
  }
  writeOnnx(s.dir / "final.onnx", s.snapshot());
  const double acc = s.evaluate();
  if (observer) observer->onCheckpoint({s.step, s.epochAt(s.step), s.dir / "final.onnx", acc});
  writeLog(s.dir, s.log);
  removeResumeState(s.dir);
  return {true, s.step, s.total, acc, s.seconds()};
}

const TrainConfig& Trainer::config() const {
  return m_state->config;
}
const fs::path& Trainer::outDir() const {
  return m_state->dir;
}
const Dataset& Trainer::dataset() const {
  return m_state->data;
}
int64_t Trainer::step() const {
  return m_state->step;
}
int64_t Trainer::totalSteps() const {
  return m_state->total;
}
int64_t Trainer::stepsPerEpoch() const {
  return m_state->perEpoch;
}
const std::vector<int64_t>& Trainer::checkpointSteps() const {
  return m_state->checkpointSteps;
}
const std::vector<LogRow>& Trainer::log() const {
  return m_state->log;
}
const NetworkDef& Trainer::network() const {
  return m_state->model;
}

Tensor Trainer::weights(size_t layer) const {
  const auto& params = m_state->plan->params();
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].layer == layer && !params[i].bias) return m_state->plan->paramValue(i);
  throw Error("layer " + std::to_string(layer) + " has no weights");
}

NetworkDef Trainer::snapshot() const {
  return m_state->snapshot();
}

double Trainer::testAccuracy() {
  return m_state->evaluate();
}

}  // namespace zfvis
