#include "core/analysis/scan/scan.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cmath>
#include <future>
#include <set>

#include "core/analysis/scan/sqlite_db.h"
#include "core/analysis/scan/top_k.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/sha256.h"

namespace zfvis {
namespace fs = std::filesystem;
using namespace scan_detail;

std::string modelIdentity(const NetworkDef& def, const std::string& spec,
                          const std::string& weights) {
  if (def.source == "built-in") return "built-in:" + def.name;
  // The file actually read (a shipped model's or a Model Zoo download's), not the name given.
  std::error_code ec;
  const std::string file = fs::is_regular_file(def.source, ec) ? def.source : spec;
  std::string id = "sha256:" + sha256File(file);
  if (!weights.empty()) id += "+sha256:" + sha256File(weights);
  return id;
}

std::vector<size_t> defaultScanLayers(const NetworkDef& def) {
  std::vector<size_t> out;
  for (size_t i = 0; i < def.layers.size(); ++i) {
    if (def.layers[i].type != LayerType::Conv) continue;
    size_t pick = i;
    for (size_t j = i + 1; j < def.layers.size(); ++j) {
      const LayerSpec& l = def.layers[j];
      if (l.type == LayerType::Relu && l.inputs.size() == 1 && l.inputs[0] == def.layers[i].name) {
        pick = j;
        break;
      }
    }
    out.push_back(pick);
  }
  return out;
}

namespace {

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : ",") + p;
  return s;
}

// The parameters a database records and a rerun must repeat.
std::vector<std::pair<std::string, std::string>> recordedParams(
    const NetworkDef& def, const std::vector<ImageEntry>& images,
    const std::vector<std::string>& layerNames, const ScanOptions& o) {
  std::string names;
  for (const ImageEntry& e : images) names += e.name + '\n';
  return {{"schema", kSchemaVersion},
          {"model", o.model},
          {"preprocess", std::string(preprocessName(def.input.preprocess))},
          {"layers", join(layerNames)},
          {"top_k", std::to_string(o.topK)},
          {"batch", std::to_string(std::max(1, o.batch))},
          {"shard", std::to_string(o.shard) + "/" + std::to_string(o.shards)},
          {"image_count", std::to_string(images.size())},
          {"image_list", sha256Hex(names)},
          {"zfvis_version", ZFVIS_VERSION}};
}

struct ImageRow {
  int64_t index = 0;
  std::string path, sha256, error;
  int width = 0, height = 0;
};

// One batch read and decoded: the images of positions [from, end) of the shard by slot.
struct DecodedBatch {
  int64_t end = 0;
  std::vector<int64_t> slotImage;  // image in each slot (-1: none or unreadable)
  std::vector<ImageRow> rows;      // in scan order
  std::vector<Tensor> inputs;      // by slot (empty: none)
  bool any = false;                // some slot holds an image
};

// Reads one image as the network sees it; on failure fills row.error and returns an empty tensor.
Tensor readImage(const ImageEntry& e, const InputSpec& spec, const ImageReadOptions& read,
                 ImageRow& row) {
  try {
    const std::string bytes = readFile(e.path, size_t(1) << 31);
    row.sha256 = sha256Hex(bytes);
    const cv::Mat bgr = decodeImageBgr(bytes, e.path.string(), read);
    row.width = bgr.cols;
    row.height = bgr.rows;
    const cv::Mat crop = resizeAndCrop(bgr, int(spec.shape[1]), int(spec.shape[2]));
    return imageToTensor(crop, int(spec.shape[0]), spec.preprocess);
  } catch (const Error& ex) {
    row.error = ex.what();
  } catch (const cv::Exception& ex) {
    row.error = "'" + e.path.string() + "': " + ex.what();
  }
  return Tensor();
}

// An exclusive flock on the database file for the life of a scan.
class WriterLock {
 public:
  explicit WriterLock(const fs::path& path) {
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0) throw Error("cannot open '" + path.string() + "': " + std::strerror(errno));
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(m_fd);
      throw Error("'" + path.string() + "' is being written by another scan" +
                  (err == EWOULDBLOCK ? std::string(" (wait for it to end, or give another --db)")
                                      : std::string(": ") + std::strerror(err)));
    }
  }
  ~WriterLock() { ::close(m_fd); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  int m_fd = -1;
};

}  // namespace

ScanSummary runScan(std::shared_ptr<const CompiledNet> net, const std::vector<ImageEntry>& images,
                    const fs::path& dbPath, const ScanOptions& o, ProgressSink* progress) {
  const NetworkDef& def = net->def();
  if (images.empty()) throw UsageError("no images to scan");
  if (o.topK < 1 || o.topK > 1000) throw UsageError("top-K must be within 1..1000");
  if (o.shards < 1 || o.shard < 0 || o.shard >= o.shards)
    throw UsageError("shard " + std::to_string(o.shard) + "/" + std::to_string(o.shards) +
                     " is not one of 0.." + std::to_string(o.shards - 1));
  if (def.input.shape.rank() != 3)
    throw Error("network input '" + def.input.name + "' has shape " + def.input.shape.str() +
                ", which is not an image (C x H x W)");

  // The layers, resolved and checked before the database is touched.
  std::vector<size_t> layers;
  if (o.layers.empty())
    layers = defaultScanLayers(def);
  else
    for (const std::string& l : o.layers) layers.push_back(def.resolveLayer(l));
  if (layers.empty()) throw Error("'" + def.name + "' has no convolution to scan; give --layers");
  std::vector<ScanLayer> info;
  std::vector<std::string> layerNames;
  std::set<size_t> seen;
  const std::vector<Shape> shapes = def.outputShapes();
  for (size_t l : layers) {
    const Shape& s = shapes[l];
    if (s.rank() != 1 && s.rank() != 3)
      throw Error("layer '" + def.layers[l].name + "' has output " + s.str() +
                  "; expected channels (C or C x H x W)");
    if (!seen.insert(l).second)
      throw UsageError("layer '" + def.layers[l].name + "' is listed twice");
    info.push_back({def.layers[l].name, l, int(s[0]), s.rank() == 3 ? int(s[1]) : 1,
                    s.rank() == 3 ? int(s[2]) : 1});
    layerNames.push_back(def.layers[l].name);
  }

  ScanSummary summary;
  summary.layers = layerNames;
  const int64_t n = int64_t(images.size());
  const int64_t count = o.shard < n ? (n - o.shard + o.shards - 1) / o.shards : 0;
  summary.images = count;

  // Open or create the database; refuse one that holds a different scan.
  const auto params = recordedParams(def, images, layerNames, o);
  // One writer per database: a second scan into it (the same command started twice, a requeued
  // batch job whose first run still lives) is refused instead of mixing its rows in. flock, not
  // SQLite's fcntl locks: ours is taken before SQLite opens the file and released after it
  // closes it, since closing another descriptor of the file would drop SQLite's own locks.
  const WriterLock lock(dbPath);
  Database db(dbPath, true);
  bool fresh;
  {
    // A new file, or one without tables: a run killed inside its first transaction leaves that
    // (SQLite rolls the transaction back when the file is opened again).
    Statement s(db, "SELECT count(*) FROM sqlite_master");
    fresh = !s.step() || s.integer(0) == 0;
  }
  int64_t done = 0;
  if (fresh) {
    Transaction t(db);
    createSchema(db);
    for (const auto& [k, v] : params) setMeta(db, k, v);
    setMeta(db, "images_done", "0");
    setMeta(db, "image_root",
            o.imageRoot.empty() ? "" : fs::absolute(o.imageRoot).lexically_normal().string());
    Statement ins(db, "INSERT INTO layers VALUES (?, ?, ?, ?, ?, ?)");
    for (size_t i = 0; i < info.size(); ++i)
      ins.bind(1, int64_t(i))
          .bind(2, info[i].name)
          .bind(3, int64_t(info[i].index))
          .bind(4, int64_t(info[i].channels))
          .bind(5, int64_t(info[i].height))
          .bind(6, int64_t(info[i].width))
          .run();
    t.commit();
  } else {
    const auto meta = readMeta(db);
    {
      // A damaged file (cut short, overwritten) is refused before anything is written to it.
      Statement check(db, "PRAGMA quick_check");
      if (!check.step() || check.text(0) != "ok")
        throw Error("'" + dbPath.string() + "' is damaged (SQLite quick_check: " + check.text(0) +
                    "); delete it to start over");
    }
    for (const auto& [k, v] : params) {
      auto it = meta.find(k);
      const std::string have = it == meta.end() ? "(none)" : it->second;
      if (have != v)
        throw Error("'" + dbPath.string() + "' holds a scan with " + k + " " + have +
                    "; this scan has " + k + " " + v +
                    " (give another --db, or delete it to start over)");
    }
    done = std::stoll(meta.at("images_done"));
    if (done < 0 || done > count)
      throw Error("'" + dbPath.string() + "': images_done " + std::to_string(done) +
                  " is out of range (damaged database)");
  }
  summary.resumed = done;

  // Every unit's top-K, from what earlier runs committed.
  std::vector<size_t> base(info.size() + 1, 0);
  for (size_t i = 0; i < info.size(); ++i) base[i + 1] = base[i] + size_t(info[i].channels);
  summary.units = int64_t(base.back());
  std::vector<TopK> top(base.back(), TopK(o.topK));
  {
    Statement s(db, "SELECT layer, unit, image, y, x, value FROM topk ORDER BY layer, unit, rank");
    std::map<std::string, size_t> ord;
    for (size_t i = 0; i < info.size(); ++i) ord[info[i].name] = i;
    while (s.step()) {
      auto it = ord.find(s.text(0));
      const int64_t unit = s.integer(1);
      if (it == ord.end() || unit < 0 || unit >= info[it->second].channels)
        throw Error("'" + dbPath.string() + "': a top-K row names an unknown unit");
      top[base[it->second] + size_t(unit)].offer(
          {float(s.real(5)), s.integer(2), int(s.integer(3)), int(s.integer(4))});
    }
    Statement bad(db, "SELECT count(*) FROM images WHERE error IS NOT NULL");
    bad.step();
    summary.skipped = bad.integer(0);
  }

  Session session(net);
  RunOptions lean;
  lean.keepAll = false;
  lean.keep = layers;
  const int batch = std::max(1, o.batch);
  const InputSpec& spec = def.input;
  Statement insImage(db, "INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?, ?)");
  Statement delTop(db, "DELETE FROM topk WHERE layer = ? AND unit = ?");
  Statement insTop(db, "INSERT INTO topk VALUES (?, ?, ?, ?, ?, ?, ?)");
  Statement setDone(db, "UPDATE meta SET value = ? WHERE key = 'images_done'");
  std::vector<char> changed(top.size());

  reportProgress(progress, done, count);
  // Decoding overlaps inference: while a batch runs, the next one is read and decoded on another
  // thread (a queue of one decoded batch). Reading is the same code on the same images in the
  // same order, so the rows are exactly those of a serial scan.
  auto prepare = [&](int64_t from) {
    DecodedBatch b;
    b.slotImage.assign(size_t(batch), -1);
    b.inputs.resize(size_t(batch));
    // Image g always runs in slot g % batch of a full-size batch (zeros in the unused slots):
    // oneDNN's inner products give a row's values with last bits that depend on its row (up to
    // 2 ulp on zf-small's fc6; convolutions do not) and its kernels depend on the batch size,
    // but a row never depends on the other rows. So a value is the same whichever run, resumed
    // or not, shard or not, computes it. A batch takes the shard's next images until a slot
    // repeats: all `batch` of them when gcd(shards, batch) = 1, else batch / gcd.
    b.end = from;
    while (b.end < count) {
      const int64_t g = o.shard + b.end * o.shards;
      if (b.slotImage[size_t(g % batch)] >= 0) break;
      b.slotImage[size_t(g % batch)] = g;
      ++b.end;
    }
    for (int64_t p = from; p < b.end; ++p) {
      const int64_t g = o.shard + p * o.shards;
      ImageRow row;
      row.index = g;
      row.path = images[size_t(g)].name;
      Tensor t = readImage(images[size_t(g)], spec, o.read, row);
      if (row.error.empty()) {
        b.inputs[size_t(g % batch)] = std::move(t);
        b.any = true;
      } else {
        b.slotImage[size_t(g % batch)] = -1;
      }
      b.rows.push_back(std::move(row));
    }
    return b;
  };
  std::future<DecodedBatch> ahead;
  if (done < count) ahead = std::async(std::launch::async, prepare, done);
  while (done < count) {
    DecodedBatch b = ahead.get();
    const int64_t end = b.end;
    if (end < count) ahead = std::async(std::launch::async, prepare, end);
    std::vector<int64_t>& slotImage = b.slotImage;
    std::vector<ImageRow>& rows = b.rows;
    std::vector<Tensor>& inputs = b.inputs;
    const bool any = b.any;
    for (const ImageRow& row : rows)
      if (!row.error.empty()) {
        ++summary.skipped;
        if (o.warn) o.warn("skipping " + row.path + ": " + row.error);
      }
    std::fill(changed.begin(), changed.end(), 0);
    if (any) {
      for (Tensor& t : inputs)
        if (t.empty()) t = Tensor(spec.shape.withBatch(1), 0.0f);
      const Tensor input = Tensor::stack(inputs);
      CancellationOnly cancel(progress);
      lean.progress = &cancel;
      auto acts = session.run(input, lean);
      for (size_t li = 0; li < info.size(); ++li) {
        const std::vector<ChannelPeak> peaks = acts->channelPeaks(info[li].index);
        const size_t channels = size_t(info[li].channels);
        for (int c = 0; c < info[li].channels; ++c) {
          TopK& t = top[base[li] + size_t(c)];
          // Slots in image order (a batch's slots may wrap around): ties go to the earlier image.
          for (int64_t p = done; p < end; ++p) {
            const int64_t g = o.shard + p * o.shards;
            const int64_t slot = g % batch;
            if (slotImage[size_t(slot)] != g) continue;
            const ChannelPeak& r = peaks[size_t(slot) * channels + size_t(c)];
            if (std::isnan(r.value)) continue;
            if (t.offer({r.value, g, r.y, r.x})) changed[base[li] + size_t(c)] = 1;
          }
        }
      }
    }
    // One transaction per batch: the images, the changed units' top-K, and the count done.
    Transaction t(db);
    for (const ImageRow& r : rows) {
      insImage.bind(1, r.index).bind(2, r.path);
      if (r.error.empty())
        insImage.bind(3, int64_t(r.width)).bind(4, int64_t(r.height)).bindNull(6);
      else
        insImage.bindNull(3).bindNull(4).bind(6, r.error);
      if (r.sha256.empty())
        insImage.bindNull(5);
      else
        insImage.bind(5, r.sha256);
      insImage.run();
    }
    for (size_t li = 0; li < info.size(); ++li)
      for (int c = 0; c < info[li].channels; ++c) {
        const size_t u = base[li] + size_t(c);
        if (!changed[u]) continue;
        delTop.bind(1, info[li].name).bind(2, int64_t(c)).run();
        const auto& entries = top[u].entries();
        for (size_t k = 0; k < entries.size(); ++k)
          insTop.bind(1, info[li].name)
              .bind(2, int64_t(c))
              .bind(3, int64_t(k + 1))
              .bind(4, entries[k].image)
              .bind(5, int64_t(entries[k].y))
              .bind(6, int64_t(entries[k].x))
              .bind(7, double(entries[k].value))
              .run();
      }
    setDone.bind(1, std::to_string(end)).run();
    t.commit();
    summary.scanned += end - done;
    done = end;
    reportProgress(progress, done, count);
  }
  return summary;
}

// ----- reading -----

struct ScanReader::Impl {
  explicit Impl(const fs::path& p) : db(p, false) {}
  Database db;
};

ScanReader::ScanReader(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw Error("'" + path.string() + "' does not exist (or is not a file)");
  m_impl = std::make_unique<Impl>(path);
  m_meta = readMeta(m_impl->db);
  Statement s(m_impl->db, "SELECT name, layer, channels, height, width FROM layers ORDER BY ord");
  while (s.step())
    m_layers.push_back(
        {s.text(0), size_t(s.integer(1)), int(s.integer(2)), int(s.integer(3)), int(s.integer(4))});
}

ScanReader::~ScanReader() = default;

const ScanLayer& ScanReader::layer(const std::string& name) const {
  for (const ScanLayer& l : m_layers)
    if (l.name == name) return l;
  std::string names;
  for (const ScanLayer& l : m_layers) names += (names.empty() ? "" : ", ") + l.name;
  throw Error("layer '" + name + "' was not scanned in '" + m_impl->db.path().string() +
              "' (scanned: " + names + ")");
}

bool ScanReader::complete() const {
  const std::string& shard = m_meta.at("shard");
  const int64_t n = std::stoll(m_meta.at("image_count"));
  const int64_t i = std::stoll(shard.substr(0, shard.find('/')));
  const int64_t N = std::stoll(shard.substr(shard.find('/') + 1));
  const int64_t count = i < n ? (n - i + N - 1) / N : 0;
  return std::stoll(m_meta.at("images_done")) == count;
}

std::vector<ScanEntry> ScanReader::topK(const std::string& layerName, int lo, int hi) const {
  const ScanLayer& l = layer(layerName);
  Statement s(m_impl->db,
              "SELECT t.unit, t.rank, t.image, i.path, t.y, t.x, t.value FROM topk t JOIN images i "
              "ON i.idx = t.image WHERE t.layer = ? AND t.unit BETWEEN ? AND ? ORDER BY t.unit, "
              "t.rank");
  s.bind(1, l.name).bind(2, int64_t(lo)).bind(3, int64_t(hi));
  std::vector<ScanEntry> out;
  while (s.step())
    out.push_back({int(s.integer(0)), int(s.integer(1)), s.integer(2), s.text(3), int(s.integer(4)),
                   int(s.integer(5)), s.real(6)});
  return out;
}

int64_t ScanReader::imageCount() const {
  Statement s(m_impl->db, "SELECT count(*) FROM images");
  s.step();
  return s.integer(0);
}

int64_t ScanReader::skippedCount() const {
  Statement s(m_impl->db, "SELECT count(*) FROM images WHERE error IS NOT NULL");
  s.step();
  return s.integer(0);
}

std::string ScanReader::imageHash(int64_t index) const {
  Statement s(m_impl->db, "SELECT sha256 FROM images WHERE idx = ?");
  s.bind(1, index);
  return s.step() && !s.isNull(0) ? s.text(0) : std::string();
}

std::vector<std::string> dumpScanRows(const fs::path& path) {
  Database db(path, false);
  readMeta(db);
  std::vector<std::string> out;
  for (const char* sql :
       {"SELECT 'meta', * FROM meta ORDER BY key", "SELECT 'layers', * FROM layers ORDER BY ord",
        "SELECT 'images', * FROM images ORDER BY idx",
        "SELECT 'topk', * FROM topk ORDER BY layer, unit, rank"}) {
    Statement s(db, sql);
    while (s.step()) {
      std::string line;
      for (int c = 0; c < s.columns(); ++c) line += (c ? "|" : "") + s.cell(c);
      out.push_back(std::move(line));
    }
  }
  return out;
}

}  // namespace zfvis
