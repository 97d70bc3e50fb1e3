#include "core/base/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/base/error.h"

namespace zfvis {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {
  m_impl->ctx = EVP_MD_CTX_new();
  if (!m_impl->ctx) throw std::bad_alloc();
  reset();
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(m_impl->ctx);
}

void Sha256::reset() {
  if (EVP_DigestInit_ex(m_impl->ctx, EVP_sha256(), nullptr) != 1)
    throw Error("SHA-256: cannot initialise OpenSSL's digest");
}

void Sha256::update(const void* data, size_t size) {
  if (size == 0) return;
  if (EVP_DigestUpdate(m_impl->ctx, data, size) != 1) throw Error("SHA-256: digest update failed");
}

std::string Sha256::hexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(m_impl->ctx, digest, &length) != 1 || length != 32)
    throw Error("SHA-256: digest finalisation failed");
  static const char* const kHex = "0123456789abcdef";
  std::string out(64, '0');
  for (unsigned i = 0; i < 32; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  reset();
  return out;
}

std::string sha256Hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hexDigest();
}

std::string sha256File(const std::filesystem::path& path, ProgressSink* sink) {
  std::error_code ec;
  const auto total = std::filesystem::file_size(path, ec);
  if (ec) throw Error("cannot hash '" + path.string() + "': " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot hash '" + path.string() + "': " + std::strerror(errno));
  Sha256 h;
  std::vector<char> buffer(size_t(1) << 20);
  int64_t done = 0;
  reportProgress(sink, 0, static_cast<int64_t>(total));
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = in.gcount();
    if (n <= 0) break;
    h.update(buffer.data(), static_cast<size_t>(n));
    done += n;
    reportProgress(sink, done, static_cast<int64_t>(total));
  }
  if (in.bad()) throw Error("cannot hash '" + path.string() + "': read error");
  return h.hexDigest();
}

bool isSha256Hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

}  // namespace zfvis
