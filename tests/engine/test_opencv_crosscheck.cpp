// The built-in networks through our engine and through OpenCV's cv::dnn (an independent
// implementation, same weights) agree.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/engine/engine.h"
#include "core/model/builtin_models.h"
#include "tests/reference/naive_ops.h"
#include "tests/reference/opencv_net.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

class OpenCvCrossCheck : public ::testing::TestWithParam<const char*> {};

TEST_P(OpenCvCrossCheck, FinalAndIntermediateOutputsAgree) {
  NetworkDef def = makeBuiltinModel(GetParam());
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-120.0f, 130.0f);
  Tensor input(def.input.shape.withBatch(2));
  for (int64_t i = 0; i < input.numel(); ++i) input[i] = d(rng);

  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  auto acts = session.run(input);

  cv::dnn::Net cvNet = bench::toOpenCvNet(def);
  std::vector<int> dims(input.shape().dims().begin(), input.shape().dims().end());
  cvNet.setInput(cv::Mat(dims, CV_32F, input.data()));
  std::vector<std::string> names;
  for (const LayerSpec& l : def.layers)
    if (l.type != LayerType::Dropout) names.push_back(l.name);
  std::vector<cv::Mat> outs;
  cvNet.forward(outs, names);
  for (size_t k = 0; k < names.size(); ++k) {
    size_t i = size_t(def.indexOf(names[k]));
    const Tensor& ours = acts->output(i);
    ASSERT_EQ(size_t(outs[k].total()), size_t(ours.numel())) << names[k];
    Tensor theirs = Tensor::fromData(ours.shape(), outs[k].ptr<float>());
    if (def.layers[i].type != LayerType::Softmax) {
      // Both sum in float32 in their own orders: the chain's rounding bound (tolerance.h).
      EXPECT_LE(ref::relativeMaxError(ours, theirs), ref::chainTolerance(def, i))
          << GetParam() << " layer " << names[k];
      continue;
    }
    // Softmax turns large logits' small relative differences into absolute ones: bound each
    // probability by the logits' largest difference (tolerance.h).
    const size_t logits = size_t(def.indexOf(def.layers[i].inputs[0]));
    const Tensor& z = acts->output(logits);
    const Tensor zTheirs = Tensor::fromData(z.shape(), outs[k - 1].ptr<float>());
    ASSERT_EQ(names[k - 1], def.layers[logits].name);
    double maxLogitError = 0;
    for (int64_t e = 0; e < z.numel(); ++e)
      maxLogitError = std::max(maxLogitError, double(std::fabs(z[e] - zTheirs[e])));
    const int64_t classes = ours.numel() / ours.shape()[0];
    for (int64_t e = 0; e < ours.numel(); ++e)
      ASSERT_LE(std::fabs(ours[e] - theirs[e]),
                ref::softmaxTolerance(theirs[e], maxLogitError, classes))
          << GetParam() << " layer " << names[k] << " element " << e;
  }
}

INSTANTIATE_TEST_SUITE_P(Builtins, OpenCvCrossCheck,
                         ::testing::Values("caffe-alexnet", "zfnet-paper", "nin-paper", "nin",
                                           "alexnet"));

}  // namespace
}  // namespace zfvis
