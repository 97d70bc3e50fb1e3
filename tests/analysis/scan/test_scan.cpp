// Dataset scans (core/analysis/scan) and the unit atlas: exact top-K on a generated dataset with
// a hand-built detector network (known answers, ties included), top-K against plain sorting over
// the naive forward pass (tests/reference/naive_ops.h), shards + merge == one scan row by row,
// resume after cancellation (core API) and after SIGKILL (CLI) == an uninterrupted scan, bad
// files skipped and counted, mismatched parameters refused, and the atlas's cells against single
// projections.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

#include <sqlite3.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/analysis/image_list.h"
#include "core/analysis/scan/atlas.h"
#include "core/analysis/scan/scan.h"
#include "core/analysis/training/dataset.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/export/atlas_html.h"
#include "core/import/model_loader.h"
#include "core/model/net_builder.h"
#include "core/render/atlas_sheet.h"
#include "tests/reference/cli_runner.h"
#include "tests/reference/naive_ops.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
using testing::runCli;

fs::path freshDir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("zfvis-scan-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A 16 x 16 grey detector: "bright" = relu(pixel) and "dark" = relu(0.5 - pixel) (1 x 1
// convolutions), then a 2 x 2 max-pool. Raw preprocessing: pixel = grey / 255.
NetworkDef detectorNet() {
  NetworkDef def = NetBuilder("detector", Shape{1, 16, 16})
                       .conv("conv", 2, 1, 1)
                       .relu("relu")
                       .maxPool("pool", 2, 2)
                       .build();
  def.input.preprocess = Preprocess::Raw;
  LayerSpec& conv = def.layers[def.resolveLayer("conv")];
  conv.weights[0] = 1.0f;
  conv.weights[1] = -1.0f;
  conv.bias[0] = 0.0f;
  conv.bias[1] = 0.5f;
  return def;
}

std::shared_ptr<const CompiledNet> compileDef(const NetworkDef& def) {
  return CompiledNet::compile(std::make_shared<const NetworkDef>(def));
}

// A blob image: black with grey level `v` at (y, x) and, when v2 > 0, level v2 at (y2, x2).
struct Blob {
  int v, y, x, v2 = 0, y2 = 0, x2 = 0;
};

void writeBlob(const fs::path& file, const Blob& b) {
  cv::Mat m(16, 16, CV_8UC1, cv::Scalar(0));
  m.at<uint8_t>(b.y, b.x) = uint8_t(b.v);
  if (b.v2 > 0) m.at<uint8_t>(b.y2, b.x2) = uint8_t(b.v2);
  fs::create_directories(file.parent_path());
  cv::imwrite(file.string(), m);
}

// The generated dataset: 12 images in two folders (scan order: a/..., then b/...).
const std::vector<Blob> kBlobs = {
    {200, 3, 4},             // a/00
    {250, 10, 12},           // a/01
    {200, 7, 7},             // a/02  ties a/00 at 200: a/00 ranks first
    {90, 0, 0},              // a/03
    {250, 5, 2, 250, 1, 9},  // a/04: two maxima, (1, 9) first in row-major order; ties a/01
    {30, 15, 15},            // a/05
    {255, 8, 3},             // b/06
    {120, 2, 14},            // b/07
    {250, 14, 0},            // b/08 ties a/01 and a/04
    {60, 6, 6},              // b/09
    {10, 9, 9},              // b/10
    {254, 4, 11},            // b/11
};

fs::path blobDataset(const std::string& name) {
  const fs::path d = freshDir(name);
  for (size_t i = 0; i < kBlobs.size(); ++i) {
    char file[32];
    std::snprintf(file, sizeof file, "%s/%02zu.png", i < 6 ? "a" : "b", i);
    writeBlob(d / file, kBlobs[i]);
  }
  return d;
}

ScanOptions optionsFor(const NetworkDef& def, int k, int batch) {
  ScanOptions o;
  o.model = "built-in:" + def.name;
  o.topK = k;
  o.batch = batch;
  o.layers = {"relu", "pool"};
  return o;
}

struct Row {
  int unit, rank;
  std::string path;
  int y, x;
  double value;
};

TEST(Scan, GeneratedBlobsGiveTheKnownTopKPositionsAndTieOrder) {
  const fs::path d = blobDataset("blobs");
  const NetworkDef def = detectorNet();
  const std::vector<ImageEntry> images = listImages(d);
  ASSERT_EQ(images.size(), kBlobs.size());
  ScanOptions o = optionsFor(def, 5, 4);
  o.imageRoot = d;
  const ScanSummary s = runScan(compileDef(def), images, d / "scan.sqlite", o);
  EXPECT_EQ(s.images, 12);
  EXPECT_EQ(s.scanned, 12);
  EXPECT_EQ(s.skipped, 0);
  EXPECT_EQ(s.units, 4);

  const ScanReader r(d / "scan.sqlite");
  EXPECT_TRUE(r.complete());
  // Unit 0 of relu ("bright"): 255 b/06, 254 b/11, then the three 250s in scan order (a/01,
  // a/04, b/08); a/04's first maximum in row-major order is (1, 9).
  const std::vector<ScanEntry> bright = r.topK("relu", 0, 0);
  ASSERT_EQ(bright.size(), 5u);
  const std::vector<std::tuple<std::string, int, int, int>> want = {{"b/06.png", 8, 3, 255},
                                                                    {"b/11.png", 4, 11, 254},
                                                                    {"a/01.png", 10, 12, 250},
                                                                    {"a/04.png", 1, 9, 250},
                                                                    {"b/08.png", 14, 0, 250}};
  for (size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(bright[k].rank, int(k + 1));
    EXPECT_EQ(bright[k].path, std::get<0>(want[k])) << "rank " << k + 1;
    EXPECT_EQ(bright[k].y, std::get<1>(want[k])) << "rank " << k + 1;
    EXPECT_EQ(bright[k].x, std::get<2>(want[k])) << "rank " << k + 1;
    EXPECT_NEAR(bright[k].value, std::get<3>(want[k]) / 255.0, 1e-6) << "rank " << k + 1;
  }
  // Unit 1 ("dark", 0.5 - pixel): 0.5 in every image, a tie of twelve, so the first five in scan
  // order, each at its first dark pixel: (0, 0), or (0, 1) for a/03 whose (0, 0) is lit.
  const std::vector<ScanEntry> dark = r.topK("relu", 1, 1);
  ASSERT_EQ(dark.size(), 5u);
  const std::vector<std::string> darkWant = {"a/00.png", "a/01.png", "a/02.png", "a/03.png",
                                             "a/04.png"};
  for (size_t k = 0; k < dark.size(); ++k) {
    EXPECT_EQ(dark[k].path, darkWant[k]);
    EXPECT_EQ(dark[k].y, 0);
    EXPECT_EQ(dark[k].x, dark[k].path == "a/03.png" ? 1 : 0);
    EXPECT_FLOAT_EQ(float(dark[k].value), 0.5f);
  }
  // The pool layer sees the bright pixel at (y / 2, x / 2); a/04's two maxima are in pool cells
  // (0, 4) and (2, 1): (0, 4) comes first.
  const std::vector<ScanEntry> pool = r.topK("pool", 0, 0);
  ASSERT_EQ(pool.size(), 5u);
  EXPECT_EQ(pool[0].path, "b/06.png");
  EXPECT_EQ(pool[0].y, 4);
  EXPECT_EQ(pool[0].x, 1);
  EXPECT_EQ(pool[3].path, "a/04.png");
  EXPECT_EQ(pool[3].y, 0);
  EXPECT_EQ(pool[3].x, 4);
  // The images table: every image with its size and hash, no errors.
  EXPECT_EQ(r.imageCount(), 12);
  EXPECT_EQ(r.skippedCount(), 0);
  EXPECT_EQ(r.imageHash(0).size(), 64u);
  EXPECT_EQ(r.meta().at("layers"), "relu,pool");
  EXPECT_EQ(r.meta().at("top_k"), "5");
  EXPECT_EQ(r.meta().at("preprocess"), "raw");
  EXPECT_THROW(r.layer("conv"), Error);
  fs::remove_all(d);
}

TEST(Scan, DefaultLayersAreEveryConvolutionsRectifiedOutput) {
  const NetworkDef def = loadModel("zf-small");
  std::vector<std::string> names;
  for (size_t l : defaultScanLayers(def)) names.push_back(def.layers[l].name);
  EXPECT_EQ(names, (std::vector<std::string>{"relu1", "relu2", "relu3", "relu4", "relu5"}));
}

// A few hundred Fashion-MNIST test images as PNG files.
fs::path fashionImages(const std::string& name, int count, int stride = 1) {
  const fs::path d = freshDir(name);
  const Dataset data = loadDataset("fashion-mnist", {});
  for (int i = 0; i < count; ++i) {
    char file[32];
    std::snprintf(file, sizeof file, "f%04d.png", i);
    cv::imwrite((d / file).string(), data.test.image(i * stride));
  }
  return d;
}

// Every unit of relu2 and relu5 over 100 images: the images, positions and values a plain sort
// of the naive forward pass gives (ties and near-ties within the float tolerance only checked by
// value).
TEST(Scan, TopKMatchesPlainSortingOverTheNaiveForwardPass) {
  const fs::path d = fashionImages("naive", 100);
  const NetworkDef def = loadModel("zf-small");
  const std::vector<ImageEntry> images = listImages(d);
  ScanOptions o;
  o.model = "test";
  o.topK = 4;
  o.batch = 16;
  o.layers = {"relu2", "relu5"};
  o.imageRoot = d;
  runScan(compileDef(def), images, d / "scan.sqlite", o);
  const ScanReader r(d / "scan.sqlite");

  std::vector<std::vector<Tensor>> outs;
  for (const ImageEntry& im : images)
    outs.push_back(ref::forward(def, loadNetworkInput(im.path, def.input)));
  int decided = 0, units = 0;
  for (const std::string& name : o.layers) {
    const size_t layer = def.resolveLayer(name);
    double maxAbs = 0;
    for (const auto& out : outs) maxAbs = std::max(maxAbs, double(out[layer].maxAbs()));
    const double tol = ref::chainTolerance(def, layer) * maxAbs;
    const Shape s = def.outputShapes()[layer];
    const int64_t C = s[0], H = s[1], W = s[2];
    for (int64_t c = 0; c < C; ++c) {
      struct Cand {
        double v;
        int image, y, x;
      };
      std::vector<Cand> cands;
      for (size_t i = 0; i < outs.size(); ++i) {
        const float* p = outs[i][layer].data() + c * H * W;
        Cand best{-1e30, int(i), 0, 0};
        for (int64_t j = 0; j < H * W; ++j)
          if (p[j] > best.v) best = {p[j], int(i), int(j / W), int(j % W)};
        cands.push_back(best);
      }
      std::stable_sort(cands.begin(), cands.end(),
                       [](const Cand& a, const Cand& b) { return a.v > b.v; });
      const std::vector<ScanEntry> got = r.topK(name, int(c), int(c));
      ASSERT_EQ(got.size(), 4u);
      ++units;
      bool clear = true;
      for (size_t k = 0; k < 4; ++k) {
        EXPECT_NEAR(got[k].value, cands[k].v, tol) << name << " unit " << c << " rank " << k;
        // Image and position are decidable when the neighbours in the order are clear of it.
        const bool gapAbove = k == 0 || cands[k - 1].v - cands[k].v > 2 * tol;
        const bool gapBelow = cands[k].v - cands[k + 1].v > 2 * tol;
        if (!(gapAbove && gapBelow)) {
          clear = false;
          continue;
        }
        EXPECT_EQ(got[k].image, cands[k].image) << name << " unit " << c << " rank " << k;
        EXPECT_EQ(got[k].y, cands[k].y) << name << " unit " << c << " rank " << k;
        EXPECT_EQ(got[k].x, cands[k].x) << name << " unit " << c << " rank " << k;
      }
      decided += clear;
    }
  }
  // The image and position checks ran for most units, not only the values.
  EXPECT_GT(decided, units * 3 / 4) << decided << " of " << units;
  fs::remove_all(d);
}

TEST(Scan, ShardsMergeIntoExactlyTheRowsOfOneScan) {
  const fs::path d = fashionImages("shards", 61);
  const NetworkDef def = loadModel("zf-small");
  const std::vector<ImageEntry> images = listImages(d);
  auto net = compileDef(def);
  ScanOptions o;
  o.model = "test";
  o.layers = {"relu2", "relu5", "fc6"};
  o.imageRoot = d;
  o.batch = 8;
  runScan(net, images, d / "single.sqlite", o);
  const std::vector<std::string> single = dumpScanRows(d / "single.sqlite");
  EXPECT_GT(single.size(), 61u + 9u * (64 + 128));
  // 3 shards (batches of 8 images) and 2 shards (gcd(2, 8) = 2: batches of 4 images in 8 slots).
  std::vector<fs::path> shards;
  for (int n : {2, 3}) {
    shards.clear();
    for (int i = 0; i < n; ++i) {
      ScanOptions s = o;
      s.shard = i;
      s.shards = n;
      shards.push_back(d / ("shard" + std::to_string(i) + "of" + std::to_string(n) + ".sqlite"));
      const ScanSummary sum = runScan(net, images, shards.back(), s);
      EXPECT_EQ(sum.images, (61 - i + n - 1) / n);
    }
    std::reverse(shards.begin(), shards.end());  // any order
    const fs::path out = d / ("merged" + std::to_string(n) + ".sqlite");
    mergeScans(shards, out);
    const std::vector<std::string> merged = dumpScanRows(out);
    ASSERT_EQ(single.size(), merged.size());
    for (size_t i = 0; i < single.size(); ++i)
      ASSERT_EQ(single[i], merged[i]) << n << " shards, row " << i;
  }
  // Refusals: an existing output, a missing shard, a shard twice, an unfinished shard.
  EXPECT_THROW(mergeScans(shards, d / "merged3.sqlite"), Error);
  EXPECT_THROW(mergeScans({shards[0], shards[1]}, d / "m2.sqlite"), Error);
  EXPECT_THROW(mergeScans({shards[0], shards[1], shards[1]}, d / "m3.sqlite"), Error);
  EXPECT_THROW(mergeScans({d / "single.sqlite", shards[0]}, d / "m4.sqlite"), Error);
  EXPECT_FALSE(fs::exists(d / "m2.sqlite"));
  fs::remove_all(d);
}

// Cancels from the core API after `after` progress reports.
class CancelAfter : public ProgressSink {
 public:
  explicit CancelAfter(int after) : m_left(after) {}
  void report(int64_t, int64_t) override { --m_left; }
  bool cancelled() const override { return m_left <= 0; }

 private:
  int m_left;
};

TEST(Scan, ResumingACancelledScanEndsWithTheRowsOfAnUninterruptedOne) {
  const fs::path d = fashionImages("resume", 50);
  const NetworkDef def = loadModel("zf-small");
  const std::vector<ImageEntry> images = listImages(d);
  auto net = compileDef(def);
  ScanOptions o;
  o.model = "test";
  o.layers = {"relu1", "relu3"};
  o.imageRoot = d;
  o.batch = 6;
  runScan(net, images, d / "whole.sqlite", o);
  CancelAfter cancel(3);  // the initial report, then two batches
  EXPECT_THROW(runScan(net, images, d / "part.sqlite", o, &cancel), Cancelled);
  {
    const ScanReader part(d / "part.sqlite");
    EXPECT_FALSE(part.complete());
    EXPECT_EQ(part.meta().at("images_done"), "12");
  }
  const ScanSummary s = runScan(net, images, d / "part.sqlite", o);
  EXPECT_EQ(s.resumed, 12);
  EXPECT_EQ(s.scanned, 38);
  EXPECT_EQ(dumpScanRows(d / "part.sqlite"), dumpScanRows(d / "whole.sqlite"));
  // A finished scan is left alone.
  EXPECT_EQ(runScan(net, images, d / "part.sqlite", o).scanned, 0);
  fs::remove_all(d);
}

TEST(Scan, BadImagesAreSkippedWithOneWarningEachAndCounted) {
  const fs::path d = blobDataset("bad");
  std::ofstream(d / "a/03x.png") << "not an image at all";
  {
    // A truncated PNG: the first half of a real one.
    std::ifstream in(d / "a/00.png", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(d / "b/99.png", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  const NetworkDef def = detectorNet();
  ScanOptions o = optionsFor(def, 3, 4);
  std::vector<std::string> warnings;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  const ScanSummary s = runScan(compileDef(def), listImages(d), d / "scan.sqlite", o);
  EXPECT_EQ(s.images, 14);
  EXPECT_EQ(s.skipped, 2);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("a/03x.png"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("b/99.png"), std::string::npos) << warnings[1];
  for (const std::string& w : warnings) EXPECT_EQ(w.find('\n'), std::string::npos) << w;
  const ScanReader r(d / "scan.sqlite");
  EXPECT_EQ(r.imageCount(), 14);
  EXPECT_EQ(r.skippedCount(), 2);
  EXPECT_EQ(r.topK("relu", 0, 0)[0].path, "b/06.png");  // the good images are all there
  fs::remove_all(d);
}

// Open file descriptors of this process.
size_t openDescriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A file that is not a database is refused when the writer sets it up, in the constructor of its
// connection: that connection must be closed too (it was leaked, with its file descriptor, before;
// LeakSanitizer found it).
TEST(Scan, ARefusedFileLeavesNoConnectionOpen) {
  const fs::path d = blobDataset("notadb");
  const NetworkDef def = detectorNet();
  auto net = compileDef(def);
  const std::vector<ImageEntry> images = listImages(d);
  std::ofstream(d / "text.sqlite") << "hello, not sqlite, and long enough to have a header page";
  EXPECT_THROW(runScan(net, images, d / "text.sqlite", optionsFor(def, 3, 4)), Error);
  const size_t before = openDescriptors();
  for (int k = 0; k < 8; ++k) {
    EXPECT_THROW(runScan(net, images, d / "text.sqlite", optionsFor(def, 3, 4)), Error);
    EXPECT_THROW(ScanReader(d / "text.sqlite"), Error);
  }
  EXPECT_EQ(openDescriptors(), before);
}

TEST(Scan, AnExistingDatabaseWithOtherParametersIsRefused) {
  const fs::path d = blobDataset("mismatch");
  const NetworkDef def = detectorNet();
  auto net = compileDef(def);
  const std::vector<ImageEntry> images = listImages(d);
  runScan(net, images, d / "scan.sqlite", optionsFor(def, 3, 4));
  const auto before = dumpScanRows(d / "scan.sqlite");
  auto refused = [&](ScanOptions o, const std::string& word) {
    try {
      runScan(net, images, d / "scan.sqlite", o);
      ADD_FAILURE() << "accepted other " << word;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  refused(optionsFor(def, 4, 4), "top_k");
  ScanOptions other = optionsFor(def, 3, 4);
  other.model = "sha256:0000";
  refused(other, "model");
  other = optionsFor(def, 3, 4);
  other.layers = {"relu"};
  refused(other, "layers");
  refused(optionsFor(def, 3, 5), "batch");
  other = optionsFor(def, 3, 4);
  other.shard = 1;
  other.shards = 2;
  refused(other, "shard");
  EXPECT_THROW(
      runScan(net, {images.begin(), images.end() - 1}, d / "scan.sqlite", optionsFor(def, 3, 4)),
      Error);
  EXPECT_EQ(dumpScanRows(d / "scan.sqlite"), before);  // nothing mixed in
  // Not a scan database: a text file, an empty SQLite database of another program.
  std::ofstream(d / "text.sqlite") << "hello, not sqlite";
  EXPECT_THROW(runScan(net, images, d / "text.sqlite", optionsFor(def, 3, 4)), Error);
  EXPECT_THROW(ScanReader(d / "text.sqlite"), Error);
  EXPECT_THROW(ScanReader(d / "missing.sqlite"), Error);
  // Another scan writing the same database (here: this process's own lock on it) is refused.
  {
    const int fd = ::open((d / "scan.sqlite").c_str(), O_RDONLY);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    try {
      runScan(net, images, d / "scan.sqlite", optionsFor(def, 3, 4));
      ADD_FAILURE() << "a second writer was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("being written by another scan"), std::string::npos)
          << e.what();
    }
    ::close(fd);
  }
  // An empty file (what a run killed in its first transaction can leave) is a new scan.
  std::ofstream(d / "empty.sqlite").close();
  EXPECT_EQ(runScan(net, images, d / "empty.sqlite", optionsFor(def, 3, 4)).scanned, 12);
  EXPECT_EQ(dumpScanRows(d / "empty.sqlite").size(), before.size());
  // A hand-edited meta table: one readable error, before anything is written.
  fs::copy_file(d / "scan.sqlite", d / "edited.sqlite");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((d / "edited.sqlite").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '9x' WHERE key = 'top_k'", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  try {
    ScanReader r(d / "edited.sqlite");
    ADD_FAILURE() << "an edited meta table was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("damaged scan database (meta top_k is '9x')"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(runScan(net, images, d / "edited.sqlite", optionsFor(def, 3, 4)), Error);
  fs::remove_all(d);
}

// The database after a `zfvis-cli scan` killed with SIGKILL mid-run and rerun: the rows of an
// uninterrupted run.
TEST(ScanCli, KilledScanRerunEndsWithTheRowsOfAnUninterruptedOne) {
  const fs::path d = fashionImages("kill", 400);
  const std::string common = "scan --model zf-small --images '" + d.string() +
                             "' --layers relu2,relu5 --batch 4 --threads 1 --db ";
  const auto whole = runCli(ZFVIS_CLI, common + "'" + (d / "whole.sqlite").string() + "'");
  ASSERT_EQ(whole.code, 0) << whole.err;
  EXPECT_NE(whole.out.find("400 scanned now"), std::string::npos) << whole.out;

  const fs::path db = d / "killed.sqlite";
  const pid_t child = ::fork();
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(ZFVIS_CLI, ZFVIS_CLI, "scan", "--model", "zf-small", "--images", d.c_str(), "--layers",
            "relu2,relu5", "--batch", "4", "--threads", "1", "--db", db.c_str(), nullptr);
    ::_exit(127);
  }
  // Kill it once a few batches are committed (but well before the end).
  int64_t done = 0;
  for (int i = 0; i < 2000 && done < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    try {
      if (fs::exists(db)) done = std::stoll(ScanReader(db).meta().at("images_done"));
    } catch (const std::exception&) {
      // The schema may not be committed yet.
    }
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the scan ended before it was killed";
  const int64_t killedAt = std::stoll(ScanReader(db).meta().at("images_done"));
  EXPECT_GE(killedAt, 40);
  EXPECT_LT(killedAt, 400);

  const auto rerun = runCli(ZFVIS_CLI, common + "'" + db.string() + "'");
  ASSERT_EQ(rerun.code, 0) << rerun.err;
  EXPECT_NE(rerun.out.find(std::to_string(killedAt) + " done before"), std::string::npos)
      << rerun.out;
  EXPECT_EQ(dumpScanRows(db), dumpScanRows(d / "whole.sqlite"));

  // scan-show lists each unit's top-K with paths relative to the folder.
  const auto show =
      runCli(ZFVIS_CLI, "scan-show --db '" + db.string() + "' --layer relu5 --units 2-3");
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("unit 2\n  1  f0"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("unit 3\n"), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find("unit 4\n"), std::string::npos) << show.out;
  const auto json =
      runCli(ZFVIS_CLI, "scan-show --json --db '" + db.string() + "' --layer relu2 --units 0");
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_NE(json.out.find("\"rank\": 9"), std::string::npos) << json.out;
  // Two shards merged through the CLI: the same rows.
  for (int i = 0; i < 2; ++i) {
    const auto r = runCli(
        ZFVIS_CLI, "scan --model zf-small --images '" + d.string() +
                       "' --layers relu2,relu5 --batch 4 --threads 1 --shard " + std::to_string(i) +
                       "/2 --db '" + (d / ("s" + std::to_string(i) + ".sqlite")).string() + "'");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("note: --batch 4 and 2 shards share the factor 2"), std::string::npos)
        << r.out;
  }
  const auto merge = runCli(ZFVIS_CLI, "scan-merge --out '" + (d / "m.sqlite").string() +
                                           "' --db '" + (d / "s1.sqlite").string() + "' --db '" +
                                           (d / "s0.sqlite").string() + "'");
  ASSERT_EQ(merge.code, 0) << merge.err;
  EXPECT_EQ(dumpScanRows(d / "m.sqlite"), dumpScanRows(d / "whole.sqlite"));
  // The atlas through the CLI: a picture of 2 units, 18 projections.
  const auto atlas = runCli(ZFVIS_CLI, "atlas --db '" + db.string() +
                                           "' --model zf-small --layer relu5 --units 2-3 "
                                           "--threads 1 --png '" +
                                           (d / "atlas.png").string() + "'");
  ASSERT_EQ(atlas.code, 0) << atlas.err;
  EXPECT_NE(atlas.out.find("2 units of relu5, 18 projections"), std::string::npos) << atlas.out;
  EXPECT_GT(cv::imread((d / "atlas.png").string()).cols, 300);
  // Another model on the same database: one line, exit 1.
  const auto other = runCli(ZFVIS_CLI, "scan --model alex-small --images '" + d.string() +
                                           "' --layers relu2,relu5 --db '" + db.string() + "'");
  EXPECT_EQ(other.code, 1);
  EXPECT_EQ(other.errLines(), 1u) << other.err;
  EXPECT_NE(other.err.find("model"), std::string::npos) << other.err;
  fs::remove_all(d);
}

// Every cell of the atlas is the projection a Projector gives on that image from that unit and
// position (the atlas projects an image's units in one batched pass, so within the projection
// tolerance of the single pass), and the picture shows the cell at its layout place.
TEST(Atlas, CellsAreTheSingleProjectionsOfEachUnitsTopImages) {
  const fs::path d = fashionImages("atlas", 40);
  const NetworkDef def = loadModel("zf-small");
  auto net = compileDef(def);
  const std::vector<ImageEntry> images = listImages(d);
  ScanOptions o;
  o.model = "test";
  o.layers = {"relu2"};
  o.imageRoot = d;
  runScan(net, images, d / "scan.sqlite", o);
  const ScanReader scan(d / "scan.sqlite");
  AtlasOptions ao;
  ao.lo = 3;
  ao.hi = 6;
  const Atlas atlas = computeAtlas(scan, net, "test", "relu2", ao);
  ASSERT_EQ(atlas.units.size(), 4u);
  const AtlasSheetOptions so;
  const cv::Mat sheet = renderAtlasSheet(atlas, so);
  const AtlasLayout layout = atlasLayout(atlas, so);
  EXPECT_EQ(sheet.size(), layout.size);
  Session session(net);
  const size_t layer = def.resolveLayer("relu2");
  for (size_t u = 0; u < atlas.units.size(); ++u) {
    ASSERT_EQ(atlas.units[u].cells.size(), 9u);
    for (size_t k = 0; k < 9; ++k) {
      const AtlasCell& c = atlas.units[u].cells[k];
      EXPECT_EQ(c.entry.rank, int(k + 1));
      auto acts = session.run(loadNetworkInput(images[size_t(c.entry.image)].path, def.input));
      Projector p(acts);
      ProjectionRequest r;
      r.layer = layer;
      r.channel = atlas.units[u].unit;
      r.position = cv::Point(c.entry.x, c.entry.y);
      const Projection want = p.project(r);
      EXPECT_NEAR(want.activation, c.entry.value, 1e-5 * std::max(1.0, c.entry.value));
      ASSERT_EQ(want.image.shape(), c.projection.image.shape());
      EXPECT_LE(ref::relativeMaxError(c.projection.image, want.image),
                ref::projectionTolerance(def, layer))
          << "unit " << u << " rank " << k;
      EXPECT_EQ(c.projection.position, want.position);
      EXPECT_EQ(c.projection.activation, want.activation);
      EXPECT_EQ(c.projection.field, want.field);
      EXPECT_EQ(cv::norm(c.input, tensorToImage(acts->input(), def.input.preprocess), cv::NORM_INF),
                0.0);
      // The picture's cell holds the rendered cell, centred.
      for (int patch = 0; patch < 2; ++patch) {
        cv::Mat m = renderAtlasCell(c, atlas.preprocess, layout.scale, patch == 1);
        if (m.channels() == 1) cv::cvtColor(m, m, cv::COLOR_GRAY2BGR);
        const cv::Rect cell = patch ? layout.cells[u][k].second : layout.cells[u][k].first;
        const cv::Mat shown = sheet(cv::Rect(cell.x + (cell.width - m.cols) / 2,
                                             cell.y + (cell.height - m.rows) / 2, m.cols, m.rows));
        EXPECT_EQ(cv::norm(shown, m, cv::NORM_INF), 0.0) << "unit " << u << " rank " << k;
      }
    }
  }
  // The HTML atlas: a section per unit, a figure per cell, the cells' PNGs as rendered.
  const fs::path html = d / "html";
  writeAtlasHtml(atlas, html, layout.scale);
  std::ifstream index(html / "index.html");
  const std::string page((std::istreambuf_iterator<char>(index)), {});
  size_t figures = 0;
  for (size_t at = 0; (at = page.find("<figure>", at)) != std::string::npos; ++at) ++figures;
  EXPECT_EQ(figures, 36u);
  EXPECT_NE(page.find("<h2>#6</h2>"), std::string::npos);
  const AtlasCell& cell = atlas.units[1].cells[2];
  const cv::Mat png =
      cv::imread((html / "unit0004/rank3-projection.png").string(), cv::IMREAD_UNCHANGED);
  cv::Mat want = renderAtlasCell(cell, atlas.preprocess, layout.scale, false);
  ASSERT_EQ(png.size(), want.size());
  if (png.channels() != want.channels()) cv::cvtColor(want, want, cv::COLOR_GRAY2BGR);
  EXPECT_EQ(cv::norm(png, want, cv::NORM_INF), 0.0);
  EXPECT_THROW(writeAtlasHtml(atlas, html), Error);  // never over an existing folder
  // Another model's identity, units out of range, a changed image: refused.
  EXPECT_THROW(computeAtlas(scan, net, "sha256:other", "relu2", ao), Error);
  AtlasOptions bad = ao;
  bad.hi = 64;
  EXPECT_THROW(computeAtlas(scan, net, "test", "relu2", bad), Error);
  EXPECT_THROW(computeAtlas(scan, net, "test", "relu5", ao), Error);
  const std::string firstImage = atlas.units[0].cells[0].entry.path;
  cv::imwrite((d / firstImage).string(), cv::Mat(28, 28, CV_8UC1, cv::Scalar(7)));
  EXPECT_THROW(computeAtlas(scan, net, "test", "relu2", ao), Error);
  fs::remove_all(d);
}

// The patch mosaic (no forward runs) holds the same patches and receptive fields as the full
// atlas, for every unit of a layer; its sheet has only patch cells, each found by hitTest.
TEST(Atlas, PatchesAloneEqualTheFullAtlasPatches) {
  const fs::path d = fashionImages("patches", 30);
  const NetworkDef def = loadModel("zf-small");
  auto net = compileDef(def);
  ScanOptions o;
  o.model = "test";
  o.layers = {"relu2", "relu5"};
  o.imageRoot = d;
  runScan(net, listImages(d), d / "scan.sqlite", o);
  const ScanReader scan(d / "scan.sqlite");
  for (const char* layer : {"relu2", "relu5"}) {
    AtlasOptions ao;
    ao.hi = scan.layer(layer).channels - 1;
    const Atlas full = computeAtlas(scan, net, "test", layer, ao);
    const Atlas patches = computeAtlasPatches(scan, def, "test", layer, ao);
    ASSERT_EQ(patches.units.size(), size_t(scan.layer(layer).channels));
    ASSERT_EQ(patches.units.size(), full.units.size());
    for (size_t u = 0; u < full.units.size(); ++u) {
      ASSERT_EQ(patches.units[u].cells.size(), full.units[u].cells.size());
      for (size_t k = 0; k < full.units[u].cells.size(); ++k) {
        const AtlasCell &want = full.units[u].cells[k], &got = patches.units[u].cells[k];
        EXPECT_EQ(got.entry.image, want.entry.image);
        EXPECT_EQ(got.projection.field, want.projection.field) << layer << " " << u << " " << k;
        EXPECT_EQ(got.projection.position, want.projection.position);
        EXPECT_TRUE(got.projection.image.empty());
        EXPECT_EQ(cv::norm(renderAtlasCell(got, patches.preprocess, 2, true),
                           renderAtlasCell(want, full.preprocess, 2, true), cv::NORM_INF),
                  0.0);
      }
    }
    AtlasSheetOptions so;
    so.projections = false;
    so.minCellSize = 16;
    const AtlasLayout layout = atlasLayout(patches, so);
    const cv::Mat sheet = renderAtlasSheet(patches, so);
    EXPECT_EQ(sheet.size(), layout.size);
    for (size_t u = 0; u < patches.units.size(); ++u)
      for (size_t k = 0; k < layout.cells[u].size(); ++k) {
        EXPECT_TRUE(layout.cells[u][k].first.empty());
        const cv::Rect c = layout.cells[u][k].second;
        const AtlasHit hit = layout.hitTest({c.x + c.width / 2, c.y + c.height / 2});
        EXPECT_EQ(hit.unit, int(u));
        EXPECT_EQ(hit.rank, int(k));
        EXPECT_TRUE(hit.patch);
        EXPECT_TRUE(layout.units[u].contains(c.tl()));
      }
    EXPECT_EQ(layout.hitTest({0, 0}).unit, -1);
    // A cell cap shrinks the crops into smaller cells.
    so.maxCellSize = 8;
    const AtlasLayout small = atlasLayout(patches, so);
    EXPECT_EQ(small.cell, 8);
    EXPECT_EQ(renderAtlasSheet(patches, so).size(), small.size);
  }
  EXPECT_THROW(computeAtlasPatches(scan, def, "sha256:other", "relu2", {}), Error);
  EXPECT_THROW(checkScanModel(scan, d / "scan.sqlite", "sha256:other"), Error);
  fs::remove_all(d);
}

}  // namespace
}  // namespace zfvis
