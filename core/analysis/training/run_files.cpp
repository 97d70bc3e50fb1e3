#include "core/analysis/training/run_files.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/npy.h"
#include "core/import/onnx/onnx_writer.h"
#include "core/import/onnx_import.h"

namespace zfvis {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

Json configJson(const TrainConfig& c) {
  return {{"model", c.model},
          {"data", c.data},
          {"epochs", c.epochs},
          {"batch", c.batch},
          {"lr", c.learningRate},
          {"lr_decay", c.lrDecay},
          {"momentum", c.momentum},
          {"weight_decay", c.weightDecay},
          {"renorm_rms", c.renormRms},
          {"dropout", c.dropout},
          {"checkpoints", c.checkpoints},
          {"log_every", c.logEvery},
          {"seed", c.seed},
          {"threads", c.threads}};
}

TrainConfig configFromJson(const nlohmann::json& j) {
  TrainConfig c;
  try {
    c.model = j.value("model", c.model);
    c.data = j.value("data", c.data);
    c.epochs = j.value("epochs", c.epochs);
    c.batch = j.value("batch", c.batch);
    c.learningRate = j.value("lr", c.learningRate);
    c.lrDecay = j.value("lr_decay", c.lrDecay);
    c.momentum = j.value("momentum", c.momentum);
    c.weightDecay = j.value("weight_decay", c.weightDecay);
    c.renormRms = j.value("renorm_rms", c.renormRms);
    c.dropout = j.value("dropout", c.dropout);
    c.checkpoints = j.value("checkpoints", c.checkpoints);
    c.logEvery = j.value("log_every", c.logEvery);
    c.seed = j.value("seed", c.seed);
    c.threads = j.value("threads", c.threads);
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(std::string("training settings: ") + e.what());
  }
  return c;
}

void validateConfig(const TrainConfig& c) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw UsageError(what);
  };
  require(c.epochs >= 1, "--epochs must be at least 1");
  require(c.batch >= 1 && c.batch <= 65536, "--batch must be in 1..65536");
  require(c.learningRate > 0 && std::isfinite(c.learningRate), "--lr must be positive");
  require(c.lrDecay > 0 && c.lrDecay <= 1, "--lr-decay must be in (0, 1]");
  require(c.momentum >= 0 && c.momentum < 1, "--momentum must be in [0, 1)");
  require(c.weightDecay >= 0 && std::isfinite(c.weightDecay), "--weight-decay must be >= 0");
  require(c.renormRms >= 0 && std::isfinite(c.renormRms), "--renorm-rms must be >= 0 (0 = off)");
  require(c.dropout >= 0 && c.dropout < 1, "--dropout must be in [0, 1)");
  require(c.checkpoints >= 0 && c.checkpoints <= 1000, "--checkpoints must be in 0..1000");
  require(c.logEvery >= 1, "--log-every must be at least 1");
  require(c.threads >= 1 && c.threads <= 256, "--threads must be in 1..256");
}

std::string checkpointFileName(int64_t step) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "checkpoint-%06lld.onnx", static_cast<long long>(step));
  return buf;
}

namespace {

std::string resumeStem(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "resume-%06lld", static_cast<long long>(step));
  return buf;
}

bool isResumeFile(const fs::path& p) {
  return p.filename().string().rfind("resume-", 0) == 0;
}

}  // namespace

void writeResumeState(const fs::path& dir, const ResumeState& state, const NetworkDef& weights,
                      const std::vector<Tensor>& momentum) {
  const std::string stem = resumeStem(state.step);
  writeOnnx(dir / (stem + ".onnx"), weights);
  int64_t n = 0;
  for (const Tensor& t : momentum) n += t.numel();
  Tensor all(Shape{n});
  int64_t at = 0;
  for (const Tensor& t : momentum) {
    std::copy(t.data(), t.data() + t.numel(), all.data() + at);
    at += t.numel();
  }
  writeNpy(dir / (stem + "-momentum.npy"), all);
  Json j;
  j["format"] = "zfvis-training-resume";
  j["version"] = 1;
  j["config"] = configJson(state.config);
  j["step"] = state.step;
  j["seconds"] = state.seconds;
  j["window"] = {{"loss", state.window.loss},
                 {"correct", state.window.correct},
                 {"samples", state.window.samples},
                 {"steps", state.window.steps}};
  j["weights"] = stem + ".onnx";
  j["momentum"] = stem + "-momentum.npy";
  writeFileAtomic(dir / "resume.json", j.dump(1) + "\n");
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (isResumeFile(e.path()) && name != stem + ".onnx" && name != stem + "-momentum.npy")
      fs::remove(e.path());
  }
}

LoadedResume readResumeState(const fs::path& dir) {
  const fs::path file = dir / "resume.json";
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw Error("'" + dir.string() + "' holds no interrupted training run (no resume.json" +
                (fs::exists(dir / "final.onnx", ec) ? "; the run finished: final.onnx)" : ")"));
  LoadedResume out;
  Json j;
  try {
    j = Json::parse(readFile(file, size_t(1) << 24));
    if (j.at("format") != "zfvis-training-resume" || j.at("version") != 1)
      throw Error("'" + file.string() + "': not a zfvis resume state (format/version)");
    out.state.config = configFromJson(j.at("config"));
    out.state.step = j.at("step").get<int64_t>();
    out.state.seconds = j.at("seconds").get<double>();
    const Json& w = j.at("window");
    out.state.window = {w.at("loss").get<double>(), w.at("correct").get<int64_t>(),
                        w.at("samples").get<int64_t>(), w.at("steps").get<int64_t>()};
    out.weightsFile = dir / j.at("weights").get<std::string>();
  } catch (const Json::exception& e) {
    throw Error("'" + file.string() + "': not a zfvis resume state (" + e.what() + ")");
  }
  validateConfig(out.state.config);
  out.weights = importOnnx(out.weightsFile);
  const Tensor all = readNpy(dir / j["momentum"].get<std::string>());
  // Split the concatenated buffers by the saved network's parameter shapes, in layer order.
  int64_t at = 0;
  for (const LayerSpec& l : out.weights.layers) {
    if (l.type != LayerType::Conv && l.type != LayerType::Dense) continue;
    for (const Tensor* t : {&l.weights, &l.bias}) {
      if (t->empty()) continue;
      if (at + t->numel() > all.numel())
        throw Error("'" + (dir / j["momentum"].get<std::string>()).string() + "' holds " +
                    std::to_string(all.numel()) + " values, fewer than the model's parameters");
      out.momentum.push_back(Tensor::fromData(t->shape(), all.data() + at));
      at += t->numel();
    }
  }
  if (at != all.numel())
    throw Error("'" + (dir / j["momentum"].get<std::string>()).string() + "' holds " +
                std::to_string(all.numel()) + " values, the model has " + std::to_string(at) +
                " parameters");
  return out;
}

void removeResumeState(const fs::path& dir) {
  std::error_code ec;
  fs::remove(dir / "resume.json", ec);
  for (const auto& e : fs::directory_iterator(dir))
    if (isResumeFile(e.path())) fs::remove(e.path(), ec);
}

std::vector<RunCheckpoint> listRunCheckpoints(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error("'" + dir.string() + "' is not a folder");
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0 && e.path().extension() == ".onnx")
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (fs::exists(dir / "final.onnx", ec)) files.push_back(dir / "final.onnx");
  std::vector<RunCheckpoint> out;
  for (const fs::path& f : files) {
    const NetworkDef def = importOnnx(f);
    RunCheckpoint c;
    c.file = f;
    auto it = def.metadata.find(kTrainingMetadataKey);
    if (it == def.metadata.end())
      throw Error("'" + f.string() + "' has no " + kTrainingMetadataKey + " note");
    try {
      const Json j = Json::parse(it->second);
      c.step = j.at("step").get<int64_t>();
      c.epoch = j.at("epoch").get<double>();
      if (!j.at("test_accuracy").is_null()) c.testAccuracy = j["test_accuracy"].get<double>();
    } catch (const Json::exception& e) {
      throw Error("'" + f.string() + "': malformed " + kTrainingMetadataKey + " (" + e.what() +
                  ")");
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace zfvis
