// Pure shape inference and validation messages.
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/model/net_builder.h"
#include "core/model/network.h"

namespace zfvis {
namespace {

TEST(WindowOutputSize, FloorAndCeilLikePyTorch) {
  EXPECT_EQ(windowOutputSize(227, 11, 4, 0, 0, 1, false), 55);
  EXPECT_EQ(windowOutputSize(55, 3, 2, 0, 0, 1, false), 27);
  EXPECT_EQ(windowOutputSize(54, 3, 2, 0, 0, 1, false), 26);
  EXPECT_EQ(windowOutputSize(54, 3, 2, 0, 0, 1, true), 27);
  EXPECT_EQ(windowOutputSize(224, 7, 2, 1, 1, 1, false), 110);
  // Ceil mode: the last window must start inside the input (PyTorch rule): 5 -> 3, not 4.
  EXPECT_EQ(windowOutputSize(5, 2, 2, 1, 1, 1, true), 3);
  EXPECT_EQ(windowOutputSize(10, 3, 1, 0, 0, 2, false), 6);  // dilation 2: effective kernel 5
  EXPECT_EQ(windowOutputSize(2, 5, 1, 0, 0, 1, false), 0);
}

LayerSpec convLayer(int out, int k, int s, Padding p, int groups, Shape weights) {
  LayerSpec l;
  l.name = "c";
  l.type = LayerType::Conv;
  l.inputs = {"input"};
  l.conv.outChannels = out;
  l.conv.kernelH = l.conv.kernelW = k;
  l.conv.strideH = l.conv.strideW = s;
  l.conv.pad = p;
  l.conv.groups = groups;
  l.weights = Tensor(weights);
  l.bias = Tensor(Shape{out});
  return l;
}

TEST(ShapeInference, ConvAsymmetricPaddingAndGroups) {
  LayerSpec l = convLayer(8, 3, 2, {0, 0, 1, 1}, 2, {8, 2, 3, 3});
  // (9 + 0 + 1 - 3) / 2 + 1 = 4 rows and columns.
  EXPECT_EQ(inferOutputShape(l, {{4, 9, 9}}), (Shape{8, 4, 4}));
}

TEST(ShapeInference, ConvWeightMismatchNamesLayerAndBothShapes) {
  LayerSpec l = convLayer(8, 3, 1, {}, 1, {8, 3, 3, 3});
  try {
    inferOutputShape(l, {{4, 9, 9}});
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("'c'"), std::string::npos) << m;
    EXPECT_NE(m.find("8 x 3 x 3 x 3"), std::string::npos) << m;
    EXPECT_NE(m.find("8 x 4 x 3 x 3"), std::string::npos) << m;
  }
}

TEST(ShapeInference, GroupsMustDivideChannels) {
  LayerSpec l = convLayer(6, 3, 1, {}, 4, {6, 1, 3, 3});
  EXPECT_THROW(inferOutputShape(l, {{4, 9, 9}}), Error);
}

TEST(ShapeInference, PoolCeilModeAndPadding) {
  LayerSpec l;
  l.name = "p";
  l.type = LayerType::MaxPool;
  l.pool.kernelH = l.pool.kernelW = 3;
  l.pool.strideH = l.pool.strideW = 2;
  l.pool.ceilMode = true;
  EXPECT_EQ(inferOutputShape(l, {{5, 54, 54}}), (Shape{5, 27, 27}));
  l.pool.ceilMode = false;
  l.pool.pad = {1, 1, 1, 1};
  EXPECT_EQ(inferOutputShape(l, {{5, 110, 110}}), (Shape{5, 55, 55}));
}

TEST(ShapeInference, DenseFlattensAndChecksWeights) {
  LayerSpec l;
  l.name = "fc";
  l.type = LayerType::Dense;
  l.dense.units = 10;
  l.weights = Tensor(Shape{10, 2 * 3 * 3});
  l.bias = Tensor(Shape{10});
  EXPECT_EQ(inferOutputShape(l, {{2, 3, 3}}), (Shape{10}));
  EXPECT_THROW(inferOutputShape(l, {{2, 3, 4}}), Error);
}

TEST(ShapeInference, ConcatAddsAlongAxisAndChecksTheRest) {
  LayerSpec l;
  l.name = "cat";
  l.type = LayerType::Concat;
  l.axis.axis = 1;
  EXPECT_EQ(inferOutputShape(l, {{3, 5, 5}, {4, 5, 5}}), (Shape{7, 5, 5}));
  EXPECT_THROW(inferOutputShape(l, {{3, 5, 5}, {4, 5, 6}}), Error);
}

TEST(ShapeInference, ReshapeResolvesMinusOne) {
  LayerSpec l;
  l.name = "r";
  l.type = LayerType::Reshape;
  l.reshape.shape = {-1, 4};
  EXPECT_EQ(inferOutputShape(l, {{2, 3, 4}}), (Shape{6, 4}));
  l.reshape.shape = {5, -1};
  EXPECT_THROW(inferOutputShape(l, {{2, 3, 4}}), Error);
}

TEST(ShapeInference, AddBroadcastsAConstant) {
  LayerSpec l;
  l.name = "a";
  l.type = LayerType::Add;
  l.weights = Tensor(Shape{3, 1, 1});
  EXPECT_EQ(inferOutputShape(l, {{3, 4, 4}}), (Shape{3, 4, 4}));
  l.weights = Tensor(Shape{2, 1, 1});
  EXPECT_THROW(inferOutputShape(l, {{3, 4, 4}}), Error);
}

TEST(NetworkDef, ValidateRejectsUnknownInputsDuplicatesAndForwardReferences) {
  NetworkDef def = NetBuilder("t", {3, 8, 8}).conv("c1", 4, 3, 1).relu("r1").build();
  NetworkDef dup = def;
  dup.layers[1].name = "c1";
  EXPECT_THROW(dup.validate(), Error);
  NetworkDef missing = def;
  missing.layers[1].inputs = {"nowhere"};
  EXPECT_THROW(missing.validate(), Error);
  NetworkDef cycle = def;
  cycle.layers[0].inputs = {"r1"};  // refers to a later layer: not a DAG in this order
  EXPECT_THROW(cycle.validate(), Error);
}

TEST(NetworkDef, ResolveLayerByNameOrIndex) {
  NetworkDef def = NetBuilder("t", {3, 8, 8}).conv("c1", 4, 3, 1).relu("r1").build();
  EXPECT_EQ(def.resolveLayer("r1"), 1u);
  EXPECT_EQ(def.resolveLayer("0"), 0u);
  EXPECT_THROW(def.resolveLayer("2"), Error);
  EXPECT_THROW(def.resolveLayer("conv9"), Error);
}

}  // namespace
}  // namespace zfvis
