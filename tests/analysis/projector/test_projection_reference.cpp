// The Projector against the naive back-projection of tests/reference/naive_projection.h: units of
// flattened vectors (a flat index is not a channel of the map below it: issue 11's crash), every
// layer of every built-in model from its default unit, and the three modes on a small network.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/analysis/projector/projector.h"
#include "core/engine/engine.h"
#include "core/model/builtin_models.h"
#include "core/model/net_builder.h"
#include "tests/reference/naive_ops.h"
#include "tests/reference/naive_projection.h"

namespace zfvis {
namespace {

// Largest |got - want| over the largest |want|. The reference sums in double, the engine in
// float32: a convolution or dense layer sums up to ~10^4 terms (fc6: 4096, conv2 transposed:
// 256 x 5 x 5), about sqrt(n) * 2^-24 <= 1e-5 relative each; LRN's gradient is the difference of
// two terms up to 70x larger than itself (61 vs 0.88 at caffe-alexnet's norm1), so float32's
// ~1e-6 on each term becomes ~1e-4 of the result. (The PyTorch golden tests use the same bound.)
constexpr double kTolerance = 1e-4;

Tensor syntheticInput(const Shape& perSample) {
  Tensor x(perSample.withBatch(1));
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float((i * 2654435761u) % 255) - 120.0f;
  return x;
}

std::vector<Tensor> forwardValues(const Activations& a) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < a.layerCount(); ++i) out.push_back(a.output(i));
  return out;
}

// The default unit of a layer by the README: the channel holding the layer's largest value (the
// first in C order on ties) and that channel's first argmax in row-major order.
void defaultUnit(const Tensor& output, int& channel, int& y, int& x) {
  const Shape& s = output.shape();
  const int64_t H = s.rank() == 4 ? s[2] : 1, W = s.rank() == 4 ? s[3] : 1;
  int64_t best = 0;
  for (int64_t i = 1; i < output.numel(); ++i)
    if (output[i] > output[best]) best = i;
  channel = int(best / (H * W));
  y = int(best % (H * W) / W);
  x = int(best % W);
}

// Projects `request` and the reference at the unit the Projector picked; returns the error.
double errorAgainstReference(Projector& projector, const NetworkDef& def, const Activations& acts,
                             const std::vector<Tensor>& values, const ProjectionRequest& request,
                             Projection* out = nullptr) {
  Projection p = projector.project(request);
  const Tensor want = ref::project(def, acts.input(), values, request.layer, p.channel,
                                   p.position.y, p.position.x, request.mode, request.lrn);
  const double error = ref::relativeMaxError(p.image.reshaped(want.shape()), want);
  if (out) *out = std::move(p);
  return error;
}

// conv (2 groups) -> ReLU -> pool -> flatten -> dense: every unit of the flattened vector, most
// of them at an index larger than conv2's channel count, in every mode.
TEST(ProjectionReference, EveryUnitOfAFlattenedMapProjectsThroughTheChannelItCameFrom) {
  NetBuilder b("flat", {3, 20, 20}, 11);
  b.conv("conv1", 8, 3, 1).relu("relu1");         // 8 x 18 x 18
  b.maxPool("pool1", 2, 2);                       // 8 x 9 x 9
  b.conv("conv2", 6, 3, 1, {}, 2).relu("relu2");  // 6 x 7 x 7, 2 groups
  b.maxPool("pool2", 3, 3).flatten("flatten");    // 6 x 2 x 2 = 24
  b.dense("fc", 5);                               // 5
  const NetworkDef def = b.build();
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  auto acts = session.run(syntheticInput(def.input.shape));
  const std::vector<Tensor> values = forwardValues(*acts);
  Projector projector(acts);
  const size_t flatten = def.resolveLayer("flatten");
  for (ProjectionMode mode :
       {ProjectionMode::Deconvnet, ProjectionMode::Guided, ProjectionMode::Saliency})
    for (int unit = 0; unit < 24; ++unit) {
      ProjectionRequest r;
      r.layer = flatten;
      r.channel = unit;
      r.mode = mode;
      Projection p;
      EXPECT_LE(errorAgainstReference(projector, def, *acts, values, r, &p), kTolerance)
          << projectionModeName(mode) << " unit " << unit;
      EXPECT_EQ(p.channel, unit);
      EXPECT_FLOAT_EQ(p.activation, values[flatten][unit]);
    }
}

// The same unit seeded in the flattened vector and in the map it reads gives the same picture.
TEST(ProjectionReference, FlattenUnitEqualsThePoolUnitItReads) {
  const NetworkDef def = makeBuiltinModel("caffe-alexnet");
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  Projector projector(session.run(syntheticInput(def.input.shape)));
  const size_t flatten = def.resolveLayer("flatten"), pool5 = def.resolveLayer("pool5");
  ProjectionRequest r;
  r.layer = flatten;  // the strongest unit
  const Projection flat = projector.project(r);
  ASSERT_GE(flat.channel, 256) << "pick an input whose strongest unit is past conv5's channels";
  // 256 x 6 x 6: unit f is channel f / 36 at (f % 36 / 6, f % 6).
  r.layer = pool5;
  r.channel = flat.channel / 36;
  r.position = cv::Point(flat.channel % 6, flat.channel % 36 / 6);
  const Projection pooled = projector.project(r);
  EXPECT_FLOAT_EQ(pooled.activation, flat.activation);
  EXPECT_LE(ref::relativeMaxError(flat.image, pooled.image), 1e-6);  // same ops, same order
}

class EveryBuiltinLayer : public ::testing::TestWithParam<std::string> {};

// Every layer of a built-in, from its default unit (deconvnet; the vector layers right after
// the maps also guided and saliency), against the reference.
TEST_P(EveryBuiltinLayer, DefaultUnitMatchesTheReference) {
  const NetworkDef def = makeBuiltinModel(GetParam());
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  auto acts = session.run(syntheticInput(def.input.shape));
  const std::vector<Tensor> values = forwardValues(*acts);
  Projector projector(acts);
  const std::vector<Shape>& shapes = net->outputShapes();
  int flattened = 0;
  for (size_t layer = 0; layer < def.layers.size(); ++layer) {
    const std::string what = GetParam() + " " + def.layers[layer].name;
    std::vector<ProjectionMode> modes{ProjectionMode::Deconvnet};
    const bool firstVector =
        shapes[layer].rank() == 1 && layer > 0 && shapes[layer - 1].rank() == 3;
    if (firstVector) {
      modes.push_back(ProjectionMode::Guided);
      modes.push_back(ProjectionMode::Saliency);
      ++flattened;
    }
    for (ProjectionMode mode : modes) {
      ProjectionRequest r;
      r.layer = layer;
      r.mode = mode;
      Projection p;
      EXPECT_LE(errorAgainstReference(projector, def, *acts, values, r, &p), kTolerance)
          << what << " " << projectionModeName(mode);
      int channel = 0, y = 0, x = 0;
      defaultUnit(values[layer], channel, y, x);
      EXPECT_EQ(p.channel, channel) << what;
      EXPECT_EQ(p.position, cv::Point(x, y)) << what;
    }
  }
  EXPECT_EQ(flattened, 1) << "every built-in turns its maps into one vector once";
}

std::vector<std::string> builtinNames() {
  std::vector<std::string> names;
  for (const BuiltinModelInfo& m : builtinModels()) names.push_back(m.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Builtins, EveryBuiltinLayer, ::testing::ValuesIn(builtinNames()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace zfvis
