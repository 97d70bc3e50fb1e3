// The unit atlas (Zeiler & Fergus fig. 2): for each unit of a scanned layer, its top-9 images from
// a scan database, each projected back to pixel space from the recorded position on its own
// image, beside the image patches. Projections are batched per image: one forward run per image,
// every unit that picked that image projected from the same run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/analysis/projector/projector.h"
#include "core/analysis/scan/scan.h"

namespace zfvis {

/// One of a unit's top images.
struct AtlasCell {
  ScanEntry entry;        // from the scan
  Projection projection;  // from (unit, entry.y, entry.x) on that image
  cv::Mat input;          // the network's view of the image (8-bit BGR)
};

/// One unit.
struct AtlasUnit {
  int unit = 0;                  // channel
  std::vector<AtlasCell> cells;  // by rank (up to `top`)
};

/// The whole atlas.
struct Atlas {
  std::string layerName;                    // the layer
  size_t layer = 0;                         // its index in the network
  Preprocess preprocess = Preprocess::Raw;  // as scanned (for drawing)
  ProjectionMode mode = ProjectionMode::Deconvnet;
  std::vector<std::string> layerNames;  // every layer's name (captions)
  std::vector<AtlasUnit> units;         // in unit order
};

/// What to draw.
struct AtlasOptions {
  int lo = 0, hi = -1;  // units lo..hi (hi -1: lo + 15, clipped to the layer)
  int top = 9;          // images per unit (at most the scan's K)
  ProjectionMode mode = ProjectionMode::Deconvnet;
  std::filesystem::path imageRoot;  // where the scanned images are (empty: as recorded)
  ImageReadOptions read;            // how image files are read
};

/// Throws Error ("'<db>' is a scan of model X, not of Y") unless `scan` was made with the model
/// whose identity (modelIdentity()) is `modelId`.
void checkScanModel(const ScanReader& scan, const std::filesystem::path& db,
                    const std::string& modelId);

/// Computes the atlas of `layer` from `scan` with `net` (whose identity must be the scan's
/// `model`; the scan's preprocessing is used). Throws Error when the model differs, the layer was
/// not scanned, a unit is out of range, or an image is missing or changed since the scan
/// (SHA-256).
Atlas computeAtlas(const ScanReader& scan, std::shared_ptr<const CompiledNet> net,
                   const std::string& modelId, const std::string& layer,
                   const AtlasOptions& options, ProgressSink* progress = nullptr);

/// The image patches of the atlas alone, without forward runs (each image is only decoded, once):
/// every cell gets its `entry`, `input` (the network's view of the image, as computeAtlas makes
/// it) and `projection.layer`, `channel`, `position` and `field` (the receptive field of the
/// recorded position, as the Projector computes it); `projection.image` stays empty. For a
/// mosaic of every unit's top patches (renderAtlasSheet with projections off, or
/// renderAtlasCell(cell, ..., patch = true)). Same checks as computeAtlas; `def` is the scanned
/// model (its identity `modelId`).
Atlas computeAtlasPatches(const ScanReader& scan, const NetworkDef& def, const std::string& modelId,
                          const std::string& layer, const AtlasOptions& options,
                          ProgressSink* progress = nullptr);

}  // namespace zfvis
