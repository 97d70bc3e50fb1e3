// Files in the model cache: the `.part` of a download in progress and the `.sha256` sidecar
// that spares rehashing a verified file. No network here: looking a model up needs only this.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/base/progress.h"

namespace zfvis {

/// State of a file already in the cache, as checkCachedFile sees it.
enum class CachedFileState {
  Missing,     // no such file
  Verified,    // right size and SHA-256 (from a fresh hash or a matching .sha256 sidecar)
  Unverified,  // right size, but not hashed because hashing was not allowed
  Corrupt,     // wrong size or wrong SHA-256
};

/// Checks a cached file against `size` and `sha256`. A `<file>.sha256` sidecar recording the
/// digest, size and modification time spares rehashing; without one (or when it is stale) the file
/// is hashed when `allowHashing`, reporting to `sink`, and a fresh sidecar is written.
CachedFileState checkCachedFile(const std::filesystem::path& file, int64_t size,
                                const std::string& sha256, ProgressSink* sink = nullptr,
                                bool allowHashing = true);

/// `<file>.part`: where a download in progress lives.
std::filesystem::path partialPath(const std::filesystem::path& file);
/// `<file>.sha256`: the verification sidecar.
std::filesystem::path sidecarPath(const std::filesystem::path& file);

/// Whether `file`'s sidecar records `sha256` (lower case), `size` and the file's current mtime.
bool sidecarMatches(const std::filesystem::path& file, int64_t size, const std::string& sha256);

/// Writes the `.sha256` sidecar of a verified `file` (quietly skipped on a read-only cache).
void writeSidecar(const std::filesystem::path& file, int64_t size, const std::string& sha256);

}  // namespace zfvis
