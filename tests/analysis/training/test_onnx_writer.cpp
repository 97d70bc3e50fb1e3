// The ONNX writer: every layer type round-trips through onnx::checker and our importer with the
// same structure and bit-identical weights, and the model's preprocessing, class names and other
// notes travel in metadata_props.
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <random>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/import/onnx/onnx_writer.h"
#include "core/import/onnx_import.h"
#include "core/model/net_builder.h"
#include "tests/reference/cli_runner.h"
#include "tests/reference/tensor_bits.h"

namespace zfvis {
namespace {

using OnnxWriter = testing::CliOutputTest;

// Every layer type the importer reads back as itself (BatchNorm and constant Add follow a ReLU,
// so the importer has no convolution or dense layer to fold them into).
NetworkDef everyLayerType() {
  NetBuilder b("every-layer", {4, 13, 12}, 3);
  b.conv("conv_a", 6, 3, 2, {1, 0, 2, 1}, 2, 2).relu("relu_a");
  b.from("input").conv("conv_b", 6, 3, 2, {1, 0, 2, 1}, 1, 2);
  LayerSpec noBias;
  noBias.name = "conv_c";
  noBias.type = LayerType::Conv;
  noBias.conv.outChannels = 6;
  noBias.conv.kernelH = 1;
  noBias.conv.kernelW = 1;
  noBias.conv.hasBias = false;
  b.add(noBias).relu("relu_b");
  b.concat("cat", {"relu_a", "relu_b"});
  b.lrn("norm", 3, 0.01f, 0.7f, 1.5f);
  b.maxPool("maxp", 3, 2, {1, 1, 1, 1}, true);
  b.avgPool("avgp", 2, 1, {1, 1, 0, 0}, false, true).relu("relu_c");
  LayerSpec bn;
  bn.name = "bn";
  bn.type = LayerType::BatchNorm;
  bn.weights = Tensor(Shape{4, 12});
  for (int64_t i = 0; i < 48; ++i) bn.weights[i] = 0.5f + float(i % 7) * 0.25f;
  bn.batchNorm.epsilon = 1e-3f;
  b.add(bn);
  LayerSpec addConst;
  addConst.name = "shift";
  addConst.type = LayerType::Add;
  addConst.weights = Tensor(Shape{12, 1, 1}, 0.125f);
  b.add(addConst);
  LayerSpec add2;
  add2.name = "sum";
  add2.type = LayerType::Add;
  add2.inputs = {"shift", "relu_c"};
  b.add(add2);
  LayerSpec reshape;
  reshape.name = "reshape";
  reshape.type = LayerType::Reshape;
  reshape.reshape.shape = {12, -1, 1};
  b.add(reshape);
  b.globalAvgPool("gap").flatten("flat");
  b.dense("fc1", 8).relu("relu_d").dropout("drop");
  LayerSpec id;
  id.name = "same";
  id.type = LayerType::Identity;
  b.add(id);
  b.dense("fc2", 5, false).softmax("prob");
  NetworkDef def = b.build();
  for (LayerSpec& l : def.layers)  // non-zero biases, so a lost bias would show
    for (int64_t i = 0; i < l.bias.numel(); ++i) l.bias[i] = 0.01f * float(i + 1);
  return def;
}

TEST_F(OnnxWriter, EveryLayerTypeRoundTripsBitForBit) {
  NetworkDef def = everyLayerType();
  def.input.preprocess = Preprocess::Torchvision;
  const std::string file = path("every.onnx");
  writeOnnx(file, def);
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(readFile(file)));
  EXPECT_NO_THROW(onnx::checker::check_model(proto));
  EXPECT_EQ(proto.opset_import(0).version(), 13);

  const NetworkDef back = importOnnx(file);
  ASSERT_EQ(back.layers.size(), def.layers.size());
  EXPECT_EQ(back.input.shape, def.input.shape);
  EXPECT_EQ(back.input.preprocess, Preprocess::Torchvision);
  for (size_t i = 0; i < def.layers.size(); ++i) {
    const LayerSpec &a = def.layers[i], &r = back.layers[i];
    EXPECT_EQ(r.name, a.name);
    EXPECT_EQ(r.type, a.type) << a.name;
    EXPECT_EQ(r.inputs, a.inputs) << a.name;
    EXPECT_EQ(r.conv.pad, a.conv.pad) << a.name;
    EXPECT_EQ(r.pool.ceilMode, a.pool.ceilMode) << a.name;
    EXPECT_EQ(r.pool.countIncludePad, a.pool.countIncludePad) << a.name;
    for (const auto& [x, y] : {std::pair{&a.weights, &r.weights}, std::pair{&a.bias, &r.bias}}) {
      ASSERT_EQ(x->shape(), y->shape()) << a.name;
      EXPECT_TRUE(ref::sameBits(*x, *y)) << a.name;
    }
  }
  EXPECT_EQ(back.outputShapes(), def.outputShapes());
  // Same network: same outputs from our engine.
  Tensor x(def.input.shape.withBatch(2));
  std::mt19937 rng(5);
  std::normal_distribution<float> n;
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = n(rng);
  auto run = [&](const NetworkDef& d) {
    Session s(CompiledNet::compile(std::make_shared<const NetworkDef>(d)));
    return s.run(x)->finalOutput();
  };
  const Tensor ya = run(def), yb = run(back);
  EXPECT_EQ(std::memcmp(ya.data(), yb.data(), size_t(ya.numel()) * sizeof(float)), 0);
}

TEST_F(OnnxWriter, MetadataCarriesPreprocessingLabelsAndNotes) {
  NetBuilder b("tiny", {1, 6, 6});
  b.flatten("f").dense("d", 3);
  NetworkDef def = b.build();
  def.input.preprocess = Preprocess::Raw;
  def.classNames = {"cat", "dog and wolf", "T-shirt/top"};
  def.metadata["zfvis.training"] = R"({"step": 5})";
  const std::string file = path("tiny.onnx");
  writeOnnx(file, def);
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(readFile(file)));
  std::map<std::string, std::string> props;
  for (const auto& p : proto.metadata_props()) props[p.key()] = p.value();
  EXPECT_EQ(props["zfvis.preprocess"], "raw");
  EXPECT_EQ(props["zfvis.labels"], "cat\ndog and wolf\nT-shirt/top\n");
  EXPECT_EQ(props["zfvis.training"], R"({"step": 5})");
  const NetworkDef back = importOnnx(file);
  EXPECT_EQ(back.input.preprocess, Preprocess::Raw);
  EXPECT_EQ(back.classNames, def.classNames);
  EXPECT_EQ(back.metadata.at("zfvis.training"), R"({"step": 5})");
}

TEST_F(OnnxWriter, ImporterRefusesBadMetadata) {
  NetBuilder b("tiny", {1, 6, 6});
  b.flatten("f").dense("d", 3);
  NetworkDef def = b.build();
  def.classNames = {"a", "b"};  // three outputs
  const std::string file = path("bad.onnx");
  writeOnnx(file, def);
  try {
    importOnnx(file);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("zfvis.labels has 2 class names for 3 outputs"),
              std::string::npos)
        << e.what();
  }
  def.classNames.clear();
  def.metadata["zfvis.preprocess"] = "bgr";  // ignored: the preset is written from the input
  writeOnnx(file, def);
  EXPECT_EQ(importOnnx(file).input.preprocess, Preprocess::Caffe);
}

}  // namespace
}  // namespace zfvis
