// model_config JSON -> NetworkDef, without HDF5: supported and unsupported layers, activations,
// padding, axes, data formats, Keras 2 and Keras 3 graph encodings, and the Flatten feature order.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/import/keras/model_config.h"

namespace zfvis {
namespace {

using Json = nlohmann::json;
using keras::buildModelConfig;
using keras::ModelConfig;

const std::string kWhat = "Keras model 'm.h5'";

Json layer(const std::string& cls, Json config) {
  return {{"class_name", cls}, {"config", config}};
}

Json input(std::vector<int> shape, const std::string& name = "in") {
  Json s = Json::array({nullptr});
  for (int d : shape) s.push_back(d);
  return layer("InputLayer", {{"batch_input_shape", s}, {"name", name}});
}

Json conv(const std::string& name, int filters, int k, int s = 1, const std::string& pad = "valid",
          const std::string& act = "linear") {
  return layer("Conv2D", {{"name", name},
                          {"filters", filters},
                          {"kernel_size", {k, k}},
                          {"strides", {s, s}},
                          {"padding", pad},
                          {"activation", act},
                          {"use_bias", true},
                          {"data_format", "channels_last"}});
}

Json sequential(std::vector<Json> layers) {
  return {{"class_name", "Sequential"}, {"config", {{"name", "seq"}, {"layers", layers}}}};
}

ModelConfig build(const Json& j) {
  return buildModelConfig(j.dump(), kWhat);
}

std::string errorOf(const Json& j) {
  try {
    build(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(KerasConfig, UnsupportedLayerNamesFileLayerClassAndSupportedList) {
  std::string m = errorOf(sequential(
      {input({8, 8, 3}), conv("c", 2, 3), layer("BatchNormalization", {{"name", "bn"}})}));
  EXPECT_EQ(m, kWhat +
                   ": layer 'bn' (BatchNormalization): class 'BatchNormalization' is not "
                   "supported (supported: " +
                   keras::supportedKerasClasses() + ")");
  EXPECT_NE(m.find("InputLayer, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, "
                   "Dense, Dropout, Flatten, Concatenate, Activation, ReLU, Softmax"),
            std::string::npos);
}

TEST(KerasConfig, UnsupportedActivationListsSupportedOnes) {
  EXPECT_EQ(errorOf(sequential({input({8, 8, 3}), conv("c", 2, 3, 1, "valid", "tanh")})),
            kWhat +
                ": layer 'c' (Conv2D): activation 'tanh' is not supported (supported: relu, "
                "softmax, linear)");
  EXPECT_NE(errorOf(sequential({input({8, 8, 3}),
                                layer("Activation", {{"name", "a"}, {"activation", "sigmoid"}})}))
                .find("activation 'sigmoid' is not supported"),
            std::string::npos);
}

TEST(KerasConfig, ActivationsBecomeSeparateLayers) {
  Json dense = layer("Dense", {{"name", "d"}, {"units", 4}, {"activation", "softmax"}});
  ModelConfig mc = build(sequential({input({8, 8, 3}), conv("c", 2, 3, 1, "same", "relu"),
                                     layer("Flatten", {{"name", "f"}}), dense}));
  std::vector<std::string> names;
  for (const LayerSpec& l : mc.def.layers) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"c", "c_relu", "f", "d", "d_softmax"}));
  EXPECT_EQ(mc.def.layers[1].type, LayerType::Relu);
  EXPECT_EQ(mc.def.layers[1].inputs, (std::vector<std::string>{"c"}));
  EXPECT_EQ(mc.def.layers[4].type, LayerType::Softmax);
  EXPECT_EQ(mc.def.layers[4].axis.axis, 1);
}

TEST(KerasConfig, ActivationLayerNameClashGetsSuffix) {
  ModelConfig mc = build(sequential({input({8, 8, 3}), conv("c", 2, 3, 1, "valid", "relu"),
                                     layer("ReLU", {{"name", "c_relu"}})}));
  ASSERT_EQ(mc.def.layers.size(), 3u);
  EXPECT_EQ(mc.def.layers[1].name, "c_relu");
  EXPECT_EQ(mc.def.layers[2].name, "c_relu_1");
}

TEST(KerasConfig, SamePaddingMatchesTensorFlow) {
  // out = ceil(in / stride); total = (out - 1) * stride + kernel - in; extra at bottom/right.
  struct Case {
    int in, k, s;
    int before, after;
  } cases[] = {{14, 5, 2, 1, 2}, {55, 5, 2, 2, 2}, {27, 5, 1, 2, 2}, {32, 3, 2, 0, 1},
               {8, 1, 2, 0, 0},  {7, 2, 3, 0, 1},  {5, 4, 1, 1, 2}};
  for (const Case& c : cases) {
    ModelConfig mc = build(sequential({input({c.in, c.in, 2}), conv("c", 2, c.k, c.s, "same")}));
    EXPECT_EQ(mc.def.layers[0].conv.pad, (Padding{c.before, c.before, c.after, c.after}))
        << "in " << c.in << " k " << c.k << " s " << c.s;
  }
}

TEST(KerasConfig, WeightTargetsDescribeKerasKernelShapes) {
  ModelConfig mc = build(
      sequential({input({9, 7, 3}), conv("c", 5, 3, 1, "valid"), layer("Flatten", {{"name", "f"}}),
                  layer("Dense", {{"name", "d"}, {"units", 4}, {"use_bias", false}})}));
  ASSERT_EQ(mc.weights.size(), 2u);
  EXPECT_EQ(mc.weights[0].kerasName, "c");
  EXPECT_EQ(mc.weights[0].kerasKernel, (Shape{3, 3, 3, 5}));  // HWIO
  EXPECT_TRUE(mc.weights[0].hasBias);
  EXPECT_EQ(mc.weights[1].kerasKernel, (Shape{5 * 7 * 5, 4}));
  EXPECT_FALSE(mc.weights[1].hasBias);
  EXPECT_FALSE(mc.def.layers[2].dense.hasBias);
}

TEST(KerasConfig, FlattenOrderIsHeightWidthChannel) {
  // Our C x H x W = 2 x 2 x 3 tensor; Keras flattens H, W, C: feature (c, y, x) sits at
  // row (y * 3 + x) * 2 + c of the Dense kernel.
  ModelConfig mc = build(sequential({input({2, 3, 2}), layer("Flatten", {{"name", "f"}}),
                                     layer("Dense", {{"name", "d"}, {"units", 1}})}));
  ASSERT_EQ(mc.weights.size(), 1u);
  std::vector<int64_t> expected;
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) expected.push_back((y * 3 + x) * 2 + c);
  EXPECT_EQ(mc.weights[0].featureOrder, expected);
}

TEST(KerasConfig, FlattenOfOneByOneOrVectorKeepsOrder) {
  ModelConfig mc =
      build(sequential({input({3, 3, 4}), conv("c", 5, 3), layer("Flatten", {{"name", "f"}}),
                        layer("Dense", {{"name", "d"}, {"units", 2}})}));
  EXPECT_TRUE(mc.weights[1].featureOrder.empty());
}

TEST(KerasConfig, ConcatenateAxesMapToOurs) {
  auto concatAxis = [](int axis) {
    Json cfg = {
        {"class_name", "Functional"},
        {"config",
         {{"name", "f"},
          {"layers",
           {{{"class_name", "InputLayer"},
             {"name", "in"},
             {"config", {{"batch_input_shape", {nullptr, 4, 4, 2}}, {"name", "in"}}},
             {"inbound_nodes", Json::array()}},
            {{"class_name", "Concatenate"},
             {"name", "cat"},
             {"config", {{"name", "cat"}, {"axis", axis}}},
             {"inbound_nodes", {{{"in", 0, 0, Json::object()}, {"in", 0, 0, Json::object()}}}}}}},
          {"input_layers", {{"in", 0, 0}}},
          {"output_layers", {{"cat", 0, 0}}}}}};
    return build(cfg).def.layers.back().axis.axis;
  };
  EXPECT_EQ(concatAxis(-1), 1);  // channels
  EXPECT_EQ(concatAxis(3), 1);
  EXPECT_EQ(concatAxis(1), 2);  // height
  EXPECT_EQ(concatAxis(2), 3);  // width
  EXPECT_THROW(concatAxis(0), Error);
}

TEST(KerasConfig, Keras3InboundNodesAndBatchShape) {
  Json tensorRef = {
      {"class_name", "__keras_tensor__"},
      {"config", {{"shape", {nullptr, 6, 6, 3}}, {"keras_history", {"input_layer", 0, 0}}}}};
  Json cfg = {
      {"class_name", "Functional"},
      {"config",
       {{"name", "k3"},
        {"layers",
         {{{"class_name", "InputLayer"},
           {"name", "input_layer"},
           {"config", {{"batch_shape", {nullptr, 6, 6, 3}}, {"name", "input_layer"}}},
           {"inbound_nodes", Json::array()}},
          {{"class_name", "Conv2D"},
           {"name", "conv"},
           {"config",
            {{"name", "conv"}, {"filters", 2}, {"kernel_size", {3, 3}}, {"activation", "relu"}}},
           {"inbound_nodes", {{{"args", {tensorRef}}, {"kwargs", Json::object()}}}}}}},
        {"input_layers", {"input_layer", 0, 0}},
        {"output_layers", {"conv", 0, 0}}}}};
  ModelConfig mc = build(cfg);
  EXPECT_EQ(mc.def.input.shape, (Shape{3, 6, 6}));
  ASSERT_EQ(mc.def.layers.size(), 2u);
  EXPECT_EQ(mc.def.layers[0].inputs, (std::vector<std::string>{"input_layer"}));
}

TEST(KerasConfig, OldSequentialListConfig) {
  Json first = conv("c", 2, 3);
  first["config"]["batch_input_shape"] = {nullptr, 5, 5, 1};
  Json cfg = {{"class_name", "Sequential"}, {"config", {first}}};
  ModelConfig mc = build(cfg);
  EXPECT_EQ(mc.def.input.name, "c_input");
  EXPECT_EQ(mc.def.input.shape, (Shape{1, 5, 5}));
}

TEST(KerasConfig, ChannelsFirstTakesInputAsChannelHeightWidth) {
  Json c = conv("c", 2, 3);
  c["config"]["data_format"] = "channels_first";
  ModelConfig mc = build(sequential({input({3, 10, 12}), c}));
  EXPECT_EQ(mc.def.input.shape, (Shape{3, 10, 12}));
  ASSERT_EQ(mc.weights.size(), 1u);
  EXPECT_EQ(mc.weights[0].kerasKernel, (Shape{3, 3, 3, 2}));  // 3 input channels
}

TEST(KerasConfig, RefusesWhatZfvisCannotRun) {
  auto expectError = [](const Json& j, const std::string& part) {
    std::string m = errorOf(j);
    EXPECT_NE(m.find(part), std::string::npos) << m;
    EXPECT_EQ(m.rfind(kWhat, 0), 0u) << m;
  };
  expectError(Json::parse("{\"class_name\": \"Sequential\"}"), "not a Keras model description");
  expectError(sequential({input({8, 8, 3}), conv("c", 2, 3, 1, "causal")}), "padding 'causal'");
  expectError(sequential({input({8, 8, 3}), layer("Dense", {{"name", "d"}, {"units", 3}})}),
              "is applied to an image tensor");
  expectError(sequential({input({8, 8, 3}), conv("c", 2, 9)}), "does not fit");
  expectError(
      sequential({layer("InputLayer",
                        {{"batch_input_shape", {nullptr, nullptr, nullptr, 3}}, {"name", "in"}}),
                  conv("c", 2, 3)}),
      "unknown dimension");
  expectError(sequential({input({1000000000, 8, 3}), conv("c", 2, 3)}), "out of range");
  expectError(sequential({input({8, 8, 3}), conv("c", 2000000000, 3)}), "out of range");
  expectError(sequential({input({8, 8, 3}), layer("ReLU", {{"name", "r"}, {"max_value", 6.0}})}),
              "only the plain ReLU");
  expectError(sequential({input({8, 8, 3}), layer("Sequential", {{"name", "inner"}})}),
              "nested models");
  expectError(sequential({conv("c", 2, 3)}), "has no batch_input_shape");
  expectError({{"class_name", "Sequential"}, {"config", {{"layers", {input({8, 8, 3})}}}}},
              "has no layers");
  Json c = conv("c", 2, 3);
  c["config"]["kernel_size"] = "three";
  expectError(sequential({input({8, 8, 3}), c}), "kernel_size must be two integers");
}

TEST(KerasConfig, InvalidJsonIsAnError) {
  try {
    buildModelConfig("{\"class_name\": [", kWhat);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), kWhat + ": model_config is not valid JSON");
  }
}

TEST(KerasConfig, FunctionalCycleAndSharedLayersAreErrors) {
  auto functional = [](Json layers) {
    return Json{{"class_name", "Functional"},
                {"config",
                 {{"name", "f"},
                  {"layers", layers},
                  {"input_layers", {{"in", 0, 0}}},
                  {"output_layers", {{"b", 0, 0}}}}}};
  };
  Json in = {{"class_name", "InputLayer"},
             {"name", "in"},
             {"config", {{"batch_input_shape", {nullptr, 4}}, {"name", "in"}}},
             {"inbound_nodes", Json::array()}};
  auto relu = [](const std::string& name, Json nodes) {
    return Json{{"class_name", "ReLU"},
                {"name", name},
                {"config", {{"name", name}}},
                {"inbound_nodes", nodes}};
  };
  Json cycle = functional(
      {in, relu("a", {{{"b", 0, 0, Json::object()}}}), relu("b", {{{"a", 0, 0, Json::object()}}})});
  EXPECT_NE(errorOf(cycle).find("cycle"), std::string::npos) << errorOf(cycle);
  Json shared =
      functional({in, relu("a", {{{"in", 0, 0, Json::object()}}}),
                  relu("b", {{{"a", 0, 0, Json::object()}}, {{"a", 0, 0, Json::object()}}})});
  EXPECT_NE(errorOf(shared).find("shared layers"), std::string::npos) << errorOf(shared);
}

}  // namespace
}  // namespace zfvis
