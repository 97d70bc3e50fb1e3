// How features form during training (Zeiler & Fergus fig. 4): for a series of checkpoints of one
// architecture, each chosen unit's strongest activation over a set of images, projected back to
// pixel space from there, and the first convolution's filters, one column per checkpoint.
//
// A unit's strongest activation at a checkpoint is the largest unitResponse() over the images
// (ties: the earlier image in list order), so every column may pick a different image and
// position, as in the paper's figure.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/analysis/image_list.h"
#include "core/analysis/projector/projector.h"
#include "core/base/progress.h"
#include "core/model/image_input.h"
#include "core/model/network.h"

namespace zfvis {

/// One checkpoint of a series.
struct EvolutionCheckpoint {
  std::filesystem::path file;          // the model file
  std::optional<int64_t> step;         // from its zfvis.training note (absent for other files)
  std::optional<double> epoch;         // likewise
  std::optional<double> testAccuracy;  // likewise, when it was evaluated
  /// "init" (step 0), "epoch 2.0", or the file name when there is no note.
  std::string label() const {
    if (step && *step == 0) return "init";
    if (epoch) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "epoch %.1f", *epoch);
      return buf;
    }
    return file.filename().string();
  }
};

/// The checkpoints of `sources`, in the order given: a run folder contributes every
/// checkpoint-*.onnx in step order and then final.onnx (listRunCheckpoints); a model file
/// contributes itself (its zfvis.training note, when it has one, gives step and epoch). Throws
/// Error naming a source that is neither, or a run folder without checkpoints.
std::vector<EvolutionCheckpoint> resolveCheckpoints(
    const std::vector<std::filesystem::path>& sources);

/// What to compute.
struct EvolutionOptions {
  std::vector<int> units;                           // channels of the layer; empty: the first 8
  ProjectionMode mode = ProjectionMode::Deconvnet;  // how the maxima are projected
  int batch = 32;                                   // images per forward run
  ImageReadOptions read;                            // how image files are read
};

/// A unit's strongest activation at one checkpoint.
struct UnitMaximum {
  int unit = 0;           // channel
  int64_t image = -1;     // index into the image list
  cv::Point position;     // (x, y) in the layer's output (0, 0 for vectors)
  float value = 0;        // the activation
  Projection projection;  // projected from (unit, position) of that image
  cv::Mat input;          // the network's view of that image (8-bit BGR)
};

/// One column of the figure: one checkpoint.
struct EvolutionColumn {
  EvolutionCheckpoint checkpoint;
  std::vector<UnitMaximum> units;  // one per chosen unit, in order
  std::string filtersLayer;        // the first Conv layer (empty when there is none)
  Tensor filters;                  // its weights, O x I x kH x kW
};

/// The whole figure.
struct Evolution {
  std::string layerName;                    // the layer L whose units are followed
  size_t layer = 0;                         // its index
  std::vector<int> units;                   // the units (rows)
  Preprocess preprocess = Preprocess::Raw;  // of the first checkpoint (for drawing)
  std::vector<std::string> layerNames;      // every layer's name (captions)
  std::vector<ImageEntry> images;           // the images searched
  std::vector<EvolutionColumn> columns;     // one per checkpoint
};

/// The units `options` asks for, checked against layer `layer` of `def` (Error naming the layer
/// and its channel count when one is out of range); empty options.units: the first min(8, C).
std::vector<int> evolutionUnits(const NetworkDef& def, size_t layer,
                                const EvolutionOptions& options);

/// One column: runs `images` through `def` in batches, finds each unit's strongest activation
/// and projects it. An image that cannot be read is an Error naming it (the set is small and
/// chosen by the user). Progress counts images, then projections.
EvolutionColumn evolveCheckpoint(const NetworkDef& def, const EvolutionCheckpoint& checkpoint,
                                 size_t layer, const std::vector<int>& units,
                                 const std::vector<ImageEntry>& images,
                                 const EvolutionOptions& options, ProgressSink* progress = nullptr);

/// The same search over inputs already in memory: `inputs` are network inputs (each shaped like
/// def.input.shape, C x H x W, or 1 x C x H x W), e.g. a dataset's test images (dataset.h
/// sampleToInput) that a GUI loads once and reuses for every checkpoint. UnitMaximum::image indexes
/// `inputs`. Throws Error naming the first input of another shape.
EvolutionColumn evolveCheckpoint(const NetworkDef& def, const EvolutionCheckpoint& checkpoint,
                                 size_t layer, const std::vector<int>& units,
                                 const std::vector<Tensor>& inputs, const EvolutionOptions& options,
                                 ProgressSink* progress = nullptr);

/// Every column, loading one checkpoint at a time. `layer` is a name or index of the first
/// checkpoint's network; every other checkpoint must have the same layers (names, types and
/// output shapes), else Error names the file and the first difference.
Evolution computeEvolution(const std::vector<EvolutionCheckpoint>& checkpoints,
                           const std::string& layer, const std::vector<ImageEntry>& images,
                           const EvolutionOptions& options, ProgressSink* progress = nullptr);

/// Throws Error naming `file` and the first layer whose name, type or output shape differs
/// between `reference` and `def`, or a different layer count.
void requireSameArchitecture(const NetworkDef& reference, const NetworkDef& def,
                             const std::filesystem::path& file);

}  // namespace zfvis
