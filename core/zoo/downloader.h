// Verified HTTP(S) downloads of large model files with libcurl: the bytes go to `<file>.part`
// (resumed with a Range request when the server allows it), are hashed while they arrive, and the
// file only takes its final name once its size and SHA-256 match. A mismatch deletes the download.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/base/progress.h"
#include "core/zoo/cached_file.h"

namespace zfvis {

/// What to download and what it must turn out to be.
struct DownloadRequest {
  std::string label;                  // names the download in messages ("zfnet512")
  std::string url;                    // http:// or https:// (redirects are followed)
  std::filesystem::path destination;  // final file; the folder is created when missing
  int64_t size = 0;                   // exact expected size in bytes (> 0)
  std::string sha256;                 // expected digest, 64 hex digits
};

/// Knobs that rarely change. A download that is stopped by a limit keeps its .part: running it
/// again resumes where it stopped.
struct DownloadOptions {
  long connectTimeoutSeconds = 30;  // give up connecting after this long
  /// Give up when fewer than minRateBytesPerSecond bytes per second arrive on average over
  /// rateWindowSeconds (0 disables): a server trickling a few bytes per second is stopped within
  /// a minute instead of taking days.
  long minRateBytesPerSecond = 1000;
  long rateWindowSeconds = 60;  // the window of the minimum average rate
  /// Give up after this long in total (0: no limit): two hours hold the largest zoo file
  /// (528 MB) at 75 KB/s.
  long totalTimeoutSeconds = 7200;
  /// Receives one-line notes for the user ("resuming at 120.0 MB", "verifying ..."); may be empty.
  std::function<void(const std::string&)> onStatus;
};

/// What a successful download did.
struct DownloadResult {
  std::filesystem::path path;   // the verified final file
  bool alreadyPresent = false;  // the file was already there and verified; nothing was fetched
  bool resumed = false;         // an existing .part was continued with a Range request
  int64_t resumedFrom = 0;      // bytes of the .part that were kept when resuming
  int64_t bytesReceived = 0;    // bytes received over the network by this call
};

/// Downloads `request` unless its destination already holds the verified file. Writes to
/// `<destination>.part`, opened without following links: a .part that is a symbolic link, has
/// other hard links or is not a regular file is refused (Error), never written through. Resumes an
/// existing .part with a Range request (restarting from zero when the server answers 200, or when
/// the .part is larger than expected); reports bytes on disk to `sink` and stops with Cancelled
/// (keeping the .part for a later resume) when it asks to. Throws Error "fetch 'LABEL': ..." on
/// HTTP errors ("HTTP 404 for URL"), network failures (the .part is kept), size or SHA-256 mismatch
/// (the .part is deleted: no usable-looking file is left). On success the .part is renamed to the
/// destination and a `.sha256` sidecar is written.
DownloadResult downloadVerified(const DownloadRequest& request, ProgressSink* sink = nullptr,
                                const DownloadOptions& options = {});

}  // namespace zfvis
