// The dataset scan's throughput next to its parts (docs/PERFORMANCE.md "Dataset scan"):
//
//   bench_scan make DIR N [SEED]   N JPEGs of 500 x 375 made from resources/images by seeded random
//                                  crops, flips and scales (the benchmark's collection)
//   bench_scan run DIR [IMAGES] [ROUNDS] [BATCH] [THREADS]
//                                  caffe-alexnet (built-in) with its default scan layers
//                                  (relu1..relu5): decode-and-preprocess only, forward only (inputs
//                                  decoded beforehand; also keeping the scanned layers' outputs,
//                                  as the scan does) and the scan itself, interleaved per round;
//                                  prints each round and the medians, the load average and the ISA
//   bench_scan atlas DIR [IMAGES] [UNITS] [THREADS]
//                                  scans the images (relu5, top 9; untimed), then times the atlas
//                                  of relu5's units 0..UNITS-1 (computeAtlas: one forward run per
//                                  image, its units projected from it) next to the same cells as
//                                  single projections (read, decode, forward and project per cell,
//                                  as `zfvis-cli deconv --position` does, in one process)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/analysis/image_list.h"
#include "core/analysis/scan/atlas.h"
#include "core/analysis/scan/scan.h"
#include "core/base/atomic_file.h"
#include "core/engine/engine.h"
#include "core/model/builtin_models.h"
#include "core/model/image_input.h"

namespace fs = std::filesystem;
using namespace zfvis;

namespace {

int make(const fs::path& dir, int n, unsigned seed) {
  std::vector<cv::Mat> sources;
  for (const auto& e : fs::directory_iterator(fs::path(ZFVIS_SOURCE_DIR) / "resources/images")) {
    const std::string ext = e.path().extension().string();
    if (ext != ".png" && ext != ".jpg") continue;
    cv::Mat m = cv::imread(e.path().string(), cv::IMREAD_COLOR);
    if (!m.empty()) sources.push_back(m);
  }
  if (sources.empty()) return std::fprintf(stderr, "no sample images\n"), 1;
  std::sort(sources.begin(), sources.end(),
            [](const cv::Mat& a, const cv::Mat& b) { return a.total() < b.total(); });
  fs::create_directories(dir);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < n; ++i) {
    const cv::Mat& src = sources[size_t(i) % sources.size()];
    // A crop of 40..100 % of each side (aspect kept near 4:3), flipped half the time, scaled to
    // 500 x 375.
    const double f = 0.4 + 0.6 * u(rng);
    int w = std::max(8, int(src.cols * f)), h = std::max(8, int(w * 0.75));
    if (h > src.rows) h = src.rows, w = std::min(src.cols, int(h / 0.75));
    const int x = int(u(rng) * (src.cols - w)), y = int(u(rng) * (src.rows - h));
    cv::Mat crop = src(cv::Rect(x, y, w, h)).clone();
    if (u(rng) < 0.5) cv::flip(crop, crop, 1);
    cv::Mat out;
    cv::resize(crop, out, cv::Size(500, 375), 0, 0, cv::INTER_AREA);
    char name[32];
    std::snprintf(name, sizeof name, "img%05d.jpg", i);
    cv::imwrite((dir / name).string(), out, {cv::IMWRITE_JPEG_QUALITY, 90});
  }
  std::printf("%d images in %s\n", n, dir.string().c_str());
  return 0;
}

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::string loadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

int run(const fs::path& dir, int count, int rounds, int batch, int threads) {
  auto def = std::make_shared<const NetworkDef>(makeBuiltinModel("caffe-alexnet"));
  auto net = CompiledNet::compile(def, EngineOptions{threads});
  std::vector<ImageEntry> images = listImages(dir);
  if (int(images.size()) > count) images.resize(size_t(count));
  const int n = int(images.size());
  const InputSpec& spec = def->input;
  std::vector<std::string> layers;
  for (size_t i : defaultScanLayers(*def)) layers.push_back(def->layers[i].name);
  std::printf("caffe-alexnet, %d images of %s, batch %d, %d threads, oneDNN ISA: %s\n", n,
              dir.string().c_str(), batch, threads, engineCpuIsa().c_str());
  std::printf("scan layers:");
  for (const std::string& l : layers) std::printf(" %s", l.c_str());
  std::printf("\nload average before: %s\n", loadAverage().c_str());

  auto decodeAll = [&] {
    std::vector<Tensor> out;
    for (const ImageEntry& e : images) {
      const std::string bytes = readFile(e.path, size_t(1) << 31);
      const cv::Mat bgr = decodeImageBgr(bytes, e.path.string(), ImageReadOptions{});
      const cv::Mat crop = resizeAndCrop(bgr, int(spec.shape[1]), int(spec.shape[2]));
      out.push_back(imageToTensor(crop, int(spec.shape[0]), spec.preprocess));
    }
    return out;
  };
  const std::vector<Tensor> decoded = decodeAll();
  std::vector<Tensor> batches;
  for (int i = 0; i < n; i += batch) {
    std::vector<Tensor> b;
    for (int j = i; j < i + batch; ++j)
      b.push_back(j < n ? decoded[size_t(j)] : Tensor(spec.shape.withBatch(1), 0.0f));
    batches.push_back(Tensor::stack(b));
  }
  Session session(net);
  RunOptions ro;
  ro.keepAll = false;
  session.run(batches[0], ro);  // plan built outside the timed runs
  Session keeping(net);         // as the scan runs it: the scanned layers kept
  RunOptions rk = ro;
  rk.keep = defaultScanLayers(*def);
  keeping.run(batches[0], rk);

  std::vector<double> tDecode, tForward, tKeep, tScan;
  const fs::path db = fs::temp_directory_path() / "zfvis-bench-scan.sqlite";
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 4; ++k) {  // the order rotates each round
      const int what = (k + r) % 4;
      auto t0 = std::chrono::steady_clock::now();
      if (what == 0) {
        (void)decodeAll();
        tDecode.push_back(seconds(t0));
      } else if (what == 1) {
        for (const Tensor& b : batches) (void)session.run(b, ro);
        tForward.push_back(seconds(t0));
      } else if (what == 2) {
        for (const Tensor& b : batches) (void)keeping.run(b, rk);
        tKeep.push_back(seconds(t0));
      } else {
        fs::remove(db);
        ScanOptions so;
        so.model = "built-in:caffe-alexnet";
        so.layers = layers;
        so.batch = batch;
        t0 = std::chrono::steady_clock::now();
        runScan(net, images, db, so);
        tScan.push_back(seconds(t0));
      }
    }
    std::printf(
        "round %d: decode %.2f s, forward %.2f s, forward keeping the scan layers %.2f s, "
        "scan %.2f s (load %s)\n",
        r + 1, tDecode.back(), tForward.back(), tKeep.back(), tScan.back(), loadAverage().c_str());
    std::fflush(stdout);
  }
  fs::remove(db);
  const double d = median(tDecode), f = median(tForward), s = median(tScan), fk = median(tKeep);
  std::printf("forward keeping the scan layers: %.2f s (%.1f images/s)\n", fk, n / fk);
  std::printf(
      "medians: decode %.2f s (%.1f images/s), forward %.2f s (%.1f images/s), scan %.2f s "
      "(%.1f images/s)\n",
      d, n / d, f, n / f, s, n / s);
  std::printf("scan / (decode + forward) = %.3f; scan / max(decode, forward) = %.3f\n", s / (d + f),
              s / std::max(d, f));
  std::printf("projected for 50,000 images at the scan's rate: %.1f min\n", 50000.0 / (n / s) / 60);
  std::printf("load average after: %s\n", loadAverage().c_str());
  return 0;
}

int atlas(const fs::path& dir, int count, int units, int threads) {
  auto def = std::make_shared<const NetworkDef>(makeBuiltinModel("caffe-alexnet"));
  auto net = CompiledNet::compile(def, EngineOptions{threads});
  std::vector<ImageEntry> images = listImages(dir);
  if (int(images.size()) > count) images.resize(size_t(count));
  const fs::path db = fs::temp_directory_path() / "zfvis-bench-atlas.sqlite";
  fs::remove(db);
  ScanOptions so;
  so.model = "built-in:caffe-alexnet";
  so.layers = {"relu5"};
  so.imageRoot = dir;
  runScan(net, images, db, so);
  const ScanReader scan(db);
  AtlasOptions ao;
  ao.lo = 0;
  ao.hi = units - 1;
  std::printf(
      "caffe-alexnet relu5, %d units x 9 from a scan of %d images of %s, %d threads, "
      "oneDNN ISA: %s\nload average before: %s\n",
      units, int(images.size()), dir.string().c_str(), threads, engineCpuIsa().c_str(),
      loadAverage().c_str());
  std::fflush(stdout);
  auto t0 = std::chrono::steady_clock::now();
  const Atlas a = computeAtlas(scan, net, so.model, "relu5", ao);
  const double tAtlas = seconds(t0);
  size_t cells = 0;
  std::set<int64_t> distinct;
  for (const AtlasUnit& u : a.units)
    for (const AtlasCell& c : u.cells) ++cells, distinct.insert(c.entry.image);
  std::printf("atlas: %zu cells from %zu distinct images in %.2f s (load %s)\n", cells,
              distinct.size(), tAtlas, loadAverage().c_str());
  std::fflush(stdout);

  // The same cells one at a time, as separate `deconv --position` runs would compute them.
  const InputSpec& spec = def->input;
  Session session(net);
  RunOptions lean;
  lean.keepAll = false;
  lean.keep = {a.layer};
  double worst = 0;
  t0 = std::chrono::steady_clock::now();
  for (const AtlasUnit& u : a.units)
    for (const AtlasCell& c : u.cells) {
      const fs::path file = dir / c.entry.path;
      const std::string bytes = readFile(file, size_t(1) << 31);
      const cv::Mat bgr = decodeImageBgr(bytes, file.string(), ImageReadOptions{});
      const cv::Mat crop = resizeAndCrop(bgr, int(spec.shape[1]), int(spec.shape[2]));
      auto acts = session.run(imageToTensor(crop, int(spec.shape[0]), spec.preprocess), lean);
      Projector projector(acts);
      ProjectionRequest r;
      r.layer = a.layer;
      r.channel = u.unit;
      r.position = cv::Point(c.entry.x, c.entry.y);
      const Projection p = projector.project(r);
      // The same numbers as the atlas cell (a check that the two compute the same thing).
      for (int64_t i = 0; i < p.image.numel(); ++i)
        worst = std::max(worst, double(std::abs(p.image[i] - c.projection.image[i])));
    }
  const double tSingle = seconds(t0);
  std::printf("single projections: %zu in %.2f s (load %s)\n", cells, tSingle,
              loadAverage().c_str());
  std::printf("atlas / single = %.3f; largest difference between the two: %g\n", tAtlas / tSingle,
              worst);
  fs::remove(db);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "make" && argc >= 4)
    return make(argv[2], std::stoi(argv[3]), argc > 4 ? unsigned(std::stoul(argv[4])) : 1u);
  if (cmd == "run" && argc >= 3)
    return run(argv[2], argc > 3 ? std::stoi(argv[3]) : 300, argc > 4 ? std::stoi(argv[4]) : 3,
               argc > 5 ? std::stoi(argv[5]) : 32, argc > 6 ? std::stoi(argv[6]) : 2);
  if (cmd == "atlas" && argc >= 3)
    return atlas(argv[2], argc > 3 ? std::stoi(argv[3]) : 300, argc > 4 ? std::stoi(argv[4]) : 256,
                 argc > 5 ? std::stoi(argv[5]) : 2);
  std::fprintf(stderr,
               "usage: bench_scan make DIR N [SEED] | run DIR [IMAGES] [ROUNDS] [BATCH] [THREADS] "
               "| atlas DIR [IMAGES] [UNITS] [THREADS]\n");
  return 2;
}
