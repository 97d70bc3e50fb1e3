// The engine's compiled plans and run state, private to core/engine (engine.cpp and
// layer_range_runner.cpp). Code outside the engine uses its public headers: engine.h (runs and
// Activations' typed accessors), layer_range_runner.h (slices of a plan on caller memory),
// dnnl_util.h and pooling_dims.h (for primitives of its own).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <typeindex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/base/progress.h"
#include "core/base/tensor.h"
#include "core/engine/dnnl_util.h"
#include "core/engine/pooling_dims.h"
#include "core/model/network.h"

namespace zfvis::detail {

/// A region of a run buffer seen through one memory descriptor (aliases share a buffer).
struct View {
  int buffer = -1;        // index into Plan::bufferSizes
  dnnl::memory::desc md;  // layout
};

/// One primitive call: arguments are views of the run's buffers or constant memories.
struct Step {
  Step() = default;
  Step(dnnl::primitive p, std::vector<std::pair<int, int>> views,
       std::vector<std::pair<int, dnnl::memory>> constants, int owner)
      : prim(std::move(p)),
        viewArgs(std::move(views)),
        constArgs(std::move(constants)),
        layer(owner) {}

  dnnl::primitive prim;
  std::vector<std::pair<int, int>> viewArgs;            // (DNNL_ARG_*, view index)
  std::vector<std::pair<int, dnnl::memory>> constArgs;  // weights, bias, statistics
  int layer = -1;                                       // owning layer (progress)
  dnnl::memory::desc scratchpad;                        // its scratchpad (empty when none)
};

/// What the plan knows about one layer.
struct LayerInfo {
  int out = -1;            // view of the output; -1 when not kept (fused into the next layer)
  int in = -1;             // view of the (first) input as the primitive read it (after reorders)
  int workspace = -1;      // MaxPool: view of the switches
  bool fusedRelu = false;  // Conv/Dense whose ReLU ran inside it (out is then the ReLU output)
};

/// Everything needed to run one batch size: primitives, constants and buffer layout.
struct Plan {
  int batch = 1;
  bool fuse = false;
  dnnl::engine engine;
  std::vector<size_t> bufferSizes;  // bytes per buffer
  std::vector<View> views;          // all views
  int inputView = -1;               // the network input (plain N x C x H x W)
  std::vector<Step> steps;          // in execution order
  std::vector<LayerInfo> layers;    // per layer
};

/// Per-run memories for a plan.
struct RunState {
  const Plan* plan = nullptr;
  std::vector<dnnl::memory> buffers;  // one per buffer (library-allocated)
  std::vector<dnnl::memory> views;    // one per view (user-handle memories over buffers)
  dnnl::memory scratchBuffer;         // shared by every step's scratchpad (steps run in turn)
  std::vector<dnnl::memory> scratch;  // per step: its scratchpad over scratchBuffer, or empty
  explicit RunState(const Plan& p);
  /// Points the input view at caller-owned data.
  void setInput(float* data);
};

/// Reordered constant weights shared by every plan of a net (batch sizes and fusion policies
/// often pick the same layouts).
struct WeightCache {
  std::vector<std::tuple<const float*, dnnl::memory::desc, dnnl::memory>> entries;
  /// The memory for `data` in layout `want`, or an empty memory.
  dnnl::memory find(const float* data, const dnnl::memory::desc& want) const {
    for (const auto& [d, md, m] : entries)
      if (d == data && md == want) return m;
    return {};
  }
};

/// Builds a plan; `fuse` lets Conv/Dense absorb a following ReLU that is their only consumer,
/// except the layers in `keep`, whose own outputs stay available. Layers before `first` get no
/// steps: the output of each one a later layer reads is a plain buffer. Reordered weights are
/// taken from and added to `weights` (the caller serialises access).
std::shared_ptr<Plan> buildPlan(const NetworkDef& def, const std::vector<Shape>& shapes, int batch,
                                bool fuse, const std::vector<size_t>& keep, size_t first,
                                const dnnl::engine& engine, WeightCache& weights);

/// Runs a plan's steps on a state (the input handle must be set).
void executePlan(const Plan& plan, RunState& state, ProgressSink* progress);
/// Runs only the steps of layers in [firstLayer, stopLayer) (their inputs must be in place),
/// passing each step its scratchpad; throws Cancelled when `cancel` asks between layers.
void executePlanRange(const Plan& plan, RunState& state, int firstLayer, int stopLayer,
                      const ProgressSink* cancel = nullptr);

/// Copies the contents of `view` of a run into a plain tensor of shape `shape`.
Tensor viewToTensor(const Plan& plan, const RunState& state, int view, const Shape& shape);

class PlanCache {
 public:
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const Plan>> plans;  // by batch and fusion policy
  std::map<std::type_index, std::shared_ptr<void>> shared;   // CompiledNet::cache
  WeightCache weights;  // reordered weights shared by the plans (guarded by mutex)
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
};

}  // namespace zfvis::detail
