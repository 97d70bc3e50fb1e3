// Internals of TrainPlan (never included outside core/engine/training): the memories of every
// layer, the trainable parameters, and the two lists of calls (forward, backward) a training step
// runs, plus the helpers the per-layer builders (train_layers.cpp) share to move tensors between
// layouts and to sum the gradients of layers whose output feeds several consumers.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/engine/training/train_plan.h"

namespace zfvis::training {

/// One call of a step: a oneDNN primitive with its arguments, or a plain CPU loop.
struct Exec {
  dnnl::primitive prim;                        // empty for a loop
  std::unordered_map<int, dnnl::memory> args;  // primitive arguments (scratchpad added at the end)
  std::function<void()> loop;                  // runs instead of a primitive
};

/// One layer's tensors (the network input has one too).
struct Node {
  dnnl::memory out;          // the forward result, in the layout its producer primitive chose
  dnnl::memory diff;         // d loss / d out in out's layout; empty when no gradient flows here
  bool reachesLoss = false;  // some path leads from this output to the loss
  bool needsDiff = false;    // the loss gradient must reach this output (params upstream)
  bool diffStarted = false;  // build time: a backward call already wrote `diff`
};

/// A trainable tensor: value, gradient and momentum in one (forward primitive's) layout.
struct Param {
  TrainableParam info;
  dnnl::memory::desc plain;  // the LayerSpec layout (grouped conv: G x O/G x I/G x kH x kW)
  dnnl::memory value, grad, momentum;
};

/// State shared while the plan is built and run.
struct Graph {
  const NetworkDef* def = nullptr;
  TrainPlanOptions options;
  std::vector<Shape> shapes;  // per-sample output shape of every layer
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  Node input;               // the network input, plain N x C x H x W
  std::vector<Node> nodes;  // per layer
  std::vector<Param> params;
  std::vector<Exec> forward;   // in order
  std::vector<Exec> backward;  // in order (the loss first, then the layers in reverse)
  std::vector<std::function<void()>> backwardBuilders;  // per layer, run in reverse order
  int logitsLayer = -1;                                 // the layer whose output the loss reads
  std::vector<bool>
      fusedRelu;  // per layer: a Conv / Dense whose primitive applies its ReLU consumer
  int classes = 0;
  bool training = true;  // dropout on (trainBatch) or off (evaluate)
  uint64_t dropoutSeed = 0, step = 0;

  std::vector<std::vector<int>> inputs;  // NetworkDef::inputIndices()

  /// The producer of layer `layer`'s input k: a layer index, kNetworkInput for the input.
  int producer(size_t layer, size_t k) const { return inputs[layer][k]; }
  /// Node of layer `layer`'s input k (the network input or a layer).
  Node& inputNode(size_t layer, size_t k);
  /// Per-sample shape of layer `layer`'s input k.
  const Shape& inputShape(size_t layer, size_t k) const;
  /// Batched oneDNN dims of a per-sample shape.
  dnnl::memory::dims dims(const Shape& perSample) const;

  /// `mem` in layout `want`: `mem` itself, or a new memory filled by a reorder appended to `list`.
  dnnl::memory reordered(const dnnl::memory& mem, const dnnl::memory::desc& want,
                         std::vector<Exec>& list);
  /// Appends a reorder that copies `src` into `dst` (any layouts, same dims) to `list`.
  void reorderInto(const dnnl::memory& src, const dnnl::memory& dst, std::vector<Exec>& list);
  /// `mem` seen as plain row-major with dims `want` (same element count): an alias when `mem` is
  /// plain already, else a plain copy made by a reorder appended to `list`.
  dnnl::memory plainAs(const dnnl::memory& mem, const dnnl::memory::dims& want,
                       std::vector<Exec>& list);
  /// Where a backward call that produces d loss / d (producer's output) in layout `md` should
  /// write: the producer's own gradient buffer when this is the first write and the layouts agree
  /// (plain layouts of equal size count as agreeing), else a new temporary.
  dnnl::memory diffTarget(Node& producer, const dnnl::memory::desc& md);
  /// After the call that wrote `written` (from diffTarget or any other memory holding the
  /// gradient): moves it into the producer's buffer, or adds it there when an earlier consumer
  /// already wrote it (backward calls appended to `backward`).
  void commitDiff(Node& producer, const dnnl::memory& written);

  /// Creates a parameter from a plain tensor, stored in layout `want`.
  Param& addParam(size_t layer, bool bias, const Tensor& init, const dnnl::memory::dims& plainDims,
                  const dnnl::memory::desc& want);
};

/// Adds layer i's forward calls to g.forward and its backward builder to g.backwardBuilders.
void buildLayer(Graph& g, size_t i);

/// SplitMix64, the counter-based mixer behind dropout masks.
uint64_t splitMix(uint64_t x);
/// The per-(seed, step, layer) key of dropoutKeeps.
uint64_t dropoutKey(uint64_t seed, uint64_t step, uint64_t layer);
/// dropoutKeeps for a precomputed key.
bool keepsWithKey(uint64_t key, uint64_t index, float ratio);

}  // namespace zfvis::training
