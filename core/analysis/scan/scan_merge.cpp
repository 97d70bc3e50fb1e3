// mergeScans: shard databases into the database one unsharded scan writes.
#include <unistd.h>

#include <map>
#include <set>

#include "core/analysis/scan/scan.h"
#include "core/analysis/scan/sqlite_db.h"
#include "core/analysis/scan/top_k.h"
#include "core/base/error.h"

namespace zfvis {
namespace fs = std::filesystem;
using namespace scan_detail;

namespace {

std::pair<int64_t, int64_t> parseShard(const std::string& s) {
  const size_t slash = s.find('/');
  return {std::stoll(s.substr(0, slash)), std::stoll(s.substr(slash + 1))};
}

}  // namespace

void mergeScans(const std::vector<fs::path>& shards, const fs::path& out) {
  if (shards.empty()) throw UsageError("no shard databases to merge");
  std::error_code ec;
  if (fs::exists(out, ec))
    throw Error("'" + out.string() +
                "' exists; scan-merge writes a new database (remove it first)");
  for (const fs::path& s : shards)
    if (fs::exists(s, ec) && fs::equivalent(s, out, ec))
      throw Error("'" + out.string() + "' is one of the shards");

  std::map<std::string, std::string> first;
  std::set<int64_t> have;
  int64_t total = 0;
  std::vector<std::unique_ptr<Database>> dbs;
  for (const fs::path& path : shards) {
    if (!fs::is_regular_file(path, ec)) throw Error("'" + path.string() + "' does not exist");
    auto db = std::make_unique<Database>(path, false);
    std::map<std::string, std::string> meta = readMeta(*db);
    const auto [i, n] = parseShard(meta.at("shard"));
    const int64_t count = std::stoll(meta.at("image_count"));
    const int64_t want = i < count ? (count - i + n - 1) / n : 0;
    if (std::stoll(meta.at("images_done")) != want)
      throw Error("'" + path.string() + "' is an unfinished scan (" + meta.at("images_done") +
                  " of " + std::to_string(want) +
                  " images); finish it by rerunning its scan command");
    if (first.empty()) {
      first = meta;
      total = n;
    } else {
      for (const auto& [k, v] : first) {
        if (k == "shard" || k == "images_done" || k == "image_root") continue;
        auto it = meta.find(k);
        const std::string other = it == meta.end() ? "(none)" : it->second;
        if (other != v)
          throw Error("'" + path.string() + "' has " + k + " " + other + "; '" +
                      shards[0].string() + "' has " + k + " " + v + " (not shards of one scan)");
      }
      if (n != total)
        throw Error("'" + path.string() + "' is shard " + meta.at("shard") + "; '" +
                    shards[0].string() + "' is shard " + first.at("shard") +
                    " (shards of one scan share N)");
    }
    if (!have.insert(i).second)
      throw Error("'" + path.string() + "' is shard " + meta.at("shard") + ", given twice");
    dbs.push_back(std::move(db));
  }
  for (int64_t i = 0; i < total; ++i)
    if (!have.count(i))
      throw Error("shard " + std::to_string(i) + "/" + std::to_string(total) +
                  " is missing; scan-merge needs all " + std::to_string(total));

  // Every unit's merged top-K: each shard holds the best K of its images, so the best K of their
  // union is the best K of all images.
  const int k = int(std::stoll(first.at("top_k")));
  std::map<std::pair<std::string, int64_t>, TopK> top;
  for (auto& db : dbs) {
    Statement s(*db, "SELECT layer, unit, image, y, x, value FROM topk");
    while (s.step())
      top.try_emplace({s.text(0), s.integer(1)}, k)
          .first->second.offer(
              {float(s.real(5)), s.integer(2), int(s.integer(3)), int(s.integer(4))});
  }

  const fs::path tmp = out.string() + ".tmp." + std::to_string(::getpid());
  fs::remove(tmp, ec);
  try {
    Database db(tmp, true);
    Transaction t(db);
    createSchema(db);
    for (const auto& [key, v] : first) setMeta(db, key, v);
    setMeta(db, "shard", "0/1");
    setMeta(db, "images_done", first.at("image_count"));
    {
      Statement s(*dbs[0], "SELECT * FROM layers ORDER BY ord");
      Statement ins(db, "INSERT INTO layers VALUES (?, ?, ?, ?, ?, ?)");
      while (s.step())
        ins.bind(1, s.integer(0))
            .bind(2, s.text(1))
            .bind(3, s.integer(2))
            .bind(4, s.integer(3))
            .bind(5, s.integer(4))
            .bind(6, s.integer(5))
            .run();
    }
    Statement ins(db, "INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)");
    for (auto& src : dbs) {
      Statement s(*src, "SELECT * FROM images");
      while (s.step()) {
        ins.bind(1, s.integer(0)).bind(2, s.text(1));
        for (int c = 2; c < 6; ++c) {
          if (s.isNull(c))
            ins.bindNull(c + 1);
          else if (c < 4)
            ins.bind(c + 1, s.integer(c));
          else
            ins.bind(c + 1, s.text(c));
        }
        ins.run();
      }
    }
    Statement insTop(db, "INSERT INTO topk VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const auto& [key, t] : top) {
      const auto& e = t.entries();
      for (size_t r = 0; r < e.size(); ++r)
        insTop.bind(1, key.first)
            .bind(2, key.second)
            .bind(3, int64_t(r + 1))
            .bind(4, e[r].image)
            .bind(5, int64_t(e[r].y))
            .bind(6, int64_t(e[r].x))
            .bind(7, double(e[r].value))
            .run();
    }
    t.commit();
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot write '" + out.string() + "' (" + ec.message() + ")");
  }
}

}  // namespace zfvis
