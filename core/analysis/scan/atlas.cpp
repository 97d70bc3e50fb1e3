#include "core/analysis/scan/atlas.h"

#include <map>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/sha256.h"

namespace zfvis {
namespace fs = std::filesystem;

namespace {

// The atlas of units lo..hi with every cell's entry (no pictures yet), and the cells grouped by
// image in image order (one decode and one forward run per image).
struct AtlasPlan {
  Atlas atlas;
  std::map<int64_t, std::vector<std::pair<size_t, size_t>>> byImage;  // image -> (unit, cell)
  fs::path root;                                                      // where the images are
};

AtlasPlan planAtlas(const ScanReader& scan, const NetworkDef& def, const std::string& modelId,
                    const std::string& layerName, const AtlasOptions& o) {
  const auto& meta = scan.meta();
  if (meta.at("model") != modelId)
    throw Error("the scan was made with model " + meta.at("model") + "; --model is " + modelId);
  if (!scan.complete())
    throw Error("the scan is unfinished (" + meta.at("images_done") +
                " images done); finish it by rerunning its scan command");
  const ScanLayer& sl = scan.layer(layerName);
  AtlasPlan plan;
  Atlas& a = plan.atlas;
  a.layerName = sl.name;
  a.layer = def.resolveLayer(sl.name);
  a.mode = o.mode;
  a.preprocess = parsePreprocess(meta.at("preprocess"));
  for (const LayerSpec& l : def.layers) a.layerNames.push_back(l.name);
  const int hi = o.hi < 0 ? std::min(sl.channels - 1, o.lo + 15) : o.hi;
  if (o.lo < 0 || o.lo > hi || hi >= sl.channels)
    throw Error("layer '" + sl.name + "' has " + std::to_string(sl.channels) + " units (0.." +
                std::to_string(sl.channels - 1) + "); --units " + std::to_string(o.lo) + "-" +
                std::to_string(hi) + " is out of range");
  if (def.input.preprocess != a.preprocess)
    throw Error("atlas: the network's preprocessing differs from the scan's");

  for (int u = o.lo; u <= hi; ++u) a.units.push_back({u, {}});
  for (const ScanEntry& e : scan.topK(sl.name, o.lo, hi)) {
    if (e.rank > o.top) continue;
    AtlasUnit& u = a.units[size_t(e.unit - o.lo)];
    plan.byImage[e.image].push_back({size_t(e.unit - o.lo), u.cells.size()});
    u.cells.push_back({e, {}, {}});
  }
  plan.root = o.imageRoot.empty() ? fs::path(meta.at("image_root")) : o.imageRoot;
  return plan;
}

// The network input of one scanned image, after checking it is the image that was scanned.
Tensor scannedInput(const ScanReader& scan, const AtlasPlan& plan, int64_t image,
                    const ScanEntry& entry, const NetworkDef& def, const ImageReadOptions& read) {
  const fs::path file =
      fs::path(entry.path).is_absolute() ? fs::path(entry.path) : plan.root / entry.path;
  const std::string bytes = readFile(file, size_t(1) << 31);
  // An image replaced since the scan would show another picture than the one that ranked.
  const std::string want = scan.imageHash(image);
  if (!want.empty() && sha256Hex(bytes) != want)
    throw Error("'" + file.string() + "' changed since the scan (its SHA-256 differs)");
  const cv::Mat bgr = decodeImageBgr(bytes, file.string(), read);
  const cv::Mat crop = resizeAndCrop(bgr, int(def.input.shape[1]), int(def.input.shape[2]));
  return imageToTensor(crop, int(def.input.shape[0]), def.input.preprocess);
}

}  // namespace

void checkScanModel(const ScanReader& scan, const fs::path& db, const std::string& modelId) {
  const std::string& made = scan.meta().at("model");
  if (made != modelId)
    throw Error("'" + db.string() + "' is a scan of model " + made + ", not of " + modelId);
}

Atlas computeAtlas(const ScanReader& scan, std::shared_ptr<const CompiledNet> net,
                   const std::string& modelId, const std::string& layerName, const AtlasOptions& o,
                   ProgressSink* progress) {
  const NetworkDef& def = net->def();
  AtlasPlan plan = planAtlas(scan, def, modelId, layerName, o);
  Atlas& a = plan.atlas;
  Session session(net);
  RunOptions lean;
  lean.keepAll = false;
  lean.keep = {a.layer};
  const bool spatial = def.outputShapes()[a.layer].rank() == 3;
  int64_t done = 0;
  for (const auto& [image, refs] : plan.byImage) {
    const ScanEntry& first = a.units[refs[0].first].cells[refs[0].second].entry;
    const Tensor input = scannedInput(scan, plan, image, first, def, o.read);
    auto acts = session.run(input, lean);
    Projector projector(acts);
    const cv::Mat view = tensorToImage(acts->input(), def.input.preprocess);
    // Every unit that picked this image, in one batched backward pass.
    std::vector<ProjectionRequest> requests;
    for (const auto& [ui, ci] : refs) {
      const AtlasCell& cell = a.units[ui].cells[ci];
      ProjectionRequest r;
      r.layer = a.layer;
      r.channel = a.units[ui].unit;
      if (spatial) r.position = cv::Point(cell.entry.x, cell.entry.y);
      r.mode = o.mode;
      requests.push_back(r);
    }
    std::vector<Projection> projections = projector.projectBatch(requests);
    for (size_t k = 0; k < refs.size(); ++k) {
      AtlasCell& cell = a.units[refs[k].first].cells[refs[k].second];
      cell.projection = std::move(projections[k]);
      cell.input = view;
    }
    reportProgress(progress, ++done, int64_t(plan.byImage.size()));
  }
  return std::move(plan.atlas);
}

Atlas computeAtlasPatches(const ScanReader& scan, const NetworkDef& def, const std::string& modelId,
                          const std::string& layerName, const AtlasOptions& o,
                          ProgressSink* progress) {
  AtlasPlan plan = planAtlas(scan, def, modelId, layerName, o);
  Atlas& a = plan.atlas;
  const ReceptiveField field = receptiveFields(def)[a.layer];
  const bool spatial = def.outputShapes()[a.layer].rank() == 3;
  int64_t done = 0;
  for (const auto& [image, refs] : plan.byImage) {
    if (progress && progress->cancelled()) throw Cancelled();
    const ScanEntry& first = a.units[refs[0].first].cells[refs[0].second].entry;
    const Tensor input = scannedInput(scan, plan, image, first, def, o.read);
    // The same round trip through the network input as computeAtlas's view of the image.
    const cv::Mat view = tensorToImage(input, def.input.preprocess);
    for (const auto& [ui, ci] : refs) {
      AtlasCell& cell = a.units[ui].cells[ci];
      Projection& p = cell.projection;
      p.layer = a.layer;
      p.channel = a.units[ui].unit;
      p.position = spatial ? cv::Point(cell.entry.x, cell.entry.y) : cv::Point(0, 0);
      p.activation = float(cell.entry.value);
      p.field = field.box(p.position.y, p.position.x, view.size());
      p.mode = o.mode;
      cell.input = view;
    }
    reportProgress(progress, ++done, int64_t(plan.byImage.size()));
  }
  return std::move(plan.atlas);
}

}  // namespace zfvis
