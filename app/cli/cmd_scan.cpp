// zfvis-cli scan, scan-show, scan-merge: every unit's top-K images over a dataset, in SQLite
// (core/analysis/scan; Zeiler & Fergus fig. 2).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/scan/scan.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/position_text.h"

namespace zfvis::cli {

namespace fs = std::filesystem;

namespace {

// Progress on stderr at most every two seconds: images done/total, images/s, time left.
class ScanProgress : public ProgressSink {
 public:
  void report(int64_t done, int64_t total) override {
    const auto now = std::chrono::steady_clock::now();
    if (m_first < 0) {
      m_first = done;
      m_start = now;
      return;
    }
    if (done < total && now - m_last < std::chrono::seconds(2)) return;
    m_last = now;
    const double seconds = std::chrono::duration<double>(now - m_start).count();
    const double rate = seconds > 0 ? double(done - m_first) / seconds : 0;
    std::string left = "?";
    if (rate > 0) {
      const long s = std::lround(double(total - done) / rate);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
      left = buf;
    }
    std::fprintf(stderr, "scan: %lld/%lld images, %.1f images/s, %s left\n",
                 static_cast<long long>(done), static_cast<long long>(total), rate, left.c_str());
  }

 private:
  int64_t m_first = -1;
  std::chrono::steady_clock::time_point m_start, m_last;
};

// "--shard I/N".
std::pair<int, int> parseShard(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos)
    throw UsageError("--shard expects I/N (e.g. 0/4), got '" + text + "'");
  const int n = int(parseInteger(text.substr(slash + 1), "shard", 1, 1 << 20));
  const int i = int(parseInteger(text.substr(0, slash), "shard", 0, 1 << 20));
  if (i >= n)
    throw UsageError("--shard " + text + ": I must be below N (0.." + std::to_string(n - 1) + ")");
  return {i, n};
}

// "--units A-B" or "--units A": an inclusive range.
std::pair<int, int> parseUnitRange(const std::string& text) {
  const size_t dash = text.find('-', 1);
  const int lo = int(parseInteger(text.substr(0, dash), "units", 0, 1 << 20));
  const int hi = dash == std::string::npos
                     ? lo
                     : int(parseInteger(text.substr(dash + 1), "units", 0, 1 << 20));
  if (hi < lo) throw UsageError("--units expects A-B with A <= B, got '" + text + "'");
  return {lo, hi};
}

// Where the relative paths listImages gives start.
fs::path imageRoot(const fs::path& source) {
  std::error_code ec;
  return fs::is_directory(source, ec) ? source : source.parent_path();
}

}  // namespace

int runScan(const ArgList& argv) {
  Args args(argv,
            withOptions(modelOptions(), {{"images"},
                                         {"layers"},
                                         {"top"},
                                         {"batch"},
                                         {"preprocess"},
                                         {"max-pixels"},
                                         {"db"},
                                         {"shard"}}),
            "scan");
  const std::string imagesArg = args.required("images");
  const std::string dbArg = args.required("db");
  ScanOptions o;
  o.topK = args.intValue("top", 9, 1, 1000);
  o.batch = args.intValue("batch", 32, 1, 4096);
  o.read.maxPixels = args.int64Value("max-pixels", kDefaultMaxImagePixels, 1, int64_t(1) << 40);
  o.read.captureCodecOutput = true;  // one warning line per bad image, not libpng's chatter too
  if (auto s = args.value("shard")) std::tie(o.shard, o.shards) = parseShard(*s);
  if (auto l = args.value("layers"); l && *l != "convs") {
    size_t start = 0;
    while (start <= l->size()) {
      size_t comma = l->find(',', start);
      if (comma == std::string::npos) comma = l->size();
      if (comma == start) throw UsageError("--layers expects L,L,... or convs, got '" + *l + "'");
      o.layers.push_back(l->substr(start, comma - start));
      start = comma + 1;
    }
  }
  std::optional<Preprocess> preprocess;
  if (auto p = args.value("preprocess")) preprocess = parsePreprocess(*p);
  {
    std::error_code ec;
    if (fs::is_directory(dbArg, ec)) throw Error("--db '" + dbArg + "' is a folder");
    checkWritable(dbArg);
  }

  NetworkDef def = *openModel(args);
  o.model = modelIdentity(def, args.required("model"), args.value("weights").value_or(""));
  if (preprocess) def.input.preprocess = *preprocess;
  auto net = compileModel(args, std::make_shared<const NetworkDef>(std::move(def)));
  const std::vector<ImageEntry> images = listImages(imagesArg);
  o.imageRoot = imageRoot(imagesArg);
  o.warn = [](const std::string& line) {
    std::fprintf(stderr, "scan: warning: %s\n", line.c_str());
  };

  ScanProgress progress;
  const ScanSummary s = zfvis::runScan(net, images, dbArg, o, &progress);
  std::printf("%s: %lld images of %zu", dbArg.c_str(), static_cast<long long>(s.images),
              images.size());
  if (o.shards > 1) std::printf(" (shard %d/%d)", o.shard, o.shards);
  std::printf(
      ", %lld scanned now, %lld done before, %lld skipped; top %d of %lld units in %zu layers:",
      static_cast<long long>(s.scanned), static_cast<long long>(s.resumed),
      static_cast<long long>(s.skipped), o.topK, static_cast<long long>(s.units), s.layers.size());
  for (const std::string& l : s.layers) std::printf(" %s", l.c_str());
  std::printf("\n");
  if (const int g = std::gcd(o.shards, o.batch); g > 1) {
    int fill = o.batch + 1;
    while (std::gcd(fill, o.shards) > 1) ++fill;
    std::printf(
        "note: --batch %d and %d shards share the factor %d, so a batch holds at "
        "most %d images (image i always runs in batch slot i %% batch); a batch size "
        "with no factor in common with N, e.g. %d, fills every slot\n",
        o.batch, o.shards, g, o.batch / g, fill);
  }
  return 0;
}

int runScanShow(const ArgList& argv) {
  Args args(argv, {{"db"}, {"layer"}, {"units"}, {"json", false}}, "scan-show");
  const std::string dbArg = args.required("db");
  const std::string layerArg = args.required("layer");
  std::optional<std::pair<int, int>> units;
  if (auto u = args.value("units")) units = parseUnitRange(*u);
  const ScanReader scan(dbArg);
  const ScanLayer& layer = scan.layer(layerArg);
  int lo = 0, hi = layer.channels - 1;
  if (units) {
    requireIndex("units", units->second, layer.channels, "layer '" + layer.name + "'", "units");
    std::tie(lo, hi) = *units;
  }
  const std::vector<ScanEntry> entries = scan.topK(layer.name, lo, hi);
  if (args.has("json")) {
    nlohmann::json j;
    j["layer"] = layer.name;
    j["complete"] = scan.complete();
    j["model"] = scan.meta().at("model");
    j["top_k"] = std::stoi(scan.meta().at("top_k"));
    nlohmann::json list = nlohmann::json::array();
    for (int u = lo; u <= hi; ++u) list.push_back({{"unit", u}, {"top", nlohmann::json::array()}});
    for (const ScanEntry& e : entries)
      list[size_t(e.unit - lo)]["top"].push_back(
          {{"rank", e.rank}, {"image", e.path}, {"y", e.y}, {"x", e.x}, {"value", e.value}});
    j["units"] = list;
    std::printf("%s\n", j.dump(1).c_str());
    return 0;
  }
  std::printf("%s: top %s per unit (%s%s)\n", layer.name.c_str(), scan.meta().at("top_k").c_str(),
              scan.meta().at("model").c_str(), scan.complete() ? "" : ", scan unfinished");
  int current = -1;
  for (const ScanEntry& e : entries) {
    if (e.unit != current) {
      current = e.unit;
      std::printf("unit %d\n", e.unit);
    }
    std::printf("  %d  %s  %s  %.9g\n", e.rank, e.path.c_str(), positionText(e.y, e.x).c_str(),
                e.value);
  }
  return 0;
}

int runScanMerge(const ArgList& argv) {
  Args args(argv, {{"out"}, {"db", true, true}}, "scan-merge");
  const std::string out = args.required("out");
  const std::vector<std::string> dbs = args.values("db");
  if (dbs.empty()) throw UsageError("option --db is required (one per shard)");
  checkOutputs(args, {"out"});
  std::vector<fs::path> paths(dbs.begin(), dbs.end());
  mergeScans(paths, out);
  const ScanReader merged(out);
  std::printf("%s: %zu shards merged, %lld images (%lld skipped)\n", out.c_str(), dbs.size(),
              static_cast<long long>(merged.imageCount()),
              static_cast<long long>(merged.skippedCount()));
  return 0;
}

}  // namespace zfvis::cli
