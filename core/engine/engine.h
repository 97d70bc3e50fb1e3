// The oneDNN inference engine: CompiledNet (immutable, shareable, primitives and reordered
// weights built once per batch size) and Session (per-run memories, one thread at a time),
// the ncnn Net / Extractor split. A run returns Activations: every layer's output in plain NCHW
// (reordered lazily from oneDNN's blocked layouts) plus the max-pool switches.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <typeindex>
#include <vector>

#include "core/base/progress.h"
#include "core/base/tensor.h"
#include "core/engine/channel_peak.h"
#include "core/model/network.h"

namespace dnnl {
struct engine;
struct memory;
}  // namespace dnnl

namespace zfvis {

namespace detail {
struct Plan;
struct RunState;
class PlanCache;
}  // namespace detail

/// Engine settings.
struct EngineOptions {
  int threads = 2;  // OpenMP threads used by oneDNN primitives
};

/// Sets the number of threads oneDNN uses (process-wide); returns the previous value.
int setEngineThreads(int threads);

/// The instruction set oneDNN dispatches to on this CPU, after any ONEDNN_MAX_CPU_ISA cap
/// ("sse41", "avx2", "avx512_core", ...): benchmarks name it, since kernels differ several-fold.
std::string engineCpuIsa();

class CompiledNet {
 public:
  /// Validates `def` and prepares it for running; primitives are built lazily per batch size.
  static std::shared_ptr<const CompiledNet> compile(std::shared_ptr<const NetworkDef> def,
                                                    EngineOptions options = {});
  ~CompiledNet();

  /// The definition this net runs.
  const NetworkDef& def() const { return *m_def; }
  /// Shared handle to the definition.
  const std::shared_ptr<const NetworkDef>& defPtr() const { return m_def; }
  /// Per-sample output shape of every layer.
  const std::vector<Shape>& outputShapes() const { return m_shapes; }
  /// Engine options.
  const EngineOptions& options() const { return m_options; }

  /// The execution plan for a batch size (built once, cached; thread-safe). `fuse` lets
  /// convolutions absorb their ReLU (their pre-activation output is then not kept), except the
  /// layers in `keep`. A plan from `firstLayer` on runs only the layers from there: the output
  /// of each earlier layer that they read is a plain buffer filled by the caller
  /// (LayerRangeRunner::write), and nothing is allocated for the others.
  std::shared_ptr<const detail::Plan> plan(int batch, bool fuse,
                                           const std::vector<size_t>& keep = {},
                                           size_t firstLayer = 0) const;

  /// A per-net cache of type T for code built on the engine (the projector keeps its backward
  /// primitives and reordered weights in one, so they outlive a single run): one T per net,
  /// default-constructed on first use, shared by every caller asking for T. Thread-safe.
  template <class T>
  std::shared_ptr<T> cache() const {
    return std::static_pointer_cast<T>(
        cacheSlot(typeid(T), [] { return std::static_pointer_cast<void>(std::make_shared<T>()); }));
  }

 private:
  CompiledNet(std::shared_ptr<const NetworkDef> def, EngineOptions options);
  std::shared_ptr<void> cacheSlot(std::type_index type,
                                  const std::function<std::shared_ptr<void>()>& make) const;
  std::shared_ptr<const NetworkDef> m_def;
  EngineOptions m_options;
  std::vector<Shape> m_shapes;
  std::unique_ptr<detail::PlanCache> m_cache;
};

/// What a run keeps.
struct RunOptions {
  /// Keep every layer's output (views, deconvnet). When false, only the last layer and the
  /// layers in `keep` are guaranteed to be available, and convolutions may absorb their ReLU.
  bool keepAll = true;
  /// Extra layers to keep when keepAll is false.
  std::vector<size_t> keep;
  /// Progress per layer and cancellation (may be null).
  ProgressSink* progress = nullptr;
};

/// The result of one run: read-only, shareable across threads.
class Activations {
 public:
  Activations(std::shared_ptr<const CompiledNet> net, std::shared_ptr<const detail::Plan> plan,
              std::shared_ptr<detail::RunState> state, Tensor input);
  ~Activations();

  /// The net that produced this.
  const CompiledNet& net() const { return *m_net; }
  /// Batch size.
  int batch() const;
  /// The network input (N x C x H x W).
  const Tensor& input() const { return m_input; }
  /// Number of layers.
  size_t layerCount() const;
  /// True when layer i's output was kept by this run.
  bool has(size_t layer) const;
  /// Layer i's output, N x (per-sample shape), plain C order; computed on first use, then cached.
  /// Throws Error when the run did not keep it.
  const Tensor& output(size_t layer) const;
  /// The last layer's output.
  const Tensor& finalOutput() const { return output(layerCount() - 1); }
  /// For a layer with channels (per-sample output C or C x H x W): every channel's peak in every
  /// sample, index n * C + c, by core/engine/channel_peak.h's rule. Read from the run's own layout,
  /// without the copy output() makes (the dataset scan calls it for every batch). Throws Error
  /// when the run did not keep the layer or its output has no channels.
  std::vector<ChannelPeak> channelPeaks(size_t layer) const;
  /// The same for one sample only: C peaks, index c (the deconvnet's channel maxima). Throws
  /// Error also when `sample` is not in [0, batch).
  std::vector<ChannelPeak> channelPeaks(size_t layer, int sample) const;

  /// For analyses that run oneDNN primitives on this run (the deconvnet), in oneDNN's types
  /// (include <oneapi/dnnl/dnnl.hpp>): the memory holding layer `layer`'s output (-1: the
  /// network input) in the layout the engine chose, null when the run did not keep it; a MaxPool
  /// layer's workspace (its switches), null for other layers; the engine the run used.
  const dnnl::memory* forwardMemory(int layer) const;
  const dnnl::memory* poolWorkspace(size_t layer) const;
  const dnnl::engine& dnnlEngine() const;
  const std::shared_ptr<const CompiledNet>& netPtr() const { return m_net; }

 private:
  std::shared_ptr<const CompiledNet> m_net;
  std::shared_ptr<const detail::Plan> m_plan;
  std::shared_ptr<detail::RunState> m_state;
  Tensor m_input;
  std::vector<ChannelPeak> peaksOfSamples(size_t layer, int first, int stop) const;
  mutable std::mutex m_mutex;
  mutable std::vector<std::unique_ptr<Tensor>> m_outputs;
};

class Session {
 public:
  explicit Session(std::shared_ptr<const CompiledNet> net);
  ~Session();

  /// Runs the network on `input` (N x C x H x W, or C x H x W for one sample).
  std::shared_ptr<const Activations> run(const Tensor& input, const RunOptions& options = {});
  /// The net this session runs.
  const CompiledNet& net() const { return *m_net; }

 private:
  std::shared_ptr<const CompiledNet> m_net;
  std::vector<std::shared_ptr<detail::RunState>> m_spares;  // run buffers, reused when free
};

}  // namespace zfvis
