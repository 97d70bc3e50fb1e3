// The deconvnet's max-pool switches, on the path the product takes: the forward run's pooling
// workspace drives the projector's unpooling, so projecting one pooled unit puts its value on
// exactly one input element, the reference argmax of its window (ties: the first in row-major
// order).
#include <gtest/gtest.h>

#include <random>

#include "core/analysis/projector/projector.h"
#include "core/engine/engine.h"
#include "core/model/net_builder.h"
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

// Projects pooled units `units` (flat indices n * C * OH * OW + c * OH * OW + y * OW + x) and
// expects each image to hold the unit's value at switches[unit] of its channel and zero elsewhere.
void expectSwitches(const std::shared_ptr<const Activations>& acts, const Shape& out,
                    const std::vector<int64_t>& units, const std::vector<int32_t>& switches,
                    const std::string& what) {
  const int64_t C = out[1], OH = out[2], OW = out[3];
  for (int64_t n = 0; n < out[0]; ++n) {
    Projector projector(acts, int(n));
    std::vector<ProjectionRequest> requests;
    std::vector<int64_t> ofSample;
    for (int64_t u : units) {
      if (u / (C * OH * OW) != n) continue;
      ProjectionRequest r;
      r.layer = 0;
      r.channel = int(u / (OH * OW) % C);
      r.position = cv::Point(int(u % OW), int(u / OW % OH));
      requests.push_back(r);
      ofSample.push_back(u);
    }
    if (requests.empty()) continue;
    const std::vector<Projection> got = projector.projectBatch(requests);
    ASSERT_EQ(got.size(), requests.size());
    for (size_t k = 0; k < got.size(); ++k) {
      const Tensor& image = got[k].image;  // C x H x W
      const int64_t plane = image.shape()[1] * image.shape()[2];
      const int64_t want = int64_t(requests[k].channel) * plane + switches[size_t(ofSample[k])];
      for (int64_t i = 0; i < image.numel(); ++i) {
        if (i == want) {
          EXPECT_EQ(image[i], got[k].activation) << what << " unit " << ofSample[k];
        } else if (image[i] != 0.0f) {
          ADD_FAILURE() << what << " unit " << ofSample[k] << ": element " << i << " is "
                        << image[i] << ", the switch is element " << want;
          break;
        }
      }
    }
  }
}

TEST(PoolSwitches, UnpoolingPutsEachUnitOnItsReferenceArgmax) {
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
    const Tensor pooled = ref::maxPool(x, c.p, &expected);
    // Every unit of the small cases; 96 random units and the four corners of every channel of
    // sample 0 for the large ones.
    const Shape& out = pooled.shape();
    std::vector<int64_t> units;
    if (pooled.numel() <= 600) {
      for (int64_t u = 0; u < pooled.numel(); ++u) units.push_back(u);
    } else {
      std::uniform_int_distribution<int64_t> pick(0, pooled.numel() - 1);
      for (int k = 0; k < 96; ++k) units.push_back(pick(rng));
      for (int64_t ch = 0; ch < out[1]; ++ch)
        for (int64_t y : {int64_t(0), out[2] - 1})
          for (int64_t xx : {int64_t(0), out[3] - 1})
            units.push_back((ch * out[2] + y) * out[3] + xx);
    }
    expectSwitches(acts, out, units, expected, "input " + c.in.str());
  }
}

TEST(PoolSwitches, TiesGoToTheFirstElementInScanOrder) {
  // A plane of equal values: every window's switch is its top-left element (row-major scan).
  Tensor x(Shape{1, 1, 5, 5}, 1.0f);
  auto acts = runPool({3, 3, 2, 2, {}, false, false}, x);
  expectSwitches(acts, Shape{1, 1, 2, 2}, {0, 1, 2, 3}, {0, 2, 10, 12}, "equal plane");
  // Two maxima in one window: the earlier one in row-major order wins.
  Tensor y(Shape{1, 1, 3, 3}, 0.0f);
  y[5] = 2.0f;  // (1, 2)
  y[7] = 2.0f;  // (2, 1)
  auto acts2 = runPool({3, 3, 1, 1, {}, false, false}, y);
  expectSwitches(acts2, Shape{1, 1, 1, 1}, {0}, {5}, "two maxima");
}

}  // namespace
}  // namespace zfvis
