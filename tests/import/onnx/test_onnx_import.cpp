// ONNX importer: one behaviour per test on small models built in C++. Expected values come from
// the ONNX operator definitions (naive loops over the file's own arrays, or the naive reference
// ops with hand-written parameters), never from the importer's output.
#include <gtest/gtest.h>

#include <cmath>

#include "core/base/error.h"
#include "core/import/onnx_import.h"
#include "tests/import/onnx/onnx_test_util.h"
#include "tests/reference/naive_ops.h"
#include "tests/reference/tolerance.h"

namespace zfvis::test {
namespace {

NetworkDef import(const OnnxModelBuilder& b) {
  return importOnnxBytes(b.bytes(), "test.onnx");
}

// Error text of importing `b` ("" when it imports).
std::string importError(const OnnxModelBuilder& b) {
  try {
    import(b);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// ---- Conv ---------------------------------------------------------------------------------

TEST(OnnxImport, ConvGroupsStridesDilationsAsymmetricPadsMatchReference) {
  const Tensor w = randomTensor(Shape{6, 2, 3, 3}, 1);
  const Tensor bias = randomTensor(Shape{6}, 2);
  OnnxModelBuilder b(11, 6);
  b.input("x", {2, 4, 11, 10}).output("y").initializer("W", w).initializer("B", bias);
  auto& n = b.node("Conv", {"x", "W", "B"}, {"y"}, "conv");
  setAttr(n, "group", int64_t(2));
  setAttr(n, "strides", std::vector<int64_t>{2, 1});
  setAttr(n, "dilations", std::vector<int64_t>{1, 2});
  setAttr(n, "pads", std::vector<int64_t>{1, 0, 2, 1});  // top, left, bottom, right
  setAttr(n, "kernel_shape", std::vector<int64_t>{3, 3});
  NetworkDef def = import(b);
  ASSERT_EQ(def.layers.size(), 1u);
  const ConvParams& c = def.layers[0].conv;
  EXPECT_EQ(c.groups, 2);
  EXPECT_EQ(c.pad, (Padding{1, 0, 2, 1}));

  ConvParams p;
  p.outChannels = 6;
  p.kernelH = p.kernelW = 3;
  p.strideH = 2;
  p.dilationW = 2;
  p.groups = 2;
  p.pad = {1, 0, 2, 1};
  const Tensor x = randomTensor(Shape{2, 4, 11, 10}, 3);
  EXPECT_LE(relativeError(runEngine(def, x), ref::conv2d(x, w, bias, p)),
            ref::outputTolerance(def, x));
}

TEST(OnnxImport, ConvAutoPadSameUpperAndLowerPutTheOddPixelAtTheEndOrStart) {
  // Input 7, kernel 4, stride 2: output ceil(7 / 2) = 4, total padding (4 - 1) * 2 + 4 - 7 = 3.
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    SCOPED_TRACE(mode);
    OnnxModelBuilder b(11, 6);
    b.input("x", {1, 1, 7, 7}).output("y").initializer("W", randomTensor(Shape{2, 1, 4, 4}, 4));
    auto& n = b.node("Conv", {"x", "W"}, {"y"});
    setAttr(n, "strides", std::vector<int64_t>{2, 2});
    setAttr(n, "auto_pad", std::string(mode));
    NetworkDef def = import(b);
    const Padding expected = std::string(mode) == "SAME_UPPER"   ? Padding{1, 1, 2, 2}
                             : std::string(mode) == "SAME_LOWER" ? Padding{2, 2, 1, 1}
                                                                 : Padding{0, 0, 0, 0};
    EXPECT_EQ(def.layers[0].conv.pad, expected);
    EXPECT_FALSE(def.layers[0].conv.hasBias);
  }
}

TEST(OnnxImport, ConvWeightsMustBeConstant) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 1, 5, 5}).output("y");
  b.node("Relu", {"x"}, {"r"});
  b.node("Conv", {"x", "r"}, {"y"}, "conv");
  EXPECT_NE(importError(b).find("must be a constant"), std::string::npos) << importError(b);
}

// ---- Gemm / MatMul / Add ------------------------------------------------------------------

// y = alpha * x B' + beta * c (B' = B or B^T), by naive loops over the ONNX arrays.
Tensor gemmReference(const Tensor& x, const Tensor& bMat, bool transB, const Tensor& c, float alpha,
                     float beta) {
  const int64_t n = x.shape()[0], k = x.shape()[1];
  const int64_t units = transB ? bMat.shape()[0] : bMat.shape()[1];
  Tensor y(Shape{n, units});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t u = 0; u < units; ++u) {
      double s = 0;
      for (int64_t j = 0; j < k; ++j)
        s += double(x[i * k + j]) * (transB ? bMat[u * k + j] : bMat[j * units + u]);
      y[i * units + u] = float(alpha * s + beta * c[c.numel() == 1 ? 0 : u]);
    }
  return y;
}

TEST(OnnxImport, GemmTransBAlphaBetaMatchReference) {
  for (bool transB : {false, true}) {
    SCOPED_TRACE(transB);
    const Tensor bMat = randomTensor(transB ? Shape{5, 7} : Shape{7, 5}, 5);
    const Tensor c = randomTensor(Shape{1, 5}, 6);
    OnnxModelBuilder b(13);
    b.input("x", {3, 7}).output("y").initializer("B", bMat).initializer("C", c);
    auto& n = b.node("Gemm", {"x", "B", "C"}, {"y"}, "fc");
    setAttr(n, "alpha", 0.5f);
    setAttr(n, "beta", 2.0f);
    setAttr(n, "transB", int64_t(transB));
    NetworkDef def = import(b);
    ASSERT_EQ(def.layers[0].type, LayerType::Dense);
    EXPECT_EQ(def.layers[0].weights.shape(), (Shape{5, 7}));
    const Tensor x = randomTensor(Shape{3, 7}, 7);
    EXPECT_LE(relativeError(runEngine(def, x), gemmReference(x, bMat, transB, c, 0.5f, 2.0f)),
              ref::outputTolerance(def, x));
  }
}

TEST(OnnxImport, GemmScalarBiasReachesEveryUnit) {
  const Tensor bMat = randomTensor(Shape{4, 3}, 8);
  Tensor c(Shape{}, 0.25f);
  OnnxModelBuilder b(13);
  b.input("x", {2, 4}).output("y").initializer("B", bMat).initializer("C", c);
  b.node("Gemm", {"x", "B", "C"}, {"y"});
  NetworkDef def = import(b);
  const Tensor x = randomTensor(Shape{2, 4}, 9);
  EXPECT_LE(relativeError(runEngine(def, x), gemmReference(x, bMat, false, c, 1, 1)),
            ref::outputTolerance(def, x));
}

TEST(OnnxImport, GemmTransARefusedBecauseItTransposesTheBatch) {
  OnnxModelBuilder b(13);
  b.input("x", {4, 2}).output("y").initializer("B", randomTensor(Shape{4, 3}, 1));
  auto& n = b.node("Gemm", {"x", "B"}, {"y"}, "fc");
  setAttr(n, "transA", int64_t(1));
  EXPECT_NE(importError(b).find("node 'fc' (Gemm, opset 13): transA=1"), std::string::npos)
      << importError(b);
}

TEST(OnnxImport, MatMulFollowedByAddBecomesOneDenseLayerWithBias) {
  const Tensor w = randomTensor(Shape{6, 4}, 10);
  const Tensor bias = randomTensor(Shape{4}, 11);
  OnnxModelBuilder b(13);
  b.input("x", {2, 6}).output("y").initializer("W", w).initializer("b", bias);
  b.node("MatMul", {"x", "W"}, {"m"}, "fc");
  b.node("Add", {"b", "m"}, {"y"}, "fc_bias");
  NetworkDef def = import(b);
  ASSERT_EQ(def.layers.size(), 1u);
  EXPECT_EQ(def.layers[0].name, "fc");
  EXPECT_TRUE(def.layers[0].dense.hasBias);
  const Tensor x = randomTensor(Shape{2, 6}, 12);
  EXPECT_LE(relativeError(runEngine(def, x), gemmReference(x, w, false, bias, 1, 1)),
            ref::outputTolerance(def, x));
}

TEST(OnnxImport, MatMulAloneIsDenseWithoutBias) {
  const Tensor w = randomTensor(Shape{6, 4}, 13);
  OnnxModelBuilder b(13);
  b.input("x", {2, 6}).output("y").initializer("W", w);
  b.node("MatMul", {"x", "W"}, {"y"});
  NetworkDef def = import(b);
  ASSERT_EQ(def.layers.size(), 1u);
  EXPECT_FALSE(def.layers[0].dense.hasBias);
  const Tensor x = randomTensor(Shape{2, 6}, 14);
  EXPECT_LE(
      relativeError(runEngine(def, x), gemmReference(x, w, false, Tensor(Shape{}, 0.0f), 1, 1)),
      ref::outputTolerance(def, x));
}

TEST(OnnxImport, AddAfterMatMulWithAnotherConsumerStaysAnAddLayer) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 6}).output("y");
  b.initializer("W", randomTensor(Shape{6, 4}, 15)).initializer("b", randomTensor(Shape{4}, 16));
  b.node("MatMul", {"x", "W"}, {"m"}, "fc");
  b.node("Add", {"m", "b"}, {"s"}, "bias");
  b.node("Add", {"s", "m"}, {"y"}, "sum");  // m is used twice: no folding
  NetworkDef def = import(b);
  ASSERT_EQ(def.layers.size(), 3u);
  EXPECT_EQ(def.layers[1].type, LayerType::Add);
  EXPECT_EQ(def.layers[1].weights.shape(), (Shape{4}));
  EXPECT_EQ(def.layers[2].inputs, (std::vector<std::string>{"bias", "fc"}));
}

TEST(OnnxImport, LegacyAddBroadcastAxisLinesTheConstantUpWithChannels) {
  // Opset 6: Add(x, b, broadcast=1, axis=1) with b of shape C adds b[c] to channel c.
  const Tensor bias = randomTensor(Shape{3}, 17);
  OnnxModelBuilder b(6, 3);
  b.input("x", {1, 3, 2, 2}).input("b", {3}).output("y").initializer("b", bias);
  auto& n = b.node("Add", {"x", "b"}, {"y"});
  setAttr(n, "broadcast", int64_t(1));
  setAttr(n, "axis", int64_t(1));
  NetworkDef def = import(b);
  EXPECT_EQ(def.layers[0].weights.shape(), (Shape{3, 1, 1}));
  const Tensor x = randomTensor(Shape{1, 3, 2, 2}, 18);
  Tensor expected = x;
  for (int64_t i = 0; i < x.numel(); ++i) expected[i] = x[i] + bias[i / 4];
  EXPECT_LE(relativeError(runEngine(def, x), expected), ref::outputTolerance(def, x));
}

TEST(OnnxImport, AddOfTwoComputedValuesIsATwoInputLayer) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 3, 4}).output("y");
  b.node("Relu", {"x"}, {"r"}, "relu");
  b.node("Add", {"r", "x"}, {"y"}, "sum");
  NetworkDef def = import(b);
  EXPECT_EQ(def.layers[1].inputs, (std::vector<std::string>{"relu", "x"}));
  const Tensor x = randomTensor(Shape{2, 3, 4}, 19);
  Tensor expected = x;
  for (int64_t i = 0; i < x.numel(); ++i) expected[i] = std::max(x[i], 0.0f) + x[i];
  EXPECT_LE(relativeError(runEngine(def, x), expected), ref::outputTolerance(def, x));
}

// ---- BatchNormalization -------------------------------------------------------------------

TEST(OnnxImport, BatchNormAfterConvIsFoldedAndMatchesConvThenBatchNorm) {
  const Tensor w = randomTensor(Shape{3, 2, 3, 3}, 20);
  const Tensor bias = randomTensor(Shape{3}, 21);
  const Tensor scale = randomTensor(Shape{3}, 22, 0.5f, 1.5f);
  const Tensor shift = randomTensor(Shape{3}, 23);
  const Tensor mean = randomTensor(Shape{3}, 24);
  const Tensor var = randomTensor(Shape{3}, 25, 0.5f, 2.0f);
  OnnxModelBuilder b(9, 4);
  b.input("x", {1, 2, 6, 6}).output("y");
  b.initializer("W", w).initializer("B", bias).initializer("s", scale).initializer("t", shift);
  b.initializer("m", mean).initializer("v", var);
  b.node("Conv", {"x", "W", "B"}, {"c"}, "conv");
  auto& bn = b.node("BatchNormalization", {"c", "s", "t", "m", "v"}, {"y"}, "bn");
  setAttr(bn, "epsilon", 1e-3f);
  setAttr(bn, "spatial", int64_t(1));  // dropped from the schema in opset 9; old exporters keep it
  NetworkDef def = import(b);
  ASSERT_EQ(def.layers.size(), 1u);
  EXPECT_EQ(def.layers[0].name, "conv");
  EXPECT_NE(def.notes.back().find("legacy attribute"), std::string::npos);

  ConvParams p;
  p.outChannels = 3;
  p.kernelH = p.kernelW = 3;
  const Tensor x = randomTensor(Shape{1, 2, 6, 6}, 26);
  Tensor params(Shape{4, 3});
  for (int64_t c = 0; c < 3; ++c) {
    params[c] = scale[c];
    params[3 + c] = shift[c];
    params[6 + c] = mean[c];
    params[9 + c] = var[c];
  }
  const Tensor expected = ref::batchNorm(ref::conv2d(x, w, bias, p), params, 1e-3f);
  // Folding rounds each weight once more (scale / sqrt(var + eps) * w): one more rounding per
  // term, on top of the chain's bound.
  EXPECT_LE(relativeError(runEngine(def, x), expected),
            ref::outputTolerance(def, x) + 4 * ref::kUnitRoundoff);
}

TEST(OnnxImport, BatchNormTrainingModeRefused) {
  OnnxModelBuilder b(15, 8);
  b.input("x", {1, 2, 3, 3}).output("y");
  for (const char* n : {"s", "t", "m", "v"}) b.initializer(n, Tensor(Shape{2}, 1.0f));
  auto& bn = b.node("BatchNormalization", {"x", "s", "t", "m", "v"}, {"y"}, "bn");
  setAttr(bn, "training_mode", int64_t(1));
  EXPECT_NE(importError(b).find("training_mode=1 is not supported"), std::string::npos)
      << importError(b);
}

// ---- Softmax --------------------------------------------------------------------------------

TEST(OnnxImport, SoftmaxBeforeOpset13CoercesTo2dAtAxis) {
  OnnxModelBuilder b(11, 6);
  b.input("x", {2, 3, 2, 2}).output("y");
  b.node("Softmax", {"x"}, {"y"});  // default axis 1: softmax over each sample's 12 values
  NetworkDef def = import(b);
  EXPECT_EQ(def.layers[0].axis.axis, 1);
  EXPECT_TRUE(def.layers[0].axis.coerce2d);
  const Tensor x = randomTensor(Shape{2, 3, 2, 2}, 27);
  Tensor expected(x.shape());
  for (int64_t n = 0; n < 2; ++n) {
    double sum = 0;
    for (int64_t i = 0; i < 12; ++i) sum += std::exp(double(x[n * 12 + i]));
    for (int64_t i = 0; i < 12; ++i)
      expected[n * 12 + i] = float(std::exp(double(x[n * 12 + i])) / sum);
  }
  EXPECT_LE(relativeError(runEngine(def, x), expected), ref::outputTolerance(def, x));
}

TEST(OnnxImport, SoftmaxFromOpset13UsesOneAxisDefaultLast) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 3, 4}).output("y");
  b.node("Softmax", {"x"}, {"y"});
  NetworkDef def = import(b);
  EXPECT_EQ(def.layers[0].axis.axis, 2);
  EXPECT_FALSE(def.layers[0].axis.coerce2d);
  const Tensor x = randomTensor(Shape{2, 3, 4}, 28);
  Tensor expected(x.shape());
  for (int64_t r = 0; r < 6; ++r) {
    double sum = 0;
    for (int64_t i = 0; i < 4; ++i) sum += std::exp(double(x[r * 4 + i]));
    for (int64_t i = 0; i < 4; ++i)
      expected[r * 4 + i] = float(std::exp(double(x[r * 4 + i])) / sum);
  }
  EXPECT_LE(relativeError(runEngine(def, x), expected), ref::outputTolerance(def, x));
}

TEST(OnnxImport, SoftmaxOverTheBatchAxisRefused) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 3}).output("y");
  auto& n = b.node("Softmax", {"x"}, {"y"});
  setAttr(n, "axis", int64_t(0));
  EXPECT_NE(importError(b).find("batch axis"), std::string::npos) << importError(b);
}

// ---- Flatten / Reshape --------------------------------------------------------------------

TEST(OnnxImport, FlattenAxisOneKeepsTheBatchOtherAxesRefused) {
  for (int64_t axis : {1, -2, 0, 2}) {
    SCOPED_TRACE(axis);
    OnnxModelBuilder b(13);
    b.input("x", {2, 3, 4}).output("y");
    auto& n = b.node("Flatten", {"x"}, {"y"}, "flat");
    setAttr(n, "axis", axis);
    if (axis == 1 || axis == -2) {
      NetworkDef def = import(b);
      EXPECT_EQ(def.outputShapes()[0], (Shape{12}));
    } else {
      EXPECT_NE(importError(b).find("only axis 1 is supported"), std::string::npos);
    }
  }
}

TEST(OnnxImport, ReshapeDropsTheBatchEntryAndResolvesZeroAndMinusOne) {
  struct Case {
    std::vector<int64_t> target;
    Shape perSample;
  };
  // Input declared as 2 x 3 x 4 x 5.
  for (const Case& c :
       {Case{{0, -1}, Shape{60}}, Case{{-1, 3, 20}, Shape{3, 20}}, Case{{2, 0, -1}, Shape{3, 20}},
        Case{{0, 4, 0, 3, -1}, Shape{4, 4, 3, 5}}}) {
    OnnxModelBuilder b(13);
    b.input("x", {2, 3, 4, 5}).output("y").initializerInts("shape", c.target);
    b.node("Reshape", {"x", "shape"}, {"y"});
    if (c.target == std::vector<int64_t>{0, 4, 0, 3, -1}) {
      // 0 at position 2 copies the input's axis 2 (4): 4 x 4 x 3 x ? cannot hold 60 values.
      EXPECT_NE(importError(b).find("cannot reshape"), std::string::npos) << importError(b);
      continue;
    }
    NetworkDef def = import(b);
    EXPECT_EQ(def.outputShapes()[0], c.perSample);
  }
}

TEST(OnnxImport, ReshapeThatChangesTheBatchIsRefused) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 3, 4}).output("y").initializerInts("shape", {4, 2, 3});
  b.node("Reshape", {"x", "shape"}, {"y"}, "r");
  EXPECT_NE(importError(b).find("changes the batch axis"), std::string::npos) << importError(b);
}

TEST(OnnxImport, ReshapeBeforeOpset5ReadsTheShapeAttribute) {
  OnnxModelBuilder b(4, 3);
  b.input("x", {1, 2, 3, 4}).output("y");
  auto& n = b.node("Reshape", {"x"}, {"y"});
  setAttr(n, "shape", std::vector<int64_t>{1, 24});
  NetworkDef def = import(b);
  EXPECT_EQ(def.outputShapes()[0], (Shape{24}));
}

TEST(OnnxImport, ConstantNodesFeedReshapeShapesAndConvWeights) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 1, 4, 4}).output("y");
  auto& wNode = b.node("Constant", {}, {"W"});
  auto* wAttr = wNode.add_attribute();
  wAttr->set_name("value");
  wAttr->set_type(onnx::AttributeProto::TENSOR);
  *wAttr->mutable_t() = toTensorProto(Tensor(Shape{1, 1, 1, 1}, 2.0f), "");
  auto& sNode = b.node("Constant", {}, {"shape"});
  setAttr(sNode, "value_ints", std::vector<int64_t>{0, -1});
  b.node("Conv", {"x", "W"}, {"c"}, "conv");
  b.node("Reshape", {"c", "shape"}, {"y"}, "flat");
  NetworkDef def = import(b);
  ASSERT_EQ(def.layers.size(), 2u);
  const Tensor x = randomTensor(Shape{1, 1, 4, 4}, 29);
  Tensor expected(Shape{1, 16});
  for (int64_t i = 0; i < 16; ++i) expected[i] = 2 * x[i];
  EXPECT_LE(relativeError(runEngine(def, x), expected), ref::outputTolerance(def, x));
}

TEST(OnnxImport, IdentityOfAnInitializerIsTheSameConstant) {
  // PyTorch's exporter (torchvision's ResNet, VGG, SqueezeNet, GoogLeNet) shares initializers
  // through Identity nodes: conv weights and a bias arrive under the Identity's output name.
  const Tensor w = randomTensor(Shape{2, 1, 3, 3}, 41);
  const Tensor bias = randomTensor(Shape{2}, 42);
  OnnxModelBuilder b(11);
  b.input("x", {1, 1, 5, 5}).output("y").initializer("W", w).initializer("B", bias);
  b.node("Identity", {"W"}, {"W_shared"});
  b.node("Identity", {"B"}, {"B_shared"});
  b.node("Conv", {"x", "W_shared", "B_shared"}, {"c"}, "conv");
  b.node("Identity", {"c"}, {"y"}, "id");  // an Identity of a computed value stays a layer
  NetworkDef def = import(b);
  ASSERT_EQ(def.layers.size(), 2u);
  EXPECT_EQ(def.layers[0].type, LayerType::Conv);
  EXPECT_EQ(def.layers[1].type, LayerType::Identity);
  ConvParams p;
  p.outChannels = 2;
  p.kernelH = p.kernelW = 3;
  const Tensor x = randomTensor(Shape{1, 1, 5, 5}, 43);
  EXPECT_LE(relativeError(runEngine(def, x), ref::conv2d(x, w, bias, p)),
            ref::outputTolerance(def, x));
}

// ---- Dropout, pooling, LRN ------------------------------------------------------------------

TEST(OnnxImport, DropoutInEveryOpsetFormIsIdentity) {
  // Opset 6 with is_test, opset 9 with a stray is_test (old Caffe2 exports; the checker would
  // reject it, so it is dropped), opset 12 plain, opset 13 with ratio and training_mode=false.
  for (int opset : {6, 9, 12, 13}) {
    SCOPED_TRACE(opset);
    OnnxModelBuilder b(opset, opset < 9 ? 3 : 7);
    b.input("x", {2, 5}).output("y");
    if (opset == 12) {
      b.node("Dropout", {"x"}, {"y"}, "drop");
    } else if (opset >= 13) {
      b.initializer("ratio", Tensor(Shape{}, 0.5f));
      auto* t = b.model().mutable_graph()->add_initializer();
      t->set_name("training");
      t->set_data_type(onnx::TensorProto::BOOL);
      t->add_int32_data(0);
      b.node("Dropout", {"x", "ratio", "training"}, {"y"}, "drop");
    } else {
      auto& n = b.node("Dropout", {"x"}, {"y"}, "drop");
      setAttr(n, "is_test", int64_t(1));
      setAttr(n, "ratio", 0.5f);
    }
    NetworkDef def = import(b);
    ASSERT_EQ(def.layers.size(), 1u);
    EXPECT_EQ(def.layers[0].type, LayerType::Dropout);
    const Tensor x = randomTensor(Shape{2, 5}, 30);
    EXPECT_LE(relativeError(runEngine(def, x), x), 0.0);
    if (opset == 9) {
      EXPECT_NE(def.notes.back().find("legacy attribute"), std::string::npos);
    }
  }
}

TEST(OnnxImport, DropoutTrainingModeTrueRefused) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 5}).output("y");
  auto* t = b.model().mutable_graph()->add_initializer();
  t->set_name("training");
  t->set_data_type(onnx::TensorProto::BOOL);
  t->add_int32_data(1);
  b.node("Dropout", {"x", "", "training"}, {"y"}, "drop");
  EXPECT_NE(importError(b).find("training_mode=true"), std::string::npos) << importError(b);
}

TEST(OnnxImport, MaxPoolCeilModeAndAveragePoolCountIncludePadMatchReference) {
  OnnxModelBuilder b(11, 6);
  b.input("x", {1, 2, 8, 8}).output("y");
  auto& mp = b.node("MaxPool", {"x"}, {"m"}, "pool");
  setAttr(mp, "kernel_shape", std::vector<int64_t>{3, 3});
  setAttr(mp, "strides", std::vector<int64_t>{2, 2});
  setAttr(mp, "ceil_mode", int64_t(1));
  auto& ap = b.node("AveragePool", {"m"}, {"y"}, "avg");
  setAttr(ap, "kernel_shape", std::vector<int64_t>{2, 2});
  setAttr(ap, "pads", std::vector<int64_t>{1, 1, 0, 0});
  setAttr(ap, "count_include_pad", int64_t(1));
  NetworkDef def = import(b);
  EXPECT_EQ(def.outputShapes()[0], (Shape{2, 4, 4}));  // ceil((8 - 3) / 2) + 1
  PoolParams mpp;
  mpp.kernelH = mpp.kernelW = 3;
  mpp.strideH = mpp.strideW = 2;
  mpp.ceilMode = true;
  PoolParams app;
  app.kernelH = app.kernelW = 2;
  app.pad = {1, 1, 0, 0};
  app.countIncludePad = true;
  const Tensor x = randomTensor(Shape{1, 2, 8, 8}, 31);
  EXPECT_LE(relativeError(runEngine(def, x), ref::avgPool(ref::maxPool(x, mpp), app)),
            ref::outputTolerance(def, x));
}

TEST(OnnxImport, MaxPoolIndicesOutputRefused) {
  OnnxModelBuilder b(12);
  b.input("x", {1, 1, 4, 4}).output("y").output("idx");
  auto& mp = b.node("MaxPool", {"x"}, {"y", "idx"}, "pool");
  setAttr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  EXPECT_NE(importError(b).find("exactly one output"), std::string::npos) << importError(b);
}

TEST(OnnxImport, LrnMatchesReferenceAndEvenSizeIsRefused) {
  for (int64_t size : {3, 4}) {
    OnnxModelBuilder b(13);
    b.input("x", {1, 6, 3, 3}).output("y");
    auto& n = b.node("LRN", {"x"}, {"y"}, "norm");
    setAttr(n, "size", size);
    setAttr(n, "alpha", 0.01f);
    setAttr(n, "beta", 0.5f);
    setAttr(n, "bias", 2.0f);
    if (size % 2 == 0) {
      EXPECT_NE(importError(b).find("even window size"), std::string::npos) << importError(b);
      continue;
    }
    NetworkDef def = import(b);
    LrnParams p;
    p.size = 3;
    p.alpha = 0.01f;
    p.beta = 0.5f;
    p.bias = 2.0f;
    const Tensor x = randomTensor(Shape{1, 6, 3, 3}, 32, -3.0f, 3.0f);
    EXPECT_LE(relativeError(runEngine(def, x), ref::lrn(x, p)), ref::outputTolerance(def, x));
  }
}

// ---- A whole Caffe2-style model at opset 3 --------------------------------------------------

TEST(OnnxImport, CaffeTwoStyleOpset3ModelMatchesReference) {
  // IR 3 (initializers listed as inputs), unnamed nodes, Reshape with a 'shape' attribute,
  // Gemm with broadcast=1 and transB=1, Dropout with is_test, Softmax(axis=1), and max pooling
  // whose extra end padding stands in for Caffe's ceil rounding.
  const Tensor convW = randomTensor(Shape{4, 3, 3, 3}, 40), convB = randomTensor(Shape{4}, 41);
  const Tensor fcW = randomTensor(Shape{5, 36}, 42), fcB = randomTensor(Shape{5}, 43);
  OnnxModelBuilder b(3, 3);
  b.input("data_0", {1, 3, 9, 9}).output("prob_1");
  for (auto [name, t] : {std::pair{"conv1_w_0", &convW},
                         {"conv1_b_0", &convB},
                         {"fc6_w_0", &fcW},
                         {"fc6_b_0", &fcB}}) {
    b.initializer(name, *t);
    b.input(name, t->shape().dims());
  }
  auto& conv = b.node("Conv", {"data_0", "conv1_w_0", "conv1_b_0"}, {"conv1_1"});
  setAttr(conv, "kernel_shape", std::vector<int64_t>{3, 3});
  setAttr(conv, "pads", std::vector<int64_t>{0, 0, 0, 0});
  b.node("Relu", {"conv1_1"}, {"conv1_2"});
  auto& lrn = b.node("LRN", {"conv1_2"}, {"norm1_1"});
  setAttr(lrn, "size", int64_t(3));
  auto& pool = b.node("MaxPool", {"norm1_1"}, {"pool1_1"});
  setAttr(pool, "kernel_shape", std::vector<int64_t>{3, 3});
  setAttr(pool, "strides", std::vector<int64_t>{2, 2});
  setAttr(pool, "pads", std::vector<int64_t>{0, 0, 1, 1});
  auto& reshape = b.node("Reshape", {"pool1_1"}, {"OC2_DUMMY_0"});
  setAttr(reshape, "shape", std::vector<int64_t>{1, 36});
  auto& gemm = b.node("Gemm", {"OC2_DUMMY_0", "fc6_w_0", "fc6_b_0"}, {"fc6_1"});
  setAttr(gemm, "broadcast", int64_t(1));
  setAttr(gemm, "transB", int64_t(1));
  auto& drop = b.node("Dropout", {"fc6_1"}, {"fc6_2"});
  setAttr(drop, "is_test", int64_t(1));
  setAttr(drop, "ratio", 0.5f);
  auto& softmax = b.node("Softmax", {"fc6_2"}, {"prob_1"});
  setAttr(softmax, "axis", int64_t(1));
  NetworkDef def = import(b);
  ASSERT_EQ(def.layers.size(), 8u);
  EXPECT_EQ(def.layers[4].name, "Reshape_4");
  EXPECT_EQ(def.outputShapes()[3], (Shape{4, 3, 3}));  // (7 + 1 - 3) / 2 + 1 = 3

  ConvParams cp;
  cp.outChannels = 4;
  cp.kernelH = cp.kernelW = 3;
  LrnParams lp;
  lp.size = 3;
  PoolParams pp;
  pp.kernelH = pp.kernelW = 3;
  pp.strideH = pp.strideW = 2;
  pp.pad = {0, 0, 1, 1};
  const Tensor x = randomTensor(Shape{1, 3, 9, 9}, 44, -50.0f, 50.0f);
  Tensor pooled = ref::maxPool(ref::lrn(ref::relu(ref::conv2d(x, convW, convB, cp)), lp), pp);
  const Tensor expected = ref::softmax(ref::dense(pooled, fcW, fcB), 1, true);
  EXPECT_LE(relativeError(runEngine(def, x), expected), ref::outputTolerance(def, x));
}

// ---- Graph structure, names, input ----------------------------------------------------------

TEST(OnnxImport, UnnamedNodesAreNamedOpTypeIndexAndDuplicateNamesMadeUnique) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4}).output("y");
  b.node("Relu", {"x"}, {"a"});
  b.node("Identity", {"a"}, {"b"}, "same");
  b.node("Relu", {"b"}, {"y"}, "same");
  NetworkDef def = import(b);
  ASSERT_EQ(def.layers.size(), 3u);
  EXPECT_EQ(def.layers[0].name, "Relu_0");
  EXPECT_EQ(def.layers[1].name, "same");
  EXPECT_EQ(def.layers[2].name, "same_2");
  EXPECT_EQ(def.layers[2].inputs, (std::vector<std::string>{"same"}));
  EXPECT_EQ(def.layers[0].inputs, (std::vector<std::string>{"x"}));
}

TEST(OnnxImport, InputShapeIsPerSampleAndInitializersListedAsInputsAreIgnored) {
  OnnxModelBuilder b(9, 3);
  b.input("data_0", {-1, 3, 5, 7}).output("y").initializer("W", randomTensor(Shape{2, 3, 1, 1}, 1));
  b.input("W", {2, 3, 1, 1});  // IR 3 lists initializers as inputs too
  b.node("Conv", {"data_0", "W"}, {"y"});
  NetworkDef def = import(b);
  EXPECT_EQ(def.input.name, "data_0");
  EXPECT_EQ(def.input.shape, (Shape{3, 5, 7}));
  EXPECT_EQ(def.name, "test");
  EXPECT_EQ(def.source, "test.onnx");
  EXPECT_EQ(def.input.preprocess, Preprocess::Caffe);
}

TEST(OnnxImport, NodesTheOutputDoesNotNeedAreIgnored) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  b.node("Sigmoid", {"x"}, {"unused"});  // unsupported, but not needed
  EXPECT_EQ(import(b).layers.size(), 1u);
}

TEST(OnnxImport, UnsupportedOperatorErrorNamesNodeOpTypeOpsetAndTheSupportedList) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4}).output("y");
  b.node("Sigmoid", {"x"}, {"y"}, "sig");
  const std::string e = importError(b);
  EXPECT_NE(e.find("test.onnx: node 'sig' (Sigmoid, opset 13): unsupported operator"),
            std::string::npos)
      << e;
  for (const std::string& op : supportedOnnxOps()) EXPECT_NE(e.find(op), std::string::npos) << op;
}

TEST(OnnxImport, SupportedOperatorListIsTheIssueList) {
  EXPECT_EQ(supportedOnnxOps(),
            (std::vector<std::string>{"Add", "AveragePool", "BatchNormalization", "Concat",
                                      "Constant", "Conv", "Dropout", "Flatten", "Gemm",
                                      "GlobalAveragePool", "Identity", "LRN", "MatMul", "MaxPool",
                                      "Relu", "Reshape", "Softmax"}));
}

TEST(OnnxImport, CheckerRejectionIsOneLineNamingTheNode) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4}).output("y");
  setAttr(b.node("Relu", {"x"}, {"y"}, "r1"), "foo", int64_t(3));
  const std::string e = importError(b);
  EXPECT_EQ(e,
            "test.onnx: rejected by the ONNX checker: Unrecognized attribute: foo for operator "
            "Relu (Name: r1 OpType: Relu)");
}

TEST(OnnxImport, OpsetOutsideOneToSeventeenRefused) {
  OnnxModelBuilder b(18, 8);
  b.input("x", {1, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  EXPECT_NE(importError(b).find("opset 18 is not supported"), std::string::npos) << importError(b);
}

TEST(OnnxImport, TwoGraphInputsRefused) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4}).input("z", {1, 4}).output("y");
  b.node("Add", {"x", "z"}, {"y"});
  EXPECT_NE(importError(b).find("exactly one input"), std::string::npos) << importError(b);
}

TEST(OnnxImport, ConcatOfBranchesAlongChannels) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 2, 3, 3}).output("y");
  b.node("Relu", {"x"}, {"r"}, "relu");
  auto& n = b.node("Concat", {"x", "r"}, {"y"}, "cat");
  setAttr(n, "axis", int64_t(-3));
  NetworkDef def = import(b);
  EXPECT_EQ(def.layers[1].axis.axis, 1);
  const Tensor x = randomTensor(Shape{1, 2, 3, 3}, 33);
  EXPECT_LE(relativeError(runEngine(def, x), ref::concat({x, ref::relu(x)}, 1)),
            ref::outputTolerance(def, x));
}

}  // namespace
}  // namespace zfvis::test
