// Export All (core/export/report.h): the folder is complete and self-consistent (manifest lists
// exactly the files on disk, index.html links only existing relative files and never the
// network, PNGs carry metadata), appears atomically, refuses or replaces an existing folder, and a
// cancelled export leaves nothing behind.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include <opencv2/imgcodecs.hpp>

#include "core/analysis/image_list.h"
#include "core/analysis/scan/atlas.h"
#include "core/analysis/scan/scan.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/npy.h"
#include "core/export/atlas_export.h"
#include "core/export/report.h"
#include "core/export/staging_dir.h"
#include "core/model/net_builder.h"
#include "core/render/atlas_sheet.h"
#include "core/render/png.h"
#include "tests/reference/cli_runner.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;

// A small AlexNet-shaped network (grouped conv, LRN, pooling, dense) on 3 x 67 x 67.
std::shared_ptr<const CompiledNet> smallNet(bool untrained = true) {
  NetBuilder b("small/alex", {3, 67, 67}, 3);  // '/' in the name: file names must be sanitised
  b.conv("conv1", 16, 11, 4).relu("relu1").lrn("norm1").maxPool("pool1", 3, 2);      // 16 x 7 x 7
  b.conv("conv:2", 32, 5, 1, {2, 2, 2, 2}, 2).relu("relu2").maxPool("pool2", 3, 2);  // 32 x 3 x 3
  b.flatten("flatten").dense("fc6", 64).relu("relu6").dropout("drop6").dense("fc7", 10);
  b.softmax("prob");
  NetworkDef def = b.build();
  def.untrained = untrained;
  def.source = "built-in";
  return CompiledNet::compile(std::make_shared<const NetworkDef>(std::move(def)));
}

Tensor pseudoInput() {
  Tensor t(Shape{1, 3, 67, 67});
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = 80.0f * std::sin(0.013f * float(i));
  return t;
}

// Every file below `dir`, relative, '/'-separated.
std::set<std::string> filesUnder(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), dir).generic_string());
  return out;
}

// Siblings of `target` left by a staging folder (target.tmp-*, target.old-*).
std::vector<std::string> leftovers(const fs::path& target) {
  std::vector<std::string> out;
  const std::string prefix = target.filename().string() + ".";
  for (const auto& e : fs::directory_iterator(target.parent_path()))
    if (e.path().filename().string().rfind(prefix, 0) == 0)
      out.push_back(e.path().filename().string());
  return out;
}

class Export : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() /
            ("zfvis-export-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  ExportOptions options(const std::string& name = "report") const {
    ExportOptions o;
    o.outDir = m_dir / name;
    o.imageName = "pseudo.npy";
    o.top = 4;
    return o;
  }
  fs::path m_dir;
};

TEST_F(Export, ManifestListsExactlyTheFilesWrittenWithWhatTheyShow) {
  auto net = smallNet();
  ExportResult r = exportReport(net, pseudoInput(), cv::Mat(), options());
  const fs::path dir = m_dir / "report";
  ASSERT_EQ(r.dir, dir);
  auto manifest = nlohmann::json::parse(readFile(dir / "manifest.json"));
  EXPECT_EQ(manifest["model"], "small/alex");
  EXPECT_EQ(manifest["untrained"], true);
  std::set<std::string> listed;
  std::set<std::string> kinds;
  for (const auto& f : manifest["files"]) {
    const std::string path = f["path"];
    listed.insert(path);
    kinds.insert(f["kind"].get<std::string>());
    ASSERT_TRUE(fs::exists(dir / path)) << path;
    EXPECT_FALSE(f["description"].get<std::string>().empty()) << path;
    if (path.ends_with(".npy")) {
      Tensor t = readNpy(dir / path);
      // Activations carry the batch dimension; the manifest gives the per-sample shape.
      Shape want(f["shape"].get<std::vector<int64_t>>());
      Shape got = f["kind"] == "activations-data" ? t.shape().dropFirst() : t.shape();
      EXPECT_EQ(got, want) << path;
    }
    if (path.ends_with(".png")) {
      EXPECT_FALSE(f["normalization"].is_null()) << path;
    }
    if (f["kind"] == "projections") {
      EXPECT_EQ(f["mode"], "deconvnet") << path;
    }
  }
  EXPECT_EQ(filesUnder(dir), listed);  // nothing unlisted, no temporary files
  for (const char* k :
       {"activations", "activations-data", "filters", "weights", "projections", "input",
        "input-data", "predictions", "predictions-text", "summary", "index", "manifest"})
    EXPECT_TRUE(kinds.count(k)) << k;
  // Every layer has its activations; every Conv its filters and weights; projections at each
  // convolution's ReLU (features, the default).
  const NetworkDef& def = net->def();
  for (size_t i = 0; i < def.layers.size(); ++i) {
    int acts = 0, filters = 0, projections = 0;
    for (const auto& f : manifest["files"]) {
      if (f["layer_index"] != int(i)) continue;
      EXPECT_EQ(f["layer"], def.layers[i].name);
      acts += f["kind"] == "activations";
      filters += f["kind"] == "filters";
      projections += f["kind"] == "projections";
    }
    EXPECT_EQ(acts, 1) << def.layers[i].name;
    EXPECT_EQ(filters, def.layers[i].type == LayerType::Conv ? 1 : 0) << def.layers[i].name;
    const bool convRelu = def.layers[i].name == "relu1" || def.layers[i].name == "relu2";
    EXPECT_EQ(projections, convRelu ? 1 : 0) << def.layers[i].name;
  }
  // The layer with '/' and ':' in its name lands in a sanitised file.
  EXPECT_TRUE(fs::exists(dir / "layers/004-conv_2.filters.png"));
  EXPECT_TRUE(leftovers(dir).empty());
}

TEST_F(Export, IndexLinksOnlyExistingRelativeFilesAndNeverTheNetwork) {
  ExportResult r = exportReport(smallNet(), pseudoInput(), cv::Mat(), options());
  const std::string html = readFile(r.dir / "index.html");
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  std::regex link("(src|href)=\"([^\"]*)\"");
  int images = 0, anchors = 0, files = 0;
  std::set<std::string> ids;
  std::regex id("id=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), id); it != std::sregex_iterator();
       ++it)
    ids.insert((*it)[1]);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), link); it != std::sregex_iterator();
       ++it) {
    const std::string target = (*it)[2];
    if (target.starts_with("#")) {
      EXPECT_TRUE(ids.count(target.substr(1))) << target;
      ++anchors;
      continue;
    }
    EXPECT_EQ(target.find(':'), std::string::npos) << target;  // no scheme
    EXPECT_NE(target.front(), '/') << target;                  // relative
    EXPECT_TRUE(fs::exists(r.dir / target)) << target;
    images += (*it)[1] == "src";
    ++files;
  }
  EXPECT_GT(images, 15);
  EXPECT_GT(anchors, 12);  // the table of contents: one per layer and more
  EXPECT_GT(files, 30);
  // Every layer has a section, and the untrained banner is shown.
  for (const char* name : {"conv1", "norm1", "conv:2", "fc6", "prob"})
    EXPECT_NE(html.find(std::string(" ") + name + " ("), std::string::npos) << name;
  EXPECT_NE(html.find("UNTRAINED"), std::string::npos);
}

TEST_F(Export, NoUntrainedBannerForTrainedWeights) {
  ExportResult r = exportReport(smallNet(false), pseudoInput(), cv::Mat(), options());
  EXPECT_EQ(readFile(r.dir / "index.html").find("UNTRAINED"), std::string::npos);
}

TEST_F(Export, EveryPngCarriesModelLayerViewAndNormalisation) {
  ExportResult r = exportReport(smallNet(), pseudoInput(), cv::Mat(), options());
  int checked = 0;
  for (const ExportedFile& f : r.files) {
    if (!f.path.ends_with(".png")) continue;
    PngText t = readPngText(r.dir / f.path);
    EXPECT_EQ(pngTextValue(t, "zfvis:model"), "small/alex") << f.path;
    EXPECT_EQ(pngTextValue(t, "zfvis:untrained"), "true") << f.path;
    EXPECT_EQ(pngTextValue(t, "zfvis:view"), f.kind) << f.path;
    EXPECT_EQ(pngTextValue(t, "zfvis:layer"), f.layer) << f.path;
    EXPECT_EQ(pngTextValue(t, "zfvis:normalization"), f.normalization) << f.path;
    EXPECT_EQ(pngTextValue(t, "zfvis:image"), "pseudo.npy") << f.path;
    if (f.kind == "projections") {
      EXPECT_EQ(pngTextValue(t, "zfvis:mode"), "deconvnet") << f.path;
    }
    ++checked;
  }
  EXPECT_GT(checked, 15);
}

TEST_F(Export, ProjectionsChoiceAndModeAreHonoured) {
  auto net = smallNet();
  ExportOptions o = options("all");
  o.projections = ExportProjections::All;
  o.mode = ProjectionMode::Guided;
  ExportResult all = exportReport(net, pseudoInput(), cv::Mat(), o);
  std::set<std::string> projected;
  for (const ExportedFile& f : all.files)
    if (f.kind == "projections") {
      projected.insert(f.layer);
      EXPECT_EQ(f.mode, "guided");
    }
  // Everything but the pass-throughs (flatten, drop6), dense layers and the output included.
  EXPECT_EQ(projected, (std::set<std::string>{"conv1", "relu1", "norm1", "pool1", "conv:2", "relu2",
                                              "pool2", "fc6", "relu6", "fc7", "prob"}));
  o = options("none");
  o.projections = ExportProjections::None;
  ExportResult none = exportReport(net, pseudoInput(), cv::Mat(), o);
  for (const ExportedFile& f : none.files) EXPECT_NE(f.kind, "projections") << f.path;
}

// The message exportReport throws, or "no error".
std::string exportError(std::shared_ptr<const CompiledNet> net, const ExportOptions& o) {
  try {
    exportReport(net, pseudoInput(), cv::Mat(), o);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(Export, AnExistingFolderIsRefusedWithoutForceAndReplacedWithIt) {
  auto net = smallNet();
  const fs::path dir = m_dir / "report";
  // An earlier report: refused without force, replaced with it.
  exportReport(net, pseudoInput(), cv::Mat(), options());
  EXPECT_NE(exportError(net, options()).find("'" + dir.string() + "' already exists"),
            std::string::npos);
  ExportOptions o = options();
  o.force = true;
  o.top = 2;
  exportReport(net, pseudoInput(), cv::Mat(), o);
  EXPECT_EQ(nlohmann::json::parse(readFile(dir / "manifest.json"))["top"], 2);
  EXPECT_TRUE(leftovers(dir).empty()) << leftovers(dir).front();
  // An empty folder holds nothing to lose: replaced too.
  fs::create_directories(m_dir / "empty");
  o.outDir = m_dir / "empty";
  exportReport(net, pseudoInput(), cv::Mat(), o);
  EXPECT_TRUE(fs::exists(m_dir / "empty" / "index.html"));

  // A file in the way is never replaced.
  writeFileAtomic(m_dir / "file", "x");
  o.outDir = m_dir / "file";
  EXPECT_THROW(exportReport(net, pseudoInput(), cv::Mat(), o), Error);
  EXPECT_EQ(readFile(m_dir / "file"), "x");
}

TEST_F(Export, ForceNeverDeletesAFolderThatIsNotAZfvisReport) {
  auto net = smallNet();
  ExportOptions o = options("user");
  o.force = true;
  const fs::path dir = m_dir / "user";
  // The user's own folder (it used to be deleted by --force).
  fs::create_directories(dir / "photos");
  writeFileAtomic(dir / "thesis.tex", "mine");
  writeFileAtomic(dir / "photos" / "cat.jpg", "meow");
  EXPECT_EQ(exportError(net, o), "'" + dir.string() +
                                     "' exists and is not a zfvis report (no manifest.json written "
                                     "by zfvis); not replacing it");
  // Someone else's manifest.json, and one that is not JSON.
  writeFileAtomic(dir / "manifest.json", R"({"generator": "other tool 1.0", "files": []})");
  EXPECT_NE(exportError(net, o).find("is not a zfvis report"), std::string::npos);
  writeFileAtomic(dir / "manifest.json", "{not json");
  EXPECT_NE(exportError(net, o).find("is not a zfvis report"), std::string::npos);
  EXPECT_EQ(readFile(dir / "thesis.tex"), "mine");
  EXPECT_EQ(readFile(dir / "photos" / "cat.jpg"), "meow");

  // A zfvis report with the user's notes added: the notes would be lost, so it is refused too.
  exportReport(net, pseudoInput(), cv::Mat(), options("report"));
  writeFileAtomic(m_dir / "report" / "layers" / "notes.txt", "keep");
  o.outDir = m_dir / "report";
  EXPECT_EQ(exportError(net, o), "'" + (m_dir / "report").string() +
                                     "' holds 'layers/notes.txt', which is not part of its zfvis "
                                     "report; not replacing it (move it away or choose another "
                                     "--out)");
  EXPECT_EQ(readFile(m_dir / "report" / "layers" / "notes.txt"), "keep");
  EXPECT_TRUE(leftovers(dir).empty());
  EXPECT_TRUE(leftovers(m_dir / "report").empty());
}

// Cancels once `after` layers are reported done.
class CancelAfter : public ProgressSink {
 public:
  explicit CancelAfter(int64_t after) : m_after(after) {}
  void report(int64_t done, int64_t) override { m_done = done; }
  bool cancelled() const override { return m_done >= m_after; }
  int64_t done() const { return m_done; }

 private:
  int64_t m_after, m_done = 0;
};

TEST_F(Export, ACancelledExportLeavesNoFolderAndNoTemporaryFolder) {
  auto net = smallNet();
  for (int64_t after : {int64_t(1), int64_t(5), int64_t(net->def().layers.size())}) {
    CancelAfter sink(after);
    EXPECT_THROW(exportReport(net, pseudoInput(), cv::Mat(), options(), &sink), Cancelled) << after;
    EXPECT_FALSE(fs::exists(m_dir / "report")) << after;
    EXPECT_TRUE(leftovers(m_dir / "report").empty()) << after;
  }
  // Replacing: the old report survives a cancelled replacement untouched.
  exportReport(net, pseudoInput(), cv::Mat(), options());
  const std::string manifest = readFile(m_dir / "report" / "manifest.json");
  ExportOptions o = options();
  o.force = true;
  o.top = 2;
  CancelAfter sink(3);
  EXPECT_THROW(exportReport(net, pseudoInput(), cv::Mat(), o, &sink), Cancelled);
  EXPECT_EQ(readFile(m_dir / "report" / "manifest.json"), manifest);
  EXPECT_TRUE(leftovers(m_dir / "report").empty());
}

// export --db: an atlas section with one picture per scanned layer, equal to the core atlas
// rendering; a scan of another model is refused before any folder is made.
TEST_F(Export, AScanDatabaseAddsTheAtlasOfEveryScannedLayer) {
  auto net = smallNet();
  const fs::path imgs = m_dir / "imgs";
  fs::create_directories(imgs);
  cv::RNG rng(7);
  for (int i = 0; i < 5; ++i) {
    cv::Mat m(67, 67, CV_8UC3);
    rng.fill(m, cv::RNG::UNIFORM, 0, 256);
    cv::imwrite((imgs / ("im" + std::to_string(i) + ".png")).string(), m);
  }
  ScanOptions so;
  so.model = "built-in:small/alex";
  so.layers = {"relu1", "relu2"};
  so.topK = 3;
  so.batch = 2;
  so.imageRoot = imgs;
  const fs::path db = m_dir / "scan.sqlite";
  runScan(net, listImages(imgs), db, so);

  ExportOptions o = options();
  o.projections = ExportProjections::None;
  AtlasExportOptions ao4;
  ao4.units = 4;
  o.sections = {atlasExportSection(net, db, so.model, ao4)};
  const ExportResult r = exportReport(net, pseudoInput(), cv::Mat(), o);
  const ScanReader scan(db);
  std::vector<std::string> atlasFiles;
  for (const ExportedFile& f : r.files)
    if (f.kind == "atlas") {
      atlasFiles.push_back(f.path);
      AtlasOptions ao;
      ao.lo = 0;
      ao.hi = 3;
      const cv::Mat want = renderAtlasSheet(computeAtlas(scan, net, so.model, f.layer, ao));
      const cv::Mat got = cv::imread((r.dir / f.path).string(), cv::IMREAD_UNCHANGED);
      ASSERT_EQ(got.size(), want.size()) << f.path;
      ASSERT_EQ(got.type(), want.type()) << f.path;
      EXPECT_EQ(cv::norm(got, want, cv::NORM_INF), 0.0) << f.path;
    }
  EXPECT_EQ(atlasFiles,
            (std::vector<std::string>{"atlas/001-relu1.atlas.png", "atlas/005-relu2.atlas.png"}));
  const std::string html = readFile(r.dir / "index.html");
  EXPECT_NE(html.find("id=\"atlas\""), std::string::npos);
  for (const std::string& f : atlasFiles) EXPECT_NE(html.find(f), std::string::npos) << f;
  const auto manifest = nlohmann::json::parse(readFile(r.dir / "manifest.json"));
  EXPECT_EQ(manifest.at("scan_db"), "scan.sqlite");
  EXPECT_EQ(filesUnder(r.dir).count("atlas/001-relu1.atlas.png"), 1u);

  // Another model's scan: refused, nothing written.
  o.outDir = m_dir / "other";
  o.sections = {atlasExportSection(net, db, "built-in:zf-small", ao4)};
  try {
    exportReport(net, pseudoInput(), cv::Mat(), o);
    ADD_FAILURE() << "another model's scan was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a scan of model built-in:small/alex"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(m_dir / "other"));
  EXPECT_TRUE(leftovers(m_dir / "other").empty());
  o.sections = {atlasExportSection(net, m_dir / "missing.sqlite", so.model, ao4)};
  EXPECT_THROW(exportReport(net, pseudoInput(), cv::Mat(), o), Error);
  EXPECT_FALSE(fs::exists(m_dir / "other"));
}

TEST_F(Export, ReportsProgressOncePerLayer) {
  auto net = smallNet();
  struct Sink : ProgressSink {
    std::vector<int64_t> done;
    void report(int64_t d, int64_t total) override {
      done.push_back(d);
      EXPECT_EQ(total, 13);
    }
  } sink;
  exportReport(net, pseudoInput(), cv::Mat(), options(), &sink);
  std::vector<int64_t> want(14);
  for (int64_t i = 0; i < 14; ++i) want[size_t(i)] = i;
  EXPECT_EQ(sink.done, want);
}

TEST(StagingDir, UncommittedStagingIsRemovedAndCommitMovesIt) {
  const fs::path base = fs::temp_directory_path() / ("zfvis-staging-" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base);
  {
    StagingDir s(base / "out");
    EXPECT_TRUE(fs::is_directory(s.path()));
    EXPECT_EQ(s.path().parent_path(), base);
    writeFileAtomic(s.path() / "a.txt", "a");
  }
  EXPECT_TRUE(fs::is_empty(base));
  {
    StagingDir s(base / "out/");  // a trailing slash names the same folder
    writeFileAtomic(s.path() / "a.txt", "a");
    s.commit();
    EXPECT_EQ(s.target(), base / "out");
  }
  EXPECT_EQ(readFile(base / "out" / "a.txt"), "a");
  EXPECT_THROW(StagingDir(base / "missing-parent" / "out"), Error);
  EXPECT_THROW(StagingDir(base / "out"), Error);
  fs::remove_all(base);
}

TEST(StagingDir, FoldersOfKilledExportsAreRemovedByTheNextOne) {
  const fs::path base = fs::temp_directory_path() / ("zfvis-stale-" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base / "victim");
  writeFileAtomic(base / "victim" / "keep.txt", "keep");
  const std::string dead = std::to_string(testing::deadProcessId()),
                    live = std::to_string(::getpid());
  const std::vector<std::string> stale = {"out.tmp-" + dead + "-aB3xYz",
                                          "out.old-" + dead + "-Q9w2E1"};
  const std::vector<std::string> kept = {
      "out.tmp-" + live + "-aB3xYz",    // a live process's staging folder
      "out.tmp-1-aB3xYz",               // pid 1 always runs
      "out.tmp-Xk2m9p",                 // no process id (an older zfvis): owner unknown
      "other.tmp-" + dead + "-aB3xYz",  // another target's
      "out.tmp-" + dead + "-aB3xYz.bak"};
  for (const std::string& d : stale) {
    fs::create_directories(base / d / "layers");
    writeFileAtomic(base / d / "layers" / "x.png", "x");
  }
  for (const std::string& d : kept) fs::create_directories(base / d);
  // A link with a stale name is removed as a link; what it points to is untouched.
  fs::create_directory_symlink(base / "victim", base / ("out.tmp-" + dead + "-LINKed"));
  {
    StagingDir s(base / "out");
    for (const std::string& d : stale) EXPECT_FALSE(fs::exists(base / d)) << d;
    for (const std::string& d : kept) EXPECT_TRUE(fs::is_directory(base / d)) << d;
    EXPECT_EQ(readFile(base / "victim" / "keep.txt"), "keep");
    // This process's own staging folder carries its id.
    EXPECT_EQ(s.path().filename().string().rfind("out.tmp-" + live + "-", 0), 0u) << s.path();
  }
  fs::remove_all(base);
}

}  // namespace
}  // namespace zfvis
