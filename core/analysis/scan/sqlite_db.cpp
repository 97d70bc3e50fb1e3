#include "core/analysis/scan/sqlite_db.h"

#include <sqlite3.h>

#include <cstdio>

#include "core/base/error.h"

namespace zfvis::scan_detail {

Database::Database(const std::filesystem::path& path, bool writable) : m_path(path) {
  const int flags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path.c_str(), &m_db, flags, nullptr) != SQLITE_OK) {
    const std::string msg = m_db ? sqlite3_errmsg(m_db) : "out of memory";
    sqlite3_close(m_db);
    m_db = nullptr;
    throw Error("'" + path.string() + "': cannot open the scan database (" + msg + ")");
  }
  // A scan waits for another process's write (e.g. scan-show while a scan commits) rather than
  // failing at once.
  sqlite3_busy_timeout(m_db, 10000);
  // A commit is on disk before the next batch starts (the default of most builds, made sure).
  // A file that is not a database fails here; the destructor does not run for a constructor
  // that throws, so the connection (and its file descriptor) is closed here.
  try {
    if (writable) exec("PRAGMA synchronous = FULL");
  } catch (...) {
    sqlite3_close(m_db);
    m_db = nullptr;
    throw;
  }
}

Database::~Database() {
  sqlite3_close(m_db);
}

void Database::fail(const std::string& what) const {
  const int code = sqlite3_errcode(m_db) & 0xff;
  const std::string kind = code == SQLITE_NOTADB || code == SQLITE_CORRUPT
                               ? "not a zfvis scan database or a damaged one"
                               : what;
  throw Error("'" + m_path.string() + "': " + kind + " (" + sqlite3_errmsg(m_db) + ")");
}

void Database::exec(const std::string& sql) {
  if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    fail("database error");
}

Statement::Statement(Database& db, const std::string& sql) : m_db(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &m_stmt, nullptr) != SQLITE_OK)
    db.fail("not a zfvis scan database or a damaged one");
}

Statement::~Statement() {
  sqlite3_finalize(m_stmt);
}

Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(m_stmt, i, v);
  return *this;
}
Statement& Statement::bind(int i, double v) {
  sqlite3_bind_double(m_stmt, i, v);
  return *this;
}
Statement& Statement::bind(int i, const std::string& v) {
  sqlite3_bind_text(m_stmt, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bindNull(int i) {
  sqlite3_bind_null(m_stmt, i);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  m_db.fail("database error");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(m_stmt);
}

int64_t Statement::integer(int col) const {
  return sqlite3_column_int64(m_stmt, col);
}
double Statement::real(int col) const {
  return sqlite3_column_double(m_stmt, col);
}
std::string Statement::text(int col) const {
  const unsigned char* p = sqlite3_column_text(m_stmt, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         size_t(sqlite3_column_bytes(m_stmt, col)))
           : std::string();
}
bool Statement::isNull(int col) const {
  return sqlite3_column_type(m_stmt, col) == SQLITE_NULL;
}

int Statement::columns() const {
  return sqlite3_column_count(m_stmt);
}

std::string Statement::cell(int col) const {
  switch (sqlite3_column_type(m_stmt, col)) {
    case SQLITE_NULL:
      return "NULL";
    case SQLITE_FLOAT: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%a", real(col));
      return buf;
    }
    default:
      return text(col);
  }
}

Transaction::Transaction(Database& db) : m_db(db) {
  m_db.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (!m_done) sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  m_db.exec("COMMIT");
  m_done = true;
}

}  // namespace zfvis::scan_detail

namespace zfvis::scan_detail {

void createSchema(Database& db) {
  db.exec(
      "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE layers(ord INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, layer INTEGER NOT "
      "NULL, channels INTEGER NOT NULL, height INTEGER NOT NULL, width INTEGER NOT NULL);"
      "CREATE TABLE images(idx INTEGER PRIMARY KEY, path TEXT NOT NULL, width INTEGER, height "
      "INTEGER, sha256 TEXT, error TEXT);"
      "CREATE TABLE topk(layer TEXT NOT NULL, unit INTEGER NOT NULL, rank INTEGER NOT NULL, "
      "image INTEGER NOT NULL, y INTEGER NOT NULL, x INTEGER NOT NULL, value REAL NOT NULL, "
      "PRIMARY KEY(layer, unit, rank)) WITHOUT ROWID;");
}

std::map<std::string, std::string> readMeta(Database& db) {
  {
    Statement s(db,
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                "('meta', 'layers', 'images', 'topk')");
    if (!s.step() || s.integer(0) != 4)
      throw Error("'" + db.path().string() +
                  "' is not a zfvis scan database (a SQLite file without its tables)");
  }
  std::map<std::string, std::string> meta;
  Statement s(db, "SELECT key, value FROM meta");
  while (s.step()) meta[s.text(0)] = s.text(1);
  auto it = meta.find("schema");
  if (it == meta.end())
    throw Error("'" + db.path().string() + "' is not a zfvis scan database (no schema version)");
  if (it->second != kSchemaVersion)
    throw Error("'" + db.path().string() + "' has scan schema " + it->second +
                "; this zfvis reads " + kSchemaVersion);
  // Every key the readers use, numbers where numbers belong: a hand-edited or damaged table is
  // one readable error here, not a failure deep inside.
  auto number = [&](const std::string& text) {
    return !text.empty() && text.size() < 19 &&
           text.find_first_not_of("0123456789") == std::string::npos;
  };
  for (const char* key : {"model", "preprocess", "layers", "top_k", "batch", "shard", "image_count",
                          "image_list", "images_done", "image_root"}) {
    auto k = meta.find(key);
    bool ok = k != meta.end();
    if (ok && std::string(key) == "shard") {
      const size_t slash = k->second.find('/');
      ok = slash != std::string::npos && number(k->second.substr(0, slash)) &&
           number(k->second.substr(slash + 1)) &&
           std::stoll(k->second.substr(0, slash)) < std::stoll(k->second.substr(slash + 1));
    } else if (ok && (std::string(key) == "top_k" || std::string(key) == "batch" ||
                      std::string(key) == "image_count" || std::string(key) == "images_done")) {
      // top_k and batch within the scan's own limits (1..1000, 1..4096).
      const std::string name = key;
      ok = number(k->second) && (name == "images_done" || name == "image_count" ||
                                 (std::stoll(k->second) >= 1 &&
                                  std::stoll(k->second) <= (name == "top_k" ? 1000 : 4096)));
    }
    if (!ok)
      throw Error("'" + db.path().string() + "' is a damaged scan database (meta " + key +
                  (k == meta.end() ? " is missing)" : " is '" + k->second + "')"));
  }
  return meta;
}

void setMeta(Database& db, const std::string& key, const std::string& value) {
  Statement s(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
  s.bind(1, key).bind(2, value).run();
}

}  // namespace zfvis::scan_detail
