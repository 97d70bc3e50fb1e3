// Every op the engine runs, against the naive reference in tests/reference, over a matrix of
// shapes (groups, strides, asymmetric padding, dilation, ceil mode, batch > 1), in both run modes
// (every layer kept, and lean runs where convolutions absorb their ReLU).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <sstream>
#include <thread>

#include "core/analysis/projector/projector.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/model/builtin_models.h"
#include "core/model/net_builder.h"
#include "core/model/op_traits.h"
#include "tests/reference/naive_ops.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

Tensor randomTensor(Shape s, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  Tensor t(std::move(s));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = d(rng);
  return t;
}

// Runs `def` on `input` with the engine, in both modes, and checks every kept layer against the
// reference forward pass.
void checkAgainstReference(const NetworkDef& def, const Tensor& input, const std::string& what) {
  auto shared = std::make_shared<const NetworkDef>(def);
  auto net = CompiledNet::compile(shared);
  Session session(net);
  std::vector<Tensor> expected = ref::forward(def, input);
  for (bool keepAll : {true, false}) {
    RunOptions o;
    o.keepAll = keepAll;
    auto acts = session.run(input, o);
    for (size_t i = 0; i < def.layers.size(); ++i) {
      if (!acts->has(i)) {
        EXPECT_FALSE(keepAll) << what << ": layer " << def.layers[i].name << " missing";
        continue;
      }
      const Tensor& got = acts->output(i);
      ASSERT_EQ(got.shape(), expected[i].shape()) << what << " layer " << def.layers[i].name;
      // The reference sums in double, the engine in float32: the chain's rounding bound.
      EXPECT_LE(ref::relativeMaxError(got, expected[i]), ref::chainTolerance(def, i))
          << what << " layer " << def.layers[i].name << " keepAll=" << keepAll;
    }
  }
}

struct ConvCase {
  int c, h, w, out, kh, kw, sh, sw;
  Padding pad;
  int groups, dilation, batch;
  bool bias;
};

std::string describe(const ConvCase& k) {
  std::ostringstream s;
  s << "conv in " << k.c << "x" << k.h << "x" << k.w << " out " << k.out << " k " << k.kh << "x"
    << k.kw << " s " << k.sh << "x" << k.sw << " pad " << k.pad.top << "," << k.pad.left << ","
    << k.pad.bottom << "," << k.pad.right << " groups " << k.groups << " dil " << k.dilation
    << " batch " << k.batch << (k.bias ? "" : " no-bias");
  return s.str();
}

class EngineConv : public ::testing::TestWithParam<ConvCase> {};

TEST_P(EngineConv, MatchesNaiveConvolutionWithAndWithoutFusedRelu) {
  const ConvCase& k = GetParam();
  LayerSpec l;
  l.name = "conv";
  l.type = LayerType::Conv;
  l.inputs = {"input"};
  l.conv = {k.out, k.kh, k.kw, k.sh, k.sw, k.pad, k.dilation, k.dilation, k.groups, k.bias};
  l.weights = randomTensor({k.out, k.c / k.groups, k.kh, k.kw}, 1, 0.3f);
  if (k.bias) l.bias = randomTensor({k.out}, 2);
  NetBuilder b("conv", {k.c, k.h, k.w});
  b.add(l).relu("relu");
  NetworkDef def = b.build();
  checkAgainstReference(def, randomTensor({k.batch, k.c, k.h, k.w}, 3), describe(k));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, EngineConv,
    ::testing::Values(ConvCase{3, 13, 13, 8, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1, true},
                      ConvCase{3, 35, 35, 8, 11, 11, 4, 4, {0, 0, 0, 0}, 1, 1, 2, true},
                      ConvCase{4, 12, 12, 6, 5, 5, 1, 1, {2, 2, 2, 2}, 2, 1, 3, true},
                      ConvCase{6, 11, 11, 6, 3, 3, 2, 2, {0, 0, 1, 1}, 3, 1, 2, true},
                      ConvCase{4, 10, 10, 4, 3, 3, 1, 1, {2, 2, 2, 2}, 1, 2, 1, true},
                      ConvCase{8, 7, 7, 16, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, 4, true},
                      ConvCase{3, 19, 19, 5, 7, 7, 2, 2, {1, 1, 1, 1}, 1, 1, 1, false},
                      ConvCase{4, 9, 14, 6, 3, 5, 1, 2, {1, 0, 2, 3}, 2, 1, 2, true},
                      ConvCase{16, 6, 6, 32, 3, 3, 1, 1, {1, 1, 1, 1}, 16, 1, 2, true}));

struct PoolCase {
  LayerType type;
  int c, h, w, kh, kw, sh, sw;
  Padding pad;
  bool ceil, includePad;
  int batch;
};

class EnginePool : public ::testing::TestWithParam<PoolCase> {};

TEST_P(EnginePool, MatchesNaivePooling) {
  const PoolCase& k = GetParam();
  LayerSpec l;
  l.name = "pool";
  l.type = k.type;
  l.inputs = {"input"};
  l.pool = {k.kh, k.kw, k.sh, k.sw, k.pad, k.ceil, k.includePad};
  NetworkDef def = NetBuilder("pool", {k.c, k.h, k.w}).add(l).build();
  std::ostringstream s;
  s << onnxOpName(k.type) << " in " << k.c << "x" << k.h << "x" << k.w << " k " << k.kh << "x"
    << k.kw << " s " << k.sh << "x" << k.sw << " pad " << k.pad.top << "," << k.pad.left << ","
    << k.pad.bottom << "," << k.pad.right << (k.ceil ? " ceil" : "")
    << (k.includePad ? " include-pad" : "") << " batch " << k.batch;
  checkAgainstReference(def, randomTensor({k.batch, k.c, k.h, k.w}, 4), s.str());
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, EnginePool,
    ::testing::Values(
        PoolCase{LayerType::MaxPool, 5, 55, 55, 3, 3, 2, 2, {}, false, false, 2},
        PoolCase{LayerType::MaxPool, 4, 54, 54, 3, 3, 2, 2, {}, true, false, 1},
        PoolCase{LayerType::MaxPool, 3, 26, 26, 3, 3, 2, 2, {1, 1, 1, 1}, false, false, 3},
        PoolCase{LayerType::MaxPool, 2, 9, 12, 2, 3, 2, 3, {0, 1, 1, 0}, true, false, 2},
        PoolCase{LayerType::MaxPool, 3, 8, 8, 2, 2, 2, 2, {}, false, false, 1},
        PoolCase{LayerType::AveragePool, 3, 13, 13, 3, 3, 2, 2, {1, 1, 1, 1}, false, false, 2},
        PoolCase{LayerType::AveragePool, 3, 13, 13, 3, 3, 2, 2, {1, 1, 1, 1}, false, true, 2},
        PoolCase{LayerType::AveragePool, 2, 10, 10, 3, 3, 2, 2, {}, true, false, 1},
        PoolCase{LayerType::AveragePool, 4, 6, 6, 6, 6, 1, 1, {}, false, false, 3}));

TEST(EngineOps, LrnMatchesOnnxDefinitionForOddSizes) {
  for (int size : {5, 3, 1}) {
    NetworkDef def = NetBuilder("lrn", {7, 6, 5}).lrn("norm", size, 2e-3f, 0.75f, 1.5f).build();
    checkAgainstReference(def, randomTensor({2, 7, 6, 5}, 5, 3.0f),
                          "lrn size " + std::to_string(size));
  }
}

TEST(EngineOps, LrnWithEvenSizeIsRefusedWithAClearError) {
  // oneDNN's window is symmetric; ONNX's is not for even sizes, so the engine refuses them.
  NetworkDef def = NetBuilder("lrn", {7, 6, 5}).lrn("norm", 4).build();
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  try {
    session.run(randomTensor({1, 7, 6, 5}, 5));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'norm'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("odd"), std::string::npos) << e.what();
  }
}

TEST(EngineOps, GlobalAveragePoolDenseSoftmax) {
  NetworkDef def = NetBuilder("head", {6, 5, 5})
                       .globalAvgPool("gap")
                       .flatten("flat")
                       .dense("fc", 7)
                       .relu("relu")
                       .dropout("drop")
                       .dense("fc2", 4, false)
                       .softmax("prob")
                       .build();
  checkAgainstReference(def, randomTensor({3, 6, 5, 5}, 6), "gap-dense-softmax");
}

TEST(EngineOps, DenseOnFeatureMapsFlattensInChannelOrder) {
  NetworkDef def =
      NetBuilder("fc4d", {3, 4, 5}).conv("c", 4, 3, 1, {1, 1, 1, 1}).dense("fc", 6).build();
  checkAgainstReference(def, randomTensor({2, 3, 4, 5}, 7), "dense on 4-D");
}

// From 8 rows on, dense layers run on oneDNN's own (blocked) weight layout instead of the plain
// one: check both sides of that switch, on 4-D and 2-D inputs, with and without bias and ReLU.
TEST(EngineOps, DenseAtBatchSizesAcrossTheWeightLayoutSwitch) {
  NetworkDef def = NetBuilder("fcbatch", {5, 6, 7})
                       .conv("c", 9, 3, 1, {1, 1, 1, 1})
                       .dense("fc1", 70)
                       .relu("r1")
                       .dense("fc2", 33, false)
                       .softmax("prob")
                       .build();
  for (int batch : {1, 7, 8, 13, 32})
    checkAgainstReference(def, randomTensor({batch, 5, 6, 7}, 70 + batch),
                          "dense batch " + std::to_string(batch));
}

TEST(EngineOps, ConcatOfBlockedAndPlainBranches) {
  NetBuilder b("cat", {3, 12, 12});
  b.conv("a", 8, 3, 1, {1, 1, 1, 1}).relu("ra");
  b.from("input").conv("b", 5, 3, 1, {1, 1, 1, 1});
  b.concat("cat", {"ra", "b"}).maxPool("pool", 2, 2);
  checkAgainstReference(b.build(), randomTensor({2, 3, 12, 12}, 8), "concat");
}

TEST(EngineOps, SoftmaxAxesAndOpset12Coercion) {
  for (bool coerce : {false, true}) {
    LayerSpec l;
    l.name = "sm";
    l.type = LayerType::Softmax;
    l.inputs = {"input"};
    l.axis = {1, coerce};
    NetworkDef def = NetBuilder("sm", {4, 3, 2}).add(l).build();
    checkAgainstReference(def, randomTensor({2, 4, 3, 2}, 9, 2.0f),
                          coerce ? "softmax coerce2d" : "softmax axis 1");
  }
}

TEST(EngineOps, BatchNormAndAdd) {
  LayerSpec bn;
  bn.name = "bn";
  bn.type = LayerType::BatchNorm;
  bn.weights = randomTensor({4, 5}, 10);
  for (int c = 0; c < 5; ++c) bn.weights[3 * 5 + c] = 0.5f + float(c);  // variances > 0
  bn.batchNorm.epsilon = 1e-3f;
  LayerSpec addConst;
  addConst.name = "addc";
  addConst.type = LayerType::Add;
  addConst.weights = randomTensor({5, 1, 1}, 11);
  LayerSpec add2;
  add2.name = "add2";
  add2.type = LayerType::Add;
  add2.inputs = {"addc", "input"};
  NetworkDef def = NetBuilder("bn", {5, 4, 4}).add(bn).add(addConst).add(add2).build();
  checkAgainstReference(def, randomTensor({2, 5, 4, 4}, 12), "batchnorm+add");
}

TEST(EngineOps, ReshapeKeepsCOrder) {
  LayerSpec r;
  r.name = "reshape";
  r.type = LayerType::Reshape;
  r.reshape.shape = {-1, 10};
  NetworkDef def = NetBuilder("r", {4, 5, 6}).conv("c", 4, 1, 1).add(r).build();
  checkAgainstReference(def, randomTensor({2, 4, 5, 6}, 13), "reshape");
}

TEST(EngineOps, WholeCaffeAlexnetMatchesReference) {
  NetworkDef def = makeBuiltinModel("caffe-alexnet");
  checkAgainstReference(def, randomTensor({1, 3, 227, 227}, 14, 50.0f), "caffe-alexnet");
}

TEST(EngineOps, TwoTowerConcatNetworkMatchesReference) {
  // The seed's two-tower structure (input feeding two towers, two Concat layers), shrunk.
  NetBuilder b("towers", {3, 35, 35});
  for (const char* t : {"a", "b"}) {
    std::string s(t);
    b.from("input").conv("c1" + s, 4, 11, 4).relu("r1" + s).maxPool("p1" + s, 3, 2);
  }
  b.concat("cat1", {"p1a", "p1b"});
  for (const char* t : {"a", "b"}) {
    std::string s(t);
    b.from("cat1").convSame("c2" + s, 3, 3).relu("r2" + s);
  }
  b.concat("cat2", {"r2a", "r2b"}).flatten("flat").dense("fc", 5).softmax("prob");
  checkAgainstReference(b.build(), randomTensor({2, 3, 35, 35}, 15, 20.0f), "two towers");
}

TEST(EngineOps, CpuIsaCapIsHonoured) {
  // The isa_sse41.* CTest entries rerun the numeric suites under ONEDNN_MAX_CPU_ISA=SSE41; they
  // only exercise other kernels if oneDNN obeys the cap.
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  const std::string isa = engineCpuIsa();
  EXPECT_FALSE(isa.empty());
  if (cap && std::string(cap) == "SSE41") {
    EXPECT_EQ(isa, "sse41");
  }
  if (cap && std::string(cap) == "AVX2") {
    EXPECT_EQ(isa, "avx2");
  }
}

TEST(EngineOps, BatchesAreIndependent) {
  NetworkDef def = makeBuiltinModel("nin");
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  Tensor a = randomTensor({1, 3, 227, 227}, 16, 50.0f),
         b = randomTensor({1, 3, 227, 227}, 17, 50.0f);
  // The logits (the softmax's input): the softmax would turn their rounding differences into
  // absolute ones (tolerance.h).
  const size_t logits = def.layers.size() - 2;
  Tensor ra = session.run(a)->output(logits);
  Tensor rb = session.run(b)->output(logits);
  Tensor both = session.run(Tensor::stack({a, b}))->output(logits);
  // Batch 1 and 2 may run other kernels (other summation orders): the chain's rounding bound.
  EXPECT_LE(ref::relativeMaxError(both.slice(0), ra), ref::chainTolerance(def, logits));
  EXPECT_LE(ref::relativeMaxError(both.slice(1), rb), ref::chainTolerance(def, logits));
}

TEST(EngineOps, PlansAndProjectionsRunOnThreadsOtherThanTheirCreator) {
  // Primitives are cached per net; they must run on any thread (user scratchpads), also two
  // sessions of one net at the same time.
  NetworkDef def = makeBuiltinModel("caffe-alexnet");
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Tensor x = randomTensor({1, 3, 227, 227}, 20, 50.0f);
  Session main(net);
  const size_t logits = size_t(def.indexOf("fc8"));  // before the softmax (see above)
  Tensor expected = main.run(x)->output(logits);
  Projector mainProjector(main.run(x));
  ProjectionRequest request;
  request.layer = def.resolveLayer("conv5");
  Tensor expectedProjection = mainProjector.project(request).image;
  std::vector<double> errors(4, 1.0), projectionErrors(4, 1.0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      try {
        Session session(net);
        for (int repeat = 0; repeat < 3; ++repeat) {
          auto acts = session.run(x);
          errors[size_t(t)] = ref::relativeMaxError(acts->output(logits), expected);
          Projector projector(acts);
          projectionErrors[size_t(t)] =
              ref::relativeMaxError(projector.project(request).image, expectedProjection);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "thread " << t << ": " << e.what();
      }
    });
  for (auto& t : threads) t.join();
  // The same primitives on other threads: at most another order of reductions split across threads.
  for (int t = 0; t < 4; ++t) {
    EXPECT_LE(errors[size_t(t)], ref::chainTolerance(def, logits)) << "thread " << t;
    EXPECT_LE(projectionErrors[size_t(t)], ref::chainTolerance(def)) << "thread " << t;
  }
}

TEST(EngineOps, ActivationsSurviveLaterRuns) {
  NetworkDef def = NetBuilder("t", {3, 8, 8}).conv("c", 4, 3, 1).relu("r").build();
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  Tensor a = randomTensor({1, 3, 8, 8}, 18), b = randomTensor({1, 3, 8, 8}, 19);
  auto first = session.run(a);
  auto second = session.run(b);
  std::vector<Tensor> ra = ref::forward(def, a);
  EXPECT_LE(ref::relativeMaxError(first->output(1), ra[1]), ref::chainTolerance(def, 1));
}

// The traits table's pass-through operators (op_traits.h: the export skips projecting from them
// unless asked for all layers) only move values: run by the engine, their output holds exactly
// their inputs' values, and every other operator computes new ones on the same input.
TEST(Engine, PassThroughOperatorsOnlyMoveTheirInputsValues) {
  const Shape in{4, 6, 6};
  const Tensor x = randomTensor(in.withBatch(1), 41, 3.0f);
  for (LayerType t : allLayerTypes()) {
    SCOPED_TRACE(onnxOpName(t));
    NetBuilder b("pass", in, 5);
    switch (t) {
      case LayerType::Conv:
        b.convSame("op", 4, 3);
        break;
      case LayerType::Relu:
        b.relu("op");
        break;
      case LayerType::MaxPool:
        b.maxPool("op", 2, 2);
        break;
      case LayerType::GlobalAveragePool:
        b.globalAvgPool("op");
        break;
      case LayerType::Dense:
        b.dense("op", 8);
        break;
      case LayerType::Dropout:
        b.dropout("op");
        break;
      case LayerType::Flatten:
        b.flatten("op");
        break;
      case LayerType::Concat:
        b.concat("op", {"input", "input"});
        break;
      case LayerType::Softmax:
        b.flatten("flat").softmax("op");
        break;
      default: {
        LayerSpec l;
        l.name = "op";
        l.type = t;
        l.inputs = {"input"};
        if (t == LayerType::Reshape) l.reshape.shape = {6, 24};
        if (t == LayerType::Add) l.inputs = {"input", "input"};
        if (t == LayerType::LRN) l.lrn = LrnParams{};
        if (t == LayerType::AveragePool) l.pool = PoolParams{2, 2, 2, 2};
        if (t == LayerType::BatchNorm) {
          l.weights = Tensor(Shape{4, 4}, 1.0f);  // scale, bias, mean, variance: all 1
        }
        b.add(l);
      }
    }
    const NetworkDef def = b.build();
    Session session(CompiledNet::compile(std::make_shared<const NetworkDef>(def)));
    const Tensor out = session.run(x)->finalOutput();
    std::vector<float> want(x.data(), x.data() + x.numel());
    if (t == LayerType::Concat) want.insert(want.end(), x.data(), x.data() + x.numel());
    std::vector<float> got(out.data(), out.data() + out.numel());
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got == want, opTraits(t).passThrough) << onnxOpName(t);
  }
}

}  // namespace
}  // namespace zfvis
