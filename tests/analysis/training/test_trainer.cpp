// The trainer end to end on a small synthetic Fashion-MNIST-format dataset written here (the
// class is the quadrant that holds a bright square): it learns, writes a run folder every other
// part of zfvis reads, is bit-for-bit reproducible for a seed and thread count, and a run that
// is cancelled and resumed ends with exactly the weights of an uninterrupted one.
#include <gtest/gtest.h>

#include <fstream>

#include "core/analysis/training/run_files.h"
#include "core/analysis/training/trainer.h"
#include "core/base/error.h"
#include "core/engine/training/train_plan.h"
#include "core/import/onnx/onnx_writer.h"
#include "core/import/onnx_import.h"
#include "core/model/net_builder.h"
#include "core/model/small_nets.h"
#include "tests/analysis/training/training_fixture.h"
#include "tests/reference/cli_runner.h"
#include "tests/reference/tensor_bits.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
using TrainerTest = testing::CliOutputTest;

class Trainers : public TrainerTest {
 protected:
  void SetUp() override {
    TrainerTest::SetUp();
    fs::create_directories(m_dir / "data");
    testing::writeQuadrantIdx(m_dir / "data", "train", 512, 1);
    testing::writeQuadrantIdx(m_dir / "data", "t10k", 128, 2);
    m_config.model = "zf-small";
    m_config.data = "fashion-mnist:" + (m_dir / "data").string();
    m_config.epochs = 3;
    m_config.batch = 32;
    m_config.learningRate = 0.02;
    m_config.checkpoints = 3;
    m_config.logEvery = 5;
    m_config.seed = 7;
  }
  TrainConfig m_config;
};

// Every weight of two networks is bit-identical.
void expectSameWeights(const NetworkDef& a, const NetworkDef& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    for (const auto& [x, y] : {std::pair{&a.layers[i].weights, &b.layers[i].weights},
                               std::pair{&a.layers[i].bias, &b.layers[i].bias}}) {
      ASSERT_EQ(x->shape(), y->shape()) << a.layers[i].name;
      EXPECT_TRUE(ref::sameBits(*x, *y)) << a.layers[i].name;
    }
  }
}

TEST_F(Trainers, LearnsAndWritesARunFolderOthersRead) {
  auto t = Trainer::create(m_config, m_dir / "run");
  EXPECT_EQ(t->stepsPerEpoch(), 16);
  EXPECT_EQ(t->totalSteps(), 48);
  EXPECT_EQ(t->checkpointSteps(), (std::vector<int64_t>{0, 16, 32}));
  const Tensor initial = t->weights(0);
  EXPECT_EQ(initial.shape(), t->network().layers[0].weights.shape());
  TrainOutcome out = t->run(nullptr);
  EXPECT_TRUE(out.finished);
  EXPECT_EQ(out.step, 48);
  ASSERT_TRUE(out.testAccuracy);
  EXPECT_GE(*out.testAccuracy, 0.9);  // four clearly separated classes
  for (const char* f : {"checkpoint-000000.onnx", "checkpoint-000016.onnx",
                        "checkpoint-000032.onnx", "final.onnx", "log.csv", "log.json"})
    EXPECT_TRUE(fs::exists(m_dir / "run" / f)) << f;
  EXPECT_FALSE(fs::exists(m_dir / "run" / "resume.json"));

  const std::vector<RunCheckpoint> cps = listRunCheckpoints(m_dir / "run");
  ASSERT_EQ(cps.size(), 4u);
  EXPECT_EQ(cps[1].step, 16);
  EXPECT_DOUBLE_EQ(cps[2].epoch, 2.0);
  EXPECT_EQ(cps[3].file.filename(), "final.onnx");
  EXPECT_EQ(cps[3].step, 48);
  ASSERT_TRUE(cps[3].testAccuracy);
  EXPECT_DOUBLE_EQ(*cps[3].testAccuracy, *out.testAccuracy);
  // The first checkpoint is the initialisation: far from trained.
  ASSERT_TRUE(cps[0].testAccuracy);
  EXPECT_LT(*cps[0].testAccuracy, 0.6);

  const NetworkDef final = importOnnx(m_dir / "run" / "final.onnx");
  EXPECT_EQ(final.classNames, fashionMnistClassNames());
  EXPECT_EQ(final.input.preprocess, Preprocess::Raw);
  EXPECT_FALSE(final.untrained);
  expectSameWeights(final, t->snapshot());
  EXPECT_NE(std::memcmp(initial.data(), t->weights(0).data(), size_t(initial.numel()) * 4), 0);

  const std::vector<LogRow> log = readLog(m_dir / "run");
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.front().step, 0);
  EXPECT_FALSE(log.front().loss);
  EXPECT_EQ(log.back().step, 48);
  ASSERT_TRUE(log.back().testAccuracy);
  EXPECT_DOUBLE_EQ(*log.back().testAccuracy, *out.testAccuracy);
  EXPECT_LT(*log.back().loss, *log[1].loss);
  for (size_t i = 1; i < log.size(); ++i) EXPECT_LT(log[i - 1].step, log[i].step) << "row " << i;
}

TEST_F(Trainers, SameSeedAndThreadsGiveIdenticalWeights) {
  m_config.epochs = 1;
  m_config.checkpoints = 0;
  Trainer::create(m_config, m_dir / "a")->run(nullptr);
  Trainer::create(m_config, m_dir / "b")->run(nullptr);
  const NetworkDef a = importOnnx(m_dir / "a" / "final.onnx");
  expectSameWeights(a, importOnnx(m_dir / "b" / "final.onnx"));
  m_config.seed = 8;
  Trainer::create(m_config, m_dir / "c")->run(nullptr);
  const NetworkDef c = importOnnx(m_dir / "c" / "final.onnx");
  EXPECT_NE(std::memcmp(a.layers[0].weights.data(), c.layers[0].weights.data(),
                        size_t(a.layers[0].weights.numel()) * sizeof(float)),
            0);
}

// Cancels once `stopAt` steps are done.
class StopAt : public TrainingObserver {
 public:
  explicit StopAt(int64_t step) : m_stop(step) {}
  bool cancelled() const override { return m_done >= m_stop; }
  void onStep(const StepReport& r) override { m_done = r.step; }

 private:
  int64_t m_stop, m_done = 0;
};

TEST_F(Trainers, ResumeAfterCancelEndsBitIdentical) {
  Trainer::create(m_config, m_dir / "whole")->run(nullptr);
  // Stop mid-epoch and mid-log-window (step 23 of 48), then continue in a new Trainer.
  StopAt stop(23);
  TrainOutcome first = Trainer::create(m_config, m_dir / "split")->run(&stop);
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.step, 23);
  EXPECT_TRUE(fs::exists(m_dir / "split" / "resume.json"));
  EXPECT_FALSE(fs::exists(m_dir / "split" / "final.onnx"));
  auto resumed = Trainer::resume(m_dir / "split");
  EXPECT_EQ(resumed->step(), 23);
  TrainOutcome second = resumed->run(nullptr);
  EXPECT_TRUE(second.finished);
  EXPECT_FALSE(fs::exists(m_dir / "split" / "resume.json"));
  expectSameWeights(importOnnx(m_dir / "whole" / "final.onnx"),
                    importOnnx(m_dir / "split" / "final.onnx"));
  for (const char* cp : {"checkpoint-000016.onnx", "checkpoint-000032.onnx"})
    expectSameWeights(importOnnx(m_dir / "whole" / cp), importOnnx(m_dir / "split" / cp));
  const std::vector<LogRow> a = readLog(m_dir / "whole"), b = readLog(m_dir / "split");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].step, b[i].step);
    EXPECT_EQ(a[i].loss, b[i].loss) << "row " << i;
    EXPECT_EQ(a[i].trainAccuracy, b[i].trainAccuracy) << "row " << i;
    EXPECT_EQ(a[i].testAccuracy, b[i].testAccuracy) << "row " << i;
  }
}

TEST_F(Trainers, RefusesAFolderThatHoldsARun) {
  m_config.epochs = 1;
  Trainer::create(m_config, m_dir / "run")->run(nullptr);
  EXPECT_THROW(Trainer::create(m_config, m_dir / "run"), Error);
  try {
    Trainer::resume(m_dir / "run");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the run finished"), std::string::npos) << e.what();
  }
}

// A model file with its own input size and class count: images are resized to its input and its
// last dense layer gets one unit per class of the data.
TEST_F(Trainers, TrainsAModelFileAtItsOwnInputSize) {
  NetBuilder b("custom", {1, 20, 20});
  b.conv("c1", 6, 3, 1, {1, 1, 1, 1}).relu("r1").maxPool("p1", 2, 2).flatten("f");
  b.dense("d1", 7).softmax("prob");
  NetworkDef def = b.build();
  writeOnnx(m_dir / "custom.onnx", def);
  m_config.model = (m_dir / "custom.onnx").string();
  m_config.epochs = 1;
  auto t = Trainer::create(m_config, m_dir / "run");
  TrainOutcome out = t->run(nullptr);
  EXPECT_TRUE(out.finished);
  const NetworkDef final = importOnnx(m_dir / "run" / "final.onnx");
  EXPECT_EQ(final.input.shape, (Shape{1, 20, 20}));
  EXPECT_EQ(final.outputShapes().back(), Shape{10});
  EXPECT_EQ(final.layers.back().type, LayerType::Softmax);
  EXPECT_EQ(final.classNames.size(), 10u);
}

// CIFAR-10 batches train the small networks in colour at 32 x 32 with CIFAR's class names.
TEST_F(TrainerTest, CifarBuildsAColourNetwork) {
  std::string train, test;
  for (int i = 0; i < 96; ++i) {
    const int label = i % 10;
    std::string rec(1, char(label));
    for (int c = 0; c < 3; ++c) rec += std::string(1024, char(label * 20 + c * 5));
    (i < 80 ? train : test) += rec;
  }
  std::ofstream(m_dir / "data_batch_1.bin", std::ios::binary) << train;
  std::ofstream(m_dir / "test_batch.bin", std::ios::binary) << test;
  TrainConfig c;
  c.model = "alex-small";
  c.data = "cifar10:" + m_dir.string();
  c.epochs = 1;
  c.batch = 16;
  c.checkpoints = 0;
  auto t = Trainer::create(c, m_dir / "run");
  EXPECT_TRUE(t->run(nullptr).finished);
  const NetworkDef final = importOnnx(m_dir / "run" / "final.onnx");
  EXPECT_EQ(final.input.shape, (Shape{3, 32, 32}));
  EXPECT_EQ(final.classNames.size(), 10u);
  EXPECT_EQ(final.classNames[0], "airplane");
}

void expectTrainError(const NetworkDef& def, const std::vector<std::string>& parts) {
  try {
    checkTrainable(def);
    FAIL() << "no error";
  } catch (const Error& e) {
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(TrainPlanChecks, LayersWithoutBackwardRuleAreNamed) {
  NetBuilder b("bn", {2, 4, 4});
  b.conv("c1", 3, 3, 1, {1, 1, 1, 1});
  LayerSpec bn;
  bn.name = "bn1";
  bn.type = LayerType::BatchNorm;
  bn.weights = Tensor(Shape{4, 3}, 1.0f);
  b.add(bn).flatten("f").dense("d", 2);
  expectTrainError(b.build(), {"layer 'bn1' (BatchNormalization)", "no backward rule"});

  NetBuilder s("mid", {2, 4, 4});
  s.flatten("f").softmax("sm").dense("d", 2);
  expectTrainError(s.build(), {"layer 'sm' (Softmax)", "last layer"});

  NetBuilder p("noparams", {2, 4, 4});
  p.flatten("f").softmax("sm");
  expectTrainError(p.build(), {"nothing to train"});
}

}  // namespace
}  // namespace zfvis
