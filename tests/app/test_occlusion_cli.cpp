// zfvis-cli occlusion end to end: the files it writes (shapes, dtypes, PNG metadata), agreement
// with `zfvis-cli predict` run on an occluded copy built here, exit codes and one-line errors.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/base/npy.h"
#include "core/engine/engine.h"
#include "core/model/builtin_models.h"
#include "core/render/png.h"
#include "tests/reference/cli_runner.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::runCli;

const std::string kChelsea = std::string(ZFVIS_SOURCE_DIR) + "/resources/images/chelsea.png";

using OcclusionCli = testing::CliOutputTest;

TEST_F(OcclusionCli, WritesMapsLabelsFeatureTotalsAndPicturesWithMetadata) {
  CliResult r =
      runCli("occlusion --model nin --image " + kChelsea +
             " --patch 100 --stride 60 --layer relu5 --channel 7 --batch 4 --npy " + path("p.npy") +
             " --label-map " + path("l.npy") + " --feature-npy " + path("f.npy") + " --png " +
             path("heat.png") + " --label-png " + path("labels.png"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("3 x 3 placements (patch 100, stride 60"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[untrained weights]"), std::string::npos);
  // A progress line per batch of 4: 0, 4, 8, 9 placements.
  EXPECT_NE(r.err.find("occlusion: 4/9 placements"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("occlusion: 9/9 placements"), std::string::npos) << r.err;

  Tensor p = readNpy(path("p.npy"));
  ASSERT_EQ(p.shape(), (Shape{3, 3}));
  for (int64_t k = 0; k < p.numel(); ++k) {
    EXPECT_GE(p[k], 0.0f);
    EXPECT_LE(p[k], 1.0f);
  }
  NpyInt32 labels = readNpyInt32(path("l.npy"));
  ASSERT_EQ(labels.shape, (Shape{3, 3}));
  for (int32_t c : labels.values) {
    EXPECT_GE(c, 0);
    EXPECT_LT(c, 256);  // the seed's NIN has 256 outputs
  }
  EXPECT_EQ(readNpy(path("f.npy")).shape(), (Shape{3, 3}));

  for (const char* png : {"heat.png", "labels.png", "heat-feature.png"}) {
    ASSERT_TRUE(fs::exists(path(png))) << png;
    PngText t = readPngText(path(png));
    EXPECT_EQ(pngTextValue(t, "zfvis:model"), "nin") << png;
    EXPECT_EQ(pngTextValue(t, "zfvis:view"), "occlusion") << png;
    EXPECT_EQ(pngTextValue(t, "zfvis:patch"), "100") << png;
    EXPECT_EQ(pngTextValue(t, "zfvis:stride"), "60") << png;
    EXPECT_EQ(pngTextValue(t, "zfvis:untrained"), "true") << png;
    EXPECT_FALSE(pngTextValue(t, "zfvis:class").empty()) << png;
  }
  EXPECT_EQ(pngTextValue(readPngText(path("heat-feature.png")), "zfvis:layer"), "relu5");
  EXPECT_EQ(pngTextValue(readPngText(path("heat-feature.png")), "zfvis:channel"), "7");
  EXPECT_EQ(pngTextValue(readPngText(path("labels.png")), "zfvis:map"), "top-1 class");
}

TEST_F(OcclusionCli, EachMapEntryIsWhatPredictGivesOnThatOccludedCopy) {
  // An input in network space, written as .npy so both commands use it as is.
  Tensor x(Shape{1, 3, 227, 227});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = 60.0f * std::sin(0.001f * float(i * (i % 7)));
  writeNpy(path("x.npy"), x);
  CliResult r = runCli("occlusion --model nin --image " + path("x.npy") +
                       " --patch 90 --stride 40 --fill 12.5 --class 17 --npy " + path("p.npy") +
                       " --label-map " + path("l.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  Tensor p = readNpy(path("p.npy"));
  NpyInt32 labels = readNpyInt32(path("l.npy"));
  ASSERT_EQ(p.shape(), (Shape{4, 4}));  // (227 - 90) / 40 + 1
  auto nin = CompiledNet::compile(std::make_shared<const NetworkDef>(makeBuiltinModel("nin")));
  const size_t logits = nin->def().layers.size() - 2;  // the flattened GAP before the softmax
  for (auto [i, j] : {std::pair{0, 0}, std::pair{1, 2}, std::pair{3, 3}}) {
    Tensor copy = x;
    for (int c = 0; c < 3; ++c)
      for (int y = i * 40; y < i * 40 + 90; ++y)
        for (int xx = j * 40; xx < j * 40 + 90; ++xx) copy.at(0, c, y, xx) = 12.5f;
    writeNpy(path("copy.npy"), copy);
    CliResult pr = runCli("predict --model nin --image " + path("copy.npy") +
                          " --top 1 --json --npy " + path("probs.npy"));
    ASSERT_EQ(pr.code, 0) << pr.err;
    Tensor probs = readNpy(path("probs.npy"));
    // Batched crops and a single whole copy sum in other orders: the logits' rounding bound
    // through the softmax (tests/reference/tolerance.h).
    const Tensor z = Session(nin).run(copy)->output(logits);
    EXPECT_NEAR(p[i * 4 + j], probs[17],
                ref::softmaxTolerance(
                    probs[17], ref::chainTolerance(nin->def(), logits) * z.maxAbs(), z.numel()))
        << i << "," << j;
    EXPECT_EQ(labels.values[size_t(i * 4 + j)],
              nlohmann::json::parse(pr.out)["top"][0]["class"].get<int>())
        << i << "," << j;
  }
}

TEST_F(OcclusionCli, TimePrintsThePlacementCountAndMilliseconds) {
  CliResult r =
      runCli("occlusion --model nin --image " + kChelsea + " --patch 150 --stride 70 --time");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("occlusion 4 placements: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" ms"), std::string::npos) << r.out;
}

TEST_F(OcclusionCli, BadOptionsExitWithOneLineErrors) {
  struct Case {
    std::string args, message;
    int code;
  };
  const std::string base = "occlusion --model nin --image " + kChelsea + " ";
  const std::vector<Case> cases = {
      // Values the model cannot take: runtime failures (1) naming the range, as for --layer.
      {base + "--patch 300",
       "model 'nin' has a 227 x 227 input (patch sizes 1..227); --patch 300 is out of range", 1},
      {base + "--stride 0", "--stride", 2},
      {base + "--patch 0", "--patch", 2},
      {base + "--class 256", "model 'nin' has 256 classes (0..255); --class 256 is out of range",
       1},
      {base + "--channel 3", "--channel needs --layer", 2},
      {base + "--layer relu5 --channel 999",
       "layer 'relu5' has 256 channels (0..255); --channel 999 is out of range", 1},
      {base + "--fill 1e39", "--fill expects a number", 2},
      {base + "--layer nosuchlayer", "nosuchlayer", 1},
      {"occlusion --model nin --image " + path("missing.png"), "missing.png", 1},
      {"occlusion --model nin", "--image", 2},
  };
  for (const Case& c : cases) {
    CliResult r = runCli(c.args);
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.err;
    EXPECT_EQ(r.errLines(), 1u) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
}

}  // namespace
}  // namespace zfvis
