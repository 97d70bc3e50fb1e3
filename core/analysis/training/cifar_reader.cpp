// CIFAR-10's binary batches: records of one label byte and 32 x 32 x 3 pixel bytes (the red
// plane, then green, then blue), 10000 records per file.
#include <algorithm>
#include <sstream>

#include "core/analysis/training/dataset_readers.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"

namespace zfvis::datasets {

namespace {

constexpr int kSide = 32;
constexpr size_t kPlane = kSide * kSide;
constexpr size_t kRecord = 1 + 3 * kPlane;

void appendBatch(const std::filesystem::path& path, int classes, ImageSet& set) {
  const std::string data = readFile(path, size_t(1) << 30);
  const std::string what = "'" + path.string() + "'";
  if (data.empty()) throw Error(what + ": the file is empty (expected 3073-byte records)");
  if (data.size() % kRecord != 0) {
    const size_t start = data.size() / kRecord * kRecord;
    throw Error(what + ": truncated: record " + std::to_string(data.size() / kRecord) +
                " starts at byte " + std::to_string(start) + " but only " +
                std::to_string(data.size() - start) + " of its 3073 bytes follow");
  }
  const size_t records = data.size() / kRecord;
  const size_t first = set.labels.size();
  set.labels.resize(first + records);
  set.pixels.resize((first + records) * kPlane * 3);
  for (size_t r = 0; r < records; ++r) {
    const size_t at = r * kRecord;
    const int label = uint8_t(data[at]);
    if (label >= classes)
      throw Error(what + ": label " + std::to_string(label) + " at byte " + std::to_string(at) +
                  " is not a class (0.." + std::to_string(classes - 1) + ")");
    set.labels[first + r] = label;
    // Planes R, G, B -> interleaved B, G, R (OpenCV's order).
    uint8_t* out = set.pixels.data() + (first + r) * kPlane * 3;
    const uint8_t* in = reinterpret_cast<const uint8_t*>(data.data() + at + 1);
    for (size_t p = 0; p < kPlane; ++p)
      for (size_t c = 0; c < 3; ++c) out[p * 3 + c] = in[(2 - c) * kPlane + p];
  }
}

std::vector<std::string> classNames(const std::filesystem::path& dir) {
  std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                    "dog",      "frog",       "horse", "ship", "truck"};
  std::error_code ec;
  if (!std::filesystem::exists(dir / "batches.meta.txt", ec)) return names;
  std::istringstream in(readFile(dir / "batches.meta.txt", 1 << 20));
  std::vector<std::string> read;
  for (std::string line; std::getline(in, line);) {
    line.erase(line.find_last_not_of(" \r\t") + 1);
    if (!line.empty()) read.push_back(line);
  }
  if (read.size() != names.size())
    throw Error("'" + (dir / "batches.meta.txt").string() + "': " + std::to_string(read.size()) +
                " class names, expected 10");
  return read;
}

}  // namespace

Dataset loadCifar10(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw Error("cannot read CIFAR-10 from '" + dir.string() + "': no such folder");
  Dataset d;
  d.name = "CIFAR-10";
  d.classNames = classNames(dir);
  const int classes = int(d.classNames.size());
  for (ImageSet* s : {&d.train, &d.test}) {
    s->height = s->width = kSide;
    s->channels = 3;
  }
  std::vector<std::filesystem::path> batches;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("data_batch_", 0) == 0 && e.path().extension() == ".bin")
      batches.push_back(e.path());
  }
  std::sort(batches.begin(), batches.end());
  if (batches.empty())
    throw Error("no CIFAR-10 training batches (data_batch_*.bin) in '" + dir.string() + "'");
  for (const auto& b : batches) appendBatch(b, classes, d.train);
  appendBatch(dir / "test_batch.bin", classes, d.test);
  return d;
}

}  // namespace zfvis::datasets
