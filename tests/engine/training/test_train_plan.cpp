// The oneDNN training engine against PyTorch autograd goldens (tests/fixtures/training, made by
// tests/fixtures/scripts/make_training_fixtures.py): the loss, every weight and bias gradient and
// the input gradient of every trainable layer type, and 20 SGD steps (momentum, weight decay,
// dropout, renormalisation) tracking PyTorch's losses.
#include <gtest/gtest.h>

#include <cmath>

#include "core/base/error.h"
#include "core/base/npy.h"
#include "core/engine/training/train_plan.h"
#include "core/model/net_builder.h"
#include "tests/analysis/training/training_fixture.h"
#include "tests/reference/naive_ops.h"

namespace zfvis {
namespace {

using testing::fixtureLabels;
using testing::trainingFixtures;
using testing::trainingIndex;
using testing::trainingNetwork;

// Gradients are compared as max |ours - golden| / max |golden|. The goldens are float64 autograd
// on the same float32 values, so the difference is our float32 rounding: sums of at most ~300
// terms here (the longest: conv_large_stride's 150-feature dense layer and 2 x 10 x 10 conv
// backward-weights reductions), each off by at most n * 2^-24 ~ 2e-5 of the summed magnitudes,
// compounded over at most four layers.
constexpr double kGradTolerance = 1e-4;
// Losses are means of log-sum-exps of O(1) logits computed in double from float32 logits whose
// relative error is ~1e-6 (same argument), so they agree far inside 1e-5.
constexpr double kLossTolerance = 1e-5;

Tensor fixture(const std::string& file) {
  return readNpy(trainingFixtures() / file);
}

class TrainGradients : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainGradients, MatchPyTorchAutograd) {
  const std::string name = GetParam();
  const nlohmann::json& spec = trainingIndex()["gradients"][name];
  NetworkDef def = trainingNetwork(name, spec);
  TrainPlanOptions o;
  o.batch = spec["batch"];
  o.inputGradient = true;
  TrainPlan plan(def, o);
  Tensor input = fixture(name + ".input.npy");
  std::vector<int32_t> labels = fixtureLabels(name + ".labels.npy");
  BatchResult r = plan.trainBatch(input.data(), labels.data(), spec["seed"], spec["step"]);
  EXPECT_NEAR(r.loss, spec["loss"].get<double>(), kLossTolerance) << name;
  ASSERT_FALSE(plan.params().empty());
  for (size_t i = 0; i < plan.params().size(); ++i) {
    const TrainableParam& p = plan.params()[i];
    Tensor golden = fixture(name + "." + p.name + ".grad.npy");
    Tensor got = plan.paramGradient(i);
    ASSERT_EQ(got.shape(), golden.shape()) << name << " " << p.name;
    EXPECT_GT(golden.maxAbs(), 0.0f) << name << " " << p.name;
    EXPECT_LE(ref::relativeMaxError(got, golden), kGradTolerance) << name << " " << p.name;
  }
  Tensor golden = fixture(name + ".input.grad.npy");
  EXPECT_LE(ref::relativeMaxError(plan.inputGradient(), golden), kGradTolerance) << name;
}

std::vector<std::string> gradientCases() {
  std::vector<std::string> names;
  for (const auto& [k, v] : trainingIndex()["gradients"].items()) names.push_back(k);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Layers, TrainGradients, ::testing::ValuesIn(gradientCases()),
                         [](const auto& info) { return info.param; });

// 20 steps of SGD with momentum, weight decay, dropout and renormalisation from the same weights
// and batches as PyTorch. Each step's float32 update differs from float64 by ~1e-7 relative, and
// the differences grow at most linearly over 20 steps of lr 0.05: losses stay within 1e-4.
TEST(TrainSgd, TwentyStepsTrackPyTorchLosses) {
  const nlohmann::json& spec = trainingIndex()["sgd"];
  NetworkDef def = trainingNetwork("sgd", spec);
  TrainPlanOptions o;
  o.batch = spec["batch"];
  TrainPlan plan(def, o);
  Tensor inputs = fixture("sgd.inputs.npy");
  std::vector<int32_t> labels = fixtureLabels("sgd.labels.npy");
  const int steps = spec["steps"], batch = o.batch;
  const int64_t perBatch = inputs.numel() / steps;
  SgdSettings sgd;
  sgd.learningRate = spec["lr"];
  sgd.momentum = spec["momentum"];
  sgd.weightDecay = spec["weight_decay"];
  sgd.renormRms = spec["renorm_rms"];
  for (int s = 0; s < steps; ++s) {
    BatchResult r = plan.trainBatch(inputs.data() + s * perBatch, labels.data() + s * batch,
                                    spec["seed"], uint64_t(s));
    EXPECT_NEAR(r.loss, spec["losses"][s].get<double>(), 1e-4) << "step " << s;
    plan.applySgd(sgd);
  }
  for (size_t i = 0; i < plan.params().size(); ++i) {
    const TrainableParam& p = plan.params()[i];
    Tensor golden = fixture("sgd." + p.name + ".final.npy");
    EXPECT_LE(ref::relativeMaxError(plan.paramValue(i), golden), kGradTolerance) << p.name;
  }
}

}  // namespace
}  // namespace zfvis

namespace zfvis {
namespace {

// Zeiler & Fergus' renormalisation: filters above the radius end at it (never a float step above,
// so the filter statistics do not count them as above), the others are left alone.
TEST(TrainSgd, RenormalisationCapsFilterRmsAtTheRadius) {
  NetBuilder b("renorm", {3, 6, 6});
  b.conv("conv", 8, 3, 1).flatten("f").dense("fc", 2);
  NetworkDef def = b.build();
  Tensor& w = def.layers[0].weights;
  const int64_t per = w.numel() / 8;
  for (int64_t o = 0; o < 8; ++o)
    for (int64_t k = 0; k < per; ++k)
      w[o * per + k] = float(o % 2 ? 0.03 : 0.7 + 0.1 * o) * ((k % 3) - 1.0f);
  auto rms = [&](const Tensor& t, int64_t o) {
    double sq = 0;
    for (int64_t k = 0; k < per; ++k) sq += double(t[o * per + k]) * t[o * per + k];
    return std::sqrt(sq / double(per));
  };
  TrainPlanOptions o;
  o.batch = 1;
  TrainPlan plan(def, o);
  SgdSettings sgd;  // the gradients are still zero: only the renormalisation changes weights
  sgd.weightDecay = 0;
  sgd.renormRms = 0.1;
  plan.applySgd(sgd);
  const Tensor after = plan.paramValue(0);
  for (int64_t f = 0; f < 8; ++f) {
    if (f % 2) {
      for (int64_t k = 0; k < per; ++k) EXPECT_EQ(after[f * per + k], w[f * per + k]);
      continue;
    }
    EXPECT_GT(rms(w, f), 0.1);
    EXPECT_LE(rms(after, f), 0.1) << f;
    EXPECT_NEAR(rms(after, f), 0.1, 1e-6) << f;  // a few float steps of 2^-24 below
    // The filter keeps its shape: a common scale.
    EXPECT_NEAR(after[f * per] / w[f * per], after[f * per + 2] / w[f * per + 2], 1e-6);
  }
}

}  // namespace
}  // namespace zfvis
