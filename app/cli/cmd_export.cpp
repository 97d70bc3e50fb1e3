// zfvis-cli export: every layer's activations, filters and projections, the predictions and the
// summary in one folder with an index.html (core/export/report.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/scan/scan.h"
#include "core/base/error.h"
#include "core/export/atlas_export.h"
#include "core/export/report.h"
#include "core/model/image_input.h"
#include "core/model/summary.h"

namespace zfvis::cli {

namespace {

// One line per layer on stderr: "export: 5/24 conv2".
class LayerProgress : public ProgressSink {
 public:
  explicit LayerProgress(const NetworkDef& def) : m_def(def) {}
  void report(int64_t done, int64_t total) override {
    if (done < 1 || done == m_last) return;
    m_last = done;
    std::fprintf(stderr, "export: %lld/%lld %s\n", static_cast<long long>(done),
                 static_cast<long long>(total), m_def.layers[size_t(done - 1)].name.c_str());
    std::fflush(stderr);
  }

 private:
  const NetworkDef& m_def;
  int64_t m_last = 0;
};

}  // namespace

int runExport(const ArgList& argv) {
  Args args(argv,
            withOptions(withOptions(runOptions(), labelsOption()), {{"out"},
                                                                    {"force", false},
                                                                    {"top"},
                                                                    {"mode"},
                                                                    {"projections"},
                                                                    {"predictions"},
                                                                    {"db"},
                                                                    {"atlas-units"},
                                                                    {"scan-images"},
                                                                    {"time", false}}),
            "export");
  ExportOptions o;
  o.outDir = args.required("out");
  o.force = args.has("force");
  o.top = args.intValue("top", 9, 1, 4096);
  o.predictions = args.intValue("predictions", 10, 1, 100000);
  o.mode = parseProjectionMode(args.value("mode").value_or("deconvnet"));
  if (auto p = args.value("projections")) o.projections = parseExportProjections(*p);
  o.imageName = args.required("image");

  auto t0 = std::chrono::steady_clock::now();
  auto def = openModel(args);
  o.preprocess = def->input.preprocess;
  if (auto p = args.value("preprocess")) o.preprocess = parsePreprocess(*p);
  Tensor input = openInput(args, *def);
  auto net = compileModel(args, def);
  if (auto db = args.value("db")) {
    AtlasExportOptions ao;
    ao.units = args.intValue("atlas-units", 16, 1, 4096);
    ao.mode = o.mode;
    if (auto i = args.value("scan-images")) ao.imageRoot = *i;
    o.sections.push_back(atlasExportSection(
        net, *db, modelIdentity(*def, args.required("model"), args.value("weights").value_or("")),
        ao));
  }
  auto t1 = std::chrono::steady_clock::now();
  LayerProgress progress(*def);
  ExportResult r = exportReport(net, input, cv::Mat(), o, &progress);
  auto t2 = std::chrono::steady_clock::now();
  std::printf("%s: wrote %zu files to %s%s\n", modelDescription(*def).c_str(), r.files.size(),
              r.dir.string().c_str(), def->untrained ? " [untrained weights]" : "");
  for (const std::string& n : r.notes) std::printf("note: %s\n", n.c_str());
  if (args.has("time")) {
    using Ms = std::chrono::duration<double, std::milli>;
    std::printf("export %zu layers: %.0f ms (model load %.0f ms, total %.0f ms)\n",
                def->layers.size(), Ms(t2 - t1).count(), Ms(t1 - t0).count(), Ms(t2 - t0).count());
  }
  return 0;
}

}  // namespace zfvis::cli
