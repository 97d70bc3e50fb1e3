// Forward-pass benchmark: zfvis's oneDNN engine next to OpenCV's cv::dnn running the same
// network with the same weights, 2 threads, batch 1 and 32. Run with
//   build/tests/bench/bench_forward --benchmark_repetitions=5 --benchmark_report_aggregates_only
// and compare the medians (docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>

#include <opencv2/core/utility.hpp>

#include "core/engine/engine.h"
#include "core/model/builtin_models.h"
#include "tests/reference/opencv_net.h"

namespace zfvis {
namespace {

constexpr int kThreads = 2;

Tensor pseudoImage(const Shape& perSample, int batch) {
  Tensor t(perSample.withBatch(batch));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = float((i * 2654435761u) % 255) - 120.0f;
  return t;
}

const NetworkDef& model(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const NetworkDef>> cache;
  auto& m = cache[name];
  if (!m) m = std::make_shared<const NetworkDef>(makeBuiltinModel(name));
  return *m;
}

void zfvisForward(benchmark::State& state, std::string name) {
  const NetworkDef& def = model(name);
  const int batch = int(state.range(0));
  auto net = CompiledNet::compile(std::shared_ptr<const NetworkDef>(&def, [](const NetworkDef*) {}),
                                  EngineOptions{kThreads});
  Session session(net);
  Tensor input = pseudoImage(def.input.shape, batch);
  RunOptions o;
  o.keepAll = false;
  session.run(input, o);  // build the plan outside the timed loop
  for (auto _ : state) {
    auto acts = session.run(input, o);
    benchmark::DoNotOptimize(acts->finalOutput().data());
  }
  state.counters["images/s"] =
      benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
}

void openCvForward(benchmark::State& state, std::string name) {
  const NetworkDef& def = model(name);
  const int batch = int(state.range(0));
  cv::setNumThreads(kThreads);
  cv::dnn::Net net = bench::toOpenCvNet(def);
  Tensor input = pseudoImage(def.input.shape, batch);
  std::vector<int> dims(input.shape().dims().begin(), input.shape().dims().end());
  cv::Mat blob(dims, CV_32F, input.data());
  net.setInput(blob);
  net.forward();  // warm-up: OpenCV allocates and initialises on the first call
  for (auto _ : state) {
    net.setInput(blob);
    cv::Mat out = net.forward();
    benchmark::DoNotOptimize(out.data);
  }
  state.counters["images/s"] =
      benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
}

int registerAll() {
  for (const char* name : {"caffe-alexnet", "zfnet-paper"}) {
    benchmark::RegisterBenchmark(("zfvis/" + std::string(name)).c_str(), zfvisForward, name)
        ->Arg(1)
        ->Arg(32)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark(("opencv_dnn/" + std::string(name)).c_str(), openCvForward, name)
        ->Arg(1)
        ->Arg(32)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MeasureProcessCPUTime();
  }
  return 0;
}

[[maybe_unused]] const int kRegistered = registerAll();

}  // namespace
}  // namespace zfvis

int main(int argc, char** argv) {
  // Numbers from different CPUs differ several-fold: every report names the kernels' ISA.
  benchmark::AddCustomContext("onednn_isa", zfvis::engineCpuIsa());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
