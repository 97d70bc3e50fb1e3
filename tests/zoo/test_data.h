// Shared helpers for the fetch tests: deterministic payload bytes and a scratch folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace zfvis::test {

/// `size` deterministic bytes from a 32-bit xorshift (seed 2463534242, shifts 13/17/5, low byte).
inline std::string payloadBytes(size_t size) {
  std::string out(size, '\0');
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x & 0xff);
  }
  return out;
}

/// Size of the test payload served as the "model" file.
constexpr size_t kPayloadSize = 300000;
/// SHA-256 of payloadBytes(kPayloadSize), computed independently with coreutils' sha256sum and
/// Python's hashlib.
constexpr const char* kPayloadSha256 =
    "8b98800b408444263b00c41431b20932e45fd5050b147fd3750afdb2782d7e12";

/// A fresh, empty scratch folder under the system temp folder, removed on destruction.
class ScratchDir {
 public:
  /// Creates `<tmp>/zfvis-fetch-<tag>-<pid>`, emptied first.
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  /// The folder.
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

/// Reads a whole file ("" when missing).
std::string slurp(const std::filesystem::path& file);
/// Writes a whole file.
void spit(const std::filesystem::path& file, const std::string& bytes);
/// Makes libcurl talk to 127.0.0.1 directly even when the environment sets a proxy.
void bypassProxies();

}  // namespace zfvis::test
