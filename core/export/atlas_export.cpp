#include "core/export/atlas_export.h"

#include <algorithm>
#include <cstdio>

#include "core/analysis/scan/atlas.h"
#include "core/analysis/scan/scan.h"
#include "core/base/error.h"
#include "core/render/atlas_sheet.h"

namespace zfvis {

namespace {

// "007-conv3" (the index keeps names unique and in network order; as the report's layer files).
std::string stem(size_t index, size_t count, const std::string& name) {
  std::string safe;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    safe += ok ? c : '_';
    if (safe.size() >= 60) break;
  }
  while (!safe.empty() && safe.front() == '.') safe.erase(safe.begin());
  if (safe.empty()) safe = "layer";
  const int width = std::max(3, int(std::to_string(count ? count - 1 : 0).size()));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*zu", width, index);
  return std::string(buf) + "-" + safe;
}

}  // namespace

ExportSection atlasExportSection(std::shared_ptr<const CompiledNet> net,
                                 const std::filesystem::path& db, const std::string& modelId,
                                 const AtlasExportOptions& o) {
  ExportSection s;
  s.id = "atlas";
  s.title = "Unit atlas";
  s.text = "From the scan " + db.filename().string() +
           ": for each unit its strongest images in the collection, projected (" +
           projectionModeName(o.mode) +
           ") from the recorded position (left grid) beside the image patches (right grid).";
  s.key = "scan_db";
  s.value = db.filename().string();
  s.check = [net, db, modelId] {
    const ScanReader scan(db);
    checkScanModel(scan, db, modelId);
    if (!scan.complete())
      throw Error("'" + db.string() + "' holds an unfinished scan; finish it first");
    if (parsePreprocess(scan.meta().at("preprocess")) != net->def().input.preprocess)
      throw Error("'" + db.string() + "' was scanned with " + scan.meta().at("preprocess") +
                  " preprocessing; the model uses " +
                  std::string(preprocessName(net->def().input.preprocess)));
  };
  s.make = [net, db, modelId, o](ProgressSink* cancel) {
    const ScanReader scan(db);
    const NetworkDef& def = net->def();
    std::vector<ExportPicture> out;
    for (const ScanLayer& sl : scan.layers()) {
      AtlasOptions ao;
      ao.lo = 0;
      ao.hi = std::min(sl.channels, std::max(1, o.units)) - 1;
      ao.top = o.top;
      ao.mode = o.mode;
      ao.imageRoot = o.imageRoot;
      const Atlas atlas = computeAtlas(scan, net, modelId, sl.name, ao, cancel);
      ExportPicture p;
      p.file.path = "atlas/" + stem(sl.index, def.layers.size(), sl.name) + ".atlas.png";
      p.file.kind = "atlas";
      p.file.layer = sl.name;
      p.file.layerIndex = int(sl.index);
      p.file.shape = net->outputShapes()[sl.index];
      p.file.mode = projectionModeName(o.mode);
      p.file.normalization = "symmetric per projection, zero = mid-grey";
      p.file.description = "Units " + std::to_string(ao.lo) + ".." + std::to_string(ao.hi) +
                           " of " + std::to_string(sl.channels) + ": each unit's top " +
                           std::to_string(ao.top) + " images in the scan, projected (" +
                           projectionModeName(o.mode) + ") beside the image patches.";
      p.image = renderAtlasSheet(atlas);
      p.text = {{"zfvis:crop", "receptive field"}, {"zfvis:db", db.filename().string()}};
      out.push_back(std::move(p));
    }
    return out;
  };
  return s;
}

}  // namespace zfvis
