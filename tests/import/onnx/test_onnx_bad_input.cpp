// Bad ONNX files: each must make importOnnxBytes throw zfvis::Error naming the problem (checked
// before anything is allocated for it), and make zfvis-cli exit with code 1 and print exactly one
// line on stderr that names the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/base/error.h"
#include "core/import/onnx_import.h"
#include "tests/import/onnx/onnx_test_util.h"

namespace zfvis::test {
namespace {

namespace fs = std::filesystem;

struct BadModel {
  std::string name;    // test name
  std::string bytes;   // file content
  std::string expect;  // part of the error message
};

void PrintTo(const BadModel& m, std::ostream* os) {
  *os << m.name;
}

std::string fixtureBytes(const std::string& file) {
  std::ifstream f(fs::path(ZFVIS_FIXTURES_DIR) / "onnx" / file, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// x (1 x 2 x 4 x 4) -> Conv(W) -> y, with W given as a TensorProto the caller may spoil.
OnnxModelBuilder convModel(const onnx::TensorProto& w) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 2, 4, 4}).output("y");
  *b.model().mutable_graph()->add_initializer() = w;
  b.node("Conv", {"x", "W"}, {"y"}, "conv");
  return b;
}

onnx::TensorProto goodWeights() {
  return toTensorProto(randomTensor(Shape{3, 2, 3, 3}, 1), "W");
}

std::vector<BadModel> badModels() {
  std::vector<BadModel> m;
  const std::string zoo = fixtureBytes("alexnet_zoo.onnx");
  m.push_back({"Truncated", zoo.substr(0, zoo.size() / 2), "not a valid ONNX model"});
  std::string noise(4096, '\0');
  std::mt19937 gen(7);
  for (char& c : noise) c = static_cast<char>(gen());
  m.push_back({"RandomBytes", noise, "not a valid ONNX model"});
  m.push_back({"Empty", "", "no graph nodes"});

  onnx::TensorProto t = goodWeights();
  t.set_raw_data(t.raw_data().substr(0, 100));
  m.push_back({"RawDataShorterThanDims", convModel(t).bytes(),
               "initializer 'W' declares 3 x 2 x 3 x 3 FLOAT (216 bytes) but holds 100 bytes"});

  t = toTensorProto(randomTensor(Shape{3, 2, 1, 1}, 2), "W");
  t.clear_raw_data();
  for (int i = 0; i < 5; ++i) t.add_float_data(1.0f);
  m.push_back({"FloatDataCountDisagreesWithDims", convModel(t).bytes(),
               "declares 3 x 2 x 1 x 1 (6 FLOAT values) but holds 5 values"});

  t = goodWeights();
  t.clear_dims();
  for (int64_t d : {1000000, 1000000, 1000000}) t.add_dims(d);
  m.push_back({"AbsurdDimensions", convModel(t).bytes(), "more than zfvis accepts"});

  t = goodWeights();
  t.clear_dims();
  t.add_dims(60000);
  t.add_dims(60000);  // 3.6e9 elements: below 2^32 but far more than the file holds
  m.push_back({"DimensionsLargerThanTheFile", convModel(t).bytes(), "more than the whole file"});

  t = goodWeights();
  t.set_dims(0, -3);
  m.push_back({"NegativeDimension", convModel(t).bytes(), "negative dimension"});

  t = goodWeights();
  t.clear_raw_data();
  t.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = t.add_external_data();
  loc->set_key("location");
  loc->set_value("weights.bin");
  m.push_back({"ExternalData", convModel(t).bytes(), "external file ('weights.bin')"});

  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 4}).output("y");
    b.node("Add", {"x", "y"}, {"s"}, "add");
    b.node("Relu", {"s"}, {"y"}, "relu");
    m.push_back({"Cycle", b.bytes(), "cycle through node"});
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 4}).output("y");
    b.node("Add", {"x", "nowhere"}, {"y"}, "add");
    m.push_back({"MissingInput", b.bytes(),
                 "node 'add' (Add, opset 13) reads 'nowhere', which is not produced"});
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 4}).output("y");
    b.node("Relu", {"x"}, {"y"}, "a");
    b.node("Relu", {"x"}, {"y"}, "b");
    m.push_back({"TensorProducedTwice", b.bytes(), "produced twice"});
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 3, 100000, 100000}).output("y");
    b.node("Relu", {"x"}, {"y"});
    m.push_back({"AbsurdInputSize", b.bytes(), "larger than zfvis accepts"});
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 3, -1, 8}).output("y");
    b.node("Relu", {"x"}, {"y"});
    m.push_back({"DynamicImageSize", b.bytes(), "needs a fixed input size"});
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 4}).output("y");
    b.model()
        .mutable_graph()
        ->mutable_input(0)
        ->mutable_type()
        ->mutable_tensor_type()
        ->set_elem_type(onnx::TensorProto::UINT8);
    b.node("Relu", {"x"}, {"y"});
    m.push_back({"IntegerInput", b.bytes(), "needs a FLOAT input"});
  }
  {
    OnnxModelBuilder b = convModel(goodWeights());
    setAttr(*b.model().mutable_graph()->mutable_node(0), "strides", std::vector<int64_t>{0, 1});
    m.push_back({"ZeroStride", b.bytes(), "'strides' value 0 is out of range"});
  }
  {
    OnnxModelBuilder b = convModel(goodWeights());
    setAttr(*b.model().mutable_graph()->mutable_node(0), "pads",
            std::vector<int64_t>{0, 0, 1000000000, 0});
    m.push_back({"AbsurdPadding", b.bytes(), "'pads' value 1000000000 is out of range"});
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 4}).output("y").initializerInts("shape", {0, 4294967296, 4294967296});
    b.node("Reshape", {"x", "shape"}, {"y"}, "r");
    m.push_back({"AbsurdReshapeTarget", b.bytes(), "is larger than input"});
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 4}).output("y");
    b.node("Relu", {"x"}, {"y"});
    b.model().clear_opset_import();
    m.push_back({"NoOpsetImport", b.bytes(), "imports no opset"});
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 1, 2, 2}).output("y");
    auto& c = b.node("Constant", {}, {"W"}, "w");
    auto* a = c.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    *a->mutable_t() = toTensorProto(Tensor(Shape{1, 1, 1, 1}, 1.0f), "");
    a->mutable_t()->set_dims(0, 7);
    b.node("Conv", {"x", "W"}, {"y"});
    m.push_back({"ConstantNodeSizeMismatch", b.bytes(), "attribute 'value' of node 'w'"});
  }
  return m;
}

class OnnxBadInput : public testing::TestWithParam<BadModel> {};

TEST_P(OnnxBadInput, ImportThrowsErrorNamingTheProblem) {
  const BadModel& m = GetParam();
  try {
    importOnnxBytes(m.bytes, "bad.onnx");
    FAIL() << "imported without an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("bad.onnx: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(m.expect), std::string::npos) << msg;
  }
}

TEST_P(OnnxBadInput, CliExitsWithOneAndOneLineOnStderr) {
  const BadModel& m = GetParam();
  const fs::path file = freshTempDir("bad-" + m.name) / (m.name + ".onnx");
  {
    std::ofstream f(file, std::ios::binary);
    f << m.bytes;
  }
  for (const char* command : {"layers", "predict"}) {
    SCOPED_TRACE(command);
    std::vector<std::string> args{command, "--model", file.string()};
    if (std::string(command) == "predict")
      args.insert(
          args.end(),
          {"--image", (fs::path(ZFVIS_FIXTURES_DIR) / "onnx" / "input_3x67x67.npy").string()});
    CommandResult r = runCommand(ZFVIS_CLI, args);
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(file.string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(m.expect), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, OnnxBadInput, testing::ValuesIn(badModels()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace zfvis::test
