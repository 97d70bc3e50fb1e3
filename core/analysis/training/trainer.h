// Trainer: mini-batch SGD of a network on a dataset, on the oneDNN training engine
// (core/engine/training), writing a run folder that every other part of zfvis reads:
//   checkpoint-<step>.onnx  K checkpoints spread over the run, the first one the initialisation
//   final.onnx              the trained model
//   log.csv, log.json       the training log (training_log.h)
//   resume.json + resume-<step>.onnx + resume-<step>-momentum.npy
//                           the state to continue from (written at checkpoints, epoch ends and
//                           when cancelled; removed when the run completes)
// Every ONNX file carries the model's preprocessing, its class names and, under zfvis.training,
// the step, epoch and accuracy it was written at (onnx_writer.h).
//
// Determinism: everything random is counter based on (seed, epoch, step) (weight initialisation,
// the shuffle of every epoch, dropout masks), the update loops are element-wise, and oneDNN 2.6's
// CPU primitives are run-to-run deterministic for fixed shapes, ISA and thread count (the
// reductions of backward-weights use a static split over the OpenMP threads). So a seed and a
// thread count give bit-identical weights, and an interrupted run resumed with the same thread
// count ends bit-identical to an uninterrupted one (tests/analysis/training checks both).
//
// Threads: run() is meant for a worker thread (the GUI) or the CLI's main thread; the observer's
// callbacks come on that thread, and may call the Trainer's const accessors (weights(),
// snapshot()) there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/training/dataset.h"
#include "core/analysis/training/training_log.h"
#include "core/base/progress.h"
#include "core/model/network.h"

namespace zfvis {

/// Everything that defines a run.
struct TrainConfig {
  std::string model = "zf-small";      // built-in name or model file; trained from scratch
  std::string data = "fashion-mnist";  // dataset spec (dataset.h)
  int epochs = 10;                     // passes over the training split
  int batch = 64;                      // samples per step (the last partial batch of an epoch
                                       // is skipped, like PyTorch's drop_last)
  double learningRate = 0.01;          // SGD step size in the first epoch
  double lrDecay = 1.0;                // the step size is multiplied by this after every epoch
  double momentum = 0.9;               // SGD momentum
  double weightDecay = 5e-4;           // L2 penalty on every parameter
  double renormRms = 0.1;              // ZF filter renormalisation radius; 0 = off
  double dropout = 0.5;                // ratio of every Dropout layer
  int checkpoints = 5;                 // checkpoint files spread over the run
  int logEvery = 20;                   // steps per log row
  uint64_t seed = 1;                   // initialisation, shuffling and dropout
  int threads = 2;                     // OpenMP threads (part of what makes a run reproducible)
};

/// One SGD step, reported after its update.
struct StepReport {
  int64_t step = 0;         // updates done (1 after the first step)
  int64_t totalSteps = 0;   // updates in the whole run
  int epoch = 0;            // 0-based epoch the step belongs to
  double loss = 0;          // the step's mean cross-entropy
  double accuracy = 0;      // fraction of the step's batch classified right (dropout on)
  double learningRate = 0;  // used for the step
  double seconds = 0;       // training time so far
};

/// A checkpoint file that was written.
struct CheckpointReport {
  int64_t step = 0;                    // updates done when it was written
  double epoch = 0;                    // step / steps per epoch
  std::filesystem::path file;          // checkpoint-<step>.onnx or final.onnx
  std::optional<double> testAccuracy;  // of these weights on the test split
};

/// Receives a running Trainer's progress; cancelled() stops it at the next step.
class TrainingObserver : public ProgressSink {
 public:
  /// report(done, total): SGD steps done of the run (from ProgressSink).
  /// After every step.
  virtual void onStep(const StepReport&) {}
  /// After every log row (every logEvery steps and at every evaluation).
  virtual void onLogRow(const LogRow&) {}
  /// After every checkpoint file (final.onnx included).
  virtual void onCheckpoint(const CheckpointReport&) {}
  /// report() without a ProgressSink of its own.
  void report(int64_t, int64_t) override {}
};

/// How run() ended.
struct TrainOutcome {
  bool finished = false;               // false: cancelled, resumable from the run folder
  int64_t step = 0;                    // updates done
  int64_t totalSteps = 0;              // updates in the whole run
  std::optional<double> testAccuracy;  // of the final (or interrupted) weights
  double seconds = 0;                  // training time so far
};

class Trainer {
 public:
  /// Prepares a new run into `outDir` (created; refused when it already holds a run): loads the
  /// data, builds the model for it and initialises its weights from config.seed. A built-in
  /// alex-small / zf-small takes the dataset's image size and class count; other models keep
  /// their input (images are resized to it) and get a last Dense layer with one unit per class.
  /// Throws Error / UsageError with one line naming what is wrong.
  static std::unique_ptr<Trainer> create(const TrainConfig& config,
                                         const std::filesystem::path& outDir);
  /// Reopens the interrupted run in `dir` (resume.json). `threads` > 0 overrides the recorded
  /// thread count (the result is then not bit-identical to an uninterrupted run).
  static std::unique_ptr<Trainer> resume(const std::filesystem::path& dir, int threads = 0);
  ~Trainer();

  /// Trains until the last step or until `observer` asks to stop (then writes the resume state
  /// and returns finished = false). `observer` may be null.
  TrainOutcome run(TrainingObserver* observer);

  /// The run's settings.
  const TrainConfig& config() const;
  /// The run folder.
  const std::filesystem::path& outDir() const;
  /// The dataset (its class names label the model).
  const Dataset& dataset() const;
  /// Updates done so far.
  int64_t step() const;
  /// Updates in the whole run: epochs x stepsPerEpoch().
  int64_t totalSteps() const;
  /// Full batches per epoch.
  int64_t stepsPerEpoch() const;
  /// The steps at which checkpoint files are written (before that step's update).
  const std::vector<int64_t>& checkpointSteps() const;
  /// The log so far.
  const std::vector<LogRow>& log() const;
  /// The network being trained: layers, shapes, class names, preprocessing. Its weights are the
  /// initial ones; weights() and snapshot() give the current ones.
  const NetworkDef& network() const;
  /// The current weights of layer `layer` (a Conv or Dense layer) in LayerSpec layout, e.g. the
  /// first layer's filters for a live view.
  Tensor weights(size_t layer) const;
  /// The network with the current weights, class names and preprocessing.
  NetworkDef snapshot() const;
  /// Fraction of the test split the current weights classify right.
  double testAccuracy();

 private:
  struct State;
  explicit Trainer(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

}  // namespace zfvis
