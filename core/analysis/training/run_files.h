// The files of a training run folder (see trainer.h): checkpoint names, the zfvis.training note
// every checkpoint carries, the resume state, and the listing of a run's checkpoints that the
// evolution view and command read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/analysis/training/trainer.h"
#include "core/model/network.h"

namespace zfvis {

/// The ONNX metadata key of a checkpoint's training note: JSON {"step", "steps_total", "epoch",
/// "test_accuracy" (or null), "config": {the run's TrainConfig}}.
inline constexpr const char* kTrainingMetadataKey = "zfvis.training";

/// Sums over the steps since the last log row (kept in the resume state so a resumed log
/// continues exactly).
struct RunWindow {
  double loss = 0;      // sum of step losses
  int64_t correct = 0;  // samples classified right
  int64_t samples = 0;  // samples seen
  int64_t steps = 0;    // steps
};

/// What resume.json records.
struct ResumeState {
  TrainConfig config;  // the run's settings
  int64_t step = 0;    // updates done
  double seconds = 0;  // training time so far
  RunWindow window;    // the open log window
};

/// A resume state read back.
struct LoadedResume {
  ResumeState state;
  std::filesystem::path weightsFile;  // resume-<step>.onnx
  NetworkDef weights;                 // its network
  std::vector<Tensor> momentum;       // per parameter, in TrainPlan::params() order
};

/// One checkpoint of a run folder.
struct RunCheckpoint {
  std::filesystem::path file;          // checkpoint-<step>.onnx or final.onnx
  int64_t step = 0;                    // updates done when it was written
  double epoch = 0;                    // step / steps per epoch
  std::optional<double> testAccuracy;  // recorded with it
};

/// TrainConfig as JSON and back (unknown or missing keys take the defaults; throws UsageError on
/// wrong types).
nlohmann::ordered_json configJson(const TrainConfig& c);
TrainConfig configFromJson(const nlohmann::json& j);
/// Throws UsageError naming the first out-of-range setting.
void validateConfig(const TrainConfig& c);

/// "checkpoint-000937.onnx": zero-padded, so name order is step order.
std::string checkpointFileName(int64_t step);

/// Writes resume-<step>.onnx, resume-<step>-momentum.npy (every momentum buffer, concatenated)
/// and then resume.json, which names them; older resume files are removed afterwards, so a
/// crash at any point leaves a consistent state.
void writeResumeState(const std::filesystem::path& dir, const ResumeState& state,
                      const NetworkDef& weights, const std::vector<Tensor>& momentum);
/// Reads what writeResumeState wrote; throws Error naming the file on anything inconsistent.
LoadedResume readResumeState(const std::filesystem::path& dir);
/// Removes resume.json and its files (the run is complete).
void removeResumeState(const std::filesystem::path& dir);

/// The checkpoints of a run folder (checkpoint-*.onnx, then final.onnx) in step order, with the
/// step, epoch and accuracy read from each file's zfvis.training note.
std::vector<RunCheckpoint> listRunCheckpoints(const std::filesystem::path& dir);

}  // namespace zfvis
