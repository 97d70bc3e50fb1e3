// Max-pool workspaces (the deconvnet's switches) decode to the reference argmax positions.
#include <gtest/gtest.h>

#include <random>

#include "core/engine.h"
#include "core/net_builder.h"
#include "tests/reference/naive_ops.h"

namespace zfvis {
namespace {

std::shared_ptr<const Activations> runPool(const PoolParams& p, const Tensor& input) {
  LayerSpec l;
  l.name = "pool";
  l.type = LayerType::MaxPool;
  l.pool = p;
  const Shape& s = input.shape();
  NetworkDef def = NetBuilder("pool", {s[1], s[2], s[3]}).add(l).build();
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  return session.run(input);
}

TEST(PoolSwitches, DecodeToReferenceArgmax) {
  struct Case {
    PoolParams p;
    Shape in;
  };
  const std::vector<Case> cases = {
      {{3, 3, 2, 2, {}, false, false}, {2, 16, 55, 55}},
      {{3, 3, 2, 2, {}, true, false}, {1, 8, 54, 54}},
      {{3, 3, 2, 2, {1, 1, 1, 1}, false, false}, {2, 5, 26, 26}},
      {{2, 3, 2, 1, {0, 1, 0, 1}, false, false}, {1, 3, 9, 10}},
  };
  std::mt19937 rng(1);
  std::normal_distribution<float> d;
  for (const Case& c : cases) {
    Tensor x(c.in);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = d(rng);
    auto acts = runPool(c.p, x);
    std::vector<int32_t> expected;
    ref::maxPool(x, c.p, &expected);
    EXPECT_EQ(acts->poolSwitches(0), expected) << "input " << c.in.str();
  }
}

TEST(PoolSwitches, TiesGoToTheFirstElementInScanOrder) {
  // A plane of equal values: every window's switch is its top-left element (row-major scan).
  Tensor x(Shape{1, 1, 5, 5}, 1.0f);
  auto acts = runPool({3, 3, 2, 2, {}, false, false}, x);
  EXPECT_EQ(acts->poolSwitches(0), (std::vector<int32_t>{0, 2, 10, 12}));
  // Two maxima in one window: the earlier one in row-major order wins.
  Tensor y(Shape{1, 1, 3, 3}, 0.0f);
  y[5] = 2.0f;  // (1, 2)
  y[7] = 2.0f;  // (2, 1)
  auto acts2 = runPool({3, 3, 1, 1, {}, false, false}, y);
  EXPECT_EQ(acts2->poolSwitches(0), (std::vector<int32_t>{5}));
}

}  // namespace
}  // namespace zfvis
