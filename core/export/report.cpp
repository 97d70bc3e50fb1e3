#include "core/export/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "core/analysis/compare/filter_bank.h"
#include "core/analysis/predictions.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/labels.h"
#include "core/base/npy.h"
#include "core/export/report_html.h"
#include "core/export/staging_dir.h"
#include "core/model/image_input.h"
#include "core/model/op_traits.h"
#include "core/model/summary.h"
#include "core/render/activation_grid.h"
#include "core/render/filter_grid.h"
#include "core/render/png.h"
#include "core/render/projection_picture.h"

namespace zfvis {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// Deeper filter banks than this many (filter, input channel) tiles are shown as channel means.
constexpr int64_t kMaxFilterTiles = 4096;

// A file-name-safe version of a layer name (ONNX names may hold '/', ':' ...).
std::string safeName(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    out += ok ? c : '_';
    if (out.size() >= 60) break;
  }
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  return out.empty() ? "layer" : out;
}

// "layers/007-conv3": the index keeps names unique and in network order.
std::string layerStem(size_t index, size_t count, const std::string& name) {
  const int width = std::max(3, int(std::to_string(count ? count - 1 : 0).size()));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*zu", width, index);
  return "layers/" + std::string(buf) + "-" + safeName(name);
}

// --force replaces only an earlier zfvis report, never a folder holding anything else: `dir` must
// be empty, or hold a manifest.json written by zfvis and nothing that manifest does not list.
void requireReplaceableReport(const fs::path& dir) {
  const std::string quoted = "'" + dir.string() + "'";
  std::error_code ec;
  if (fs::is_empty(dir, ec) && !ec) return;
  const fs::path manifest = dir / "manifest.json";
  std::set<std::string> listed;
  try {
    if (!fs::is_regular_file(fs::symlink_status(manifest, ec))) throw Error("no manifest.json");
    const Json m = Json::parse(readFile(manifest, size_t(64) << 20));
    const std::string generator = m.value("generator", "");
    if (generator.rfind("zfvis ", 0) != 0 || !m.at("files").is_array())
      throw Error("not written by zfvis");
    for (const Json& f : m.at("files")) listed.insert(f.at("path").get<std::string>());
  } catch (const std::exception&) {
    throw Error(quoted + " exists and is not a zfvis report (no manifest.json written by zfvis); " +
                "not replacing it");
  }
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string rel = it->path().lexically_relative(dir).generic_string();
    std::error_code typeError;
    const bool ours =
        it->is_symlink(typeError) ? false
        : it->is_directory(typeError)
            ? std::any_of(listed.begin(), listed.end(),
                          [&](const std::string& p) { return p.rfind(rel + "/", 0) == 0; })
            : listed.count(rel) > 0;
    if (!ours)
      throw Error(quoted + " holds '" + rel +
                  "', which is not part of its zfvis report; not replacing it (move it away or "
                  "choose another --out)");
  }
  if (ec) throw Error("cannot read " + quoted + ": " + ec.message() + "; not replacing it");
}

// Which layers get projections.
std::vector<bool> projectedLayers(const NetworkDef& def, ExportProjections which) {
  std::vector<bool> out(def.layers.size(), false);
  if (which == ExportProjections::None) return out;
  for (size_t i = 0; i < def.layers.size(); ++i) {
    const LayerSpec& l = def.layers[i];
    if (which == ExportProjections::All) {
      out[i] = !opTraits(l.type).passThrough;
      continue;
    }
    if (l.type == LayerType::Relu && l.inputs.size() == 1) {
      const int producer = def.indexOf(l.inputs[0]);
      out[i] = producer >= 0 && def.layers[size_t(producer)].type == LayerType::Conv;
    } else if (l.type == LayerType::Conv) {
      bool relu = false;
      for (size_t c : def.consumers(i)) relu |= def.layers[c].type == LayerType::Relu;
      out[i] = !relu;
    }
  }
  return out;
}

// "2", or "top,left,bottom,right" when the sides differ.
std::string padText(const WindowGeometry& w) {
  const int t = w.y.padBefore, l = w.x.padBefore, b = w.y.padAfter, r = w.x.padAfter;
  if (t == b && l == r && t == l) return std::to_string(t);
  return std::to_string(t) + "," + std::to_string(l) + "," + std::to_string(b) + "," +
         std::to_string(r);
}

// The report's one-line parameter summary of a layer: its window (op_traits) and what else
// defines it.
std::string layerDetails(const LayerSpec& l) {
  if (const auto w = windowGeometry(l)) {
    const std::string window = std::to_string(w->y.kernel) + " x " + std::to_string(w->x.kernel);
    const std::string slide = ", stride " + std::to_string(w->y.stride) + ", pad " + padText(*w);
    if (l.type != LayerType::Conv)
      return window + " window" + slide + (w->ceilMode ? ", ceil mode" : "");
    std::string s = std::to_string(l.conv.outChannels) + " filters " + window + slide;
    if (l.conv.groups > 1) s += ", " + std::to_string(l.conv.groups) + " groups";
    if (w->y.dilation > 1 || w->x.dilation > 1) s += ", dilation " + std::to_string(w->y.dilation);
    return s;
  }
  if (l.type == LayerType::LRN) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "size %d, alpha %g, beta %g, k %g", l.lrn.size,
                  double(l.lrn.alpha), double(l.lrn.beta), double(l.lrn.bias));
    return buf;
  }
  if (l.type == LayerType::Dense) return std::to_string(l.dense.units) + " units";
  return "";
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

Json shapeJson(const Shape& s) {
  return Json(s.dims());
}

}  // namespace

const char* exportProjectionsName(ExportProjections p) {
  switch (p) {
    case ExportProjections::None:
      return "none";
    case ExportProjections::All:
      return "all";
    default:
      return "features";
  }
}

ExportProjections parseExportProjections(const std::string& name) {
  if (name == "none") return ExportProjections::None;
  if (name == "features" || name == "conv") return ExportProjections::Features;
  if (name == "all") return ExportProjections::All;
  throw UsageError("projections must be none, features or all, got '" + name + "'");
}

ExportResult exportReport(std::shared_ptr<const CompiledNet> net, const Tensor& input,
                          const cv::Mat& inputView, const ExportOptions& o,
                          ProgressSink* progress) {
  if (!net) throw Error("export: no network");
  if (o.top < 1) throw Error("export: top must be at least 1, got " + std::to_string(o.top));
  const NetworkDef& def = net->def();
  const std::vector<Shape>& shapes = net->outputShapes();
  const int64_t layerCount = int64_t(def.layers.size());
  Tensor x = input;
  if (x.shape() == def.input.shape) x.reshape(def.input.shape.withBatch(1));
  if (x.shape() != def.input.shape.withBatch(1))
    throw Error("export of model '" + def.name + "': input has shape " + input.shape().str() +
                ", expected 1 x " + def.input.shape.str());

  for (const ExportSection& sec : o.sections)
    if (sec.check) sec.check();

  // Refuses an existing folder before any work, unless --force and it is an earlier report.
  StagingDir stage(o.outDir, o.force ? ReplaceCheck(requireReplaceableReport) : ReplaceCheck());
  reportProgress(progress, 0, layerCount);
  const fs::path root = stage.path();
  fs::create_directory(root / "layers");
  CancellationOnly cancel(progress);

  Session session(net);
  RunOptions ro;
  ro.progress = &cancel;
  auto acts = session.run(x, ro);

  const int64_t channels = def.input.shape[0];
  cv::Mat view = inputView;
  if (view.empty() && def.input.shape.rank() == 3 && (channels == 1 || channels == 3))
    view = tensorToImage(x, o.preprocess);

  ReportPage page;
  ExportResult result;
  std::vector<std::string> layerNames;
  for (const LayerSpec& l : def.layers) layerNames.push_back(l.name);
  auto add = [&](ExportedFile f) {
    page.files.push_back(f);
    return page.files.size() - 1;
  };
  auto addPng = [&](ExportedFile f, const cv::Mat& img, const PngText& extra) {
    PngText t = pictureText(f.kind, def.name, def.untrained, o.imageName, f.layer);
    t.push_back({"zfvis:source", def.source});
    if (!f.mode.empty()) t.push_back({"zfvis:mode", f.mode});
    if (!f.normalization.empty()) t.push_back({"zfvis:normalization", f.normalization});
    t.insert(t.end(), extra.begin(), extra.end());
    writePng(root / f.path, img, t);
    return add(std::move(f));
  };
  auto addNpy = [&](ExportedFile f, const Tensor& t) {
    writeNpy(root / f.path, t);
    return add(std::move(f));
  };
  auto addText = [&](ExportedFile f, const std::string& text) {
    writeFileAtomic(root / f.path, text);
    return add(std::move(f));
  };

  // The input.
  if (!view.empty())
    addPng({"input.png", "input", "", -1, def.input.shape, "", "8-bit image (preprocessing undone)",
            "The input (" + o.imageName + "), " + std::to_string(view.cols) + " x " +
                std::to_string(view.rows) + " as the network sees it."},
           view, {{"zfvis:preprocess", std::string(preprocessName(o.preprocess))}});
  addNpy({"input.npy", "input-data", "", -1, x.shape(), "", "",
          "The network input tensor (" + std::string(preprocessName(o.preprocess)) +
              " preprocessing)."},
         x);

  // Predictions.
  {
    const std::vector<float> p = classProbabilities(def, acts->finalOutput());
    const int classes = int(p.size());
    const std::vector<std::string> names = resolveClassNames(classes, o.classNames, def.classNames);
    const std::vector<RankedClass> ranked = rankedClasses(p, std::max(1, o.predictions), names);
    const int k = int(ranked.size());
    page.predictions = ranked;
    const std::string text = modelDescription(def) + " on " + o.imageName + "\n" +
                             predictionLines(ranked, def.untrained);
    addText({"predictions.json", "predictions", "", -1, Shape{classes}, "", "",
             "The " + std::to_string(k) + " most probable classes (JSON)."},
            predictionsJson(def, o.imageName, classes, ranked) + "\n");
    addText({"predictions.txt", "predictions-text", "", -1, Shape{classes}, "", "",
             "The " + std::to_string(k) + " most probable classes (text)."},
            text);
  }
  page.summary = modelSummaryText(def);
  addText({"summary.txt", "summary", "", -1, Shape{}, "", "", "The model summary."}, page.summary);

  // Every layer.
  const std::vector<bool> project = projectedLayers(def, o.projections);
  std::unique_ptr<Projector> projector;
  for (size_t i = 0; i < def.layers.size(); ++i) {
    const LayerSpec& l = def.layers[i];
    ReportLayer rl;
    rl.index = int(i);
    rl.name = l.name;
    rl.type = std::string(onnxOpName(l.type));
    rl.inputs = joined(l.inputs);
    rl.details = layerDetails(l);
    rl.shape = shapes[i];
    rl.params = l.paramCount();
    const std::string stem = layerStem(i, def.layers.size(), l.name);
    const Tensor& t = acts->output(i);
    const size_t rank = t.shape().rank();
    const bool drawable = rank == 4 || rank == 2;

    rl.files.push_back(addNpy({stem + ".activations.npy", "activations-data", l.name, int(i),
                               shapes[i], "", "", "The layer's output (float32)."},
                              t));
    if (drawable) {
      ActivationGridOptions go;
      go.colormap = o.colormap;
      go.normalization = o.mapNormalization;
      const bool vector = rank == 2;
      const std::string cmap(colormapName(o.colormap));
      const std::string norm = vector ? "one min..max for the layer (heat strip), " + cmap
                               : o.mapNormalization == MapNormalization::PerLayer
                                   ? "one min..max for the whole layer, " + cmap
                                   : "each map stretched to its own min..max, " + cmap;
      rl.files.push_back(addPng(
          {stem + ".activations.png", "activations", l.name, int(i), shapes[i], "", norm,
           vector ? "The " + std::to_string(shapes[i][0]) + " outputs as a heat strip."
                  : "The " + std::to_string(shapes[i][0]) + " feature maps (" +
                        std::to_string(shapes[i][1]) + " x " + std::to_string(shapes[i][2]) + ")."},
          renderActivationGrid(t, go), {{"zfvis:colormap", cmap}}));
    } else {
      rl.notes.push_back("No activation picture: the output " + shapes[i].str() +
                         " is neither maps nor a vector.");
    }

    if (l.type == LayerType::Conv) {
      FilterBank bank = convFilterBank(def, i);
      FilterGridOptions fo;
      fo.normalization = o.filterNormalization;
      fo.channelOrder = bank.channelOrder;
      fo.colourInput = bank.colourInput;
      const Shape& ws = bank.weights.shape();
      FilterChannels shown = resolveFilterChannels(ws, fo);
      if (shown == FilterChannels::PerInput && ws[0] * ws[1] > kMaxFilterTiles)
        shown = fo.channels = FilterChannels::Mean;
      const char* what = shown == FilterChannels::Rgb        ? "in colour ("
                         : shown == FilterChannels::PerInput ? "one tile per input channel ("
                         : shown == FilterChannels::Mean     ? "as the mean over input channels ("
                                                             : "(";
      const std::string order =
          shown == FilterChannels::Rgb
              ? "colour order " + std::string(channelOrderName(bank.channelOrder)) + ", "
              : std::string();
      rl.files.push_back(
          addPng({stem + ".filters.png", "filters", l.name, int(i), ws, "",
                  o.filterNormalization == FilterNormalization::PerFilter
                      ? std::string("per-filter (each filter's min..max)")
                      : std::string(filterNormalizationName(o.filterNormalization)),
                  "The " + std::to_string(ws[0]) + " filters " + what + order +
                      std::to_string(ws[2]) + " x " + std::to_string(ws[3]) + " kernels)."},
                 renderFilterGrid(bank.weights, fo),
                 {{"zfvis:channels", shown == FilterChannels::Rgb        ? "rgb"
                                     : shown == FilterChannels::PerInput ? "per-input"
                                     : shown == FilterChannels::Mean     ? "mean"
                                                                         : "single"},
                  {"zfvis:channel-order", std::string(channelOrderName(bank.channelOrder))}}));
      rl.files.push_back(addNpy({stem + ".weights.npy", "weights", l.name, int(i), ws, "", "",
                                 "The filters (O x I x kH x kW, float32)."},
                                bank.weights));
    }

    if (project[i] && drawable) {
      try {
        if (!projector) projector = std::make_unique<Projector>(acts);
        const int channelsOut = int(shapes[i][0]);
        const std::vector<int> top = projector->topChannels(i, std::min(o.top, channelsOut));
        std::vector<Projection> ps =
            projector->projectChannels(i, top, o.mode, LrnBackward::Gradient, &cancel);
        ProjectionViewOptions po;
        po.withPatch = !view.empty();
        const std::string mode = projectionModeName(o.mode);
        rl.files.push_back(
            addPng({stem + ".projections.png", "projections", l.name, int(i), def.input.shape, mode,
                    "symmetric per projection, zero = mid-grey",
                    "The " + std::to_string(ps.size()) +
                        " channels with the strongest maxima, each "
                        "projected from its maximum to pixel space (" +
                        mode + "), cropped to the receptive field, next to the image patch."},
                   renderProjectionGrid(ps, view, o.preprocess, layerNames, po),
                   {{"zfvis:crop", "receptive field"}, {"zfvis:top", std::to_string(ps.size())}}));
      } catch (const Error& e) {
        rl.notes.push_back(std::string("No projections: ") + e.what());
      }
    }
    page.layers.push_back(std::move(rl));
    reportProgress(progress, int64_t(i) + 1, layerCount);
  }

  // Extra sections.
  for (const ExportSection& sec : o.sections) {
    ReportSection rs{sec.id, sec.title, sec.text, {}};
    if (sec.make)
      for (ExportPicture& p : sec.make(&cancel)) {
        fs::create_directories((root / p.file.path).parent_path());
        rs.files.push_back(addPng(std::move(p.file), p.image, p.text));
      }
    page.sections.push_back(std::move(rs));
    if (progress && progress->cancelled()) throw Cancelled();
  }

  // The page and the manifest.
  page.model = def.name;
  page.description = modelDescription(def);
  page.untrained = def.untrained;
  page.imageName = o.imageName;
  page.preprocess = std::string(preprocessName(o.preprocess));
  page.inputShape = def.input.shape;
  page.params = def.paramCount();
  page.mode = projectionModeName(o.mode);
  const std::string where = o.projections == ExportProjections::Features
                                ? "every convolution's rectified output"
                                : "every layer except pass-throughs";
  page.projections = o.projections == ExportProjections::None
                         ? std::string("none")
                         : page.mode + ", top " + std::to_string(o.top) + " channels at " + where;
  page.notes = def.notes;
  for (const ReportLayer& l : page.layers)
    for (const std::string& n : l.notes) result.notes.push_back(l.name + ": " + n);
  add({"index.html", "index", "", -1, Shape{}, "", "", "This report (open in a browser)."});
  add({"manifest.json", "manifest", "", -1, Shape{}, "", "", "Every file of the report."});
  Json m;
  m["generator"] = "zfvis " ZFVIS_VERSION;
  m["model"] = def.name;
  m["source"] = def.source;
  m["untrained"] = def.untrained;
  m["image"] = o.imageName;
  m["input_shape"] = shapeJson(def.input.shape);
  m["preprocess"] = preprocessName(o.preprocess);
  m["projection_mode"] = projectionModeName(o.mode);
  m["projection_layers"] = exportProjectionsName(o.projections);
  m["top"] = o.top;
  for (const ExportSection& sec : o.sections)
    if (!sec.key.empty()) m[sec.key] = sec.value;
  Json files = Json::array();
  for (const ExportedFile& f : page.files) {
    Json e;
    e["path"] = f.path;
    e["kind"] = f.kind;
    e["layer"] = f.layer.empty() ? Json() : Json(f.layer);
    e["layer_index"] = f.layerIndex < 0 ? Json() : Json(f.layerIndex);
    e["shape"] = shapeJson(f.shape);
    e["mode"] = f.mode.empty() ? Json() : Json(f.mode);
    e["normalization"] = f.normalization.empty() ? Json() : Json(f.normalization);
    e["description"] = f.description;
    files.push_back(e);
  }
  m["files"] = files;
  m["notes"] = result.notes;
  writeFileAtomic(root / "index.html", reportHtml(page));
  writeFileAtomic(root / "manifest.json", m.dump(1) + "\n");

  if (progress && progress->cancelled()) throw Cancelled();
  stage.commit();
  result.dir = stage.target();
  result.files = page.files;
  return result;
}

}  // namespace zfvis
