// The operator-traits table (core/model/op_traits): one row per operator with its names, the
// window geometry every reader shares, and the trailing padding the engine's pooling needs for
// ceil mode, against a direct count of window positions.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/model/builtin_models.h"
#include "core/model/op_traits.h"
#include "core/model/receptive_field.h"

namespace zfvis {
namespace {

TEST(OpTraits, EveryOperatorHasItsOwnNamesAndAWindowExactlyWhenItSlides) {
  std::set<std::string> onnx;
  for (LayerType t : allLayerTypes()) {
    const OpTraits& o = opTraits(t);
    EXPECT_FALSE(o.onnxName.empty());
    EXPECT_FALSE(o.kerasName.empty());
    EXPECT_TRUE(onnx.insert(std::string(o.onnxName)).second) << o.onnxName << " twice";
    EXPECT_EQ(onnxOpName(t), o.onnxName);
    EXPECT_EQ(kerasClassName(t), o.kerasName);
    LayerSpec l;
    l.type = t;
    EXPECT_EQ(windowGeometry(l).has_value(), o.spatial == SpatialKind::Window) << o.onnxName;
  }
  EXPECT_EQ(onnxOpName(LayerType::Dense), "Gemm");
  EXPECT_EQ(opTraits(LayerType::Dense).spatial, SpatialKind::Global);
  EXPECT_TRUE(opTraits(LayerType::BatchNorm).hasWeights);
  EXPECT_FALSE(opTraits(LayerType::MaxPool).hasWeights);
}

TEST(OpTraits, ConvolutionWindowCarriesDilationAndAsymmetricPadding) {
  LayerSpec l;
  l.type = LayerType::Conv;
  l.conv.kernelH = 3;
  l.conv.kernelW = 5;
  l.conv.strideH = 2;
  l.conv.strideW = 1;
  l.conv.pad = {1, 2, 3, 4};
  l.conv.dilationH = 2;
  l.conv.dilationW = 3;
  const auto g = windowGeometry(l);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->y.extent(), 5);  // taps at 0, 2, 4
  EXPECT_EQ(g->x.extent(), 13);
  EXPECT_EQ(g->y.padBefore, 1);
  EXPECT_EQ(g->x.padBefore, 2);
  EXPECT_EQ(g->y.padAfter, 3);
  EXPECT_EQ(g->x.padAfter, 4);
  EXPECT_EQ(g->y.stride, 2);
}

// Window starts o * stride - padBefore for o = 0, 1, ... whose window fits in the padded input
// [-padBefore, in + padAfter), counted one by one.
int64_t countWindows(int64_t in, const AxisWindow& a, int64_t padAfter) {
  int64_t n = 0;
  for (int64_t start = -a.padBefore; start + a.extent() <= in + padAfter; start += a.stride) ++n;
  return n;
}

TEST(OpTraits, PadAfterForGivesTheCeilModeOutputSizeToAFloorCount) {
  for (int kernel = 1; kernel <= 4; ++kernel)
    for (int stride = 1; stride <= 3; ++stride)
      for (int pad = 0; pad < kernel; ++pad)
        for (int64_t in = kernel; in <= 13; ++in) {
          const AxisWindow a{kernel, stride, pad, pad, 1};
          for (bool ceil : {false, true}) {
            const int64_t out = windowOutputSize(in, kernel, stride, pad, pad, 1, ceil);
            const int64_t padAfter = padAfterFor(a, in, out);
            EXPECT_GE(padAfter, pad);
            EXPECT_EQ(countWindows(in, a, padAfter), out)
                << "kernel " << kernel << " stride " << stride << " pad " << pad << " in " << in
                << (ceil ? " ceil" : " floor");
          }
        }
}

TEST(OpTraits, ReceptiveFieldsFollowTheTable) {
  // caffe-alexnet: conv1 sees 11 x 11 pixels every 4, pool5's units 195 x 195 every 32 (as in
  // Zeiler & Fergus' and the receptive-field literature's tables), fc6 everything.
  const NetworkDef def = makeBuiltinModel("caffe-alexnet");
  const std::vector<ReceptiveField> f = receptiveFields(def);
  auto at = [&](const std::string& name) { return f[size_t(def.indexOf(name))]; };
  EXPECT_EQ(at("conv1").sizeY, 11);
  EXPECT_EQ(at("conv1").jumpY, 4);
  EXPECT_EQ(at("conv5").sizeY, 163);
  EXPECT_EQ(at("pool5").sizeY, 195);
  EXPECT_EQ(at("pool5").jumpX, 32);
  EXPECT_TRUE(at("fc6").global);
}

}  // namespace
}  // namespace zfvis
