// SHA-256 (FIPS 180-4) digests of byte strings and files, as lowercase hex. Backed by OpenSSL's
// libcrypto; used to verify downloaded model files against the Model Zoo manifest.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/progress.h"

namespace zfvis {

/// An incremental SHA-256 computation: feed bytes with update(), read the digest with hexDigest().
class Sha256 {
 public:
  /// Starts an empty message.
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  /// Appends `size` bytes to the message.
  void update(const void* data, size_t size);
  /// Appends a byte string to the message.
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  /// Finishes the message and returns its digest as 64 lowercase hex digits; resets to empty.
  std::string hexDigest();
  /// Forgets everything fed so far (starts an empty message again).
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// The SHA-256 of a byte string, as 64 lowercase hex digits.
std::string sha256Hex(std::string_view bytes);

/// The SHA-256 of a whole file, read in chunks; reports bytes hashed to `sink` and throws
/// Cancelled when it asks to stop. Throws Error naming the file when it cannot be read.
std::string sha256File(const std::filesystem::path& path, ProgressSink* sink = nullptr);

/// True when `text` is 64 hex digits (either case).
bool isSha256Hex(std::string_view text);

}  // namespace zfvis
