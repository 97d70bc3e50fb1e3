#include "core/zoo/cached_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/file_types.h"
#include "core/base/sha256.h"

namespace zfvis {

namespace fs = std::filesystem;

namespace {

// Modification time in nanoseconds since the Unix epoch, -1 when unknown.
int64_t mtimeTicks(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

bool sidecarMatches(const fs::path& file, int64_t size, const std::string& sha256) {
  std::ifstream in(sidecarPath(file));
  if (!in) return false;
  std::string digest, name, key;
  int64_t recordedSize = -1, recordedMtime = -1;
  if (!(in >> digest >> name)) return false;
  if (!(in >> key >> recordedSize) || key != "size") return false;
  if (!(in >> key >> recordedMtime) || key != "mtime") return false;
  return asciiLower(digest) == sha256 && recordedSize == size && recordedMtime == mtimeTicks(file);
}

void writeSidecar(const fs::path& file, int64_t size, const std::string& sha256) {
  std::ostringstream out;
  out << sha256 << "  " << file.filename().string() << "\nsize " << size << "\nmtime "
      << mtimeTicks(file) << "\n";
  try {
    writeFileAtomic(sidecarPath(file), out.str());
  } catch (const Error&) {
    // A read-only cache still works; the file is just rehashed next time.
  }
}

fs::path partialPath(const fs::path& file) {
  fs::path p = file;
  p += ".part";
  return p;
}

fs::path sidecarPath(const fs::path& file) {
  fs::path p = file;
  p += ".sha256";
  return p;
}

CachedFileState checkCachedFile(const fs::path& file, int64_t size, const std::string& sha256,
                                ProgressSink* sink, bool allowHashing) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return CachedFileState::Missing;
  if (!fs::is_regular_file(file, ec)) return CachedFileState::Corrupt;
  const auto actual = fs::file_size(file, ec);
  if (ec || static_cast<int64_t>(actual) != size) return CachedFileState::Corrupt;
  const std::string want = asciiLower(sha256);
  if (sidecarMatches(file, size, want)) return CachedFileState::Verified;
  if (!allowHashing) return CachedFileState::Unverified;
  if (sha256File(file, sink) != want) return CachedFileState::Corrupt;
  writeSidecar(file, size, want);
  return CachedFileState::Verified;
}

}  // namespace zfvis
