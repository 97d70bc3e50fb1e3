// Weights-only Keras files (model.save_weights) applied to architectures built with NetBuilder:
// matched by layer order, checked by shape, with Flatten -> Dense rows reordered from Keras'
// H, W, C order; outputs against the NumPy reference.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/import/keras/weights.h"
#include "core/import/keras_import.h"
#include "core/import/model_loader.h"
#include "core/model/builtin_models.h"
#include "core/model/net_builder.h"
#include "tests/import/keras/keras_test_util.h"

namespace zfvis {
namespace {

using kerastest::expectMatchesReference;
using kerastest::fixture;

// The fixtures' small seed models written with NetBuilder (different layer names on purpose:
// weights are matched by order). `conv2Filters` and `fc6Units` let tests break one shape.
NetworkDef smallAlexnet(int conv2Filters = 12, int fc6Units = 32) {
  NetBuilder b("small-alexnet", {3, 67, 99});
  b.conv("conv1", 8, 11, 4);  // 8 x 15 x 23, no ReLU as in the seed's listing
  b.maxPool("pool1", 3, 2);   // 8 x 7 x 11
  b.convSame("conv2", conv2Filters, 5).relu("relu2");
  b.maxPool("pool2", 3, 2);                   // 12 x 3 x 5
  b.convSame("conv3", 16, 3).relu("relu3");   // 16 x 3 x 5
  b.convSame("conv4", 16, 3).relu("relu4");   // 16 x 3 x 5
  b.convSame("conv5", 12, 3).relu("relu5");   // 12 x 3 x 5
  b.maxPool("pool5", 3, 2);                   // 12 x 1 x 2
  b.flatten("flatten");                       // 24
  b.dense("fc6", fc6Units).dropout("drop6");  // 32
  b.dense("fc7", 32).dropout("drop7");        // 32
  b.dense("fc8", 10).softmax("prob");         // 10
  return b.build();
}

NetworkDef smallAlexnet2Tower() {
  NetBuilder b("small-alexnet-2tower", {3, 67, 99});
  for (std::string t : {"a", "b"}) {
    b.from("input");
    b.conv("conv1" + t, 4, 11, 4);                    // 4 x 15 x 23
    b.maxPool("pool1" + t, 3, 2);                     // 4 x 7 x 11
    b.convSame("conv2" + t, 6, 5).relu("relu2" + t);  // 6 x 7 x 11
    b.maxPool("pool2" + t, 3, 2);                     // 6 x 3 x 5
  }
  b.concat("concat2", {"pool2a", "pool2b"});  // 12 x 3 x 5
  for (std::string t : {"a", "b"}) {
    b.from("concat2");
    b.convSame("conv3" + t, 8, 3).relu("relu3" + t);  // 8 x 3 x 5
    b.convSame("conv4" + t, 8, 3).relu("relu4" + t);  // 8 x 3 x 5
    b.convSame("conv5" + t, 6, 3).relu("relu5" + t);  // 6 x 3 x 5
  }
  b.concat("concat5", {"relu5a", "relu5b"});  // 12 x 3 x 5
  b.flatten("flatten");                       // 180
  b.dense("fc6", 24).dropout("drop6");
  b.dense("fc7", 24).dropout("drop7");
  b.dense("fc8", 10).softmax("prob");
  return b.build();
}

NetworkDef smallZfnet() {
  NetBuilder b("small-zfnet", {3, 63, 79});
  b.conv("conv1", 8, 7, 2);                     // 8 x 29 x 37
  b.maxPool("pool1", 3, 2);                     // 8 x 14 x 18
  b.convSame("conv2", 12, 5, 2).relu("relu2");  // 12 x 7 x 9
  b.maxPool("pool2", 3, 2);                     // 12 x 3 x 5
  b.convSame("conv3", 16, 3).relu("relu3");
  b.convSame("conv4", 16, 3).relu("relu4");
  b.convSame("conv5", 12, 3).relu("relu5");  // 12 x 3 x 5
  b.flatten("flatten");                      // 144
  b.dense("fc6", 32).dropout("drop6");
  b.dense("fc7", 32).dropout("drop7");
  b.dense("fc8", 10).softmax("prob");
  return b.build();
}

NetworkDef smallNin() {
  NetBuilder b("small-nin", {3, 67, 99});
  b.conv("conv1", 8, 11, 4);
  b.maxPool("pool1", 3, 2);
  b.convSame("conv2", 12, 5).relu("relu2");
  b.maxPool("pool2", 3, 2);
  b.convSame("conv3", 16, 3).relu("relu3");
  b.convSame("conv4", 16, 3).relu("relu4");
  b.convSame("conv5", 12, 3).relu("relu5");
  b.maxPool("pool5", 3, 2);  // 12 x 1 x 2
  b.globalAvgPool("gap");    // 12 x 1 x 1
  b.flatten("flatten");      // 12
  b.softmax("prob");
  return b.build();
}

TEST(KerasWeights, AlexnetWeightsOnlyMatchReference) {
  NetworkDef def = smallAlexnet();
  applyKerasWeights(def, fixture("keras_alexnet_weights.h5"));
  EXPECT_FALSE(def.untrained);
  expectMatchesReference(def, "input_67x99.npy", "keras_alexnet");
}

TEST(KerasWeights, Alexnet2TowerWeightsOnlyInKerasDepthOrder) {
  // The file lists conv1a, conv1b, conv2a, conv2b, ... (Keras' depth order for a Functional
  // model); our definition has tower a before tower b.
  NetworkDef def = smallAlexnet2Tower();
  applyKerasWeights(def, fixture("keras_alexnet2tower_weights.h5"));
  expectMatchesReference(def, "input_67x99.npy", "keras_alexnet2tower");
}

TEST(KerasWeights, ZfnetWeightsOnlyMatchReference) {
  NetworkDef def = smallZfnet();
  applyKerasWeights(def, fixture("keras_zfnet_weights.h5"));
  expectMatchesReference(def, "input_63x79.npy", "keras_zfnet");
}

TEST(KerasWeights, NinWeightsOnlyMatchReference) {
  NetworkDef def = smallNin();
  applyKerasWeights(def, fixture("keras_nin_weights.h5"));
  expectMatchesReference(def, "input_67x99.npy", "keras_nin");
}

TEST(KerasWeights, FullModelFileAlsoAppliesAsWeights) {
  NetworkDef def = smallZfnet();
  applyKerasWeights(def, fixture("keras_zfnet.h5"));  // weights under /model_weights
  expectMatchesReference(def, "input_63x79.npy", "keras_zfnet");
}

TEST(KerasWeights, ShapeMismatchNamesBothLayersAndShapesAndChangesNothing) {
  NetworkDef def = smallAlexnet(13);
  const Tensor before = def.layers[0].weights;
  try {
    applyKerasWeights(def, fixture("keras_alexnet_weights.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "weights '" + fixture("keras_alexnet_weights.h5") +
                                         "': layer 'conv2d_1' kernel has shape 5x5x8x12 (HWIO), "
                                         "built-in layer 'conv2' expects 5x5x8x13");
  }
  // Nothing was applied: conv1 (which matched) still has its He-normal weights.
  EXPECT_TRUE(def.untrained);
  EXPECT_EQ(ref::relativeMaxError(def.layers[0].weights, before), 0.0);
}

TEST(KerasWeights, SmallWeightsOnBuiltinNinNameConv1AndBothShapes) {
  NetworkDef def = makeBuiltinModel("nin");
  try {
    applyKerasWeights(def, fixture("keras_nin_weights.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "weights '" + fixture("keras_nin_weights.h5") +
                                         "': layer 'conv2d' kernel has shape 11x11x3x8 (HWIO), "
                                         "built-in layer 'conv1' expects 11x11x3x96");
  }
}

TEST(KerasWeights, LayerCountMismatchListsBothSides) {
  NetworkDef def = makeBuiltinModel("nin");
  try {
    applyKerasWeights(def, fixture("keras_zfnet_weights.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("has 8 layers with weights (conv2d, conv2d_1"), std::string::npos) << m;
    EXPECT_NE(m.find("built-in model 'nin' has 5 (conv1, conv2, conv3, conv4, conv5)"),
              std::string::npos)
        << m;
  }
}

TEST(KerasWeights, DenseShapeMismatchSaysInputsByUnits) {
  NetworkDef def = smallAlexnet(12, 33);
  try {
    applyKerasWeights(def, fixture("keras_alexnet_weights.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("layer 'dense' kernel has shape 24x32 (inputs x units), built-in layer "
                     "'fc6' expects 24x33"),
              std::string::npos)
        << m;
  }
}

TEST(KerasWeights, TwoTowersAreMatchedInKerasDepthOrder) {
  // What a Keras Functional model of the seed's "Alexnet 2" lists in its weight file; the small
  // net has the built-in alexnet-2tower's structure (tower a defined before tower b).
  NetworkDef def = smallAlexnet2Tower();
  std::vector<std::string> order;
  for (size_t i : keras::kerasLayerOrder(def))
    if (def.layers[i].type == LayerType::Conv || def.layers[i].type == LayerType::Dense)
      order.push_back(def.layers[i].name);
  EXPECT_EQ(order, (std::vector<std::string>{"conv1a", "conv1b", "conv2a", "conv2b", "conv3a",
                                             "conv3b", "conv4a", "conv4b", "conv5a", "conv5b",
                                             "fc6", "fc7", "fc8"}));
  // A chain keeps its order.
  NetworkDef chain = makeBuiltinModel("nin");
  std::vector<size_t> all = keras::kerasLayerOrder(chain);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i);
}

TEST(KerasWeights, LoadModelAppliesWeightsToBuiltinAndReportsMismatch) {
  try {
    loadModel("alexnet", fixture("keras_alexnet_weights.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("layer 'conv2d' kernel has shape 11x11x3x8 (HWIO), built-in layer 'conv1' "
                     "expects 11x11x3x96"),
              std::string::npos)
        << m;
  }
}

}  // namespace
}  // namespace zfvis
