// zfvis-cli filters / compare end to end: outputs, metadata, exit codes and one-line errors.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/base/atomic_file.h"
#include "core/base/npy.h"
#include "core/import/model_loader.h"
#include "core/render/png.h"
#include "tests/reference/cli_runner.h"
#include "tests/render/bank_util.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class FiltersCli : public testing::CliOutputTest {
 protected:
  testing::CliResult run(const std::string& args) { return testing::runCli(args); }
};

TEST_F(FiltersCli, NpyEqualsTheModelsWeightsExactly) {
  testing::CliResult r = run("filters --model caffe-alexnet --layer conv1 --npy " + path("w.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("[untrained weights]"), std::string::npos);
  Tensor got = readNpy(path("w.npy"));
  NetworkDef def = loadModel("caffe-alexnet");
  const Tensor& want = def.layers[def.resolveLayer("conv1")].weights;
  ASSERT_EQ(got.shape(), (Shape{96, 3, 11, 11}));
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), sizeof(float) * want.numel()), 0);
  // By index too, and a grouped layer keeps its O x I/groups x kH x kW shape.
  r = run("filters --model caffe-alexnet --layer 4 --npy " + path("w2.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(readNpy(path("w2.npy")).shape(), (Shape{256, 48, 5, 5}));
}

TEST_F(FiltersCli, PngCarriesGeometryAndMetadata) {
  testing::CliResult r =
      run("filters --model zfnet-paper --layer conv1 --normalize rms --png " + path("f.png"));
  ASSERT_EQ(r.code, 0) << r.err;
  cv::Mat img = cv::imread(path("f.png"), cv::IMREAD_COLOR);
  // 96 tiles of 7x7 at 5 px + RMS bars, 12 x 8.
  EXPECT_EQ(img.cols, 1 + 12 * 36);
  EXPECT_EQ(img.rows, 1 + 8 * (35 + 5 + 1));
  PngText t = readPngText(path("f.png"));
  EXPECT_EQ(pngTextValue(t, "zfvis:model"), "zfnet-paper");
  EXPECT_EQ(pngTextValue(t, "zfvis:layer"), "conv1");
  EXPECT_EQ(pngTextValue(t, "zfvis:view"), "filters");
  EXPECT_EQ(pngTextValue(t, "zfvis:normalization"), "rms");
  EXPECT_EQ(pngTextValue(t, "zfvis:untrained"), "true");
  EXPECT_EQ(pngTextValue(t, "zfvis:channel-order"), "bgr");
  EXPECT_EQ(pngTextValue(t, "zfvis:channels"), "rgb");
  r = run("filters --model caffe-alexnet --layer conv2 --mean --png " + path("m.png"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(pngTextValue(readPngText(path("m.png")), "zfvis:channels"), "mean");
}

TEST_F(FiltersCli, NonConvLayerIsRuntimeErrorOnOneLine) {
  testing::CliResult r = run("filters --model caffe-alexnet --layer relu1 --png " + path("x.png"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.errLines(), 1u) << r.err;
  EXPECT_NE(r.err.find("relu1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a Conv"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("x.png")));
}

TEST_F(FiltersCli, BadOptionsAreUsageErrors) {
  for (const std::string& args :
       {std::string("filters --model caffe-alexnet --layer conv1 --normalize max"),
        std::string("filters --model caffe-alexnet --layer conv1 --channel 0 --mean"),
        std::string("filters --model caffe-alexnet --layer conv1 --order rbg"),
        std::string("filters --model caffe-alexnet --layer conv1 --stride 2"),
        std::string("filters --model caffe-alexnet")}) {
    testing::CliResult r = run(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.err;
    EXPECT_EQ(r.errLines(), 1u) << args << ": " << r.err;
  }
  testing::CliResult r = run("filters --model caffe-alexnet --layer nosuchlayer");
  EXPECT_EQ(r.code, 1) << r.err;
}

// Valid syntax but impossible for this layer: a runtime failure (exit 1) naming the layer and the
// valid range, the same rule as --layer, deconv and occlusion.
TEST_F(FiltersCli, ValuesTheLayerCannotTakeAreRuntimeErrors) {
  struct Case {
    std::string args, message;
  };
  for (const Case& c :
       {Case{"filters --model caffe-alexnet --layer conv1 --channel 3",
             "layer 'conv1' has 3 input channels (0..2); --channel 3 is out of range"},
        Case{"filters --model caffe-alexnet --layer conv2 --rgb",
             "--rgb needs 3 input channels, layer 'conv2' has 48"}}) {
    testing::CliResult r = run(c.args + " --png " + path("x.png"));
    EXPECT_EQ(r.code, 1) << c.args << ": " << r.err;
    EXPECT_EQ(r.errLines(), 1u) << c.args << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
    EXPECT_FALSE(fs::exists(path("x.png")));
  }
}

TEST_F(FiltersCli, NpyFilterBankInput) {
  Tensor bank = test::makeBank(4, 3, 5, 5, [](int o, int i, int y, int x) {
    return 0.1f * float(o + 1) * test::checker(y + i, x);
  });
  writeNpy(path("bank.npy"), bank);
  testing::CliResult r = run("filters --model " + path("bank.npy") + " --png " + path("b.png") +
                             " --npy " + path("back.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  Tensor back = readNpy(path("back.npy"));
  EXPECT_EQ(std::memcmp(back.data(), bank.data(), sizeof(float) * bank.numel()), 0);
  EXPECT_EQ(pngTextValue(readPngText(path("b.png")), "zfvis:untrained"), "false");
  // Not a filter bank: one line naming the file.
  writeNpy(path("vec.npy"), Tensor(Shape{10, 10}));
  r = run("filters --model " + path("vec.npy") + " --png " + path("v.png"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.errLines(), 1u) << r.err;
  EXPECT_NE(r.err.find("vec.npy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("O x I x kH x kW"), std::string::npos) << r.err;
  writeFileAtomic(path("junk.npy"), "not a numpy file");
  r = run("filters --model " + path("junk.npy"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.errLines(), 1u) << r.err;
}

TEST_F(FiltersCli, CompareWritesJsonPngAndSpectrum) {
  // B: 7x7 checkerboards (all high frequency), stride given on the command line.
  Tensor boards = test::makeBank(8, 3, 7, 7, [](int o, int, int y, int x) {
    return 0.04f * float(o + 1) * test::checker(y, x);
  });
  writeNpy(path("boards.npy"), boards);
  testing::CliResult r =
      run("compare --model caffe-alexnet --model " + path("boards.npy") + " --stride 2 --json " +
          path("c.json") + " --png " + path("c.png") + " --spectrum-png " + path("s.png"));
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(path("c.json"));
  Json j = Json::parse(in);
  ASSERT_EQ(j["models"].size(), 2u);
  const Json& a = j["models"][0];
  const Json& b = j["models"][1];
  EXPECT_EQ(a["name"], "caffe-alexnet");
  EXPECT_EQ(a["layer"], "conv1");
  EXPECT_EQ(a["untrained"], true);
  EXPECT_EQ(a["channel_order"], "bgr");
  EXPECT_EQ(a["stride"], Json({4, 4}));
  EXPECT_EQ(a["filters"], 96);
  EXPECT_EQ(a["kernel_size"], Json({11, 11}));
  EXPECT_EQ(a["rms"]["per_filter"].size(), 96u);
  EXPECT_EQ(a["frequency"]["per_filter"].size(), 96u);
  EXPECT_TRUE(a["dead"]["count"].is_number_integer());
  EXPECT_TRUE(a["above_renorm_radius"]["count"].is_number_integer());
  EXPECT_EQ(b["layer"], nullptr);
  EXPECT_EQ(b["stride"], Json({2, 2}));
  EXPECT_EQ(b["kernel_size"], Json({7, 7}));
  EXPECT_GT(b["frequency"]["mean_share"]["high"].get<double>(), 0.99);
  // RMS 0.04 .. 0.32: filters 2..7 (RMS 0.12 ...) are above 0.1; none dead (median 0.18).
  EXPECT_EQ(b["above_renorm_radius"]["count"], 6);
  EXPECT_EQ(b["dead"]["count"], 0);
  // float32 weights (each within 2^-24 relative of the intended value), RMS in double.
  EXPECT_NEAR(b["rms"]["per_filter"][3].get<double>(), 0.16, 0.16 * 0x1p-23);
  EXPECT_EQ(j["definitions"]["dead_fraction_of_median"], 0.1);
  EXPECT_TRUE(j["definitions"].contains("bands"));
  PngText t = readPngText(path("c.png"));
  EXPECT_EQ(pngTextValue(t, "zfvis:view"), "compare");
  EXPECT_EQ(pngTextValue(t, "zfvis:model"), "caffe-alexnet; boards");
  EXPECT_EQ(pngTextValue(t, "zfvis:untrained"), "true");
  EXPECT_EQ(pngTextValue(t, "zfvis:normalization"), "per-layer");
  EXPECT_EQ(pngTextValue(readPngText(path("s.png")), "zfvis:view"), "compare-spectrum");
  EXPECT_FALSE(cv::imread(path("c.png")).empty());
}

TEST_F(FiltersCli, CompareArgumentErrors) {
  Tensor boards =
      test::makeBank(2, 3, 3, 3, [](int, int, int y, int x) { return test::checker(y, x); });
  writeNpy(path("b.npy"), boards);
  struct Case {
    std::string args;
    int code;
  };
  for (const Case& c : {
           Case{"compare --model caffe-alexnet", 2},
           Case{"compare --model caffe-alexnet --model zfnet-paper --stride 2", 2},
           Case{"compare --model " + path("b.npy") + " --model " + path("b.npy") +
                    " --stride 2 --stride 3 --stride 4",
                2},
           Case{"compare --model caffe-alexnet --model " + path("b.npy") + " --stride x", 2},
           Case{"compare --model caffe-alexnet --model " + path("b.npy") + " --normalize max", 2},
           Case{"compare --model caffe-alexnet --model " + path("missing.npy"), 1},
           Case{"compare --model caffe-alexnet --model nosuchmodel", 1},
       }) {
    testing::CliResult r = run(c.args + " --json " + path("out.json"));
    EXPECT_EQ(r.code, c.code) << c.args << ": " << r.err;
    EXPECT_EQ(r.errLines(), 1u) << c.args << ": " << r.err;
    EXPECT_FALSE(fs::exists(path("out.json"))) << c.args;
  }
  // Two .npy banks with one stride each.
  testing::CliResult r = run("compare --model " + path("b.npy") + " --model " + path("b.npy") +
                             " --stride 2 --stride 3 --json " + path("ok.json"));
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(path("ok.json"));
  Json j = Json::parse(in);
  EXPECT_EQ(j["models"][0]["stride"], Json({2, 2}));
  EXPECT_EQ(j["models"][1]["stride"], Json({3, 3}));
}

}  // namespace
}  // namespace zfvis
