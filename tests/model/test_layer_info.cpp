// Layer properties (core/layer_info): the geometry of known layers of caffe-alexnet, weight
// statistics against a naive loop, the layered graph of branching and linear nets, and what
// zfvis opens without --model (core/start_model) for an empty and a pre-populated zoo cache.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/base/sha256.h"
#include "core/import/start_model.h"
#include "core/model/builtin_models.h"
#include "core/model/layer_info.h"
#include "core/model/small_nets.h"
#include "core/zoo/zoo_manifest.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;

TEST(LayerInfo, CaffeAlexnetConv1AndConv2) {
  const NetworkDef def = makeBuiltinModel("caffe-alexnet");
  const auto shapes = def.outputShapes();
  const auto fields = receptiveFields(def);
  const LayerInfo c1 = layerInfo(def, size_t(def.indexOf("conv1")), shapes, fields);
  EXPECT_EQ(c1.op, "Conv");
  EXPECT_TRUE(c1.windowed);
  EXPECT_EQ(c1.kernelH, 11);
  EXPECT_EQ(c1.kernelW, 11);
  EXPECT_EQ(c1.strideH, 4);
  EXPECT_EQ(c1.outChannels, 96);
  EXPECT_EQ(c1.groups, 1);
  EXPECT_EQ(c1.field.sizeY, 11);
  EXPECT_EQ(c1.field.jumpY, 4);
  EXPECT_EQ(c1.outputShape, Shape({96, 55, 55}));
  ASSERT_EQ(c1.inputShapes.size(), 1u);
  EXPECT_EQ(c1.inputShapes[0], def.input.shape);
  EXPECT_EQ(c1.params, 96 * 3 * 11 * 11 + 96);
  ASSERT_TRUE(c1.weightShape);
  EXPECT_EQ(*c1.weightShape, Shape({96, 3, 11, 11}));
  const LayerInfo c2 = layerInfo(def, size_t(def.indexOf("conv2")), shapes, fields);
  EXPECT_EQ(c2.groups, 2);
  EXPECT_EQ(c2.kernelH, 5);
  EXPECT_EQ(c2.pad.top, 2);
  EXPECT_EQ(c2.outChannels, 256);
  const LayerInfo p1 = layerInfo(def, size_t(def.indexOf("pool1")), shapes, fields);
  EXPECT_EQ(p1.op, "MaxPool");
  EXPECT_EQ(p1.kernelH, 3);
  EXPECT_EQ(p1.strideH, 2);
  EXPECT_FALSE(p1.ceilMode);  // 55 -> 27 either way
  EXPECT_EQ(p1.field.sizeY, 11 + 2 * 4);
  EXPECT_EQ(p1.field.jumpY, 8);
  // Rows name what the panel shows.
  bool sawKernel = false, sawField = false, sawCeil = false;
  for (const auto& [label, value] : layerInfoRows(c1)) {
    if (label == "Kernel") sawKernel = value == "11 x 11";
    if (label == "Receptive field") sawField = value == "11 x 11 px";
  }
  for (const auto& [label, value] : layerInfoRows(p1))
    if (label == "Ceil mode") sawCeil = value == "no";
  EXPECT_TRUE(sawKernel);
  EXPECT_TRUE(sawField);
  EXPECT_TRUE(sawCeil);
  EXPECT_ANY_THROW(layerInfo(def, def.layers.size(), shapes, fields));
}

TEST(LayerInfo, WeightStatsMatchANaiveLoop) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.1f, 0.5f);
  Tensor t(Shape({7, 3, 5, 5}));
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = normal(rng);
  t.data()[5] = 0.0f;
  t.data()[9] = 1e-6f;
  const WeightStats s = weightStats(t);
  double mn = 1e9, mx = -1e9, sum = 0, maxAbs = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    mn = std::min(mn, double(t.data()[i]));
    mx = std::max(mx, double(t.data()[i]));
    sum += t.data()[i];
    maxAbs = std::max(maxAbs, std::fabs(double(t.data()[i])));
  }
  const double mean = sum / double(t.numel());
  double var = 0;
  int64_t near = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    var += (t.data()[i] - mean) * (t.data()[i] - mean);
    if (std::fabs(t.data()[i]) <= 0.01 * maxAbs) ++near;
  }
  EXPECT_EQ(s.count, t.numel());
  EXPECT_DOUBLE_EQ(s.min, mn);
  EXPECT_DOUBLE_EQ(s.max, mx);
  EXPECT_NEAR(s.mean, mean, 1e-12);
  EXPECT_NEAR(s.std, std::sqrt(var / double(t.numel())), 1e-9);
  EXPECT_GE(near, 2);
  EXPECT_DOUBLE_EQ(s.nearZeroFraction, double(near) / double(t.numel()));
  EXPECT_DOUBLE_EQ(s.nearZeroThreshold, 0.01 * maxAbs);
  const WeightStats empty = weightStats(Tensor());
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(empty.std, 0.0);
}

int inputCount(const NetworkDef& def) {
  int n = 0;
  for (const LayerSpec& l : def.layers) n += int(l.inputs.size());
  return n;
}

TEST(LayerGraph, TwoTowerAlexnetKeepsTheTowersApart) {
  const NetworkDef def = makeBuiltinModel("alexnet-2tower");
  const LayerGraph g = layoutLayerGraph(def);
  ASSERT_EQ(g.nodes.size(), def.layers.size());
  EXPECT_EQ(int(g.edges.size()), inputCount(def));
  EXPECT_GE(g.maxColumns, 2);
  // Every edge goes down; every layer sits one row below its deepest producer.
  for (const LayerGraph::Edge& e : g.edges) {
    const int fromDepth = e.from < 0 ? 0 : g.nodes[size_t(e.from)].depth;
    EXPECT_LT(fromDepth, g.nodes[size_t(e.to)].depth);
  }
  for (size_t i = 0; i < def.layers.size(); ++i) {
    int deepest = 0;
    for (const LayerGraph::Edge& e : g.edges)
      if (e.to == int(i))
        deepest = std::max(deepest, e.from < 0 ? 0 : g.nodes[size_t(e.from)].depth);
    EXPECT_EQ(g.nodes[i].depth, deepest + 1) << def.layers[i].name;
  }
  // Columns within a row are distinct and within the row's width.
  for (int d = 1; d < g.depthCount; ++d) {
    std::vector<int> cols;
    for (const auto& n : g.nodes)
      if (n.depth == d) cols.push_back(n.column);
    std::sort(cols.begin(), cols.end());
    ASSERT_EQ(int(cols.size()), g.rowWidths[size_t(d)]);
    for (size_t k = 0; k < cols.size(); ++k) EXPECT_EQ(cols[k], int(k));
  }
}

TEST(LayerGraph, LinearNetIsOneColumnAndABranchIsTwo) {
  const NetworkDef lin = makeBuiltinModel("zfnet");
  const LayerGraph g = layoutLayerGraph(lin);
  EXPECT_EQ(g.maxColumns, 1);
  EXPECT_EQ(g.depthCount, int(lin.layers.size()) + 1);
  EXPECT_EQ(g.edges.size(), lin.layers.size());
  EXPECT_EQ(g.edges[0].from, -1);

  NetworkDef def;
  def.name = "branch";
  def.input.name = "x";
  def.input.shape = Shape({1, 8, 8});
  auto layer = [&](std::string name, LayerType type, std::vector<std::string> inputs) {
    LayerSpec l;
    l.name = std::move(name);
    l.type = type;
    l.inputs = std::move(inputs);
    def.layers.push_back(l);
  };
  layer("a", LayerType::Relu, {"x"});
  layer("b", LayerType::Identity, {"x"});
  layer("b2", LayerType::Relu, {"b"});
  layer("sum", LayerType::Add, {"a", "b2"});
  const LayerGraph h = layoutLayerGraph(def);
  EXPECT_EQ(h.nodes[0].depth, 1);
  EXPECT_EQ(h.nodes[1].depth, 1);
  EXPECT_NE(h.nodes[0].column, h.nodes[1].column);
  EXPECT_EQ(h.nodes[2].depth, 2);
  EXPECT_EQ(h.nodes[3].depth, 3);  // below its deepest producer
  EXPECT_EQ(h.edges.size(), 5u);
  EXPECT_EQ(h.maxColumns, 2);
  def.layers[3].inputs = {"a", "nowhere"};
  EXPECT_ANY_THROW(layoutLayerGraph(def));
}

// A manifest whose trained-AlexNet entry is a small fixture file.
ZooManifest fixtureManifest(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string json =
      R"({"about": "test", "base_url": "http://127.0.0.1:9/", "preprocessing_note": "",
          "models": [{"id": "bvlc-alexnet", "title": "AlexNet", "path": "a/)" +
      file.filename().string() + R"(", "size": )" + std::to_string(bytes.str().size()) +
      R"(, "sha256": ")" + sha256Hex(bytes.str()) + R"(", "license": "BSD-3-Clause"}]})";
  return parseZooManifest(json, "test manifest");
}

TEST(StartModel, CachedOfflineAndMissing) {
  const fs::path fixture = fs::path(ZFVIS_FIXTURES_DIR) / "onnx" / "alexnet_zoo.onnx";
  const ZooManifest manifest = fixtureManifest(fixture);
  const fs::path cache = fs::temp_directory_path() / ("zfvis-start-" + std::to_string(::getpid()));
  fs::remove_all(cache);
  fs::create_directories(cache);

  StartChoice none = chooseStartModel(manifest, cache, false);
  EXPECT_TRUE(none.spec.empty());
  EXPECT_EQ(none.message, "AlexNet weights are not cached");
  StartChoice offline = chooseStartModel(manifest, cache, true);
  EXPECT_TRUE(offline.offline);
  if (shippedRunDir("zf-small")) {
    EXPECT_EQ(offline.spec, "zf-small");
    EXPECT_EQ(offline.message,
              "AlexNet weights are not cached; opened the trained zf-small (offline)");
  }
  EXPECT_EQ(chooseStartModel(manifest, fs::path(), true).spec, offline.spec);
  EXPECT_TRUE(chooseStartModel(embeddedZooManifest(), cache, false).spec.empty());

  // A corrupt cached file: not used, and said so.
  fs::copy_file(fixture, cache / "wrong", fs::copy_options::overwrite_existing);
  { std::ofstream(cache / fixture.filename(), std::ios::binary) << "not the model"; }
  StartChoice corrupt = chooseStartModel(manifest, cache, false);
  EXPECT_TRUE(corrupt.spec.empty());
  EXPECT_NE(corrupt.message.find("fails verification"), std::string::npos);

  // The verified file: opened, offline or not.
  fs::copy_file(fixture, cache / fixture.filename(), fs::copy_options::overwrite_existing);
  for (bool off : {false, true}) {
    StartChoice c = chooseStartModel(manifest, cache, off);
    EXPECT_TRUE(c.fromZoo);
    EXPECT_FALSE(c.offline);
    EXPECT_EQ(fs::path(c.spec), cache / fixture.filename());
  }
  fs::remove_all(cache);
}

}  // namespace
}  // namespace zfvis
