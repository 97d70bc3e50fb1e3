// Projecting activations back to pixel space: the Zeiler & Fergus deconvnet, guided
// backpropagation and gradient saliency, on oneDNN backward primitives. See the README section
// "Back-projection semantics" and ARCHITECTURE.md.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <opencv2/core/types.hpp>

#include "core/base/progress.h"
#include "core/engine/engine.h"
#include "core/model/receptive_field.h"

namespace zfvis {

/// How a signal passes a ReLU on the way down (the only place the three modes differ).
enum class ProjectionMode {
  Deconvnet,  // relu(g): rectify the signal (Zeiler & Fergus)
  Guided,     // relu(g) * [x > 0]: guided backpropagation
  Saliency,   // g * [x > 0]: the plain gradient
};

/// How a signal passes an LRN layer.
enum class LrnBackward {
  Gradient,  // its true gradient (default)
  Pass,      // unchanged
};

/// "deconvnet", "guided", "saliency".
const char* projectionModeName(ProjectionMode mode);
/// Parses a mode name; throws UsageError listing the valid ones.
ProjectionMode parseProjectionMode(const std::string& name);

/// What to project.
struct ProjectionRequest {
  size_t layer = 0;                   // the layer L whose activation is projected
  int channel = -1;                   // -1: the channel holding the layer's largest activation
  std::optional<cv::Point> position;  // (x, y) in L's output; default: the channel's argmax
  ProjectionMode mode = ProjectionMode::Deconvnet;
  LrnBackward lrn = LrnBackward::Gradient;
};

/// One projection.
struct Projection {
  Tensor image;          // C x H x W, the size of the network input (network input space)
  size_t layer = 0;      // L
  int channel = 0;       // c
  cv::Point position;    // p = (x, y) in L's output (0, 0 for vectors)
  float activation = 0;  // the seeded value: L's output at (c, p)
  cv::Rect field;        // receptive field of (c, p) in input pixels (clipped)
  ProjectionMode mode = ProjectionMode::Deconvnet;
};

class Projector {
 public:
  /// Projects from the activations of one run (sample `sample` of its batch). The run must
  /// have kept the projected layer (RunOptions::keepAll, or keep = {layer} in a lean run: ReLU
  /// outputs, LRN inputs and pool switches are always available); otherwise project() throws.
  explicit Projector(std::shared_ptr<const Activations> activations, int sample = 0);
  ~Projector();

  /// Projects one activation; throws Error for an unknown layer, a channel or position out of
  /// range, or a position given for a layer without spatial positions.
  Projection project(const ProjectionRequest& request);

  /// Projects several activations of one layer (same mode and LRN rule; throws Error otherwise)
  /// in batched backward passes, not one pass per request; the results come in request order
  /// and equal project()'s within float rounding (a batched pass is not clipped to one receptive
  /// field, so its sums run in another order). Each request is checked as project() checks it.
  std::vector<Projection> projectBatch(const std::vector<ProjectionRequest>& requests,
                                       ProgressSink* progress = nullptr);

  /// Projects several channels of one layer, each from its own argmax, in batched backward
  /// passes (projectBatch).
  std::vector<Projection> projectChannels(size_t layer, const std::vector<int>& channels,
                                          ProjectionMode mode,
                                          LrnBackward lrn = LrnBackward::Gradient,
                                          ProgressSink* progress = nullptr);

  /// The K channels of `layer` with the strongest maxima, strongest first.
  std::vector<int> topChannels(size_t layer, int k) const;

  /// The activations this projector reads.
  const Activations& activations() const { return *m_activations; }

 private:
  struct Impl;

  std::shared_ptr<const Activations> m_activations;
  int m_sample = 0;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace zfvis
