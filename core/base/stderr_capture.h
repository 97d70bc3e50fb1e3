// Codec libraries print to the process's stderr on their own: libpng writes "libpng warning: ..."
// and "libpng error: ..." lines, libjpeg "Corrupt JPEG data: ...", OpenCV its "[ WARN:0@...]" log.
// Through OpenCV there is no way to install their handlers, so while an image is decoded, file
// descriptor 2 is pointed at an in-memory file and what they print is collected instead: a failed
// decode becomes one error line that quotes the codec's reason, a successful one stays quiet.
//
// The redirection is process-wide: anything another thread writes to stderr meanwhile is collected
// too, so only single-threaded callers use it (zfvis-cli, not the GUI). Captures are serialised by
// a mutex.
#pragma once

#include <mutex>
#include <string>

namespace zfvis {

class StderrCapture {
 public:
  /// Starts collecting: flushes stderr and points descriptor 2 at an in-memory file. When that is
  /// impossible (no stderr, no memfd) nothing is redirected and text() stays empty.
  StderrCapture();
  /// Restores descriptor 2 if finish() was not called.
  ~StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  /// Restores descriptor 2 and returns everything written to it meanwhile.
  std::string finish();

 private:
  std::unique_lock<std::mutex> m_lock;
  int m_saved = -1;  // the original descriptor 2, or -1 when nothing was redirected
  int m_file = -1;   // the in-memory file collecting the output
};

/// The most telling line of captured codec output, at most 200 characters: the first line that
/// names an error and is not an OpenCV log line ("[ WARN...]"), else the first line that is not a
/// log line, else the first line; "" when nothing was captured.
std::string codecReason(const std::string& captured);

}  // namespace zfvis
