// The network's graph, resolved once (core/model/network.h): every layer's inputs as indices
// (what the engine, the projector and receptive fields read instead of name maps), and layer
// ranges cut out as networks of their own (occlusion's crop networks).
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/model/builtin_models.h"
#include "core/model/net_builder.h"
#include "core/model/network.h"

namespace zfvis {
namespace {

// A small graph with a branch and a join: input -> a -> b, a -> c, concat(b, c), add(input...).
NetworkDef branchy() {
  NetBuilder b("branchy", {3, 8, 8}, 1);
  b.convSame("a", 4, 3).relu("b").from("a").maxPool("c", 3, 1, {1, 1, 1, 1});
  b.concat("cat", {"b", "c"});
  return b.build();
}

TEST(NetworkGraph, InputIndicesNameEachProducerByItsPosition) {
  const NetworkDef def = branchy();
  const auto in = def.inputIndices();
  ASSERT_EQ(in.size(), def.layers.size());
  for (size_t i = 0; i < def.layers.size(); ++i) {
    ASSERT_EQ(in[i].size(), def.layers[i].inputs.size()) << def.layers[i].name;
    for (size_t k = 0; k < in[i].size(); ++k) {
      // Written out by name, the slow way.
      const std::string& name = def.layers[i].inputs[k];
      const int want = name == def.input.name ? kNetworkInput : def.indexOf(name);
      EXPECT_EQ(in[i][k], want) << def.layers[i].name << " input " << k;
    }
  }
  EXPECT_EQ(in[0], std::vector<int>{kNetworkInput});
  EXPECT_EQ(in.back(), (std::vector<int>{1, 2}));
  // Every built-in resolves, each input to an earlier layer or the input.
  for (const BuiltinModelInfo& m : builtinModels()) {
    const NetworkDef d = makeBuiltinModel(m.name, 1);
    const auto idx = d.inputIndices();
    for (size_t i = 0; i < idx.size(); ++i)
      for (int p : idx[i]) EXPECT_TRUE(p == kNetworkInput || (p >= 0 && size_t(p) < i)) << m.name;
  }
}

TEST(NetworkGraph, InputIndicesRefuseUnknownLaterAndDuplicateNames) {
  NetworkDef def = branchy();
  def.layers[1].inputs = {"nowhere"};
  EXPECT_THROW(def.inputIndices(), Error);
  def = branchy();
  def.layers[1].inputs = {"cat"};  // a later layer: not a DAG in order
  EXPECT_THROW(def.inputIndices(), Error);
  def = branchy();
  def.layers[2].name = "a";
  EXPECT_THROW(def.inputIndices(), Error);
  def = branchy();
  def.layers[2].name = "";
  EXPECT_THROW(def.inputIndices(), Error);
}

TEST(NetworkGraph, SubNetworkRunsARangeFromANewInput) {
  const NetworkDef def = makeBuiltinModel("zf-small", 1);
  const std::vector<Shape> shapes = def.outputShapes();
  const size_t first = 3, stop = def.layers.size();
  const NetworkDef sub = subNetwork(def, first, stop, shapes[first - 1], "tail");
  EXPECT_EQ(sub.name, "zf-small (tail)");
  ASSERT_EQ(sub.layers.size(), stop - first);
  EXPECT_EQ(sub.input.shape, shapes[first - 1]);
  EXPECT_EQ(sub.layers[0].inputs, std::vector<std::string>{sub.input.name});
  for (size_t k = 0; k < sub.layers.size(); ++k) {
    EXPECT_EQ(sub.layers[k].name, def.layers[first + k].name);
    EXPECT_EQ(sub.layers[k].weights.shape(), def.layers[first + k].weights.shape());
  }
  const std::vector<Shape> subShapes = sub.outputShapes();
  for (size_t k = 0; k < sub.layers.size(); ++k) EXPECT_EQ(subShapes[k], shapes[first + k]);
  // From the input, and with an input name a layer already uses.
  NetworkDef clash = def;
  clash.layers[0].name = "subnetwork_input";
  clash.layers[1].inputs = {"subnetwork_input"};
  const NetworkDef head = subNetwork(clash, 0, 2, def.input.shape, "head");
  EXPECT_NE(head.input.name, "subnetwork_input");
  EXPECT_NO_THROW(head.validate());
}

TEST(NetworkGraph, SubNetworkRefusesRangesThatReadOutsideThem) {
  const NetworkDef def = branchy();  // cat reads b and c; c reads a
  const Shape s = def.outputShapes()[0];
  EXPECT_THROW(subNetwork(def, 2, 4, s, "c.."), Error);  // cat reads b, outside and not a
  EXPECT_NO_THROW(subNetwork(def, 1, 4, s, "b..").validate());
  EXPECT_THROW(subNetwork(def, 2, 2, s, "empty"), Error);
  EXPECT_THROW(subNetwork(def, 1, 9, s, "past the end"), Error);
}

}  // namespace
}  // namespace zfvis
