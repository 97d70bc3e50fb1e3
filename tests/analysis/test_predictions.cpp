// Class probabilities (softmax unless the net ends in one) and top-K order.
#include <gtest/gtest.h>

#include <cmath>

#include "core/analysis/predictions.h"
#include "core/model/net_builder.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

TEST(Predictions, SoftmaxIsAppliedUnlessTheNetworkEndsInOne) {
  const float row[3] = {1.0f, 2.0f, 3.0f};
  std::vector<float> p = classProbabilities(row, 3, false);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  // float32 exp of exact differences, a double sum: the softmax's own rounding.
  EXPECT_NEAR(p[0], std::exp(1.0) / z, ref::softmaxTolerance(std::exp(1.0) / z, 0, 3));
  EXPECT_NEAR(p[2], std::exp(3.0) / z, ref::softmaxTolerance(std::exp(3.0) / z, 0, 3));
  EXPECT_EQ(classProbabilities(row, 3, true), (std::vector<float>{1.0f, 2.0f, 3.0f}));
  NetworkDef withSoftmax = NetBuilder("s", {4}).dense("fc", 3).softmax("prob").build();
  Tensor out(Shape{2, 3});
  for (int i = 0; i < 6; ++i) out[i] = 0.1f * float(i);
  EXPECT_EQ(classProbabilities(withSoftmax, out, 1), (std::vector<float>{0.3f, 0.4f, 0.5f}));
}

TEST(Predictions, TopClassesAreSortedWithTiesByIndex) {
  std::vector<float> p{0.1f, 0.4f, 0.1f, 0.4f, 0.0f};
  EXPECT_EQ(topClasses(p, 3), (std::vector<int>{1, 3, 0}));
  EXPECT_EQ(topClasses(p, 10).size(), 5u);
  EXPECT_TRUE(topClasses(p, 0).empty());
}

}  // namespace
}  // namespace zfvis
