// The seven built-in architectures: every layer's output shape and the parameter totals, written
// out by hand from the papers and the seed's Keras summaries.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"
#include "core/model/builtin_models.h"

namespace zfvis {
namespace {

using Expected = std::vector<std::pair<std::string, Shape>>;

void expectShapes(const std::string& model, int64_t params, const Expected& expected) {
  NetworkDef def = makeBuiltinModel(model);
  EXPECT_EQ(def.paramCount(), params) << model;
  EXPECT_TRUE(def.untrained) << model;
  auto shapes = def.outputShapes();
  // Every listed layer has the listed shape; layers not listed (ReLU, dropout) keep their
  // input's shape, which the shape inference tests cover.
  for (const auto& [name, shape] : expected) {
    int i = def.indexOf(name);
    ASSERT_GE(i, 0) << model << ": no layer " << name;
    EXPECT_EQ(shapes[size_t(i)], shape)
        << model << " layer " << name << " is " << shapes[size_t(i)].str();
  }
  EXPECT_EQ(def.layers.back().type, LayerType::Softmax) << model;
}

TEST(BuiltinModels, AlexnetSeedShapesAndParams) {
  expectShapes("alexnet", 62378344,
               {{"conv1", {96, 55, 55}},
                {"pool1", {96, 27, 27}},
                {"conv2", {256, 27, 27}},
                {"pool2", {256, 13, 13}},
                {"conv3", {384, 13, 13}},
                {"conv4", {384, 13, 13}},
                {"conv5", {256, 13, 13}},
                {"pool5", {256, 6, 6}},
                {"flatten", {9216}},
                {"fc6", {4096}},
                {"fc7", {4096}},
                {"fc8", {1000}},
                {"prob", {1000}}});
  NetworkDef def = makeBuiltinModel("alexnet");
  // ReLU after every convolution and hidden dense layer (the seed's listing omits some).
  for (const char* relu : {"relu1", "relu2", "relu3", "relu4", "relu5", "relu6", "relu7"})
    EXPECT_GE(def.indexOf(relu), 0) << relu;
}

TEST(BuiltinModels, Alexnet2TowerShapesAndParams) {
  expectShapes("alexnet-2tower", 200425832,
               {{"conv1a", {48, 55, 55}},
                {"conv1b", {48, 55, 55}},
                {"pool1a", {48, 27, 27}},
                {"conv2a", {128, 27, 27}},
                {"pool2b", {128, 13, 13}},
                {"concat2", {256, 13, 13}},
                {"conv3a", {192, 13, 13}},
                {"conv4b", {192, 13, 13}},
                {"conv5a", {128, 13, 13}},
                {"concat5", {256, 13, 13}},
                {"flatten", {43264}},
                {"fc6", {4096}},
                {"fc8", {1000}}});
}

TEST(BuiltinModels, ZfnetSeedShapesAndParams) {
  expectShapes("zfnet", 201818216,
               {{"conv1", {96, 111, 111}},
                {"pool1", {96, 55, 55}},
                {"conv2", {256, 28, 28}},
                {"pool2", {256, 13, 13}},
                {"conv3", {384, 13, 13}},
                {"conv5", {256, 13, 13}},
                {"flatten", {43264}},
                {"fc6", {4096}},
                {"fc8", {1000}}});
  NetworkDef def = makeBuiltinModel("zfnet");
  const LayerSpec& conv1 = def.layers[size_t(def.indexOf("conv1"))];
  EXPECT_EQ(conv1.conv.kernelH, 7);
  EXPECT_EQ(conv1.conv.strideH, 2);
}

TEST(BuiltinModels, NinSeedShapesAndParams) {
  expectShapes("nin", 3747200,
               {{"conv1", {96, 55, 55}},
                {"conv5", {256, 13, 13}},
                {"pool5", {256, 6, 6}},
                {"gap", {256, 1, 1}},
                {"prob", {256}}});
}

TEST(BuiltinModels, CaffeAlexnetShapesAndParams) {
  expectShapes("caffe-alexnet", 60965224,
               {{"conv1", {96, 55, 55}},
                {"norm1", {96, 55, 55}},
                {"pool1", {96, 27, 27}},
                {"conv2", {256, 27, 27}},
                {"norm2", {256, 27, 27}},
                {"pool2", {256, 13, 13}},
                {"conv3", {384, 13, 13}},
                {"conv4", {384, 13, 13}},
                {"conv5", {256, 13, 13}},
                {"pool5", {256, 6, 6}},
                {"fc6", {4096}},
                {"fc7", {4096}},
                {"fc8", {1000}}});
  NetworkDef def = makeBuiltinModel("caffe-alexnet");
  for (const char* grouped : {"conv2", "conv4", "conv5"})
    EXPECT_EQ(def.layers[size_t(def.indexOf(grouped))].conv.groups, 2) << grouped;
  EXPECT_EQ(def.layers[size_t(def.indexOf("conv3"))].conv.groups, 1);
}

TEST(BuiltinModels, ZfnetPaperFollowsFigure3) {
  // 224 -> 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6 (Zeiler & Fergus fig. 3).
  expectShapes("zfnet-paper", 62357608,
               {{"conv1", {96, 110, 110}},
                {"pool1", {96, 55, 55}},
                {"norm1", {96, 55, 55}},
                {"conv2", {256, 26, 26}},
                {"pool2", {256, 13, 13}},
                {"conv3", {384, 13, 13}},
                {"conv4", {384, 13, 13}},
                {"conv5", {256, 13, 13}},
                {"pool5", {256, 6, 6}},
                {"fc6", {4096}},
                {"fc8", {1000}}});
}

TEST(BuiltinModels, NinPaperHasMlpconvBlocksAndGlobalPooling) {
  NetworkDef def = makeBuiltinModel("nin-paper");
  // About 7.6 M parameters (Lin et al.'s ImageNet model: 7,595,176).
  EXPECT_EQ(def.paramCount(), 7595176);
  expectShapes("nin-paper", 7595176,
               {{"conv1", {96, 54, 54}},
                {"cccp2", {96, 54, 54}},
                {"pool0", {96, 27, 27}},
                {"conv2", {256, 27, 27}},
                {"pool2", {256, 13, 13}},
                {"conv3", {384, 13, 13}},
                {"pool3", {384, 6, 6}},
                {"conv4-1024", {1024, 6, 6}},
                {"cccp8-1024", {1000, 6, 6}},
                {"pool4", {1000, 1, 1}},
                {"prob", {1000}}});
}

TEST(BuiltinModels, WeightsAreDeterministicHeNormal) {
  NetworkDef a = makeBuiltinModel("nin", 7), b = makeBuiltinModel("nin", 7),
             c = makeBuiltinModel("nin", 8);
  const Tensor& wa = a.layers[0].weights;
  ASSERT_EQ(wa.numel(), 96 * 3 * 11 * 11);
  double sum = 0, sq = 0;
  bool differs = false;
  for (int64_t i = 0; i < wa.numel(); ++i) {
    EXPECT_EQ(wa[i], b.layers[0].weights[i]);
    differs |= wa[i] != c.layers[0].weights[i];
    sum += wa[i];
    sq += double(wa[i]) * wa[i];
  }
  EXPECT_TRUE(differs);
  // He-normal: mean 0, variance 2 / fan_in with fan_in = 3 * 11 * 11.
  const double n = double(wa.numel()), var = sq / n - (sum / n) * (sum / n);
  // Statistics of n = 43,560 draws: the mean's standard error is sqrt(var / n) = 3.6e-4 (0.01
  // is 28 of them) and the variance's relative one sqrt(2 / n) = 0.7% (10% is 15 of them).
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(var, 2.0 / 363.0, 0.1 * 2.0 / 363.0);
}

TEST(BuiltinModels, UnknownNameListsTheBuiltins) {
  try {
    makeBuiltinModel("vgg");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("caffe-alexnet"), std::string::npos);
  }
}

}  // namespace
}  // namespace zfvis
