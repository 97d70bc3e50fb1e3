// zfvis-cli evolution: how features form during training (Zeiler & Fergus fig. 4), from a run's
// checkpoints (core/analysis/evolution).
#include <chrono>
#include <cstdio>

#include <unistd.h>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/evolution/evolution.h"
#include "core/base/error.h"
#include "core/base/position_text.h"
#include "core/render/evolution_sheet.h"
#include "core/render/png.h"

namespace zfvis::cli {

namespace {

// "--units 0-7", "--units 3", "--units 0,4,9-11": channel numbers in the order given.
std::vector<int> parseUnits(const std::string& text) {
  std::vector<int> units;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string part = text.substr(start, comma - start);
    const size_t dash = part.find('-', 1);
    const int lo = int(parseInteger(part.substr(0, dash), "units", 0, 1 << 20));
    const int hi = dash == std::string::npos
                       ? lo
                       : int(parseInteger(part.substr(dash + 1), "units", 0, 1 << 20));
    if (hi < lo) throw UsageError("--units expects A-B with A <= B, got '" + part + "'");
    if (units.size() + size_t(hi - lo + 1) > 4096)
      throw UsageError("--units selects more than 4096 units");
    for (int u = lo; u <= hi; ++u) units.push_back(u);
    start = comma + 1;
  }
  return units;
}

// Progress on stderr at most every two seconds, when stderr is a terminal (a script's stderr then
// holds only warnings and the error line).
class Progress : public ProgressSink {
 public:
  void report(int64_t done, int64_t total) override {
    if (!m_terminal) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - m_last < std::chrono::seconds(2)) return;
    m_last = now;
    std::fprintf(stderr, "evolution: %lld/%lld\n", static_cast<long long>(done),
                 static_cast<long long>(total));
  }

 private:
  std::chrono::steady_clock::time_point m_last = std::chrono::steady_clock::now();
  bool m_terminal = ::isatty(2) != 0;
};

}  // namespace

int runEvolution(const ArgList& argv) {
  Args args(argv,
            {{"checkpoints", true, true},
             {"layer"},
             {"images"},
             {"units"},
             {"mode"},
             {"batch"},
             {"max-pixels"},
             {"threads"},
             {"png"},
             {"with-patch", false},
             {"no-filters", false}},
            "evolution");
  const std::vector<std::string> sources = args.values("checkpoints");
  if (sources.empty()) throw UsageError("option --checkpoints is required");
  const std::string layer = args.required("layer");
  const std::string imagesArg = args.required("images");
  EvolutionOptions options;
  if (auto u = args.value("units")) options.units = parseUnits(*u);
  options.mode = parseProjectionMode(args.value("mode").value_or("deconvnet"));
  options.batch = args.intValue("batch", options.batch, 1, 4096);
  options.read.maxPixels =
      args.int64Value("max-pixels", kDefaultMaxImagePixels, 1, int64_t(1) << 40);
  if (args.has("threads")) setEngineThreads(args.intValue("threads", 0, 1, 256));
  checkOutputs(args, {"png"});

  std::vector<std::filesystem::path> paths(sources.begin(), sources.end());
  const std::vector<EvolutionCheckpoint> checkpoints = resolveCheckpoints(paths);
  const std::vector<ImageEntry> images = listImages(imagesArg);
  Progress progress;
  const Evolution e = computeEvolution(checkpoints, layer, images, options, &progress);

  std::printf("%s: strongest activation per unit over %zu images, %s projection\n",
              e.layerName.c_str(), e.images.size(), projectionModeName(options.mode));
  for (const EvolutionColumn& c : e.columns) {
    std::printf("%s  %s\n", evolutionColumnHeading(c).c_str(), c.checkpoint.file.string().c_str());
    for (const UnitMaximum& m : c.units) {
      if (m.image < 0)
        std::printf("  unit %d: no finite activation\n", m.unit);
      else
        std::printf("  unit %d: %g at %s of %s\n", m.unit, double(m.value),
                    positionText(m.position.y, m.position.x).c_str(),
                    e.images[size_t(m.image)].name.c_str());
    }
  }
  if (auto png = args.value("png")) {
    EvolutionSheetOptions o;
    o.withPatch = args.has("with-patch");
    o.filters = !args.has("no-filters");
    PngText text = {{"Software", "zfvis"},
                    {"zfvis:picture", "evolution"},
                    {"zfvis:layer", e.layerName},
                    {"zfvis:mode", projectionModeName(options.mode)},
                    {"zfvis:images", imagesArg}};
    for (size_t k = 0; k < e.columns.size(); ++k)
      text.push_back(
          {"zfvis:checkpoint" + std::to_string(k), e.columns[k].checkpoint.file.string()});
    writePng(*png, renderEvolutionSheet(e, o), text);
  }
  return 0;
}

}  // namespace zfvis::cli
