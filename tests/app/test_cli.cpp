// zfvis-cli end to end: outputs, exit codes (0 ok, 1 runtime failure, 2 usage) and one-line
// error messages naming the file / layer and what was expected.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "core/base/npy.h"
#include "core/engine/engine.h"
#include "core/render/png.h"
#include "tests/reference/cli_runner.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::runCli;

const std::string kChelsea = std::string(ZFVIS_SOURCE_DIR) + "/resources/images/chelsea.png";

using Cli = testing::CliOutputTest;

TEST_F(Cli, ModelsListsEveryBuiltin) {
  CliResult r = runCli("models");
  EXPECT_EQ(r.code, 0);
  for (const char* m :
       {"alexnet", "alexnet-2tower", "zfnet", "nin", "caffe-alexnet", "zfnet-paper", "nin-paper"})
    EXPECT_NE(r.out.find(m), std::string::npos) << m;
}

TEST_F(Cli, SummaryIsAKerasStyleTableWithTotals) {
  CliResult r = runCli("summary --model caffe-alexnet");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Layer (type)"), std::string::npos);
  EXPECT_NE(r.out.find("Output Shape"), std::string::npos);
  EXPECT_NE(r.out.find("conv2 (Conv)"), std::string::npos);
  EXPECT_NE(r.out.find("(None, 256, 27, 27)"), std::string::npos);
  EXPECT_NE(r.out.find("Total params: 60,965,224"), std::string::npos);
  EXPECT_NE(r.out.find("UNTRAINED"), std::string::npos);
}

TEST_F(Cli, LayersJsonUsesOnnxOpTypes) {
  CliResult r = runCli("layers --model zfnet-paper --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j[0]["name"], "conv1");
  EXPECT_EQ(j[0]["type"], "Conv");
  EXPECT_EQ(j[0]["output_shape"], nlohmann::json({96, 110, 110}));
  EXPECT_EQ(j[0]["params"], 14208);
  EXPECT_EQ(j[1]["type"], "Relu");
  bool sawGemm = false, sawLrn = false;
  for (const auto& l : j) {
    sawGemm |= l["type"] == "Gemm";
    sawLrn |= l["type"] == "LRN";
  }
  EXPECT_TRUE(sawGemm && sawLrn);
}

TEST_F(Cli, PredictPrintsTopKAndWritesProbabilities) {
  CliResult r = runCli("predict --model nin-paper --image " + kChelsea + " --top 3 --json --npy " +
                       path("p.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["untrained"], true);
  ASSERT_EQ(j["top"].size(), 3u);
  Tensor p = readNpy(path("p.npy"));
  ASSERT_EQ(p.shape(), (Shape{1, 1000}));
  double sum = 0;
  for (int64_t i = 0; i < p.numel(); ++i) sum += p[i];
  // 1000 probabilities each within the softmax's relative rounding (a 1000-term sum and an exp):
  // their sum is within gamma_1016 of 1 (tests/reference/tolerance.h).
  EXPECT_NEAR(sum, 1.0, ref::gammaN(1000 + ref::kTranscendentalTerms));
  int top = j["top"][0]["class"];
  EXPECT_FLOAT_EQ(p[top], float(j["top"][0]["probability"]));
  for (int64_t i = 0; i < p.numel(); ++i) EXPECT_LE(p[i], p[top]);
}

// --labels names the classes in predict, occlusion (text and pictures) and export; the count must
// match the model's; a model's own names (ONNX metadata zfvis.labels) are used without it.
const std::string kMatmul = std::string(ZFVIS_FIXTURES_DIR) + "/onnx/matmul_add.onnx";
const std::string kMatmulLabelled =
    std::string(ZFVIS_FIXTURES_DIR) + "/onnx/matmul_add_labels.onnx";

TEST_F(Cli, LabelsFileNamesTheClassesInPredictOcclusionAndExport) {
  {
    std::ofstream f(path("digits.txt"));
    for (const char* n :
         {"nought", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"})
      f << n << "\n";
  }
  const std::string labels = " --labels " + path("digits.txt");
  CliResult plain =
      runCli("predict --model " + kMatmul + " --image " + kChelsea + " --top 10 --json");
  ASSERT_EQ(plain.code, 0) << plain.err;
  auto jp = nlohmann::json::parse(plain.out);
  EXPECT_EQ(jp["top"][0]["label"], "class " + std::to_string(int(jp["top"][0]["class"])));

  CliResult r =
      runCli("predict --model " + kMatmul + " --image " + kChelsea + " --top 10 --json" + labels);
  ASSERT_EQ(r.code, 0) << r.err;
  const char* names[] = {"nought", "one", "two",   "three", "four",
                         "five",   "six", "seven", "eight", "nine"};
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["top"].size(), 10u);
  for (const auto& t : j["top"]) EXPECT_EQ(t["label"], names[int(t["class"])]);

  // The model's own names, and --labels over them.
  CliResult own = runCli("predict --model " + kMatmulLabelled + " --image " + kChelsea + " --json");
  ASSERT_EQ(own.code, 0) << own.err;
  auto jo = nlohmann::json::parse(own.out);
  const char* ownNames[] = {"zero", "one", "two",   "three", "four",
                            "five", "six", "seven", "eight", "nine"};
  EXPECT_EQ(jo["top"][0]["label"], ownNames[int(jo["top"][0]["class"])]);
  CliResult over =
      runCli("predict --model " + kMatmulLabelled + " --image " + kChelsea + " --json" + labels);
  ASSERT_EQ(over.code, 0) << over.err;
  auto jv = nlohmann::json::parse(over.out);
  EXPECT_EQ(jv["top"][0]["label"], names[int(jv["top"][0]["class"])]);

  // Occlusion: the default patch and stride on the 8 x 8 input are round(50/224*8) = 2 and 1
  // (7 x 7 placements); the pictures and the text name the class from the file.
  CliResult occ = runCli("occlusion --model " + kMatmul + " --image " + kChelsea +
                         " --class 4 --npy " + path("o.npy") + " --png " + path("o.png") + labels);
  ASSERT_EQ(occ.code, 0) << occ.err;
  EXPECT_NE(occ.out.find("four"), std::string::npos) << occ.out;
  EXPECT_EQ(readNpy(path("o.npy")).shape(), (Shape{7, 7}));
  EXPECT_EQ(pngTextValue(readPngText(path("o.png")), "zfvis:class-name"), "four");

  CliResult ex = runCli("export --model " + kMatmul + " --image " + kChelsea + " --out " +
                        path("report") + " --projections none" + labels);
  ASSERT_EQ(ex.code, 0) << ex.err;
  // The report's layer bar wraps (a flex row that wraps) instead of scrolling sideways.
  std::ifstream html(path("report") + "/index.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  const size_t nav = page.find("\nnav {");
  ASSERT_NE(nav, std::string::npos);
  const std::string navRule = page.substr(nav, page.find('}', nav) - nav);
  EXPECT_NE(navRule.find("flex-wrap: wrap"), std::string::npos) << navRule;
  std::ifstream pj(path("report") + "/predictions.json");
  auto je = nlohmann::json::parse(pj);
  for (const auto& t : je["top"]) EXPECT_EQ(t["label"], names[int(t["class"])]);
}

TEST_F(Cli, LabelsFileWithTheWrongCountIsRefusedNamingBothCounts) {
  {
    std::ofstream f(path("three.txt"));
    f << "a\nb\nc\n";
  }
  for (const std::string cmd : {"predict", "occlusion", "export"}) {
    std::string args =
        cmd + " --model " + kMatmul + " --image " + kChelsea + " --labels " + path("three.txt");
    if (cmd == "export") args += " --out " + path("r-" + cmd);
    CliResult r = runCli(args);
    EXPECT_EQ(r.code, 1) << cmd << ": " << r.err;
    EXPECT_EQ(r.errLines(), 1u) << r.err;
    EXPECT_NE(r.err.find("labels file '" + path("three.txt") +
                         "' has 3 names but model "
                         "'matmul_add' has 10 classes"),
              std::string::npos)
        << r.err;
  }
  CliResult missing =
      runCli("predict --model nin --image " + kChelsea + " --labels " + path("none.txt"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("none.txt' does not exist"), std::string::npos) << missing.err;
  // Commands that name no class do not take it.
  CliResult usage = runCli("activations --model nin --image " + kChelsea +
                           " --layer conv1 --labels " + path("three.txt"));
  EXPECT_EQ(usage.code, 2) << usage.err;
}

TEST_F(Cli, ActivationsWritesNpyAndAPngWithMetadata) {
  CliResult r = runCli("activations --model nin --image " + kChelsea + " --layer conv1 --npy " +
                       path("a.npy") + " --png " + path("a.png"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(readNpy(path("a.npy")).shape(), (Shape{1, 96, 55, 55}));
  PngText text = readPngText(path("a.png"));
  EXPECT_EQ(pngTextValue(text, "zfvis:model"), "nin");
  EXPECT_EQ(pngTextValue(text, "zfvis:layer"), "conv1");
}

TEST_F(Cli, BenchNamesTheIsaThenPrintsOneMedianLine) {
  CliResult r = runCli("bench --model nin --batch 2 --iters 3 --warmup 1 --threads 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("oneDNN ISA: " + engineCpuIsa() + ", 2 threads\nbatch 2: median ", 0), 0u)
      << r.out;
  EXPECT_NE(r.out.find("images/s"), std::string::npos);
}

// Each bad input: the exit code, one line on stderr, and words that must appear in it.
struct BadCase {
  std::string args;
  int code;
  std::vector<std::string> words;
};

TEST_F(Cli, BadInputsGiveOneLineErrorsAndTheRightExitCode) {
  {
    std::ofstream(path("text.png")) << "hello";
    std::ofstream(path("empty.jpg"));
  }
  std::vector<uchar> dummy;
  {
    // A truncated copy of a real JPEG.
    std::ifstream in(std::string(ZFVIS_SOURCE_DIR) + "/resources/images/rocket.jpg",
                     std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(path("cut.jpg"), std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  writeNpy(path("wrong_shape.npy"), Tensor(Shape{3, 10, 10}));
  {
    // An int32 array in place of float32.
    std::string hdr = "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 227, 227), }";
    hdr.resize(118, ' ');
    hdr += '\n';
    std::string bytes =
        std::string("\x93NUMPY\x01\x00", 8) + char(hdr.size() & 0xff) + char(hdr.size() >> 8) + hdr;
    bytes.append(size_t(3 * 227 * 227 * 4), '\0');
    std::ofstream(path("int.npy"), std::ios::binary) << bytes;
  }
  const std::vector<BadCase> cases = {
      {"predict --model nin --image " + path("missing.png"), 1, {"missing.png", "no such file"}},
      {"predict --model nin --image " + path("text.png"), 1, {"text.png", "not an image"}},
      {"predict --model nin --image " + path("empty.jpg"), 1, {"empty.jpg", "empty"}},
      {"predict --model nin --image " + path("cut.jpg"), 1, {"cut.jpg", "truncated"}},
      {"predict --model vgg19 --image " + kChelsea, 1, {"vgg19", "caffe-alexnet"}},
      {"predict --model " + path("nope.onnx") + " --image " + kChelsea, 1, {"nope.onnx"}},
      {"activations --model nin --image " + kChelsea + " --layer conv9", 1, {"conv9", "nin"}},
      {"activations --model nin --image " + kChelsea + " --layer 99", 1, {"99", "out of range"}},
      {"predict --model nin --image " + path("wrong_shape.npy"),
       1,
       {"wrong_shape.npy", "3 x 10 x 10", "3 x 227 x 227"}},
      {"predict --model nin --image " + path("int.npy"), 1, {"int.npy", "<i4", "float32"}},
      {"predict --image " + kChelsea, 2, {"--model"}},
      {"predict --model nin --image " + kChelsea + " --frobnicate", 2, {"--frobnicate"}},
      {"predict --model nin --image " + kChelsea + " --top zero", 2, {"--top"}},
      {"fly", 2, {"fly"}},
      {"predict --model nin --image " + kChelsea + " --top", 2, {"--top needs a value"}},
      // Numbers are parsed whole and range-checked: no wrap-around (4294967297 used to read as 1).
      {"deconv --model nin --image " + kChelsea + " --layer conv1 --position 4294967297,2",
       2,
       {"--position expects an integer from 0 to 1073741824, got '4294967297'"}},
      {"deconv --model nin --image " + kChelsea + " --layer conv1 --position 1,2,3",
       2,
       {"--position expects Y,X"}},
      {"deconv --model nin --image " + kChelsea + " --layer conv1 --position -1,2",
       2,
       {"--position expects an integer from 0"}},
      {"predict --model nin --image " + kChelsea + " --top 4294967297", 2, {"--top", "4294967297"}},
      {"predict --model nin --image " + kChelsea + " --threads 99999999999999999999",
       2,
       {"--threads"}},
      {"predict --model nin --image " + kChelsea + " --top 5x", 2, {"--top", "'5x'"}},
      {"predict --model nin --image " + kChelsea + " --max-pixels 0", 2, {"--max-pixels"}},
      // The pixel limit: refused from the header, before decoding.
      {"predict --model nin --image " + kChelsea + " --max-pixels 100000",
       1,
       {"chelsea.png", "451 x 300 = 135300 pixels is more than the limit of 100000"}},
  };
  for (const BadCase& c : cases) {
    CliResult r = runCli(c.args);
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.err;
    EXPECT_EQ(r.errLines(), 1u) << c.args << "\n" << r.err;
    for (const std::string& w : c.words)
      EXPECT_NE(r.err.find(w), std::string::npos) << c.args << "\n" << r.err;
  }
}

// One rule for valid syntax but a value the model or file cannot take (a channel, position,
// class or patch size out of its range): a runtime failure, exit 1, naming the layer or model and
// the valid range, in every command, as for an unknown --layer.
TEST_F(Cli, ValuesTheModelCannotTakeExitOneInEveryCommand) {
  const std::string image = " --image " + kChelsea;
  const std::vector<BadCase> cases = {
      {"deconv --model nin" + image + " --layer conv1 --channel 500",
       1,
       {"layer 'conv1' has 96 channels (0..95); --channel 500 is out of range"}},
      {"deconv --model nin" + image + " --layer conv1 --position 60,0",
       1,
       {"layer 'conv1' (96 x 55 x 55) has 55 rows (0..54); --position 60 is out of range"}},
      {"occlusion --model nin" + image + " --layer conv1 --channel 500",
       1,
       {"layer 'conv1' has 96 channels (0..95); --channel 500 is out of range"}},
      {"occlusion --model nin" + image + " --class 1000",
       1,
       {"model 'nin' has 256 classes (0..255); --class 1000 is out of range"}},
      {"filters --model nin --layer conv1 --channel 500",
       1,
       {"layer 'conv1' has 3 input channels (0..2); --channel 500 is out of range"}},
      {"activations --model nin" + image + " --layer 99", 1, {"99", "out of range"}},
  };
  for (const BadCase& c : cases) {
    CliResult r = runCli(c.args + " --png " + path("out.png"));
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.err;
    EXPECT_EQ(r.errLines(), 1u) << c.args << "\n" << r.err;
    for (const std::string& w : c.words)
      EXPECT_NE(r.err.find(w), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(path("out.png"))) << c.args;
  }
}

TEST_F(Cli, NoPartialFileIsLeftWhenWritingFails) {
  // The output folder does not exist: the command fails and nothing is created.
  CliResult r =
      runCli("predict --model nin --image " + kChelsea + " --npy " + path("no/such/dir/p.npy"));
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(fs::exists(path("no")));
  EXPECT_EQ(std::distance(fs::directory_iterator(m_dir), fs::directory_iterator{}), 0);
}

}  // namespace
}  // namespace zfvis
