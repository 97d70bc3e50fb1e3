// LayerRangeRunner (core/engine/layer_range_runner.h): slices of a compiled net's plan on caller
// memory, the way occlusion runs its crop networks and its classifier. A plan that starts at layer
// k, fed the output of layer k - 1 from a whole run, ends where the whole run ends (up to the
// chain's rounding: the runner's plan fuses ReLUs and may pick other kernels); outputs a plan does
// not keep and plans that start past the end are errors.
#include <gtest/gtest.h>

#include <random>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/engine/layer_range_runner.h"
#include "core/model/builtin_models.h"
#include "tests/reference/naive_ops.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

Tensor noise(const Shape& s, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = d(rng);
  return t;
}

TEST(LayerRangeRunner, APlanFromLayerKFedLayerKMinusOneEndsWhereTheWholeRunEnds) {
  for (const char* name : {"zf-small", "nin", "caffe-alexnet"}) {
    auto def = std::make_shared<const NetworkDef>(makeBuiltinModel(name, 1));
    auto net = CompiledNet::compile(def);
    const int batch = 3;
    const Tensor x = noise(def->input.shape.withBatch(batch), 7, 40.0f);
    Session session(net);
    auto whole = session.run(x);
    const size_t n = def->layers.size();
    // Compare before a final Softmax: it would turn relative rounding into absolute (tolerance.h).
    const size_t last = def->layers.back().type == LayerType::Softmax ? n - 2 : n - 1;
    for (size_t k : {size_t(1), n / 2, last}) {
      LayerRangeRunner runner(net, {last}, k);
      Tensor before = whole->output(k - 1);
      runner.write(batch, int(k) - 1, before.data());
      runner.run(batch, int(k), int(n), nullptr);
      Tensor got;
      runner.read(batch, last, got);
      ASSERT_EQ(got.shape(), whole->output(last).shape()) << name << " from " << k;
      EXPECT_LE(ref::relativeMaxError(got, whole->output(last)), ref::chainTolerance(*def, last))
          << name << " from layer " << k << " (" << def->layers[k].name << ")";
      // Other data through the same plan, then the first again: the same result, bit for bit
      // (nothing of one batch is left over in the next).
      Tensor other = noise(before.shape(), 9, 5.0f);
      runner.write(batch, int(k) - 1, other.data());
      runner.run(batch, int(k), int(n), nullptr);
      runner.write(batch, int(k) - 1, before.data());
      runner.run(batch, int(k), int(n), nullptr);
      Tensor again;
      runner.read(batch, last, again);
      EXPECT_EQ(ref::relativeMaxError(again, got), 0.0) << name << " from " << k;
    }
  }
}

TEST(LayerRangeRunner, ItsInputRunsInPlaceFromLayerZero) {
  auto def = std::make_shared<const NetworkDef>(makeBuiltinModel("zf-small", 2));
  auto net = CompiledNet::compile(def);
  Tensor x = noise(def->input.shape.withBatch(2), 8, 1.0f);
  LayerRangeRunner runner(net, {});
  runner.write(2, -1, x.data());
  runner.run(2, 0, int(def->layers.size()), nullptr);
  Tensor got;
  runner.read(2, def->layers.size() - 1, got);
  Session session(net);
  const Tensor want = session.run(x)->finalOutput();
  EXPECT_LE(ref::relativeMaxError(got, want), ref::outputTolerance(*def, x));
}

TEST(LayerRangeRunner, OutputsThePlanDoesNotKeepAndPlansPastTheEndAreErrors) {
  auto def = std::make_shared<const NetworkDef>(makeBuiltinModel("zf-small", 1));
  auto net = CompiledNet::compile(def);
  // zf-small's first Conv feeds a ReLU that the fused plan folds into it.
  ASSERT_EQ(def->layers[0].type, LayerType::Conv);
  ASSERT_EQ(def->layers[1].type, LayerType::Relu);
  LayerRangeRunner fused(net, {});
  Tensor out;
  EXPECT_THROW(fused.read(1, 0, out), Error);
  LayerRangeRunner kept(net, {0});
  EXPECT_NO_THROW(kept.read(1, 0, out));
  EXPECT_THROW(net->plan(1, true, {}, def->layers.size()), Error);
  // Layers before the plan's first are not run: those it does not read have no output.
  LayerRangeRunner late(net, {}, 3);
  EXPECT_THROW(late.read(1, 0, out), Error);
  EXPECT_NO_THROW(late.read(1, 2, out));
}

}  // namespace
}  // namespace zfvis
