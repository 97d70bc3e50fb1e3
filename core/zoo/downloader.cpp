#include "core/zoo/downloader.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/file_types.h"
#include "core/base/sha256.h"

namespace zfvis {

namespace fs = std::filesystem;

namespace {

std::string megabytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

void note(const DownloadOptions& options, const std::string& text) {
  if (options.onStatus) options.onStatus(text);
}

void removeQuietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

// ---- libcurl plumbing ----

void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw Error("cannot initialise libcurl");
  });
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// The open, locked .part file. Deletes it on scope exit when it is empty.
class PartFile {
 public:
  PartFile(const fs::path& path, const std::string& prefix) : m_path(path) {
    // O_NOFOLLOW: a .part planted as a symbolic link must not redirect the download into another
    // file (it would be truncated and then renamed into the cache as a link to it).
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (m_fd < 0 && errno == ELOOP)
      throw Error(prefix + "'" + path.string() +
                  "' is a symbolic link; refusing to write through it (delete it and run again)");
    if (m_fd < 0 && errno != EISDIR)
      throw Error(prefix + "cannot write '" + path.string() + "': " + std::strerror(errno));
    struct stat st {};
    const char* refused = nullptr;
    if (m_fd < 0 || ::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode))
      refused = "is not a regular file";
    else if (st.st_nlink > 1)
      refused = "has other hard links";
    if (refused) {
      if (m_fd >= 0) ::close(m_fd);
      m_fd = -1;
      throw Error(prefix + "'" + path.string() + "' " + refused +
                  "; refusing to write to it (delete it and run again)");
    }
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(m_fd);
      m_fd = -1;
      throw Error(prefix + "'" + path.string() +
                  "' is locked: another zfvis process is downloading it");
    }
  }
  ~PartFile() {
    if (m_fd < 0) return;
    if (!m_released && size() == 0) ::unlink(m_path.c_str());
    ::close(m_fd);
  }
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  int fd() const { return m_fd; }
  const fs::path& path() const { return m_path; }
  int64_t size() const {
    struct stat st {};
    return ::fstat(m_fd, &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
  }
  // Empties the file and moves the write position to its start.
  bool truncate() { return ::ftruncate(m_fd, 0) == 0 && ::lseek(m_fd, 0, SEEK_SET) == 0; }
  // Deletes the file from disk (the descriptor stays open until destruction).
  void discard() {
    ::unlink(m_path.c_str());
    m_released = true;
  }
  // Marks the file as renamed to its final name: nothing to clean up any more.
  void release() { m_released = true; }

 private:
  fs::path m_path;
  int m_fd = -1;
  bool m_released = false;
};

// Per-transfer state shared with the libcurl callbacks (which must not throw).
struct Transfer {
  PartFile* part = nullptr;
  Sha256* hasher = nullptr;
  ProgressSink* sink = nullptr;
  const DownloadOptions* options = nullptr;
  CURL* curl = nullptr;
  int64_t expected = 0;    // final size
  int64_t written = 0;     // bytes in the .part (and in the hasher)
  int64_t received = 0;    // bytes received by this call
  long status = 0;         // status code of the response being received
  bool decided = false;    // the current response's body has been accepted
  bool restarted = false;  // the server ignored the range: started over from zero
  bool cancelled = false;
  bool discardPart = false;      // the .part holds bytes that must not be resumed
  std::string contentRange;      // Content-Range header of the current response
  std::string error;             // why a callback stopped the transfer
  std::exception_ptr sinkError;  // an exception thrown by the progress sink
};

bool checkCancelled(Transfer& t) {
  if (!t.sink || t.cancelled) return t.cancelled;
  try {
    t.cancelled = t.sink->cancelled();
  } catch (...) {
    t.sinkError = std::current_exception();
    t.cancelled = true;
  }
  return t.cancelled;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string line(data, n);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (redirects, proxies, 100-continue)
    t.status = 0;
    if (auto sp = line.find(' '); sp != std::string::npos) t.status = std::atol(line.c_str() + sp);
    t.decided = false;
    t.contentRange.clear();
  } else if (auto colon = line.find(':');
             colon != std::string::npos && asciiLower(line.substr(0, colon)) == "content-range") {
    t.contentRange = line.substr(colon + 1);
  }
  return n;
}

// Accepts or refuses the body of the current response before its first byte is written.
bool startBody(Transfer& t) {
  if (t.status == 206) {
    long long start = -1;
    if (std::sscanf(t.contentRange.c_str(), " bytes %lld-", &start) != 1 || start != t.written) {
      t.error = "the server answered the range request for byte " + std::to_string(t.written) +
                " with Content-Range '" + t.contentRange + "'";
      t.discardPart = true;
      return false;
    }
  } else if (t.status == 200) {
    if (t.written > 0) {  // the server ignored the Range header: start over
      if (!t.part->truncate()) {
        t.error = "cannot truncate '" + t.part->path().string() + "': " + std::strerror(errno);
        return false;
      }
      t.hasher->reset();
      t.written = 0;
      t.restarted = true;
      try {
        note(*t.options, "the server does not support resuming; downloading from the start");
      } catch (...) {
        t.sinkError = std::current_exception();
        return false;
      }
    }
  } else {
    t.error = "HTTP " + std::to_string(t.status);
    return false;
  }
  curl_off_t length = -1;
  if (curl_easy_getinfo(t.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
      length >= 0 && t.written + length != t.expected) {
    t.error = "the server sends " + std::to_string(t.written + length) +
              " bytes but the manifest expects " + std::to_string(t.expected) +
              " (has the file changed upstream?)";
    t.discardPart = true;
    return false;
  }
  t.decided = true;
  return true;
}

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t.status >= 300 && t.status < 400) return n;  // body of a redirect that is being followed
  if (!t.decided && !startBody(t)) return 0;
  if (checkCancelled(t)) return 0;
  if (t.written + static_cast<int64_t>(n) > t.expected) {
    t.error = "the server sent more than the expected " + std::to_string(t.expected) + " bytes";
    t.discardPart = true;
    return 0;
  }
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(t.part->fd(), data + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      t.error = "cannot write '" + t.part->path().string() + "': " + std::strerror(errno);
      return 0;
    }
    done += static_cast<size_t>(w);
  }
  t.hasher->update(data, n);
  t.written += static_cast<int64_t>(n);
  t.received += static_cast<int64_t>(n);
  if (t.sink) {
    try {
      t.sink->report(t.written, t.expected);
    } catch (...) {
      t.sinkError = std::current_exception();
      return 0;
    }
  }
  return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return checkCancelled(*static_cast<Transfer*>(user)) ? 1 : 0;
}

// Hashes the first `bytes` of the .part (when resuming) so the final digest covers the whole file.
void hashExisting(PartFile& part, int64_t bytes, Sha256& hasher, const std::string& prefix) {
  std::vector<char> buffer(size_t(1) << 20);
  int64_t done = 0;
  while (done < bytes) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(bytes - done, buffer.size()));
    ssize_t r = ::pread(part.fd(), buffer.data(), want, done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      throw Error(prefix + "cannot read '" + part.path().string() +
                  "': " + (r < 0 ? std::strerror(errno) : "unexpected end of file"));
    hasher.update(buffer.data(), static_cast<size_t>(r));
    done += r;
  }
  if (::lseek(part.fd(), bytes, SEEK_SET) != bytes)
    throw Error(prefix + "cannot seek in '" + part.path().string() + "'");
}

// Runs one HTTP request that continues the .part from t.written, within the rate limit and
// before `deadline` (when set). Throws on failure.
void runTransfer(Transfer& t, const DownloadRequest& request, const DownloadOptions& options,
                 std::optional<std::chrono::steady_clock::time_point> deadline,
                 const std::string& prefix) {
  initCurlOnce();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) throw Error(prefix + "cannot create a libcurl handle");
  CURL* c = curl.get();
  t.curl = c;
  t.status = 0;
  t.decided = false;
  char errorBuffer[CURL_ERROR_SIZE] = {0};
  const std::string range = std::to_string(t.written) + "-";
  const std::string userAgent = std::string("zfvis/") + ZFVIS_VERSION;
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, userAgent.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds);
  // libcurl stops when fewer than LIMIT bytes/s arrive on average over TIME seconds.
  if (options.minRateBytesPerSecond > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options.minRateBytesPerSecond);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, std::max(1L, options.rateWindowSeconds));
  }
  if (deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *deadline - std::chrono::steady_clock::now());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(std::max<int64_t>(1, left.count())));
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  // A plain Range header (not CURLOPT_RESUME_FROM) so a 200 answer restarts instead of failing.
  if (t.written > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());

  const CURLcode rc = curl_easy_perform(c);
  if (t.sinkError) std::rethrow_exception(t.sinkError);
  if (t.cancelled) throw Cancelled();
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (t.discardPart) {
    t.part->discard();
    throw Error(prefix + t.error + "; the partial download was deleted");
  }
  if (!t.error.empty()) {
    if (t.error.rfind("HTTP ", 0) == 0) throw Error(prefix + t.error + " for " + request.url);
    throw Error(prefix + t.error);
  }
  if (rc != CURLE_OK) {
    std::string why = errorBuffer[0] ? errorBuffer : curl_easy_strerror(rc);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      // Said in our terms, with the options that change the limits (libcurl reports the rate
      // limit as "Operation too slow", the total timeout as "Operation timed out").
      if (options.minRateBytesPerSecond > 0 && why.rfind("Operation too slow", 0) == 0)
        why = "fewer than " + std::to_string(options.minRateBytesPerSecond) +
              " bytes/s arrived over " + std::to_string(options.rateWindowSeconds) +
              " s (--min-rate, --rate-window)";
      else if (deadline && why.rfind("Operation timed out", 0) == 0)
        why = "the total timeout of " + std::to_string(options.totalTimeoutSeconds) +
              " s was reached (--timeout)";
    }
    if (t.written == 0) throw Error(prefix + "cannot download " + request.url + ": " + why);
    throw Error(prefix + "download of " + request.url + " stopped at " + megabytes(t.written) +
                " of " + megabytes(t.expected) + ": " + why +
                " (run the same command again to resume)");
  }
  if (status != 200 && status != 206)  // a response without a body, e.g. a bare 404 or 416
    throw Error(prefix + "HTTP " + std::to_string(status) + " for " + request.url);
}

}  // namespace

DownloadResult downloadVerified(const DownloadRequest& request, ProgressSink* sink,
                                const DownloadOptions& options) {
  const std::string prefix = "fetch '" + request.label + "': ";
  if (request.url.empty()) throw Error(prefix + "no URL");
  if (request.size <= 0) throw Error(prefix + "the expected size must be positive");
  if (!isSha256Hex(request.sha256))
    throw Error(prefix + "the expected SHA-256 must be 64 hex digits, got '" + request.sha256 +
                "'");
  const std::string want = asciiLower(request.sha256);
  const fs::path& dest = request.destination;
  DownloadResult result;
  result.path = dest;

  std::error_code ec;
  if (dest.has_parent_path()) {
    fs::create_directories(dest.parent_path(), ec);
    if (ec)
      throw Error(prefix + "cannot create the folder '" + dest.parent_path().string() +
                  "': " + ec.message());
  }

  // An already cached file is used only when it verifies; otherwise it is fetched again.
  if (fs::exists(dest, ec)) {
    if (!sidecarMatches(dest, request.size, want))
      note(options, "verifying the cached file " + dest.string());
    const CachedFileState state = checkCachedFile(dest, request.size, want, sink);
    if (state == CachedFileState::Verified) {
      result.alreadyPresent = true;
      return result;
    }
    if (state != CachedFileState::Missing) {
      note(options, "the cached file " + dest.string() +
                        " does not match the manifest; downloading it again");
      removeQuietly(sidecarPath(dest));
      fs::remove(dest, ec);
      if (ec)
        throw Error(prefix + "cannot remove the bad cached file '" + dest.string() +
                    "': " + ec.message());
    }
  }

  PartFile part(partialPath(dest), prefix);
  Sha256 hasher;
  Transfer t;
  t.part = &part;
  t.hasher = &hasher;
  t.sink = sink;
  t.options = &options;
  t.expected = request.size;
  t.written = part.size();
  if (t.written > request.size) {
    note(options, "discarding " + part.path().string() + ": it is larger than the expected " +
                      std::to_string(request.size) + " bytes");
    if (!part.truncate())
      throw Error(prefix + "cannot truncate '" + part.path().string() +
                  "': " + std::strerror(errno));
    t.written = 0;
  }
  if (t.written > 0) {
    note(options, "resuming " + part.path().string() + " at " + megabytes(t.written));
    hashExisting(part, t.written, hasher, prefix);
    result.resumedFrom = t.written;
  }
  reportProgress(sink, t.written, t.expected);

  if (t.written < t.expected) {
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (options.totalTimeoutSeconds > 0)
      deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(options.totalTimeoutSeconds);
    for (int attempt = 0;; ++attempt) {
      try {
        runTransfer(t, request, options, deadline, prefix);
        break;
      } catch (const Error&) {
        // A server that cannot serve the requested range (416): start over once from zero.
        long status = t.status;
        if (attempt > 0 || status != 416 || t.written == 0) throw;
        note(options, "the server cannot resume at byte " + std::to_string(t.written) +
                          "; restarting from zero");
        if (!part.truncate())
          throw Error(prefix + "cannot truncate '" + part.path().string() + "'");
        hasher.reset();
        t.written = 0;
        t.restarted = true;
      }
    }
    if (t.restarted) result.resumedFrom = 0;
    result.resumed = result.resumedFrom > 0;
    result.bytesReceived = t.received;
  }

  if (t.written != request.size) {
    throw Error(prefix + "the transfer of " + request.url + " ended after " +
                std::to_string(t.written) + " of " + std::to_string(request.size) +
                " bytes (run the same command again to resume)");
  }
  const std::string got = hasher.hexDigest();
  if (got != want) {
    part.discard();
    throw Error(prefix + "SHA-256 mismatch for " + request.url + ": got " + got + ", expected " +
                want + "; the download was deleted");
  }
  if (::fsync(part.fd()) != 0)
    throw Error(prefix + "cannot write '" + part.path().string() + "': " + std::strerror(errno));
  if (::rename(part.path().c_str(), dest.c_str()) != 0)
    throw Error(prefix + "cannot rename '" + part.path().string() + "' to '" + dest.string() +
                "': " + std::strerror(errno));
  part.release();
  writeSidecar(dest, request.size, want);
  return result;
}

}  // namespace zfvis
