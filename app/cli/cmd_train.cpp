// zfvis-cli train: mini-batch SGD on the oneDNN training engine (core/analysis/training). Ctrl-C
// stops at the next step and leaves a resumable state (--resume DIR).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/training/run_files.h"
#include "core/analysis/training/trainer.h"
#include "core/base/error.h"

namespace zfvis::cli {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int) {
  g_interrupted = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the program at once
}

std::string percent(std::optional<double> v) {
  if (!v) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * *v);
  return buf;
}

// Progress on stderr: a line per log row at most every two seconds, every evaluation, every file.
class CliObserver : public TrainingObserver {
 public:
  explicit CliObserver(const Trainer& t) : m_trainer(t) {}
  bool cancelled() const override { return g_interrupted; }
  void onLogRow(const LogRow& r) override {
    const auto now = std::chrono::steady_clock::now();
    if (!r.testAccuracy && now - m_last < std::chrono::seconds(2)) return;
    m_last = now;
    std::fprintf(stderr, "epoch %6.2f/%d  step %lld/%lld  loss %s  train %s  test %s  %.0f s\n",
                 r.epoch, m_trainer.config().epochs, static_cast<long long>(r.step),
                 static_cast<long long>(m_trainer.totalSteps()),
                 r.loss ? std::to_string(*r.loss).c_str() : "-", percent(r.trainAccuracy).c_str(),
                 percent(r.testAccuracy).c_str(), r.seconds);
  }
  void onCheckpoint(const CheckpointReport& c) override {
    std::fprintf(stderr, "wrote %s (step %lld, test accuracy %s)\n", c.file.string().c_str(),
                 static_cast<long long>(c.step), percent(c.testAccuracy).c_str());
  }

 private:
  const Trainer& m_trainer;
  std::chrono::steady_clock::time_point m_last{};
};

const std::vector<OptionSpec> kTrainOptions = {
    {"model"},    {"data"},         {"epochs"},     {"batch"},   {"lr"},          {"lr-decay"},
    {"momentum"}, {"weight-decay"}, {"renorm-rms"}, {"dropout"}, {"checkpoints"}, {"log-every"},
    {"seed"},     {"threads"},      {"out"},        {"resume"}};

TrainConfig configFromArgs(const Args& args) {
  TrainConfig c;
  // Ranges here are what a number can be at all (exit 2 otherwise); validateConfig() then
  // refuses the open ends (lr 0, momentum 1, ...).
  c.model = args.required("model");
  c.data = args.required("data");
  c.epochs = args.intValue("epochs", 0, 1, 100000);
  if (!args.has("epochs")) throw UsageError("option --epochs is required");
  c.batch = args.intValue("batch", c.batch, 1, 65536);
  c.learningRate = args.doubleValue("lr", c.learningRate, 0, 1e6);
  c.lrDecay = args.doubleValue("lr-decay", c.lrDecay, 0, 1);
  c.momentum = args.doubleValue("momentum", c.momentum, 0, 1);
  c.weightDecay = args.doubleValue("weight-decay", c.weightDecay, 0, 1e6);
  c.renormRms = args.doubleValue("renorm-rms", c.renormRms, 0, 1e6);
  c.dropout = args.doubleValue("dropout", c.dropout, 0, 1);
  c.checkpoints = args.intValue("checkpoints", c.checkpoints, 0, 1000);
  c.logEvery = args.intValue("log-every", c.logEvery, 1, 1000000);
  c.seed = uint64_t(args.intValue("seed", int(c.seed), 0, 2147483647));
  c.threads = args.intValue("threads", c.threads, 1, 256);
  validateConfig(c);
  return c;
}

}  // namespace

int runTrain(const ArgList& argv) {
  Args args(argv, kTrainOptions, "train");
  std::unique_ptr<Trainer> trainer;
  if (auto dir = args.value("resume")) {
    for (const OptionSpec& o : kTrainOptions)
      if (o.name != "resume" && o.name != "threads" && o.name != "out" && args.has(o.name))
        throw UsageError("--" + o.name + " comes from the run being resumed (" + *dir +
                         "/resume.json); only --threads may be given with --resume");
    if (auto out = args.value("out"); out && std::filesystem::path(*out) != *dir)
      throw UsageError("--out must be the resumed folder " + *dir + " (or left out)");
    trainer = Trainer::resume(*dir, args.intValue("threads", 0, 1, 256));
    std::fprintf(stderr, "resuming %s at step %lld of %lld\n", dir->c_str(),
                 static_cast<long long>(trainer->step()),
                 static_cast<long long>(trainer->totalSteps()));
  } else {
    TrainConfig c = configFromArgs(args);
    trainer = Trainer::create(c, args.required("out"));
    const Dataset& d = trainer->dataset();
    std::fprintf(stderr, "%s on %s: %lld training and %lld test images, %zu classes; %lld steps\n",
                 c.model.c_str(), d.name.c_str(), static_cast<long long>(d.train.size()),
                 static_cast<long long>(d.test.size()), d.classNames.size(),
                 static_cast<long long>(trainer->totalSteps()));
  }
  g_interrupted = false;
  std::signal(SIGINT, onInterrupt);
  CliObserver observer(*trainer);
  TrainOutcome out = trainer->run(&observer);
  std::signal(SIGINT, SIG_DFL);
  const std::string dir = trainer->outDir().string();
  if (!out.finished) {
    std::fprintf(stderr,
                 "zfvis-cli train: interrupted at step %lld of %lld (test accuracy %s); continue "
                 "with: zfvis-cli train --resume %s\n",
                 static_cast<long long>(out.step), static_cast<long long>(out.totalSteps),
                 percent(out.testAccuracy).c_str(), dir.c_str());
    return 1;
  }
  std::printf("%s/final.onnx: test accuracy %s after %lld steps (%.0f s)\n", dir.c_str(),
              percent(out.testAccuracy).c_str(), static_cast<long long>(out.step), out.seconds);
  return 0;
}

}  // namespace zfvis::cli
