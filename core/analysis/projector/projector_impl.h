// Private to core/analysis/projector: the projector's state and the declarations of its jobs,
// each defined in its own file (graph_windows, buffers, backward_ops, graph_walk, projector).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/analysis/projector/backward_cache.h"
#include "core/analysis/projector/layout.h"
#include "core/analysis/projector/projector.h"
#include "core/analysis/projector/window.h"
#include "core/base/error.h"
#include "core/engine/dnnl_util.h"
#include "core/engine/engine.h"

namespace zfvis {

// The projector's helper types and functions (window.h, layout.h, backward_cache.h).
using namespace projection;  // NOLINT(google-build-using-namespace): private header

using dnnl::algorithm;
using dnnl::prop_kind;

struct Projector::Impl {
  const Activations& acts;
  const NetworkDef& def;
  const std::vector<Shape>& shapes;
  int sample;
  dnnl::engine engine;
  dnnl::stream stream;
  std::vector<ReceptiveField> fields;
  std::vector<std::vector<int>> inputs;  // NetworkDef::inputIndices()
  // Backward primitives, reordered weights and buffers shared by the projectors of this
  // compiled network (backward_cache.h).
  std::shared_ptr<BackwardCache> cache;

  Impl(const Activations& a, int s);

  // The producer of layer `layer`'s input k (kNetworkInput: the network input).
  int producer(size_t layer, size_t k) const;
  const Shape& shapeOf(int layer) const;

  // Which layers lie on a path from the input to `target`.
  std::vector<bool> ancestors(size_t target) const;

  // True when windows can be cropped around each seed (every op between the target and the
  // input is local in space, or global and then whole below).
  bool canCrop(const std::vector<bool>& need) const;

  // Windows of every needed layer output (index layers.size() = the network input). With
  // `single` (one seed), windows are placed for that seed and cut to their maps (`clip` is set):
  // the backward ops then skip the parts outside, using padding as the forward did.
  std::vector<Window> computeWindows(size_t target, const std::vector<bool>& need,
                                     const Seed* single, bool& clip) const;

  // The window of input `inputIndex` of layer i as that layer's backward produces it.
  // (cut to the input map when `clip`).
  Window naturalInputWindow(size_t i, const Window& out, const Shape& in, bool clip) const;

  // The window of layer i's input that its output window `out` reads, padding included.
  Window geometricInputWindow(size_t i, const Window& out, const Shape& in) const;

  // ---- buffers, layouts and execution ----
  // A pooled buffer seen as `md`; zeroed when asked.
  Grad alloc(const memory::desc& md, bool zero = false);

  Grad fromTensor(Tensor t);

  // A plain copy of a gradient.
  Tensor toTensor(const Grad& g);

  // Runs a primitive with a pooled user scratchpad.
  void exec(const dnnl::primitive& p, std::unordered_map<int, memory> args);

  // A cached primitive for layouts that do not depend on the seeds (reorders, eltwise ops).
  dnnl::primitive miscPrimitive(const std::string& key,
                                const std::function<dnnl::primitive()>& make);

  void reorder(const memory& src, const memory& dst);

  // `g` in layout `want` (itself when it already is).
  Grad inLayout(const Grad& g, const memory::desc& want);

  // `g` with a buffer nobody else holds, so it can be changed in place.
  Grad unique(Grad g);

  // Zeroes every position of a K x C x h x w window gradient that lies outside an H x W map.
  void zeroOutside(Grad& g, const Window& win, const std::vector<Seed>& seeds, int64_t H,
                   int64_t W);

  // The forward run's memory for layer `layer`'s output (-1: the network input), in whatever
  // layout the engine used.
  const memory& forwardView(int layer) const;

  // Copies each seed's window of sample `sample` of a forward N x C x H x W memory (any layout,
  // any data type) into `dst`, a K x C x h x w memory; parts of a window outside the map are
  // left as they are (callers zero them). Row copies when both layouts are of the same blocked
  // family, reorders of the windows otherwise.
  void copyWindows(const memory& src, const Window& win, const std::vector<Seed>& seeds,
                   const memory& dst);

  // The forward output of a spatial layer of this run when it is kept in a layout `Blocked`
  // can address (f32), else null.
  const memory* spatialOutput(size_t layer) const;

  // Per channel of `layer`'s output (this sample): its peak (core/engine/channel_peak.h's rule)
  // and where: y * W + x, or the channel itself for vectors.
  std::vector<std::pair<float, int64_t>> channelMaxima(size_t layer) const;

  // `layer`'s output (this sample) at channel c, position (y, x) (0, 0 for vectors).
  float outputAt(size_t layer, int c, int y, int x) const;

  // ---- backward ops (K samples, any layouts) ----
  // Padding that turns the geometric input window of `out` into `inWin` (zero unless clipped):
  // top, left, bottom, right.
  std::array<memory::dim, 4> padsFor(size_t i, const Window& out, const Window& inWin) const;

  // A view of channels [c0, c1) of `g` (plain first when its blocking does not allow it). The
  // offset goes into the data handle, not the descriptor, so cached reorders of one layout
  // serve every channel.
  memory channelSlice(Grad& g, int64_t c0, int64_t c1);

  // The transposed convolution of layer i. When the signal lives in the output channels of one
  // group (a single seed: one channel), only those channels and their weights take part: the
  // same primitive on the group's slice, placed into a zeroed full-channel result.
  Grad convBackward(size_t i, Grad g, const Window& outWin, const Window& inWin);

  Grad maxPoolBackward(size_t i, Grad g, const Window& outWin, const Window& inWin,
                       const std::vector<Seed>& seeds);

  // Average pooling spreads each output's signal evenly over its window (its gradient).
  Tensor avgPoolBackward(size_t i, const Tensor& g, const Window& outWin, const Window& inWin,
                         const std::vector<Seed>& seeds);

  Grad lrnBackward(size_t i, Grad g, const Window& win, const std::vector<Seed>& seeds);

  Grad reluBackward(size_t i, Grad g, const Window& win, const std::vector<Seed>& seeds,
                    ProjectionMode mode);

  Grad denseBackward(size_t i, Grad g);

  // `g` (any layout) as a plain memory of dims `dims` (same element count).
  Grad reshaped(const Grad& g, const memory::dims& dims);

  // Runs the backward pass for a batch of seeds at `target`; returns K x C x H x W.
  Tensor run(size_t target, const std::vector<Seed>& seeds, ProjectionMode mode, LrnBackward lrn);

  // The seed of request `r` (its channel, position and value), checked as project() documents;
  // `maxima` holds the layer's channel maxima once a request needed them.
  Seed seedOf(const ProjectionRequest& r, std::vector<std::pair<float, int64_t>>& maxima) const;
  // Projection `k` of a backward pass's K x C x H x W result.
  Projection finish(const Tensor& images, int64_t k, const Seed& seed, size_t layer,
                    ProjectionMode mode) const;
};

}  // namespace zfvis
