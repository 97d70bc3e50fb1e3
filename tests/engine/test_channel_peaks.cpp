// A unit's response (core/engine/channel_peak.h): Activations::channelPeaks, which reads the
// engine's own layouts (nChw8c and the like), against a naive loop over the plain output; and the
// rule itself (first maximum in row-major order, NaN never wins) on hand-made maps.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/base/error.h"
#include "core/engine/channel_peak.h"
#include "core/engine/engine.h"
#include "core/model/builtin_models.h"

namespace zfvis {
namespace {

// The rule written out on a plain N x C (x H x W) tensor.
ChannelPeak naivePeak(const Tensor& t, int64_t n, int64_t c) {
  const Shape& s = t.shape();
  const int64_t H = s.rank() == 4 ? s[2] : 1, W = s.rank() == 4 ? s[3] : 1;
  ChannelPeak best{std::numeric_limits<float>::quiet_NaN(), 0, 0};
  bool found = false;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const float v = t.data()[((n * s[1] + c) * H + y) * W + x];
      if (std::isnan(v)) continue;
      if (!found || v > best.value) best = {v, int(y), int(x)};
      found = true;
    }
  return best;
}

void expectSame(const ChannelPeak& got, const ChannelPeak& want, const std::string& where) {
  if (std::isnan(want.value))
    EXPECT_TRUE(std::isnan(got.value)) << where;
  else
    EXPECT_EQ(got.value, want.value) << where;
  EXPECT_EQ(got.y, want.y) << where;
  EXPECT_EQ(got.x, want.x) << where;
}

// Every built-in, every layer with channels, two samples: the peaks read in place equal the naive
// rule on the plain copy, bit for bit (ReLU outputs hold many tied zeros, which checks the order).
TEST(ChannelPeaks, EveryBuiltinLayerMatchesTheNaiveRuleOnThePlainOutput) {
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.0f, 40.0f);
  for (const BuiltinModelInfo& m : builtinModels()) {
    auto def = std::make_shared<const NetworkDef>(makeBuiltinModel(m.name, 1));
    auto net = CompiledNet::compile(def);
    Tensor x(def->input.shape.withBatch(2));
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = d(rng);
    Session session(net);
    auto acts = session.run(x);
    const std::vector<Shape> shapes = def->outputShapes();
    for (size_t l = 0; l < def->layers.size(); ++l) {
      if (shapes[l].rank() != 1 && shapes[l].rank() != 3) {
        EXPECT_THROW(acts->channelPeaks(l), Error);
        continue;
      }
      const std::vector<ChannelPeak> peaks = acts->channelPeaks(l);
      const Tensor& out = acts->output(l);
      ASSERT_EQ(int64_t(peaks.size()), 2 * shapes[l][0]);
      for (int64_t n = 0; n < 2; ++n) {
        // One sample's peaks (what the deconvnet asks for) are that sample's, index c.
        const std::vector<ChannelPeak> one = acts->channelPeaks(l, int(n));
        ASSERT_EQ(int64_t(one.size()), shapes[l][0]);
        for (int64_t c = 0; c < shapes[l][0]; ++c) {
          const std::string where = std::string(m.name) + " " + def->layers[l].name + " n" +
                                    std::to_string(n) + " c" + std::to_string(c);
          expectSame(peaks[size_t(n * shapes[l][0] + c)], naivePeak(out, n, c), where);
          expectSame(one[size_t(c)], naivePeak(out, n, c), where + " (one sample)");
        }
      }
    }
  }
}

TEST(ChannelPeaks, LayersNotKeptAreAnError) {
  auto def = std::make_shared<const NetworkDef>(makeBuiltinModel("zf-small", 1));
  auto net = CompiledNet::compile(def);
  Session session(net);
  RunOptions lean;
  lean.keepAll = false;
  auto acts = session.run(Tensor(def->input.shape.withBatch(1), 0.5f), lean);
  EXPECT_THROW(acts->channelPeaks(0), Error);
  EXPECT_THROW(acts->channelPeaks(def->layers.size()), Error);
  const size_t last = def->layers.size() - 1;
  EXPECT_NO_THROW(acts->channelPeaks(last, 0));
  EXPECT_THROW(acts->channelPeaks(last, 1), Error);  // a batch of one
  EXPECT_THROW(acts->channelPeaks(last, -1), Error);
}

// The kernel on hand-made maps: two interleaved lanes (a blocked layout of 2 channels, 2 x 3).
TEST(ChannelPeaks, FirstMaximumInRowMajorOrderNaNNeverWinsAcrossLanes) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // lane 0: 1 5 5 / 5 0 0 -> (0, 1); lane 1: NaN NaN -inf / NaN 2 2 -> (1, 1)
  const float m[] = {1, nan, 5, nan, 5, -INFINITY, 5, nan, 0, 2, 0, 2};
  ChannelPeak p[2];
  findChannelPeaks(m, 2, 3, 6, 2, 2, p);
  expectSame(p[0], {5, 0, 1}, "lane 0");
  expectSame(p[1], {2, 1, 1}, "lane 1");
  // A lane of NaNs: (NaN, 0, 0); a lane of -inf: its first position.
  const float n2[] = {nan, -INFINITY, nan, -INFINITY};
  findChannelPeaks(n2, 1, 2, 4, 2, 2, p);
  expectSame(p[0], {nan, 0, 0}, "NaN lane");
  expectSame(p[1], {-INFINITY, 0, 0}, "-inf lane");
  // More lanes than one pass of the kernel holds (17 > 16): each lane its own peak.
  std::vector<float> wide(17 * 4);
  for (int pos = 0; pos < 4; ++pos)
    for (int l = 0; l < 17; ++l) wide[size_t(pos * 17 + l)] = float(pos == l % 4 ? 1 + l : 0);
  std::vector<ChannelPeak> w(17);
  findChannelPeaks(wide.data(), 2, 2, 34, 17, 17, w.data());
  for (int l = 0; l < 17; ++l)
    expectSame(w[size_t(l)], {float(1 + l), (l % 4) / 2, (l % 4) % 2}, "lane " + std::to_string(l));
}

}  // namespace
}  // namespace zfvis
