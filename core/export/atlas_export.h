// The unit atlas as a section of the Export All report (core/export/report.h, zfvis-cli export
// --db): one atlas picture (core/render/atlas_sheet.h) per scanned layer of a scan database.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/analysis/projector/projector.h"
#include "core/engine/engine.h"
#include "core/export/report.h"

namespace zfvis {

struct AtlasExportOptions {
  int units = 16;  // the first units of every layer
  int top = 9;     // images per unit (at most the scan's K)
  ProjectionMode mode = ProjectionMode::Deconvnet;
  std::filesystem::path imageRoot;  // where the scanned images are (empty: as recorded)
};

/// The section for `db`. Its check (run by exportReport before any work) throws Error when `db`
/// is missing or not a scan database, was made with a model other than `modelId`, with another
/// preprocessing than `net`'s, or is unfinished. Pictures: atlas/NNN-layer.atlas.png.
ExportSection atlasExportSection(std::shared_ptr<const CompiledNet> net,
                                 const std::filesystem::path& db, const std::string& modelId,
                                 const AtlasExportOptions& options = {});

}  // namespace zfvis
