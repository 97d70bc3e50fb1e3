// Export All: one folder with everything zfvis shows for a model and an image, readable in a
// browser without network access.
//
//   index.html          the report: input, predictions, summary, then a section per layer
//   manifest.json       every file with what it shows (layer, kind, shape, mode, normalisation)
//   summary.txt         the model summary (as `zfvis-cli summary`)
//   predictions.json    top classes (as `zfvis-cli predict --json`)
//   predictions.txt
//   input.png           the network's view of the input; input.npy: the input tensor
//   layers/NNN-name.activations.png / .activations.npy    every layer's output
//   layers/NNN-name.filters.png / .weights.npy            Conv layers
//   layers/NNN-name.projections.png                       top-K channel projections
//   extra sections (ExportOptions::sections), e.g. the unit atlas of a scan database
//   (core/export/atlas_export.h): atlas/NNN-name.atlas.png
//
// Projections (ExportProjections::Features, the default) are made at every convolution's
// rectified output (the ReLU right after a Conv, or the Conv itself when no ReLU follows), the
// units Zeiler & Fergus project. All adds every other layer except those whose values equal their
// input's (Dropout, Identity, Flatten, Reshape, Concat), whose projections would repeat it; dense
// layers and the output are then projected too (each costs a backward pass through the whole
// net). Every PNG carries its metadata in tEXt chunks. The folder appears atomically (StagingDir).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/analysis/projector/projector.h"
#include "core/base/progress.h"
#include "core/engine/engine.h"
#include "core/render/activation_grid.h"
#include "core/render/colormap.h"
#include "core/render/filter_grid.h"
#include "core/render/png.h"

namespace zfvis {

/// Which layers get a grid of top-channel projections.
enum class ExportProjections {
  None,      // no projections
  Features,  // every convolution's rectified output (default)
  All,       // every layer except pass-throughs (see above)
};

/// "none", "features", "all".
const char* exportProjectionsName(ExportProjections p);
/// Parses "none", "features" / "conv", "all"; throws UsageError otherwise.
ExportProjections parseExportProjections(const std::string& name);

struct ExportedFile;
struct ExportPicture;

/// A section after the layers, made by a higher layer of the code (the unit atlas of a scan
/// database: core/export/atlas_export.h).
struct ExportSection {
  std::string id;          // HTML anchor
  std::string title;       // heading
  std::string text;        // one paragraph under it
  std::string key, value;  // recorded in manifest.json ("" : nothing)
  /// Validates the section's inputs before any work; throws Error. May be empty.
  std::function<void()> check;
  /// Makes the pictures; throws Cancelled when `cancel` asks.
  std::function<std::vector<ExportPicture>(ProgressSink* cancel)> make;
};

struct ExportOptions {
  std::filesystem::path outDir;  // the report folder
  bool force = false;            // replace an existing earlier report (empty, or only the files its
                                 // zfvis manifest.json lists) once the new one is complete
  int top = 9;                   // channels projected per layer
  ProjectionMode mode = ProjectionMode::Deconvnet;              // how projections pass ReLUs
  ExportProjections projections = ExportProjections::Features;  // where projections are made
  int predictions = 10;                                         // classes listed
  std::string imageName;                      // what the input was made from (shown and recorded)
  Preprocess preprocess = Preprocess::Caffe;  // how the input was made (colour order of pictures)
  std::vector<ExportSection> sections;        // extra sections after the layers
  Colormap colormap = Colormap::Viridis;      // activation pictures
  MapNormalization mapNormalization = MapNormalization::PerMap;  // feature maps' intensities
  FilterNormalization filterNormalization = FilterNormalization::PerFilter;  // filter grids
  std::vector<std::string> classNames;  // names given for the classes (Load Labels), else
                                        // the model's own (resolveClassNames)
};

/// One file of the report.
struct ExportedFile {
  std::string path;           // relative to the report folder, '/'-separated
  std::string kind;           // activations, activations-data, filters, weights, projections,
                              // input, input-data, predictions, predictions-text, summary,
                              // index, manifest, atlas
  std::string layer;          // layer name ("" for model-wide files)
  int layerIndex = -1;        // index as listed by `layers` (-1 for model-wide files)
  Shape shape;                // shape of the data shown
  std::string mode;           // projection mode ("" otherwise)
  std::string normalization;  // how values become intensities ("" for data files)
  std::string description;    // what it shows, one line
};

/// A picture of an extra section: written as PNG at file.path with `text` besides the usual chunks.
struct ExportPicture {
  ExportedFile file;
  cv::Mat image;
  PngText text;
};

struct ExportResult {
  std::filesystem::path dir;        // the finished report folder
  std::vector<ExportedFile> files;  // every file written (as listed in manifest.json)
  std::vector<std::string> notes;   // things left out and why (also in the report)
};

/// Writes the report for one input (1 x C x H x W or C x H x W, network input space) into
/// options.outDir. `inputView` is the network's view of the image (8-bit BGR, H x W); when empty
/// it is made from the tensor. Reports progress per layer (done of layer count) and throws
/// Cancelled when the sink asks; on any error or cancel no folder is left behind. Throws Error
/// when the folder exists and force is off, or when force is on but the folder is not an earlier
/// zfvis report (user files are never deleted). Every section's check runs before any work.
ExportResult exportReport(std::shared_ptr<const CompiledNet> net, const Tensor& input,
                          const cv::Mat& inputView, const ExportOptions& options,
                          ProgressSink* progress = nullptr);

}  // namespace zfvis
