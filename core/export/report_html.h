// The report's index.html: one self-contained page (inline CSS, relative links only, no scripts,
// fonts or anything fetched from the network) showing every file of an export.
#pragma once

#include <string>
#include <vector>

#include "core/analysis/predictions.h"
#include "core/export/report.h"

namespace zfvis {

/// One of the most probable classes (core/analysis/predictions.h).
using ReportPrediction = RankedClass;

/// One layer's section.
struct ReportLayer {
  int index = 0;                   // as listed by `layers`
  std::string name;                // layer name
  std::string type;                // ONNX operator name
  std::string inputs;              // "conv1" / "input" / "a, b"
  std::string details;             // "96 filters 11 x 11, stride 4" ...
  Shape shape;                     // per-sample output shape
  int64_t params = 0;              // parameter count
  std::vector<size_t> files;       // indices into ReportPage::files
  std::vector<std::string> notes;  // what was left out for this layer and why
};

/// An extra section after the layers.
struct ReportSection {
  std::string id, title, text;
  std::vector<size_t> files;  // pictures (indices into ReportPage::files)
};

/// Everything the page shows.
struct ReportPage {
  std::string model;        // model name
  std::string description;  // "caffe-alexnet (built-in, untrained: He-normal weights)"
  bool untrained = false;   // show the untrained banner
  std::string imageName;    // the input's source
  std::string preprocess;   // preset name
  Shape inputShape;         // per-sample input shape
  int64_t params = 0;       // total parameters
  std::string mode;         // projection mode
  std::string projections;  // "deconvnet, top 9 channels at ..." or "none"
  std::string summary;      // model summary text
  std::vector<ReportPrediction> predictions;  // top classes
  std::vector<std::string> notes;             // model notes and export notes
  std::vector<ExportedFile> files;            // every file (model-wide ones first)
  std::vector<ReportLayer> layers;            // in network order
  std::vector<ReportSection> sections;        // after the layers
};

/// The complete index.html.
std::string reportHtml(const ReportPage& page);
/// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string htmlEscape(const std::string& s);

}  // namespace zfvis
