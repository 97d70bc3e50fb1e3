// Runs slices of a compiled net's plan on caller-owned memory, for analyses that evaluate part of
// a network many times (occlusion's crop networks, the rest of the network on whole maps, its
// classifier on large batches): write a layer's output or the network input, run layers
// [first, stop), read a layer's output. One plan and run state per batch size, built on first use
// and kept, so nothing is allocated or copied per call but what the caller passes. The plan lets
// Conv / Dense absorb their ReLU except for the layers in `keep`, whose outputs stay readable;
// with `firstLayer`, it holds only the layers from there on (CompiledNet::plan), and the earlier
// outputs they read are written by the caller. Not thread-safe: one runner per thread.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "core/base/progress.h"
#include "core/base/tensor.h"
#include "core/engine/engine.h"

namespace zfvis {

class LayerRangeRunner {
 public:
  LayerRangeRunner(std::shared_ptr<const CompiledNet> net, std::vector<size_t> keep,
                   size_t firstLayer = 0);
  ~LayerRangeRunner();

  const CompiledNet& net() const { return *m_net; }

  /// Writes `data` (plain, count x per-sample shape) into the output of `layer`, or into the
  /// network input when `layer` is -1 (then `data` is used in place and must stay alive until
  /// the runs that read it are done).
  void write(int count, int layer, float* data);
  /// Runs the layers [first, stop) on a batch of `count`. Throws Cancelled when `cancel` asks
  /// to stop (checked between layers).
  void run(int count, int first, int stop, const ProgressSink* cancel);
  /// Copies the output of `layer` into `out` (plain, count x per-sample shape; reused when it
  /// has that shape already). Throws Error when the plan did not keep it.
  void read(int count, size_t layer, Tensor& out);

 private:
  struct Slot;
  Slot& slot(int count);
  int viewOf(const Slot& s, size_t layer) const;
  std::shared_ptr<const CompiledNet> m_net;
  std::vector<size_t> m_keep;
  size_t m_first = 0;
  std::map<int, std::unique_ptr<Slot>> m_slots;
};

}  // namespace zfvis
