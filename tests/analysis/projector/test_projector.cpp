// The deconvnet / guided backprop / saliency projections: golden projections from PyTorch
// autograd (tests/fixtures/scripts/make_deconv_fixtures.py) on small AlexNet-, ZFNet- and
// NIN-shaped networks, plus hand-checkable unit cases.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/analysis/projector/projector.h"
#include "core/base/error.h"
#include "core/base/npy.h"
#include "core/engine/engine.h"
#include "core/model/builtin_models.h"
#include "core/model/net_builder.h"
#include "core/model/receptive_field.h"
#include "tests/reference/fixture_net.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(ZFVIS_FIXTURES_DIR) / "deconv";

double cosine(const Tensor& a, const Tensor& b) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return aa == 0 && bb == 0 ? 1.0 : ab / std::sqrt(aa * bb);
}

double maxErrorOfLargest(const Tensor& got, const Tensor& want) {
  double diff = 0, big = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    diff = std::max(diff, double(std::fabs(got[i] - want[i])));
    big = std::max(big, double(std::fabs(want[i])));
  }
  return big > 0 ? diff / big : diff;
}

class DeconvGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(DeconvGolden, MatchesPyTorchAutogradForEveryModeAndCase) {
  const std::string model = GetParam();
  nlohmann::json index = testing::readFixtureIndex(kDir);
  const auto& spec = index["models"][model];
  NetworkDef def = testing::fixtureNetwork(kDir, model, spec);
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  Tensor input = readNpy(kDir / (model + ".input.npy"));
  auto acts = session.run(input);
  Projector projector(acts);
  int checked = 0;
  for (const auto& c : spec["cases"]) {
    ProjectionRequest r;
    r.layer = def.resolveLayer(c["layer"].get<std::string>());
    r.channel = c["requested_channel"].is_null() ? -1 : c["requested_channel"].get<int>();
    r.mode = parseProjectionMode(c["mode"]);
    Projection p = projector.project(r);
    const std::string what = model + " " + c["file"].get<std::string>();
    EXPECT_EQ(p.channel, c["channel"].get<int>()) << what;
    EXPECT_EQ(p.position.y, c["y"].get<int>()) << what;
    EXPECT_EQ(p.position.x, c["x"].get<int>()) << what;
    // PyTorch computed in double: the seed within the forward chain's bound of the layer's
    // largest value, the picture within the projection's bound (tests/reference/tolerance.h).
    const Tensor& maps = acts->output(r.layer);
    const double layerMax = maps.maxAbs();
    EXPECT_NEAR(p.activation, c["value"].get<double>(),
                ref::chainTolerance(def, r.layer) * layerMax)
        << what;
    Tensor want = readNpy(kDir / c["file"].get<std::string>());
    ASSERT_EQ(p.image.shape(), want.shape()) << what;
    const double tau = ref::projectionTolerance(def, r.layer);
    EXPECT_GE(cosine(p.image, want), ref::cosineFloor(want, tau)) << what;
    EXPECT_LE(maxErrorOfLargest(p.image, want), tau) << what;
    ++checked;
  }
  EXPECT_GE(checked, 9);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DeconvGolden,
                         ::testing::Values("alex_small", "zf_small", "nin_small"));

// A one-layer network run on `input`, projected from `layer` at (channel, y, x).
Projection projectOne(const NetworkDef& def, const Tensor& input, size_t layer, int channel,
                      cv::Point at, ProjectionMode mode = ProjectionMode::Deconvnet) {
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  Projector projector(session.run(input));
  ProjectionRequest r;
  r.layer = layer;
  r.channel = channel;
  r.position = at;
  r.mode = mode;
  return projector.project(r);
}

TEST(Deconvnet, MaxPoolRoutesToSwitch) {
  NetworkDef def = NetBuilder("pool", {1, 4, 4}).maxPool("pool", 2, 2).build();
  Tensor x(Shape{1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x[i] = float((i * 7) % 16);  // a permutation of 0..15
  // Window (0, 1) covers columns 2..3 of rows 0..1: values 14, 5, 12, 3 -> the 14 at (0, 2).
  Projection p = projectOne(def, x, 0, 0, {1, 0});
  EXPECT_FLOAT_EQ(p.activation, 14.0f);
  for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(p.image[i], i == 2 ? 14.0f : 0.0f) << i;
}

TEST(Deconvnet, MaxPoolTiesGoToTheFirstElementInScanOrder) {
  NetworkDef def = NetBuilder("pool", {1, 3, 3}).maxPool("pool", 3, 1).build();
  Tensor x(Shape{1, 1, 3, 3}, 0.0f);
  x[5] = 2.0f;  // (1, 2)
  x[7] = 2.0f;  // (2, 1): same value, later in row-major order
  Projection p = projectOne(def, x, 0, 0, {0, 0});
  EXPECT_FLOAT_EQ(p.image[5], 2.0f);
  EXPECT_FLOAT_EQ(p.image[7], 0.0f);
}

TEST(Deconvnet, ConvProjectionIsTheFilterPlacedAtTheUnit) {
  // The transposed filtering of a single seed is the filter itself (the flipped filter correlated
  // with a delta), scaled by the seed and placed over the unit's window.
  LayerSpec conv;
  conv.name = "conv";
  conv.type = LayerType::Conv;
  conv.conv.outChannels = 1;
  conv.conv.kernelH = conv.conv.kernelW = 3;
  conv.weights = Tensor(Shape{1, 2, 3, 3});
  for (int i = 0; i < 18; ++i) conv.weights[i] = float(i) - 8.5f;
  conv.bias = Tensor(Shape{1}, 0.25f);
  NetworkDef def = NetBuilder("conv", {2, 6, 6}).add(conv).build();
  Tensor x(Shape{1, 2, 6, 6});
  for (int i = 0; i < x.numel(); ++i) x[i] = std::sin(float(i));
  Projection p = projectOne(def, x, 0, 0, {2, 1});  // unit (y 1, x 2): input rows 1..3, cols 2..4
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 6; ++y)
      for (int xx = 0; xx < 6; ++xx) {
        const bool inside = y >= 1 && y <= 3 && xx >= 2 && xx <= 4;
        const float want =
            inside ? p.activation * conv.weights[(c * 3 + (y - 1)) * 3 + (xx - 2)] : 0.0f;
        // One product per pixel, rounded once by both.
        EXPECT_NEAR(p.image[(c * 6 + y) * 6 + xx], want, ref::kUnitRoundoff * std::fabs(want))
            << c << "," << y << "," << xx;
      }
  EXPECT_EQ(p.field, cv::Rect(2, 1, 3, 3));
}

TEST(Deconvnet, ReluRulesDifferExactlyAsInTheTable) {
  // input (3 channels, 1 x 1) -> ReLU -> 1x1 conv with weights (-1, +1, +1).
  // x = (2, -1, 5): output = -2 + 0 + 5 = 3, the seed. The signal reaching the ReLU is
  // g = 3 * (-1, +1, +1) = (-3, 3, 3) while x > 0 is (yes, no, yes).
  LayerSpec conv;
  conv.name = "mix";
  conv.type = LayerType::Conv;
  conv.conv.outChannels = 1;
  conv.conv.hasBias = false;
  conv.weights = Tensor(Shape{1, 3, 1, 1});
  conv.weights[0] = -1.0f;
  conv.weights[1] = 1.0f;
  conv.weights[2] = 1.0f;
  NetworkDef def = NetBuilder("relu", {3, 1, 1}).relu("relu").add(conv).build();
  Tensor x(Shape{1, 3, 1, 1});
  x[0] = 2.0f;
  x[1] = -1.0f;
  x[2] = 5.0f;
  struct Want {
    ProjectionMode mode;
    float v[3];
  };
  for (const Want& w : {Want{ProjectionMode::Deconvnet, {0.0f, 3.0f, 3.0f}},     // relu(g)
                        Want{ProjectionMode::Guided, {0.0f, 0.0f, 3.0f}},        // relu(g)*[x>0]
                        Want{ProjectionMode::Saliency, {-3.0f, 0.0f, 3.0f}}}) {  // g*[x>0]
    Projection p = projectOne(def, x, 1, 0, {0, 0}, w.mode);
    EXPECT_FLOAT_EQ(p.activation, 3.0f);
    for (int c = 0; c < 3; ++c)
      EXPECT_FLOAT_EQ(p.image[c], w.v[c]) << projectionModeName(w.mode) << " channel " << c;
  }
}

TEST(ReceptiveField, AlexNetKnownValues) {
  NetworkDef def = makeBuiltinModel("caffe-alexnet");
  auto rf = receptiveFields(def);
  auto size = [&](const char* n) { return rf[size_t(def.indexOf(n))].sizeY; };
  auto jump = [&](const char* n) { return rf[size_t(def.indexOf(n))].jumpY; };
  EXPECT_EQ(size("conv1"), 11);
  EXPECT_EQ(size("pool1"), 19);
  EXPECT_EQ(size("conv2"), 51);
  EXPECT_EQ(size("pool2"), 67);
  EXPECT_EQ(size("conv3"), 99);
  EXPECT_EQ(size("conv4"), 131);
  EXPECT_EQ(size("conv5"), 163);
  EXPECT_EQ(size("pool5"), 195);
  EXPECT_EQ(jump("conv1"), 4);
  EXPECT_EQ(jump("conv5"), 16);
  EXPECT_TRUE(rf[size_t(def.indexOf("fc6"))].global);
  // conv5 unit (6, 6): rows from 6 * 16 - (2 + 1 + 1 + 1) * ... = offset -64 + 96 = 32.
  const ReceptiveField& c5 = rf[size_t(def.indexOf("conv5"))];
  EXPECT_EQ(c5.offsetY, -64);
  EXPECT_EQ(c5.box(6, 6, {227, 227}), cv::Rect(32, 32, 163, 163));
  EXPECT_EQ(c5.box(0, 0, {227, 227}), cv::Rect(0, 0, 99, 99));
}

TEST(Deconvnet, BatchedChannelsEqualOneAtATime) {
  NetworkDef def = makeBuiltinModel("caffe-alexnet");
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  Tensor x(def.input.shape.withBatch(1));
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float((i * 2654435761u) % 255) - 120.0f;
  Projector projector(session.run(x));
  const size_t layer = def.resolveLayer("conv5");
  std::vector<int> top = projector.topChannels(layer, 5);
  ASSERT_EQ(top.size(), 5u);
  auto batched = projector.projectChannels(layer, top, ProjectionMode::Deconvnet);
  for (size_t k = 0; k < top.size(); ++k) {
    ProjectionRequest r;
    r.layer = layer;
    r.channel = top[k];
    Projection one = projector.project(r);
    EXPECT_EQ(one.position, batched[k].position);
    // Batched and single backward passes may run other kernels: the projection's bound.
    EXPECT_LE(maxErrorOfLargest(batched[k].image, one.image), ref::projectionTolerance(def, layer))
        << "channel " << top[k];
  }
}

// The atlas's batch: several units, each from its own position (edges and corners included,
// one unit twice), in every mode, equal the single projections; mixed layers are refused.
TEST(Deconvnet, BatchedRequestsAtTheirOwnPositionsEqualOneAtATime) {
  NetworkDef def = makeBuiltinModel("caffe-alexnet");
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  Tensor x(def.input.shape.withBatch(1));
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float((i * 2654435761u) % 255) - 120.0f;
  Projector projector(session.run(x));
  const size_t layer = def.resolveLayer("relu5");
  const std::vector<std::pair<int, cv::Point>> units = {
      {3, {0, 0}}, {17, {12, 12}}, {17, {6, 5}}, {200, {12, 0}}, {255, {1, 11}}};
  for (ProjectionMode mode :
       {ProjectionMode::Deconvnet, ProjectionMode::Guided, ProjectionMode::Saliency}) {
    std::vector<ProjectionRequest> requests;
    for (const auto& [c, p] : units) requests.push_back({layer, c, p, mode, LrnBackward::Gradient});
    const std::vector<Projection> batched = projector.projectBatch(requests);
    ASSERT_EQ(batched.size(), units.size());
    for (size_t k = 0; k < units.size(); ++k) {
      const Projection one = projector.project(requests[k]);
      EXPECT_EQ(batched[k].channel, one.channel);
      EXPECT_EQ(batched[k].position, one.position);
      EXPECT_EQ(batched[k].activation, one.activation);
      EXPECT_EQ(batched[k].field, one.field);
      EXPECT_LE(maxErrorOfLargest(batched[k].image, one.image),
                ref::projectionTolerance(def, layer))
          << projectionModeName(mode) << " unit " << units[k].first;
    }
  }
  std::vector<ProjectionRequest> mixed = {{layer, 1, std::nullopt},
                                          {def.resolveLayer("relu4"), 1, std::nullopt}};
  EXPECT_THROW(projector.projectBatch(mixed), Error);
  mixed = {{layer, 1, cv::Point(13, 0)}};  // outside the 13 x 13 maps
  EXPECT_THROW(projector.projectBatch(mixed), Error);
  EXPECT_TRUE(projector.projectBatch({}).empty());
}

TEST(Deconvnet, LeanRunKeepingOnlyTheLayerGivesTheSameProjection) {
  // In a lean run convolutions absorb their ReLU; the projector reads ReLU outputs, LRN inputs
  // and switches from it, and only the projected layer itself must be kept.
  NetworkDef def = makeBuiltinModel("caffe-alexnet");
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  Tensor x(def.input.shape.withBatch(1));
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float((i * 2654435761u) % 255) - 120.0f;
  const size_t layer = def.resolveLayer("conv4");
  RunOptions lean;
  lean.keepAll = false;
  lean.keep = {layer};
  auto leanActs = session.run(x, lean);
  EXPECT_TRUE(leanActs->has(layer));
  EXPECT_FALSE(leanActs->has(def.resolveLayer("conv2")));  // fused into relu2
  Projector a(leanActs);
  Projector b(session.run(x));
  for (ProjectionMode mode : {ProjectionMode::Deconvnet, ProjectionMode::Guided}) {
    ProjectionRequest r;
    r.layer = layer;
    r.mode = mode;
    Projection pa = a.project(r), pb = b.project(r);
    EXPECT_EQ(pa.channel, pb.channel);
    EXPECT_EQ(pa.position, pb.position);
    // Fused and unfused forward runs sum in other orders: the projection's bound.
    EXPECT_LE(maxErrorOfLargest(pa.image, pb.image), ref::projectionTolerance(def, layer))
        << projectionModeName(mode);
  }
}

TEST(Deconvnet, BadRequestsAreClearErrors) {
  NetworkDef def =
      NetBuilder("t", {3, 8, 8}).conv("c", 4, 3, 1).relu("r").flatten("f").dense("fc", 3).build();
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  Projector projector(session.run(Tensor(Shape{1, 3, 8, 8}, 1.0f)));
  auto message = [&](ProjectionRequest r) {
    try {
      projector.project(r);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({1, 9, std::nullopt}).find("channel 9"), std::string::npos);
  EXPECT_NE(message({1, 0, cv::Point(6, 0)}).find("outside"), std::string::npos);
  EXPECT_NE(message({3, 0, cv::Point(0, 0)}).find("no spatial positions"), std::string::npos);
  EXPECT_NE(message({7, 0, std::nullopt}).find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace zfvis
