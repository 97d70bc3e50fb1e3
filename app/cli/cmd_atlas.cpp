// zfvis-cli atlas: the unit atlas of a scanned layer (Zeiler & Fergus fig. 2), from a scan
// database (core/analysis/scan/atlas, core/render/atlas_sheet).
#include <cstdio>
#include <filesystem>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/scan/atlas.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/export/atlas_html.h"
#include "core/render/atlas_sheet.h"
#include "core/render/png.h"

namespace zfvis::cli {

int runAtlas(const ArgList& argv) {
  Args args(argv,
            withOptions(modelOptions(), {{"db"},
                                         {"layer"},
                                         {"units"},
                                         {"mode"},
                                         {"top"},
                                         {"images"},
                                         {"max-pixels"},
                                         {"per-row"},
                                         {"no-patches", false},
                                         {"png"},
                                         {"out"}}),
            "atlas");
  const std::string dbArg = args.required("db");
  const std::string layerArg = args.required("layer");
  const std::optional<std::string> png = args.value("png"), out = args.value("out");
  if (!png && !out) throw UsageError("give --png OUT.png, --out DIR (HTML), or both");
  AtlasOptions o;
  o.mode = parseProjectionMode(args.value("mode").value_or("deconvnet"));
  o.top = args.intValue("top", 9, 1, 1000);
  o.read.maxPixels = args.int64Value("max-pixels", kDefaultMaxImagePixels, 1, int64_t(1) << 40);
  std::optional<std::pair<int, int>> units;
  if (auto u = args.value("units")) {
    const size_t dash = u->find('-', 1);
    const int lo = int(parseInteger(u->substr(0, dash), "units", 0, 1 << 20));
    const int hi = dash == std::string::npos
                       ? lo
                       : int(parseInteger(u->substr(dash + 1), "units", 0, 1 << 20));
    if (hi < lo) throw UsageError("--units expects A-B with A <= B, got '" + *u + "'");
    if (hi - lo >= 1024) throw UsageError("--units selects more than 1024 units");
    units = {lo, hi};
  }
  if (auto i = args.value("images")) o.imageRoot = *i;
  AtlasSheetOptions sheet;
  sheet.unitsPerRow = args.intValue("per-row", 4, 1, 64);
  sheet.patches = !args.has("no-patches");
  checkOutputs(args, {"png"});
  if (out) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(*out, ec)))
      throw Error("'" + *out + "' already exists; atlas --out writes a new folder");
    checkWritable(*out);  // its parent folder exists and is writable
  }

  const ScanReader scan(dbArg);
  const ScanLayer& layer = scan.layer(layerArg);
  if (units) {
    requireIndex("units", units->second, layer.channels, "layer '" + layer.name + "'", "units");
    o.lo = units->first;
    o.hi = units->second;
  }
  NetworkDef def = *openModel(args);
  const std::string id =
      modelIdentity(def, args.required("model"), args.value("weights").value_or(""));
  def.input.preprocess = parsePreprocess(scan.meta().at("preprocess"));
  auto net = compileModel(args, std::make_shared<const NetworkDef>(std::move(def)));
  const Atlas atlas = computeAtlas(scan, net, id, layer.name, o);
  if (out) writeAtlasHtml(atlas, *out);
  if (png)
    writePng(*png, renderAtlasSheet(atlas, sheet),
             {{"Software", "zfvis"},
              {"zfvis:picture", "atlas"},
              {"zfvis:layer", atlas.layerName},
              {"zfvis:mode", projectionModeName(o.mode)},
              {"zfvis:db", dbArg}});
  size_t cells = 0;
  for (const AtlasUnit& u : atlas.units) cells += u.cells.size();
  std::printf("%s: %zu units of %s, %zu projections (%s)\n", png ? png->c_str() : out->c_str(),
              atlas.units.size(), atlas.layerName.c_str(), cells, projectionModeName(o.mode));
  return 0;
}

}  // namespace zfvis::cli
