// zfvis-cli bench: forward and deconvnet timings (medians) on this machine.
// zfvis-cli models / summary / layers / predict / activations / bench.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/predictions.h"
#include "core/analysis/projector/projector.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/labels.h"
#include "core/base/npy.h"
#include "core/model/builtin_models.h"
#include "core/model/small_nets.h"
#include "core/model/summary.h"
#include "core/render/activation_grid.h"
#include "core/render/png.h"

namespace zfvis::cli {

namespace {

double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

template <typename F>
std::vector<double> timeRuns(int warmup, int iters, F&& f) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> times;
  for (int i = 0; i < iters; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return times;
}

}  // namespace

int runBench(const ArgList& argv) {
  Args args(
      argv,
      withOptions(
          modelOptions(),
          {{"batch"}, {"iters"}, {"warmup"}, {"all-layers", false}, {"deconv"}, {"top"}, {"mode"}}),
      "bench");
  auto def = openModel(args);
  const int batch = args.intValue("batch", 1, 1, 4096);
  const int iters = args.intValue("iters", 20, 1, 100000);
  const int warmup = args.intValue("warmup", 3, 0, 1000);
  auto net = compileModel(args, def);
  Session session(net);
  // A deterministic pseudo-image in the network's input range.
  Tensor input(def->input.shape.withBatch(batch));
  for (int64_t i = 0; i < input.numel(); ++i)
    input[i] = static_cast<float>((i * 2654435761u) % 255) - 120.0f;
  RunOptions ro;
  ro.keepAll = args.has("all-layers");
  auto forward = timeRuns(warmup, iters, [&] {
    auto acts = session.run(input, ro);
    if (ro.keepAll) {
      for (size_t i = 0; i < acts->layerCount(); ++i) acts->output(i);
    } else {
      acts->finalOutput();
    }
  });
  const double median = medianOf(forward);
  std::printf("oneDNN ISA: %s, %d threads\n", engineCpuIsa().c_str(), net->options().threads);
  std::printf("batch %d: median %.2f ms, min %.2f ms, %.1f images/s\n", batch, median,
              *std::min_element(forward.begin(), forward.end()), batch * 1000.0 / median);
  if (auto layerArg = args.value("deconv")) {
    const size_t layer = def->resolveLayer(*layerArg);
    const int top = args.intValue("top", 0, 1, 100000);
    const ProjectionMode mode = parseProjectionMode(args.value("mode").value_or("deconvnet"));
    Tensor one = input.slice(0);
    // A projection needs the projected layer's output kept (ReLU outputs, LRN inputs and pool
    // switches always are); time that forward run, one projection on its own, and the two
    // together, next to the plain forward above.
    RunOptions keepLayer;
    keepLayer.keepAll = false;
    keepLayer.keep = {layer};
    auto keepAll = timeRuns(warmup, iters, [&] { session.run(one, keepLayer); });
    Projector projector(session.run(one, keepLayer));
    ProjectionRequest r;
    r.layer = layer;
    r.mode = mode;
    auto project = timeRuns(warmup, iters, [&] { projector.project(r); });
    // The plain forward and forward + projection, alternating so both see the same machine
    // state; the ratio compares their medians.
    std::vector<double> plainRuns, both;
    for (int i = 0; i < warmup + iters; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      session.run(one, ro).get();
      auto t1 = std::chrono::steady_clock::now();
      {
        Projector p(session.run(one, keepLayer));
        p.project(r);
      }
      auto t2 = std::chrono::steady_clock::now();
      if (i < warmup) continue;
      plainRuns.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      both.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    const double fwd = medianOf(keepAll), proj = medianOf(project), total = medianOf(both),
                 plain = medianOf(plainRuns);
    std::printf("forward keeping %s: median %.2f ms\n", def->layers[layer].name.c_str(), fwd);
    std::printf("deconv %s (1 projection, %s): median %.2f ms, min %.2f ms\n",
                def->layers[layer].name.c_str(), projectionModeName(mode), proj,
                *std::min_element(project.begin(), project.end()));
    std::printf(
        "forward + deconv: median %.2f ms, %.2fx the plain forward (median %.2f ms) "
        "measured alternately\n",
        total, total / plain, plain);
    if (top) {
      std::vector<int> channels = projector.topChannels(layer, top);
      auto many = timeRuns(std::min(warmup, 1), std::max(1, iters / 4),
                           [&] { projector.projectChannels(layer, channels, mode); });
      const double m = medianOf(many);
      std::printf("deconv %s top %d: median %.2f ms, min %.2f ms, %.1f projections/s\n",
                  def->layers[layer].name.c_str(), int(channels.size()), m,
                  *std::min_element(many.begin(), many.end()), channels.size() * 1000.0 / m);
    }
  }
  return 0;
}

}  // namespace zfvis::cli
