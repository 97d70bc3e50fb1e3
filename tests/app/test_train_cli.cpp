// zfvis-cli train end to end: usage errors (exit 2) and data errors (exit 1) as one line, a run
// whose final.onnx every other command opens, and Ctrl-C: SIGINT stops the run at the next step
// with a resumable state, and --resume ends with exactly the weights of an uninterrupted run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/base/atomic_file.h"
#include "core/import/onnx_import.h"
#include "tests/analysis/training/training_fixture.h"
#include "tests/reference/cli_runner.h"
#include "tests/reference/tensor_bits.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::runCli;

class TrainCli : public testing::CliOutputTest {
 protected:
  void SetUp() override {
    CliOutputTest::SetUp();
    fs::create_directories(m_dir / "data");
    testing::writeQuadrantIdx(m_dir / "data", "train", 2048, 11);
    testing::writeQuadrantIdx(m_dir / "data", "t10k", 128, 12);
  }
  std::string data() const { return "fashion-mnist:" + (m_dir / "data").string(); }
  std::string trainArgs(const std::string& out) const {
    return "train --model zf-small --data " + data() +
           " --epochs 2 --batch 32 --lr 0.02 --checkpoints 2 --seed 3 --out " + path(out);
  }
};

TEST_F(TrainCli, UsageAndDataErrorsAreOneLine) {
  CliResult r = runCli("train --model zf-small --data " + data() + " --out " + path("x"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--epochs is required"), std::string::npos) << r.err;
  EXPECT_EQ(r.errLines(), 1u) << r.err;
  r = runCli("train --model zf-small --data mnist --epochs 1 --out " + path("x"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown dataset 'mnist'"), std::string::npos) << r.err;
  r = runCli("train --model zf-small --data " + data() + " --epochs 1 --momentum 1.5 --out " +
             path("x"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--momentum"), std::string::npos) << r.err;
  r = runCli("train --resume " + path("x") + " --epochs 3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("only --threads may be given with --resume"), std::string::npos) << r.err;

  std::ofstream(m_dir / "data" / "t10k-labels-idx1-ubyte", std::ios::binary)
      << std::string("\0\0\x08", 3);  // a truncated header
  r = runCli(trainArgs("x"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.errLines(), 1u) << r.err;
  EXPECT_NE(r.err.find("t10k-labels-idx1-ubyte'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(m_dir / "x" / "final.onnx"));

  r = runCli("train --model caffe-alexnet --data " + data() + " --epochs 1 --out " + path("y") +
             " --model nin --threads 1");
  EXPECT_EQ(r.code, 2) << r.err;
}

TEST_F(TrainCli, RunFolderOpensInEveryCommand) {
  CliResult r = runCli(trainArgs("run"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("final.onnx: test accuracy"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("wrote " + path("run") + "/checkpoint-000000.onnx"), std::string::npos);
  const std::string model = path("run") + "/final.onnx";
  const std::string csv = readFile(m_dir / "run" / "log.csv");
  EXPECT_EQ(csv.rfind("step,epoch,loss,train_accuracy,test_accuracy,learning_rate,seconds\n", 0),
            0u);
  // A test image in the quadrant of class 3 ("Dress" in Fashion-MNIST's names).
  const std::string png = path("dress.png");
  {
    testing::writeQuadrantIdx(m_dir, "one", 64, 99);
    std::string idx = readFile(m_dir / "one-images-idx3-ubyte");
    std::string labels = readFile(m_dir / "one-labels-idx1-ubyte");
    size_t k = 0;
    while (labels[8 + k] != 3) ++k;
    cv::Mat img(28, 28, CV_8UC1, idx.data() + 16 + k * 784);
    ASSERT_TRUE(cv::imwrite(png, img));
  }
  r = runCli("predict --model " + model + " --image " + png + " --top 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Dress"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("UNTRAINED"), std::string::npos) << r.out;
  r = runCli("layers --model " + model + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)[0]["name"], "conv1");
  r = runCli("deconv --model " + model + " --image " + png + " --layer conv5 --png " +
             path("d.png"));
  EXPECT_EQ(r.code, 0) << r.err;
  r = runCli("filters --model " + model + " --layer conv1 --png " + path("f.png"));
  EXPECT_EQ(r.code, 0) << r.err;
  r = runCli(trainArgs("run"));  // the folder holds a finished run
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already holds a training run"), std::string::npos) << r.err;
}

// Class folders train zf-small at 3 x 32 x 32 and name the classes after the subfolders.
TEST_F(TrainCli, FolderDataNamesTheClassesAfterItsSubfolders) {
  for (const char* cls : {"red", "blue"})
    for (int k = 0; k < 20; ++k) {
      fs::create_directories(m_dir / "folder" / cls);
      const bool red = std::string(cls) == "red";
      cv::Mat img(40, 40, CV_8UC3, red ? cv::Scalar(20, 20, 200 + k) : cv::Scalar(200 + k, 20, 20));
      cv::imwrite((m_dir / "folder" / cls / (std::to_string(k) + ".png")).string(), img);
    }
  CliResult r = runCli("train --model zf-small --data folder:" + path("folder") +
                       " --epochs 3 --batch 6 --lr 0.02 --checkpoints 0 --out " + path("run"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("36 training and 4 test images, 2 classes"), std::string::npos) << r.err;
  r = runCli("predict --model " + path("run") + "/final.onnx --image " + path("folder") +
             "/red/19.png --top 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("red"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("blue"), std::string::npos) << r.out;
  r = runCli("layers --model " + path("run") + "/final.onnx --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).back()["output_shape"], nlohmann::json({2}));
}

// Starts zfvis-cli with `args` (split on spaces), stderr to `errFile`; returns its pid.
pid_t spawnCli(const std::string& args, const std::string& errFile) {
  std::vector<std::string> parts{ZFVIS_CLI};
  for (size_t at = 0; at < args.size();) {
    size_t next = args.find(' ', at);
    if (next == std::string::npos) next = args.size();
    if (next > at) parts.push_back(args.substr(at, next - at));
    at = next + 1;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    std::freopen("/dev/null", "w", stdout);
    std::vector<char*> argv;
    for (std::string& p : parts) argv.push_back(p.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

TEST_F(TrainCli, CtrlCStopsAndResumeMatchesAnUninterruptedRun) {
  ASSERT_EQ(runCli(trainArgs("whole")).code, 0);
  const std::string err = path("err.txt");
  const pid_t pid = spawnCli(trainArgs("split") + " --log-every 1", err);
  // Interrupt once the first training steps are logged.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool started = false;
  while (!started && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream f(err);
    std::string text((std::istreambuf_iterator<char>(f)), {});
    started = text.find("checkpoint-000000.onnx") != std::string::npos;
  }
  ASSERT_TRUE(started);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string text = readFile(err);
  EXPECT_NE(text.find("interrupted at step"), std::string::npos) << text;
  EXPECT_NE(text.find("zfvis-cli train --resume " + path("split")), std::string::npos) << text;
  ASSERT_TRUE(fs::exists(m_dir / "split" / "resume.json"));
  EXPECT_FALSE(fs::exists(m_dir / "split" / "final.onnx"));

  CliResult r = runCli("train --resume " + path("split"));
  ASSERT_EQ(r.code, 0) << r.err;
  const NetworkDef a = importOnnx(m_dir / "whole" / "final.onnx");
  const NetworkDef b = importOnnx(m_dir / "split" / "final.onnx");
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const Tensor &wa = a.layers[i].weights, &wb = b.layers[i].weights;
    ASSERT_EQ(wa.shape(), wb.shape());
    EXPECT_TRUE(ref::sameBits(wa, wb)) << a.layers[i].name;
  }
}

}  // namespace
}  // namespace zfvis
