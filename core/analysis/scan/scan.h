// Dataset scans (Zeiler & Fergus fig. 2; ARCHITECTURE.md "Dataset scans and the unit atlas"): an
// image collection streamed through a network in batches, keeping for every unit (layer, channel)
// of the chosen layers its top-K images by unitResponse() (the channel's maximum over positions),
// one entry per image, ties to the earlier image in scan order.
//
// Results live in a SQLite file committed once per batch, so a scan killed at any point continues
// where the last commit left it, and ends with the rows an uninterrupted scan writes. Shards
// (every N-th image) merge into the rows of a single scan. Memory holds K entries per unit and two
// batches of images (the next one is decoded while one runs), whatever the collection's size.
//
// Tables (schema version 1):
//   meta(key, value)              the parameters (model, preprocess, layers, top_k, batch, shard,
//                                 image_count, image_list, zfvis_version, schema), images_done
//                                 and image_root (where the relative paths start)
//   layers(ord, name, layer, channels, height, width)   the scanned layers, in scan order
//   images(idx, path, width, height, sha256, error)     every scanned image by its index in the
//                                 whole collection; a skipped one has its error and no size
//   topk(layer, unit, rank, image, y, x, value)          rank 1 = strongest
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/image_list.h"
#include "core/base/progress.h"
#include "core/engine/engine.h"
#include "core/model/image_input.h"
#include "core/model/network.h"

namespace zfvis {

/// What a scan computes. Every field except `read`, `imageRoot` and `warn` is a parameter recorded
/// in the database: rerunning against an existing database with other values is refused. The
/// batch size is one because oneDNN chooses kernels by batch size, so the last bits of a value
/// can depend on it (every batch is padded to the full size, so the images' positions in their
/// batch and the shard they are in do not matter).
struct ScanOptions {
  std::string model;                // the model's identity (modelIdentity())
  std::vector<std::string> layers;  // names or indices; empty: defaultScanLayers()
  int topK = 9;                     // K, 1..1000
  int shard = 0, shards = 1;        // this run scans images whose index % shards == shard
  int batch = 32;         // images per forward run (not recorded: results don't depend on it)
  ImageReadOptions read;  // how image files are read
  /// Where the images' relative paths start (recorded as meta image_root for the atlas; not a
  /// parameter: a moved folder may be resumed).
  std::filesystem::path imageRoot;
  /// Called with one line per skipped image (unreadable, truncated, not an image); may be empty.
  std::function<void(const std::string&)> warn;
};

/// What a scan run did.
struct ScanSummary {
  int64_t images = 0;               // images of this shard
  int64_t resumed = 0;              // already done by an earlier run when this one started
  int64_t scanned = 0;              // read and run by this call
  int64_t skipped = 0;              // bad images of this shard (earlier runs included)
  std::vector<std::string> layers;  // the scanned layers
  int64_t units = 0;                // their channels, summed
};

/// "built-in:NAME" for a built-in model, else "sha256:HEX" of the model file's bytes (and of the
/// weights file's, when `weights` is not empty).
std::string modelIdentity(const NetworkDef& def, const std::string& spec,
                          const std::string& weights = "");

/// Every convolution's rectified output: for each Conv layer, the ReLU that reads it when there
/// is one, else the Conv itself.
std::vector<size_t> defaultScanLayers(const NetworkDef& def);

/// Scans `images` into `db` (created when missing, continued when it holds an unfinished scan
/// with the same parameters, left alone when it holds the finished one). Throws Error when `db`
/// is not a scan database or holds one with other parameters (naming the first difference), and
/// Cancelled when `progress` asks to stop (everything committed so far stays). Progress counts
/// the shard's images.
ScanSummary runScan(std::shared_ptr<const CompiledNet> net, const std::vector<ImageEntry>& images,
                    const std::filesystem::path& db, const ScanOptions& options,
                    ProgressSink* progress = nullptr);

/// One entry of a unit's top-K.
struct ScanEntry {
  int unit = 0;       // channel
  int rank = 0;       // 1 = strongest
  int64_t image = 0;  // index in the whole collection
  std::string path;   // relative to the scanned folder (or as written in the list file)
  int y = 0, x = 0;   // position in the layer's output
  double value = 0;   // the response
};

/// A scanned layer.
struct ScanLayer {
  std::string name;           // its name in the network
  size_t index = 0;           // its index in the network
  int channels = 0;           // units
  int height = 1, width = 1;  // output size (1 x 1 for vectors)
};

/// A scan database opened for reading.
class ScanReader {
 public:
  /// Opens `db`; throws Error when it is missing, not a SQLite file, damaged, or not a scan.
  explicit ScanReader(const std::filesystem::path& db);
  ~ScanReader();
  /// The recorded parameters and state (meta table).
  const std::map<std::string, std::string>& meta() const { return m_meta; }
  /// The scanned layers, in scan order.
  const std::vector<ScanLayer>& layers() const { return m_layers; }
  /// The scanned layer called `name`, or the layer at that position when it is a number; throws
  /// Error listing the scanned layers otherwise.
  const ScanLayer& layer(const std::string& name) const;
  /// True when every image of the shard was scanned.
  bool complete() const;
  /// The top-K of units lo..hi of `layer`, by unit then rank.
  std::vector<ScanEntry> topK(const std::string& layer, int lo, int hi) const;
  /// Images scanned and images skipped.
  int64_t imageCount() const;
  int64_t skippedCount() const;
  /// The SHA-256 recorded for image `index` (empty when it has none).
  std::string imageHash(int64_t index) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  std::map<std::string, std::string> m_meta;
  std::vector<ScanLayer> m_layers;
};

/// Merges finished shard databases (the same parameters, shards 0..N-1 of one N, each once) into
/// `out` (written atomically, must not exist): exactly the rows one unsharded scan writes.
/// Throws Error naming the first shard that differs, is unfinished, or is missing.
void mergeScans(const std::vector<std::filesystem::path>& shards, const std::filesystem::path& out);

/// Every row of every table, in key order, one line per row ("table|col|col|..."): for tests
/// that compare databases row by row.
std::vector<std::string> dumpScanRows(const std::filesystem::path& db);

}  // namespace zfvis
