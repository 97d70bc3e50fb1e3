// The committed ONNX fixtures (tests/fixtures/onnx, made by
// tests/fixtures/scripts/make_onnx_fixtures.py): tiny AlexNet-, ZFNet- and NIN-shaped networks
// exported by PyTorch and written zoo-style (opset 9, Reshape + Gemm, old Dropout), a BatchNorm
// model, a MatMul + Add model and a two-tower Concat model. Each output is checked against the
// golden .npy PyTorch/NumPy computed, against OpenCV's cv::dnn::readNetFromONNX, and through
// zfvis-cli (predict, activations, layers).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/base/npy.h"
#include "core/import/onnx_import.h"
#include "tests/import/onnx/onnx_test_util.h"
#include "tests/reference/naive_ops.h"
#include "tests/reference/tolerance.h"

namespace zfvis::test {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(ZFVIS_FIXTURES_DIR) / "onnx";

struct Fixture {
  std::string name;   // file stem
  std::string input;  // input .npy in kDir
};

void PrintTo(const Fixture& f, std::ostream* os) {
  *os << f.name;
}

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> list = {
      {"alexnet_torch", "input_3x67x67.npy"},  {"alexnet_zoo", "input_3x67x67.npy"},
      {"zfnet_torch", "input_3x67x67.npy"},    {"zfnet_zoo", "input_3x67x67.npy"},
      {"nin_torch", "input_3x67x67.npy"},      {"nin_zoo", "input_3x67x67.npy"},
      {"twotower_torch", "input_3x67x67.npy"}, {"batchnorm", "input_3x67x67.npy"},
      {"matmul_add", "matmul_add.input.npy"},
  };
  return list;
}

fs::path modelPath(const Fixture& f) {
  return kDir / (f.name + ".onnx");
}

class OnnxFixture : public testing::TestWithParam<Fixture> {};

TEST_P(OnnxFixture, EngineOutputMatchesPyTorchGolden) {
  const Fixture& f = GetParam();
  NetworkDef def = importOnnx(modelPath(f));
  EXPECT_EQ(def.name, f.name);
  EXPECT_EQ(def.source, modelPath(f).string());
  EXPECT_FALSE(def.untrained);
  EXPECT_EQ(def.input.preprocess, Preprocess::Caffe);
  const Tensor input = readNpy(kDir / f.input);
  const Tensor expected = readNpy(kDir / (f.name + ".expected.npy"));
  const Tensor actual = runEngine(def, input);
  // PyTorch computed in double: the chain's rounding bound (tests/reference/tolerance.h).
  EXPECT_LE(relativeError(actual, expected), ref::outputTolerance(def, input));
}

TEST_P(OnnxFixture, OpenCvDnnAgreesWithEngine) {
  const Fixture& f = GetParam();
  const Tensor input = readNpy(kDir / f.input);
  const NetworkDef def = importOnnx(modelPath(f));
  const Tensor ours = runEngine(def, input);

  // OpenCV 4.6 mis-broadcasts a 1 x N constant in Add for batches > 1 (matmul_add), so OpenCV
  // gets a copy of the model with batch 1 and runs the samples one at a time.
  std::ifstream file(modelPath(f), std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(bytes.str()));
  proto.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_dim_value(1);
  const std::string batchOne = proto.SerializeAsString();
  cv::dnn::Net net = cv::dnn::readNetFromONNX(batchOne.data(), batchOne.size());
  Tensor theirs(ours.shape());
  const int64_t n = input.shape()[0], perOut = ours.numel() / n;
  for (int64_t s = 0; s < n; ++s) {
    Tensor sample = input.slice(s);
    std::vector<int> dims(sample.shape().dims().begin(), sample.shape().dims().end());
    cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F, sample.data());
    net.setInput(blob);
    cv::Mat out = net.forward();
    ASSERT_EQ(static_cast<int64_t>(out.total()), perOut);
    std::copy(out.ptr<float>(), out.ptr<float>() + perOut, theirs.data() + s * perOut);
  }
  // Two float32 evaluations in their own summation orders: the chain's rounding bound.
  EXPECT_LE(relativeError(ours, theirs), ref::outputTolerance(def, input));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OnnxFixture, testing::ValuesIn(fixtures()),
                         [](const auto& info) { return info.param.name; });

// ---- zfvis-cli on the fixtures ----------------------------------------------------------------

class OnnxFixtureCli : public testing::TestWithParam<Fixture> {};

TEST_P(OnnxFixtureCli, PredictWritesGoldenProbabilities) {
  const Fixture& f = GetParam();
  const fs::path out = freshTempDir("predict-" + f.name) / "out.npy";
  CommandResult r = runCommand(ZFVIS_CLI, {"predict", "--model", modelPath(f).string(), "--image",
                                           (kDir / f.input).string(), "--npy", out.string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const Tensor expected = readNpy(kDir / (f.name + ".expected.npy"));
  const Tensor input = readNpy(kDir / f.input);
  EXPECT_LE(relativeError(readNpy(out), expected),
            ref::outputTolerance(importOnnx(modelPath(f)), input));
}

// Single-sample fixtures (the CLI takes one image).
INSTANTIATE_TEST_SUITE_P(Fixtures, OnnxFixtureCli,
                         testing::Values(fixtures()[0], fixtures()[1], fixtures()[2], fixtures()[3],
                                         fixtures()[4], fixtures()[5], fixtures()[6],
                                         fixtures()[7]),
                         [](const auto& info) { return info.param.name; });

// The first convolution's activations, against a naive convolution with the weights read
// straight from the file's initializers (no importer involved).
TEST(OnnxFixtureCliActivations, FirstConvOfZooAlexNetMatchesNaiveConvolution) {
  const fs::path model = kDir / "alexnet_zoo.onnx";
  const fs::path out = freshTempDir("activations") / "conv.npy";
  CommandResult r = runCommand(ZFVIS_CLI, {"activations", "--model", model.string(), "--image",
                                           (kDir / "input_3x67x67.npy").string(), "--layer",
                                           "Conv_0", "--npy", out.string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;

  std::ifstream file(model, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(bytes.str()));
  Tensor w, b;
  for (const auto& t : proto.graph().initializer()) {
    if (t.name() == "conv1_w_0") w = fromTensorProto(t);
    if (t.name() == "conv1_b_0") b = fromTensorProto(t);
  }
  ASSERT_EQ(w.shape(), (Shape{6, 3, 11, 11}));
  ConvParams p;
  p.outChannels = 6;
  p.kernelH = p.kernelW = 11;
  p.strideH = p.strideW = 4;
  p.pad = {2, 2, 2, 2};
  const Tensor expected = ref::conv2d(readNpy(kDir / "input_3x67x67.npy"), w, b, p);
  // One convolution of 3 x 11 x 11 terms and a bias, in float32 against double.
  EXPECT_LE(relativeError(readNpy(out), expected), ref::sumTolerance(3 * 11 * 11 + 1));
}

// `layers --json`: names, ONNX op types and output shapes, written down from the architecture.
TEST(OnnxFixtureCliLayers, ZooAlexNetListsUnnamedNodesByOpTypeAndIndex) {
  CommandResult r =
      runCommand(ZFVIS_CLI, {"layers", "--model", (kDir / "alexnet_zoo.onnx").string(), "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto layers = nlohmann::json::parse(r.out);
  struct Row {
    const char* name;
    const char* type;
    std::vector<int64_t> shape;
  };
  const std::vector<Row> expected = {
      {"Conv_0", "Conv", {6, 16, 16}},
      {"Relu_1", "Relu", {6, 16, 16}},
      {"LRN_2", "LRN", {6, 16, 16}},
      {"MaxPool_3", "MaxPool", {6, 8, 8}},
      {"Conv_4", "Conv", {8, 8, 8}},
      {"Relu_5", "Relu", {8, 8, 8}},
      {"LRN_6", "LRN", {8, 8, 8}},
      {"MaxPool_7", "MaxPool", {8, 4, 4}},
      {"Conv_8", "Conv", {12, 4, 4}},
      {"Relu_9", "Relu", {12, 4, 4}},
      {"Conv_10", "Conv", {12, 4, 4}},
      {"Relu_11", "Relu", {12, 4, 4}},
      {"Conv_12", "Conv", {8, 4, 4}},
      {"Relu_13", "Relu", {8, 4, 4}},
      {"MaxPool_14", "MaxPool", {8, 2, 2}},
      {"Reshape_15", "Reshape", {32}},
      {"Gemm_16", "Gemm", {16}},
      {"Relu_17", "Relu", {16}},
      {"Dropout_18", "Dropout", {16}},
      {"Gemm_19", "Gemm", {16}},
      {"Relu_20", "Relu", {16}},
      {"Dropout_21", "Dropout", {16}},
      {"Gemm_22", "Gemm", {10}},
      {"Softmax_23", "Softmax", {10}},
  };
  ASSERT_EQ(layers.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(layers[i]["name"], expected[i].name);
    EXPECT_EQ(layers[i]["type"], expected[i].type);
    EXPECT_EQ(layers[i]["output_shape"].get<std::vector<int64_t>>(), expected[i].shape);
  }
  EXPECT_EQ(layers[0]["inputs"][0], "data_0");
}

TEST(OnnxFixtureCliLayers, TorchNinUsesExporterNodeNamesAndGlobalAveragePool) {
  CommandResult r =
      runCommand(ZFVIS_CLI, {"layers", "--model", (kDir / "nin_torch.onnx").string(), "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto layers = nlohmann::json::parse(r.out);
  // mlpconv x 3 (3 convs + 3 ReLUs each), 2 max pools, GAP, Flatten, Softmax; eval-mode
  // PyTorch drops Dropout from the graph.
  ASSERT_EQ(layers.size(), 23u);
  EXPECT_EQ(layers[0]["name"], "/net/net.0/Conv");
  EXPECT_EQ(layers[0]["output_shape"].get<std::vector<int64_t>>(),
            (std::vector<int64_t>{8, 16, 16}));
  EXPECT_EQ(layers[6]["type"], "MaxPool");
  EXPECT_EQ(layers[6]["output_shape"].get<std::vector<int64_t>>(), (std::vector<int64_t>{8, 8, 8}));
  EXPECT_EQ(layers[20]["type"], "GlobalAveragePool");
  EXPECT_EQ(layers[20]["output_shape"].get<std::vector<int64_t>>(),
            (std::vector<int64_t>{10, 1, 1}));
  EXPECT_EQ(layers[21]["type"], "Flatten");
  EXPECT_EQ(layers[22]["type"], "Softmax");
  EXPECT_EQ(layers[22]["output_shape"].get<std::vector<int64_t>>(), (std::vector<int64_t>{10}));
}

TEST(OnnxFixtureLayers, BatchNormFoldsOnlyWhenTheConvolutionHasNoOtherConsumer) {
  NetworkDef def = importOnnx(kDir / "batchnorm.onnx");
  std::vector<std::string> names, types;
  for (const LayerSpec& l : def.layers) {
    names.push_back(l.name);
    types.emplace_back(onnxOpName(l.type));
  }
  // bn1 folded into conv1; bn2 kept (conv2 also feeds add2); bn3 kept (follows a pool).
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "relu1", "conv2", "bn2", "add2", "relu2",
                                             "pool2", "bn3", "gap", "flatten", "fc", "prob"}));
  EXPECT_EQ(types[3], "BatchNormalization");
  EXPECT_EQ(def.layers[4].inputs, (std::vector<std::string>{"bn2", "conv2"}));
}

TEST(OnnxFixtureLayers, MatMulAddBecomesDenseWithBias) {
  NetworkDef def = importOnnx(kDir / "matmul_add.onnx");
  ASSERT_EQ(def.layers.size(), 5u);
  EXPECT_EQ(def.layers[1].name, "fc1");
  EXPECT_EQ(def.layers[1].type, LayerType::Dense);
  EXPECT_TRUE(def.layers[1].dense.hasBias);
  EXPECT_EQ(def.layers[1].weights.shape(), (Shape{24, 192}));
  EXPECT_EQ(def.layers[3].type, LayerType::Dense);
  EXPECT_TRUE(def.layers[3].dense.hasBias);
}

TEST(OnnxFixtureLayers, TorchDynamicBatchGivesPerSampleInputShape) {
  NetworkDef def = importOnnx(kDir / "twotower_torch.onnx");
  EXPECT_EQ(def.input.name, "input");
  EXPECT_EQ(def.input.shape, (Shape{3, 67, 67}));
  int concat = -1;
  for (size_t i = 0; i < def.layers.size(); ++i)
    if (def.layers[i].type == LayerType::Concat) concat = static_cast<int>(i);
  ASSERT_GE(concat, 0);
  EXPECT_EQ(def.layers[concat].inputs.size(), 2u);
  EXPECT_EQ(def.layers[concat].axis.axis, 1);
  // A batch of two samples runs too (the batch axis is dynamic).
  const Tensor one = readNpy(kDir / "input_3x67x67.npy");
  const Tensor two = Tensor::stack({one, one});
  const Tensor out = runEngine(def, two);
  const Tensor expected = readNpy(kDir / "twotower_torch.expected.npy");
  EXPECT_LE(relativeError(out.slice(1), expected), ref::outputTolerance(def, one));
}

}  // namespace
}  // namespace zfvis::test
