// The trained built-ins shipped in resources/models (made by `zfvis-cli train`, README): opened by
// name, labelled with Fashion-MNIST's class names, carrying their preprocessing, and right on the
// Fashion-MNIST test set (Debian's dataset-fashion-mnist, installed by scripts/install-deps.sh)
// when each test image goes the way `zfvis-cli predict --image T.png` takes it: PNG bytes,
// decoded, resized and cropped, preprocessed by the model's own preset.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "core/analysis/training/dataset.h"
#include "core/analysis/training/run_files.h"
#include "core/base/labels.h"
#include "core/engine/engine.h"
#include "core/import/model_loader.h"
#include "core/model/image_input.h"
#include "core/model/small_nets.h"
#include "tests/reference/cli_runner.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;

const Dataset& fashionMnist() {
  static const Dataset d = loadDataset("fashion-mnist", {});
  return d;
}

// Fraction of the test set whose predicted class name (as `predict` prints it) is the label's.
double namedAccuracy(const std::string& model) {
  auto def = std::make_shared<const NetworkDef>(loadModel(model));
  EXPECT_FALSE(def->untrained);
  EXPECT_EQ(def->classNames, fashionMnistClassNames());
  EXPECT_EQ(def->input.preprocess, Preprocess::Raw);
  EXPECT_EQ(def->input.shape, (Shape{1, 28, 28}));
  Session session(CompiledNet::compile(def));
  const ImageSet& test = fashionMnist().test;
  constexpr int kBatch = 100;
  int64_t right = 0;
  for (int64_t first = 0; first < test.size(); first += kBatch) {
    const int64_t count = std::min<int64_t>(kBatch, test.size() - first);
    std::vector<Tensor> inputs;
    for (int64_t k = 0; k < count; ++k) {
      std::vector<uint8_t> png;
      cv::imencode(".png", test.image(first + k), png);
      cv::Mat bgr = decodeImageBgr(std::string(png.begin(), png.end()), "test image");
      inputs.push_back(imageToTensor(resizeAndCrop(bgr, 28, 28), 1, def->input.preprocess));
    }
    const Tensor out = session.run(Tensor::stack(inputs))->finalOutput();
    for (int64_t k = 0; k < count; ++k) {
      const float* row = out.data() + k * 10;
      const int best = int(std::max_element(row, row + 10) - row);
      right += classDisplayName(best, 10, def->classNames) ==
               fashionMnistClassNames()[size_t(test.labels[size_t(first + k)])];
    }
  }
  return double(right) / double(test.size());
}

TEST(ShippedModels, ZfSmallNamesAtLeast89PercentOfFashionMnistTest) {
  ASSERT_TRUE(shippedRunDir("zf-small")) << "resources/models/zf-small/final.onnx is missing";
  ASSERT_EQ(fashionMnist().test.size(), 10000);
  const double acc = namedAccuracy("zf-small");
  std::printf("zf-small: %.2f%% of the Fashion-MNIST test set\n", 100 * acc);
  EXPECT_GE(acc, 0.89);
}

TEST(ShippedModels, AlexSmallIsTrainedToo) {
  ASSERT_TRUE(shippedRunDir("alex-small"));
  const double acc = namedAccuracy("alex-small");
  std::printf("alex-small: %.2f%% of the Fashion-MNIST test set\n", 100 * acc);
  EXPECT_GE(acc, 0.85);  // the large first-layer stride costs accuracy (fig. 6), but it learns
}

// The shipped folders are run folders: checkpoints in step order from the initialisation to the
// final model, with their recorded accuracies rising.
TEST(ShippedModels, RunFoldersListTheirCheckpoints) {
  for (const char* name : {"zf-small", "alex-small"}) {
    const std::vector<RunCheckpoint> cps = listRunCheckpoints(*shippedRunDir(name));
    ASSERT_GE(cps.size(), 3u) << name;
    EXPECT_EQ(cps.front().step, 0) << name;
    EXPECT_EQ(cps.back().file.filename(), "final.onnx") << name;
    ASSERT_TRUE(cps.front().testAccuracy && cps.back().testAccuracy);
    EXPECT_LT(*cps.front().testAccuracy, 0.3) << name;
    EXPECT_GT(*cps.back().testAccuracy, *cps[1].testAccuracy) << name;
    EXPECT_TRUE(fs::exists(*shippedRunDir(name) / "log.csv")) << name;
  }
}

using ShippedCli = testing::CliOutputTest;

// `zfvis-cli predict --model zf-small --image T.png` with no other option prints the class name.
TEST_F(ShippedCli, PredictPrintsFashionMnistNames) {
  const ImageSet& test = fashionMnist().test;
  int right = 0;
  constexpr int kImages = 20;
  for (int i = 0; i < kImages; ++i) {
    const std::string png = path("t" + std::to_string(i) + ".png");
    ASSERT_TRUE(cv::imwrite(png, test.image(i)));
    testing::CliResult r = testing::runCli("predict --model zf-small --image " + png + " --top 1");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.find("UNTRAINED"), std::string::npos);
    right +=
        r.out.find(fashionMnistClassNames()[size_t(test.labels[size_t(i)])]) != std::string::npos;
  }
  EXPECT_GE(right, kImages * 8 / 10) << right << " of " << kImages;
}

}  // namespace
}  // namespace zfvis
