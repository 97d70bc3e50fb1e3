// Full-model Keras files (model.save): the architecture read from model_config and the outputs
// of the small seed models against the NumPy reference written by
// tests/fixtures/scripts/make_keras_fixtures.py (channels-last semantics, independent of zfvis).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/import/keras_import.h"
#include "core/import/model_loader.h"
#include "tests/import/keras/keras_test_util.h"

namespace zfvis {
namespace {

using kerastest::expectMatchesReference;
using kerastest::fixture;

std::vector<std::string> layerNames(const NetworkDef& def) {
  std::vector<std::string> names;
  for (const LayerSpec& l : def.layers) names.push_back(l.name);
  return names;
}

const LayerSpec& layer(const NetworkDef& def, const std::string& name) {
  int i = def.indexOf(name);
  EXPECT_GE(i, 0) << "no layer " << name;
  return def.layers.at(static_cast<size_t>(i < 0 ? 0 : i));
}

Shape shapeOf(const NetworkDef& def, const std::string& name) {
  return def.outputShapes().at(static_cast<size_t>(def.indexOf(name)));
}

TEST(KerasImport, AlexnetSequentialLayersAndShapes) {
  NetworkDef def = importKeras(fixture("keras_alexnet.h5"));
  EXPECT_EQ(def.name, "keras_alexnet");
  EXPECT_EQ(def.source, fixture("keras_alexnet.h5"));
  EXPECT_FALSE(def.untrained);
  EXPECT_EQ(def.input.preprocess, Preprocess::Caffe);
  EXPECT_EQ(def.input.name, "conv2d_input");
  EXPECT_EQ(def.input.shape, (Shape{3, 67, 99}));  // (H, W, C) = (67, 99, 3)
  // Keras activations become layers of their own; conv1 and the hidden Dense layers have none
  // (the seed's quirk, kept faithfully in the fixture).
  EXPECT_EQ(layerNames(def),
            (std::vector<std::string>{"conv2d", "max_pooling2d", "conv2d_1", "conv2d_1_relu",
                                      "max_pooling2d_1", "conv2d_2", "conv2d_2_relu", "conv2d_3",
                                      "conv2d_3_relu", "conv2d_4", "conv2d_4_relu",
                                      "max_pooling2d_2", "flatten", "dense", "dropout", "dense_1",
                                      "dropout_1", "dense_2", "dense_2_softmax"}));
  EXPECT_EQ(shapeOf(def, "conv2d"), (Shape{8, 15, 23}));
  EXPECT_EQ(shapeOf(def, "max_pooling2d"), (Shape{8, 7, 11}));
  EXPECT_EQ(shapeOf(def, "conv2d_1"), (Shape{12, 7, 11}));
  EXPECT_EQ(shapeOf(def, "max_pooling2d_2"), (Shape{12, 1, 2}));
  EXPECT_EQ(shapeOf(def, "flatten"), (Shape{24}));
  EXPECT_EQ(shapeOf(def, "dense_2_softmax"), (Shape{10}));
  EXPECT_EQ(layer(def, "conv2d_1").conv.pad, (Padding{2, 2, 2, 2}));
  EXPECT_EQ(layer(def, "conv2d").conv.pad, (Padding{0, 0, 0, 0}));
  EXPECT_EQ(layer(def, "conv2d").weights.shape(), (Shape{8, 3, 11, 11}));  // OIHW
  EXPECT_EQ(layer(def, "dense").weights.shape(), (Shape{32, 24}));
  EXPECT_EQ(def.paramCount(), 2904 + 8 + 2400 + 12 + 1728 + 16 + 2304 + 16 + 1728 + 12 + 24 * 32 +
                                  32 + 32 * 32 + 32 + 32 * 10 + 10);
}

TEST(KerasImport, AlexnetMatchesReference) {
  expectMatchesReference(importKeras(fixture("keras_alexnet.h5")), "input_67x99.npy",
                         "keras_alexnet");
}

TEST(KerasImport, Alexnet2TowerFunctionalWithConcatenate) {
  NetworkDef def = importKeras(fixture("keras_alexnet2tower.h5"));
  EXPECT_EQ(def.input.name, "input_1");
  EXPECT_EQ(def.input.shape, (Shape{3, 67, 99}));
  const LayerSpec& c1 = layer(def, "concatenate");
  EXPECT_EQ(c1.type, LayerType::Concat);
  EXPECT_EQ(c1.axis.axis, 1);  // Keras axis -1 (channels) -> our channel axis
  EXPECT_EQ(c1.inputs, (std::vector<std::string>{"max_pooling2d_1", "max_pooling2d_3"}));
  EXPECT_EQ(shapeOf(def, "concatenate"), (Shape{12, 3, 5}));
  const LayerSpec& c2 = layer(def, "concatenate_1");
  EXPECT_EQ(c2.inputs, (std::vector<std::string>{"conv2d_6_relu", "conv2d_9_relu"}));
  EXPECT_EQ(shapeOf(def, "concatenate_1"), (Shape{12, 3, 5}));
  EXPECT_EQ(shapeOf(def, "flatten"), (Shape{180}));
  EXPECT_EQ(def.layers.back().name, "dense_2_softmax");
}

TEST(KerasImport, Alexnet2TowerMatchesReference) {
  expectMatchesReference(importKeras(fixture("keras_alexnet2tower.h5")), "input_67x99.npy",
                         "keras_alexnet2tower");
}

TEST(KerasImport, ZfnetSameStride2PadsExtraPixelBottomRight) {
  NetworkDef def = importKeras(fixture("keras_zfnet.h5"));
  // Saved without an InputLayer entry: the input comes from the first layer's
  // batch_input_shape and is named as Keras names it.
  EXPECT_EQ(def.input.name, "conv2d_input");
  EXPECT_EQ(def.input.shape, (Shape{3, 63, 79}));
  EXPECT_EQ(shapeOf(def, "conv2d"), (Shape{8, 29, 37}));
  EXPECT_EQ(shapeOf(def, "max_pooling2d"), (Shape{8, 14, 18}));
  // 5x5 stride 2 "same" on 14 x 18 -> 7 x 9: 3 padding rows/columns, 1 before and 2 after.
  EXPECT_EQ(layer(def, "conv2d_1").conv.pad, (Padding{1, 1, 2, 2}));
  EXPECT_EQ(shapeOf(def, "conv2d_1"), (Shape{12, 7, 9}));
  EXPECT_EQ(shapeOf(def, "flatten"), (Shape{144}));
}

TEST(KerasImport, ZfnetMatchesReference) {
  expectMatchesReference(importKeras(fixture("keras_zfnet.h5")), "input_63x79.npy", "keras_zfnet");
}

TEST(KerasImport, NinGlobalPoolingAndSoftmaxActivation) {
  NetworkDef def = importKeras(fixture("keras_nin.h5"));
  const LayerSpec& gap = layer(def, "global_average_pooling2d");
  EXPECT_EQ(gap.type, LayerType::GlobalAveragePool);
  EXPECT_EQ(shapeOf(def, "global_average_pooling2d"), (Shape{12, 1, 1}));
  const LayerSpec& act = def.layers.back();
  EXPECT_EQ(act.name, "activation");
  EXPECT_EQ(act.type, LayerType::Softmax);
  EXPECT_EQ(act.axis.axis, 1);
}

TEST(KerasImport, NinMatchesReference) {
  expectMatchesReference(importKeras(fixture("keras_nin.h5")), "input_67x99.npy", "keras_nin");
}

TEST(KerasImport, MixedLayersKinds) {
  NetworkDef def = importKeras(fixture("keras_mixed.h5"));
  EXPECT_EQ(def.input.name, "image");
  EXPECT_EQ(layer(def, "stem").conv.pad, (Padding{0, 0, 1, 1}));  // 3x3/2 same on 32 x 40
  EXPECT_EQ(layer(def, "pool_same").type, LayerType::MaxPool);
  EXPECT_EQ(layer(def, "pool_same").pool.pad, (Padding{0, 0, 1, 1}));
  EXPECT_EQ(layer(def, "avg_same").type, LayerType::AveragePool);
  EXPECT_FALSE(layer(def, "avg_same").pool.countIncludePad);
  EXPECT_EQ(shapeOf(def, "avg_same"), (Shape{6, 4, 5}));
  const LayerSpec& dilated = layer(def, "dilated");
  EXPECT_EQ(dilated.conv.dilationH, 2);
  EXPECT_EQ(dilated.conv.pad, (Padding{2, 2, 2, 2}));
  EXPECT_FALSE(dilated.conv.hasBias);
  EXPECT_TRUE(dilated.bias.empty());
  EXPECT_EQ(layer(def, "act_relu").type, LayerType::Relu);
  EXPECT_EQ(layer(def, "relu_layer").type, LayerType::Relu);
  // Concatenate of a flattened 120-vector and a pooled 4 x 1 x 1 one: the pooled one is
  // flattened first so both are vectors.
  const LayerSpec& features = layer(def, "features");
  EXPECT_EQ(features.inputs, (std::vector<std::string>{"flat", "gap_flatten"}));
  EXPECT_EQ(shapeOf(def, "features"), (Shape{124}));
  EXPECT_EQ(layer(def, "fc_relu").type, LayerType::Relu);
  EXPECT_EQ(def.layers.back().name, "prob");
  EXPECT_EQ(def.layers.back().type, LayerType::Softmax);
}

TEST(KerasImport, MixedMatchesReference) {
  expectMatchesReference(importKeras(fixture("keras_mixed.h5")), "input_32x40.npy", "keras_mixed");
}

TEST(KerasImport, ChannelsFirstModel) {
  NetworkDef def = importKeras(fixture("keras_cf.h5"));
  EXPECT_EQ(def.input.shape, (Shape{3, 20, 24}));  // (C, H, W) as stored
  EXPECT_EQ(shapeOf(def, "conv"), (Shape{4, 10, 12}));
  EXPECT_EQ(shapeOf(def, "flatten"), (Shape{120}));
}

TEST(KerasImport, ChannelsFirstMatchesReference) {
  expectMatchesReference(importKeras(fixture("keras_cf.h5")), "input_20x24.npy", "keras_cf");
}

TEST(KerasImport, LoadModelOpensH5Files) {
  NetworkDef def = loadModel(fixture("keras_zfnet.h5"));
  EXPECT_EQ(def.name, "keras_zfnet");
  EXPECT_FALSE(def.untrained);
  EXPECT_FALSE(def.notes.empty());
}

}  // namespace
}  // namespace zfvis
