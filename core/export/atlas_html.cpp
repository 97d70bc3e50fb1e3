#include "core/export/atlas_html.h"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/export/report_html.h"
#include "core/export/staging_dir.h"
#include "core/render/atlas_sheet.h"
#include "core/render/png.h"

namespace zfvis {
namespace fs = std::filesystem;

void writeAtlasHtml(const Atlas& atlas, const fs::path& dir, int scale) {
  if (scale <= 0) {
    AtlasSheetOptions o;
    o.minCellSize = 64;
    scale = atlasLayout(atlas, o).scale;
  }
  StagingDir staging(dir);
  std::string h =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + htmlEscape(atlas.layerName) +
      " atlas</title>\n<style>body{font-family:sans-serif;background:#141414;color:#e6e6e6}"
      "section{display:inline-block;vertical-align:top;margin:0 24px 24px 0}"
      "figure{display:inline-block;margin:4px;text-align:center}"
      "img{image-rendering:pixelated;margin:1px}figcaption{font-size:11px;max-width:180px;"
      "overflow-wrap:anywhere}</style></head><body>\n<h1>" +
      htmlEscape(atlas.layerName) + ": top activations per unit, projected (" +
      projectionModeName(atlas.mode) + ") beside the image patches</h1>\n";
  for (const AtlasUnit& u : atlas.units) {
    char unitDir[32];
    std::snprintf(unitDir, sizeof unitDir, "unit%04d", u.unit);
    fs::create_directories(staging.path() / unitDir);
    h += "<section><h2>#" + std::to_string(u.unit) + "</h2>\n";
    for (const AtlasCell& c : u.cells) {
      const std::string stem = std::string(unitDir) + "/rank" + std::to_string(c.entry.rank);
      for (int patch = 0; patch < 2; ++patch) {
        cv::Mat m = renderAtlasCell(c, atlas.preprocess, scale, patch == 1);
        writePng(staging.path() / (stem + (patch ? "-patch.png" : "-projection.png")), m);
      }
      char caption[96];
      std::snprintf(caption, sizeof caption, "%d. y %d x %d, %.4g", c.entry.rank, c.entry.y,
                    c.entry.x, c.entry.value);
      h += "<figure><img src=\"" + stem + "-projection.png\" alt=\"projection\"><img src=\"" +
           stem + "-patch.png\" alt=\"patch\"><figcaption>" + caption + "<br>" +
           htmlEscape(c.entry.path) + "</figcaption></figure>\n";
    }
    h += "</section>\n";
  }
  h += "</body></html>\n";
  writeFileAtomic(staging.path() / "index.html", h);
  staging.commit();
}

}  // namespace zfvis
