// Occlusion sensitivity: golden maps from PyTorch
// (tests/fixtures/scripts/make_occlusion_fixtures.py, double precision, the obvious loop over
// occluded copies) for small AlexNet- and NIN-shaped networks, for both evaluation paths (windowed
// early layers and whole copies); batch-size independence, the placement formula, progress,
// cancellation and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/analysis/occlusion/occlusion.h"
#include "core/base/error.h"
#include "core/base/npy.h"
#include "core/engine/engine.h"
#include "core/model/net_builder.h"
#include "tests/reference/fixture_net.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(ZFVIS_FIXTURES_DIR) / "occlusion";

std::shared_ptr<const CompiledNet> compile(NetworkDef def) {
  return CompiledNet::compile(std::make_shared<const NetworkDef>(std::move(def)));
}

// A deterministic input for the networks built in the tests below.
Tensor pseudoInput(const Shape& perSample) {
  Tensor t(perSample.withBatch(1));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = std::sin(0.37f * float(i)) * 2.0f;
  return t;
}

// Magnitudes behind an occlusion run's numbers, from the obvious evaluation: every occluded copy
// built here and run whole. Tolerances follow from them (tests/reference/tolerance.h).
struct Scales {
  size_t logits = 0;                            // the layer whose softmax gives the probabilities
  int64_t classes = 0;                          // its size
  std::vector<double> maxLogit;                 // per placement: the largest |logit|
  std::vector<double> featureMax;               // per placement: the feature map's largest |value|
  int64_t featureSize = 0;                      // values in the feature map
  double baseMaxLogit = 0, baseFeatureMax = 0;  // the same for the unoccluded input
};

Scales occlusionScales(const std::shared_ptr<const CompiledNet>& net, const Tensor& input,
                       const OcclusionOptions& o, int channel) {
  const NetworkDef& def = net->def();
  Scales s;
  s.logits = def.layers.size() - 1;
  if (def.layers.back().type == LayerType::Softmax)
    s.logits = size_t(def.indexOf(def.layers.back().inputs[0]));
  const int64_t C = input.shape()[1], H = input.shape()[2], W = input.shape()[3];
  Session session(net);
  auto measure = [&](const Tensor& x, double& maxLogit, double& featureMax) {
    auto acts = session.run(x);
    const Tensor& z = acts->output(s.logits);
    s.classes = z.numel();
    maxLogit = 0;
    for (int64_t i = 0; i < z.numel(); ++i) maxLogit = std::max(maxLogit, double(std::fabs(z[i])));
    featureMax = 0;
    if (!o.layer) return;
    const Tensor& f = acts->output(*o.layer);
    s.featureSize = f.numel() / f.shape()[1];
    const float* plane = f.data() + channel * s.featureSize;
    for (int64_t i = 0; i < s.featureSize; ++i)
      featureMax = std::max(featureMax, double(std::fabs(plane[i])));
  };
  measure(input, s.baseMaxLogit, s.baseFeatureMax);
  for (int y = 0; y + o.patch <= H; y += o.stride)
    for (int x = 0; x + o.patch <= W; x += o.stride) {
      Tensor copy = input;
      for (int64_t c = 0; c < C; ++c)
        for (int yy = y; yy < y + o.patch; ++yy)
          for (int xx = x; xx < x + o.patch; ++xx) copy.at(0, c, yy, xx) = o.fill;
      s.maxLogit.emplace_back();
      s.featureMax.emplace_back();
      measure(copy, s.maxLogit.back(), s.featureMax.back());
    }
  return s;
}

// Bound on a probability's error: the chain's rounding bound on the logits (relative to their
// largest magnitude), through the softmax (tolerance.h).
double probabilityTolerance(const NetworkDef& def, const Scales& s, double p, double maxLogit) {
  return ref::softmaxTolerance(p, ref::chainTolerance(def, s.logits) * maxLogit, s.classes);
}

// Bound on a feature map total's error: every value within the chain's bound of the map's largest
// magnitude, summed in double, rounded once to float32.
double featureTolerance(const NetworkDef& def, size_t layer, const Scales& s, double featureMax,
                        double total) {
  return double(s.featureSize) * ref::chainTolerance(def, layer) * featureMax +
         ref::kUnitRoundoff * std::fabs(total);
}

class OcclusionGolden : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(OcclusionGolden, MatchesPyTorchMapsLabelsAndFeatureTotals) {
  const auto& [model, windowed] = GetParam();
  nlohmann::json index = testing::readFixtureIndex(kDir);
  const auto& spec = index["models"][model];
  NetworkDef def = testing::fixtureNetwork(kDir, model, spec);
  auto net = compile(def);
  Tensor input = readNpy(kDir / (model + ".input.npy"));
  int checked = 0;
  for (const auto& c : spec["cases"]) {
    const std::string name = c["name"], what = model + " " + name;
    const std::string stem = model + "." + name;
    OcclusionOptions o;
    o.patch = c["patch"];
    o.stride = c["stride"];
    o.fill = c["fill"];
    o.targetClass = c["requested_class"].is_null() ? -1 : c["requested_class"].get<int>();
    if (!c["layer"].is_null()) {
      o.layer = def.resolveLayer(c["layer"].get<std::string>());
      o.channel = c["channel"];
    }
    o.batch = 8;  // several batches, the last one partial
    o.incremental = windowed;
    OcclusionResult r = runOcclusion(net, input, o);
    const Scales scales = occlusionScales(net, input, o, r.channel);
    EXPECT_EQ(r.incremental, windowed) << what << ": the windowed path was not taken";
    ASSERT_EQ(r.rows, c["rows"].get<int>()) << what;
    ASSERT_EQ(r.cols, c["cols"].get<int>()) << what;
    EXPECT_EQ(r.targetClass, c["class"].get<int>()) << what;
    EXPECT_EQ(r.baseClass, c["base_class"].get<int>()) << what;
    // PyTorch computed in double: our float32 chain's rounding bound, through the softmax.
    const double baseProbability = c["base_probability"];
    EXPECT_NEAR(r.baseProbability, baseProbability,
                probabilityTolerance(def, scales, baseProbability, scales.baseMaxLogit))
        << what;

    Tensor want = readNpy(kDir / (stem + ".prob.npy"));
    ASSERT_EQ(r.probability.shape(), want.shape()) << what;
    for (int64_t k = 0; k < want.numel(); ++k)
      EXPECT_NEAR(r.probability[k], want[k],
                  probabilityTolerance(def, scales, want[k], scales.maxLogit[size_t(k)]))
          << what << " placement " << k;

    // Labels must match exactly, except where the two most probable classes are closer than
    // their two probability tolerances (a near-tie could flip; none occur in these fixtures:
    // their smallest margin is in index.json as min_margin).
    NpyInt32 labels = readNpyInt32(kDir / (stem + ".labels.npy"));
    Tensor margin = readNpy(kDir / (stem + ".margin.npy"));
    ASSERT_EQ(labels.values.size(), r.topClass.size()) << what;
    for (size_t k = 0; k < labels.values.size(); ++k) {
      if (margin[int64_t(k)] < 2 * probabilityTolerance(def, scales, 1.0, scales.maxLogit[k]))
        continue;
      EXPECT_EQ(r.topClass[k], labels.values[k]) << what << " placement " << k;
    }

    if (!c["layer"].is_null()) {
      Tensor feature = readNpy(kDir / (stem + ".feature.npy"));
      ASSERT_EQ(r.featureActivation.shape(), feature.shape()) << what;
      for (int64_t k = 0; k < feature.numel(); ++k)
        EXPECT_NEAR(
            r.featureActivation[k], feature[k],
            featureTolerance(def, *o.layer, scales, scales.featureMax[size_t(k)], feature[k]))
            << what << " placement " << k;
      const double base = c["base_feature"];
      EXPECT_NEAR(r.baseFeatureActivation, base,
                  featureTolerance(def, *o.layer, scales, scales.baseFeatureMax, base))
          << what;
      EXPECT_EQ(r.channel, c["channel"].get<int>()) << what;
      EXPECT_EQ(r.layerName, c["layer"].get<std::string>()) << what;
    } else {
      EXPECT_TRUE(r.featureActivation.empty()) << what;
    }
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OcclusionGolden,
                         ::testing::Combine(::testing::Values("occ_alex", "occ_nin"),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param) +
                                  (std::get<1>(info.param) ? "_windowed" : "_whole");
                         });

TEST(Occlusion, PlacementCountIsSizeMinusPatchOverStridePlusOne) {
  EXPECT_EQ(occlusionPlacements(32, 8, 4), 7);
  EXPECT_EQ(occlusionPlacements(227, 50, 8), 23);  // ZF fig. 7 on AlexNet: 529 placements
  EXPECT_EQ(occlusionPlacements(32, 7, 5), 6);     // 0, 5, ..., 25; 30 + 7 > 32
  EXPECT_EQ(occlusionPlacements(10, 10, 3), 1);
  EXPECT_EQ(occlusionPlacements(11, 1, 1), 11);
  EXPECT_THROW(occlusionPlacements(10, 11, 1), Error);
  EXPECT_THROW(occlusionPlacements(10, 3, 0), Error);
  EXPECT_THROW(occlusionPlacements(10, 0, 1), Error);

  // A non-square input: rows from the height, columns from the width.
  auto net = compile(NetBuilder("rect", {2, 20, 30}).conv("c", 4, 3, 1).globalAvgPool("g").build());
  OcclusionOptions o;
  o.patch = 6;
  o.stride = 4;
  OcclusionResult r = runOcclusion(net, pseudoInput({2, 20, 30}), o);
  EXPECT_EQ(r.rows, (20 - 6) / 4 + 1);
  EXPECT_EQ(r.cols, (30 - 6) / 4 + 1);
  EXPECT_EQ(r.probability.shape(), (Shape{r.rows, r.cols}));
  EXPECT_EQ(r.topClass.size(), size_t(r.rows * r.cols));
}

TEST(Occlusion, DefaultPatchAndStrideKeepThePapersProportions) {
  // 50 and 8 on 224 (Zeiler & Fergus fig. 7), round(50 / 224 * W) and round(8 / 224 * W).
  EXPECT_EQ(defaultOcclusionGeometry(224, 224).patch, 50);
  EXPECT_EQ(defaultOcclusionGeometry(224, 224).stride, 8);
  EXPECT_EQ(defaultOcclusionGeometry(227, 227).patch, 51);  // 50.67
  EXPECT_EQ(defaultOcclusionGeometry(227, 227).stride, 8);  // 8.11
  EXPECT_EQ(defaultOcclusionGeometry(32, 32).patch, 7);     // 7.14
  EXPECT_EQ(defaultOcclusionGeometry(32, 32).stride, 1);    // 1.14
  EXPECT_EQ(defaultOcclusionGeometry(28, 28).patch, 6);     // 6.25
  EXPECT_EQ(defaultOcclusionGeometry(28, 28).stride, 1);
  EXPECT_EQ(defaultOcclusionGeometry(8, 8).patch, 2);   // 1.79
  EXPECT_EQ(defaultOcclusionGeometry(8, 8).stride, 1);  // 0.29, at least 1
  EXPECT_EQ(defaultOcclusionGeometry(1, 1).patch, 1);
  // The width sets the scale; the patch never exceeds the smaller side.
  EXPECT_EQ(defaultOcclusionGeometry(448, 40).patch, 40);
  EXPECT_EQ(defaultOcclusionGeometry(448, 40).stride, 16);
}

// A small AlexNet-shaped net (grouped conv, LRN, pooling, dense layers) on 3 x 67 x 67.
NetworkDef smallAlex() {
  NetBuilder b("small-alex", {3, 67, 67}, 7);
  b.conv("conv1", 16, 11, 4).relu("relu1").lrn("norm1").maxPool("pool1", 3, 2);     // 16 x 7 x 7
  b.conv("conv2", 32, 5, 1, {2, 2, 2, 2}, 2).relu("relu2").maxPool("pool2", 3, 2);  // 32 x 3 x 3
  b.flatten("flatten").dense("fc6", 64).relu("relu6").dense("fc7", 10).softmax("prob");
  return b.build();
}

TEST(Occlusion, BatchSizeDoesNotChangeTheMaps) {
  auto net = compile(smallAlex());
  Tensor input = pseudoInput({3, 67, 67});
  OcclusionOptions o;
  o.patch = 15;
  o.stride = 4;
  o.layer = net->def().resolveLayer("relu2");
  o.channel = 5;
  for (bool windowed : {true, false}) {
    o.incremental = windowed;
    o.batch = 1;
    OcclusionResult one = runOcclusion(net, input, o);
    const Scales scales = occlusionScales(net, input, o, one.channel);
    for (int batch : {5, 32, 1000}) {
      // Other batch sizes may run other kernels (other summation orders): the chain's bound.
      o.batch = batch;
      OcclusionResult r = runOcclusion(net, input, o);
      for (int64_t k = 0; k < r.probability.numel(); ++k)
        EXPECT_NEAR(r.probability[k], one.probability[k],
                    probabilityTolerance(net->def(), scales, one.probability[k],
                                         scales.maxLogit[size_t(k)]))
            << batch << " " << windowed << " placement " << k;
      EXPECT_EQ(r.topClass, one.topClass) << batch << " " << windowed;
      for (int64_t k = 0; k < r.featureActivation.numel(); ++k)
        EXPECT_NEAR(r.featureActivation[k], one.featureActivation[k],
                    featureTolerance(net->def(), *o.layer, scales, scales.featureMax[size_t(k)],
                                     one.featureActivation[k]))
            << batch << " " << windowed;
    }
  }
}

TEST(Occlusion, WindowedEvaluationMatchesWholeCopiesForEveryFeatureLayer) {
  auto net = compile(smallAlex());
  Tensor input = pseudoInput({3, 67, 67});
  for (const char* layer : {"conv1", "relu1", "norm1", "pool1", "conv2", "pool2", "fc6"}) {
    OcclusionOptions o;
    o.patch = 11;
    o.stride = 5;
    o.fill = 0.7f;
    o.layer = net->def().resolveLayer(layer);
    o.channel = 3;
    o.batch = 7;
    OcclusionResult windowed = runOcclusion(net, input, o);
    o.incremental = false;
    OcclusionResult whole = runOcclusion(net, input, o);
    EXPECT_TRUE(windowed.incremental) << layer;
    // Crops and whole copies sum in other orders: the chain's bound, through the softmax for the
    // probabilities.
    const Scales scales = occlusionScales(net, input, o, whole.channel);
    for (int64_t k = 0; k < whole.probability.numel(); ++k)
      EXPECT_NEAR(windowed.probability[k], whole.probability[k],
                  probabilityTolerance(net->def(), scales, whole.probability[k],
                                       scales.maxLogit[size_t(k)]))
          << layer << " placement " << k;
    EXPECT_EQ(windowed.topClass, whole.topClass) << layer;
    for (int64_t k = 0; k < whole.featureActivation.numel(); ++k)
      EXPECT_NEAR(windowed.featureActivation[k], whole.featureActivation[k],
                  featureTolerance(net->def(), *o.layer, scales, scales.featureMax[size_t(k)],
                                   whole.featureActivation[k]))
          << layer << " placement " << k;
  }
}

TEST(Occlusion, NetworksWithBranchesFallBackToWholeCopies) {
  // Two towers joined by Concat right after the input: no leading chain to window.
  NetBuilder b("towers", {3, 24, 24});
  b.conv("a", 4, 3, 1).relu("ra");
  b.from("input").conv("b", 4, 5, 1, {1, 1, 1, 1}).relu("rb");
  b.concat("cat", {"ra", "rb"}).globalAvgPool("gap").flatten("flat").softmax("prob");
  auto net = compile(b.build());
  OcclusionOptions o;
  o.patch = 6;
  o.stride = 3;
  OcclusionResult r = runOcclusion(net, pseudoInput({3, 24, 24}), o);
  EXPECT_FALSE(r.incremental);
  EXPECT_EQ(r.rows, 7);
  // Probabilities: softmax over 8 channels of a GAP, within (0, 1).
  for (int64_t k = 0; k < r.probability.numel(); ++k) {
    EXPECT_GT(r.probability[k], 0.0f);
    EXPECT_LT(r.probability[k], 1.0f);
  }
}

// Records every report; cancels once `after` placements were reported done.
class RecordingSink : public ProgressSink {
 public:
  explicit RecordingSink(int64_t after = -1) : m_after(after) {}
  void report(int64_t done, int64_t total) override {
    reports.emplace_back(done, total);
    maxDone = std::max(maxDone, done);
  }
  bool cancelled() const override {
    ++cancelChecks;
    return m_after >= 0 && maxDone >= m_after;
  }
  std::vector<std::pair<int64_t, int64_t>> reports;
  int64_t maxDone = 0;
  mutable int cancelChecks = 0;

 private:
  int64_t m_after;
};

TEST(Occlusion, ReportsProgressPerBatchUpToTheTotal) {
  auto net = compile(smallAlex());
  OcclusionOptions o;
  o.patch = 15;
  o.stride = 4;  // 14 x 14 = 196 placements
  o.batch = 50;
  RecordingSink sink;
  OcclusionResult r = runOcclusion(net, pseudoInput({3, 67, 67}), o, &sink);
  ASSERT_EQ(r.rows * r.cols, 196);
  ASSERT_FALSE(sink.reports.empty());
  std::vector<int64_t> done;
  for (auto [d, total] : sink.reports) {
    EXPECT_EQ(total, 196);
    if (done.empty() || done.back() != d) done.push_back(d);
  }
  EXPECT_EQ(done, (std::vector<int64_t>{0, 50, 100, 150, 196}));
}

TEST(Occlusion, CancellingAfterTheFirstBatchThrowsAndRunsNoMoreBatches) {
  auto net = compile(smallAlex());
  for (bool windowed : {true, false}) {
    OcclusionOptions o;
    o.patch = 15;
    o.stride = 4;
    o.batch = 32;
    o.incremental = windowed;
    RecordingSink sink(32);  // cancels as soon as the first batch is reported done
    EXPECT_THROW(runOcclusion(net, pseudoInput({3, 67, 67}), o, &sink), Cancelled) << windowed;
    EXPECT_EQ(sink.maxDone, 32) << windowed;
    EXPECT_EQ(sink.reports.back().first, 32) << windowed;
  }
}

TEST(Occlusion, ChannelMinusOnePicksTheStrongestMap) {
  auto net = compile(smallAlex());
  Tensor input = pseudoInput({3, 67, 67});
  const size_t layer = net->def().resolveLayer("relu2");
  Session session(net);
  auto acts = session.run(input);
  const Tensor& maps = acts->output(layer);
  const int64_t channels = maps.shape()[1], plane = maps.numel() / channels;
  int best = 0;
  double bestSum = -1e30;
  for (int64_t c = 0; c < channels; ++c) {
    double s = 0;
    for (int64_t q = 0; q < plane; ++q) s += maps[c * plane + q];
    if (s > bestSum) {
      bestSum = s;
      best = int(c);
    }
  }
  OcclusionOptions o;
  o.patch = 30;
  o.stride = 30;
  o.layer = layer;
  o.channel = -1;
  OcclusionResult r = runOcclusion(net, input, o);
  EXPECT_EQ(r.channel, best);
  // The same run's values summed in double by both: only the final float32 rounding differs.
  EXPECT_NEAR(r.baseFeatureActivation, bestSum, 2 * ref::kUnitRoundoff * std::fabs(bestSum));
}

TEST(Occlusion, BadOptionsThrowErrorsNamingTheProblem) {
  auto net = compile(smallAlex());
  Tensor input = pseudoInput({3, 67, 67});
  auto message = [&](OcclusionOptions o, const Tensor& x) -> std::string {
    try {
      runOcclusion(net, x, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  OcclusionOptions o;
  o.patch = 68;
  EXPECT_NE(message(o, input).find("patch 68 is larger than the 67 x 67 input"), std::string::npos)
      << message(o, input);
  o = {};
  o.patch = 10;
  o.stride = 0;
  EXPECT_NE(message(o, input).find("stride must be at least 1"), std::string::npos);
  o = {};
  o.patch = 10;
  o.targetClass = 10;
  EXPECT_NE(message(o, input).find("class 10 is out of range (10 classes)"), std::string::npos)
      << message(o, input);
  o = {};
  o.patch = 10;
  o.layer = net->def().resolveLayer("conv2");
  o.channel = 32;
  EXPECT_NE(message(o, input).find("channel 32 is out of range: layer 'conv2' has 32 channels"),
            std::string::npos)
      << message(o, input);
  o = {};
  o.patch = 10;
  EXPECT_NE(message(o, pseudoInput({3, 64, 64})).find("expected 1 x 3 x 67 x 67"),
            std::string::npos);
  EXPECT_NE(message(o, input).find("no error"), std::string::npos);
}

}  // namespace
}  // namespace zfvis
