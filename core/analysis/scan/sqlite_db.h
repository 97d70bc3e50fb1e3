// A thin RAII layer over the SQLite C API for the scan database: one connection, prepared
// statements, transactions; every failure becomes an Error naming the database file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace zfvis::scan_detail {

class Statement;

/// One open database file.
class Database {
 public:
  /// Opens `path` (read-only, or read-write creating it); throws Error naming it.
  Database(const std::filesystem::path& path, bool writable);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Runs SQL without results (several statements allowed).
  void exec(const std::string& sql);
  /// Throws Error "'FILE': WHAT: sqlite message" for the last failure.
  [[noreturn]] void fail(const std::string& what) const;
  /// The file.
  const std::filesystem::path& path() const { return m_path; }
  /// The raw handle.
  sqlite3* handle() const { return m_db; }

 private:
  std::filesystem::path m_path;
  sqlite3* m_db = nullptr;
};

/// A prepared statement; bind with 1-based indices, step() until it returns false.
class Statement {
 public:
  Statement(Database& db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v);
  Statement& bind(int i, double v);
  Statement& bind(int i, const std::string& v);
  Statement& bindNull(int i);
  /// Advances; true while a row is available.
  bool step();
  /// Runs to completion and resets for the next use.
  void run();
  /// Resets for the next use (bindings kept).
  void reset();

  int64_t integer(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  bool isNull(int col) const;
  /// Number of result columns.
  int columns() const;
  /// Any column as text: NULL as "NULL", reals as exact hex floats ("%a").
  std::string cell(int col) const;

 private:
  Database& m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

/// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed without commit().
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& m_db;
  bool m_done = false;
};

}  // namespace zfvis::scan_detail

namespace zfvis::scan_detail {

/// The scan database's format version (meta key "schema").
inline constexpr const char* kSchemaVersion = "1";

/// Creates the four tables (in the caller's transaction).
void createSchema(Database& db);
/// Reads the meta table; throws Error "not a zfvis scan database" when `db` has none.
std::map<std::string, std::string> readMeta(Database& db);
/// Sets one meta value.
void setMeta(Database& db, const std::string& key, const std::string& value);

}  // namespace zfvis::scan_detail
