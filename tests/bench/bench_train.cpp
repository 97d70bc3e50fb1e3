// Training benchmark: one SGD step (forward_training, loss, backward data and weights, the update)
// of a built-in network on zfvis's oneDNN training engine, batch 64, 2 threads, reported as
// images per second. The PyTorch peer is tests/bench/bench_pytorch_train.py on the same networks;
// run both in the same session, interleaved (docs/PERFORMANCE.md):
//   build/tests/bench/bench_train --benchmark_repetitions=5 --benchmark_report_aggregates_only
//   /usr/bin/python3 tests/bench/bench_pytorch_train.py
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/engine/training/train_plan.h"
#include "core/model/builtin_models.h"

namespace zfvis {
namespace {

constexpr int kThreads = 2;
constexpr int kBatch = 64;

// The instruction set oneDNN dispatches to (ONEDNN_MAX_CPU_ISA lowers it).
std::string isaName() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "other";
  }
}

void trainStep(benchmark::State& state, std::string name) {
  const NetworkDef def = makeBuiltinModel(name);
  TrainPlanOptions o;
  o.batch = kBatch;
  o.threads = kThreads;
  TrainPlan plan(def, o);
  // Pseudo-images in the network's input range and labels spread over the classes.
  std::vector<float> input(size_t(def.input.shape.numel() * kBatch));
  for (size_t i = 0; i < input.size(); ++i) input[i] = float((i * 2654435761u) % 255) / 255.0f;
  std::vector<int32_t> labels(kBatch);
  for (int n = 0; n < kBatch; ++n) labels[size_t(n)] = (n * 7) % plan.classes();
  SgdSettings sgd;
  uint64_t step = 0;
  plan.trainBatch(input.data(), labels.data(), 1, step++);  // first-touch outside the loop
  plan.applySgd(sgd);
  for (auto _ : state) {
    BatchResult r = plan.trainBatch(input.data(), labels.data(), 1, step++);
    plan.applySgd(sgd);
    benchmark::DoNotOptimize(r.loss);
  }
  state.counters["images/s"] =
      benchmark::Counter(double(kBatch) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(isaName());
}

int registerAll() {
  for (const char* name : {"zf-small", "alex-small", "caffe-alexnet"})
    benchmark::RegisterBenchmark(("train/" + std::string(name)).c_str(), trainStep, name)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MeasureProcessCPUTime();
  return 0;
}

const int registered = registerAll();

}  // namespace
}  // namespace zfvis

BENCHMARK_MAIN();
