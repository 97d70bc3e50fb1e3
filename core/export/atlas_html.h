// The unit atlas as a folder of HTML and PNG files: index.html with one section per unit, its top
// projections and image patches as separate PNGs (cropped to the receptive field, upscaled),
// each captioned with its rank, image path, position and value. Written through a StagingDir, so
// the folder appears complete or not at all.
#pragma once

#include <filesystem>

#include "core/analysis/scan/atlas.h"

namespace zfvis {

/// Writes `atlas` into `dir`, which must not exist (Error naming it otherwise). `scale`: integer
/// upscaling of every crop (0: to at least 64 pixels).
void writeAtlasHtml(const Atlas& atlas, const std::filesystem::path& dir, int scale = 0);

}  // namespace zfvis
