#include "core/analysis/scan/atlas.h"

#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/zoo/sha256.h"

namespace zfvis {
namespace fs = std::filesystem;

Atlas computeAtlas(const ScanReader& scan, std::shared_ptr<const CompiledNet> net,
                   const std::string& modelId, const std::string& layerName, const AtlasOptions& o,
                   ProgressSink* progress) {
  const NetworkDef& def = net->def();
  const auto& meta = scan.meta();
  if (meta.at("model") != modelId)
    throw Error("the scan was made with model " + meta.at("model") + "; --model is " + modelId);
  if (!scan.complete())
    throw Error("the scan is unfinished (" + meta.at("images_done") +
                " images done); finish it by rerunning its scan command");
  const ScanLayer& sl = scan.layer(layerName);
  Atlas a;
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
  // Requests grouped by image, in image order: one forward run and one projector per image.
  std::map<int64_t, std::vector<std::pair<size_t, size_t>>> byImage;
  for (const ScanEntry& e : scan.topK(sl.name, o.lo, hi)) {
    if (e.rank > o.top) continue;
    AtlasUnit& u = a.units[size_t(e.unit - o.lo)];
    byImage[e.image].push_back({size_t(e.unit - o.lo), u.cells.size()});
    u.cells.push_back({e, {}, {}});
  }
  const fs::path root = o.imageRoot.empty() ? fs::path(meta.at("image_root")) : o.imageRoot;
  Session session(net);
  RunOptions lean;
  lean.keepAll = false;
  lean.keep = {a.layer};
  const bool spatial = def.outputShapes()[a.layer].rank() == 3;
  int64_t done = 0;
  for (const auto& [image, refs] : byImage) {
    const ScanEntry& first = a.units[refs[0].first].cells[refs[0].second].entry;
    const fs::path file =
        fs::path(first.path).is_absolute() ? fs::path(first.path) : root / first.path;
    const std::string bytes = readFile(file, size_t(1) << 31);
    // An image replaced since the scan would show another picture than the one that ranked.
    const std::string want = scan.imageHash(image);
    if (!want.empty() && sha256Hex(bytes) != want)
      throw Error("'" + file.string() + "' changed since the scan (its SHA-256 differs)");
    const cv::Mat bgr = decodeImageBgr(bytes, file.string(), o.read);
    const cv::Mat crop = resizeAndCrop(bgr, int(def.input.shape[1]), int(def.input.shape[2]));
    const Tensor input = imageToTensor(crop, int(def.input.shape[0]), def.input.preprocess);
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
    reportProgress(progress, ++done, int64_t(byImage.size()));
  }
  return a;
}

}  // namespace zfvis
