#include "core/base/stderr_capture.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

namespace zfvis {

namespace {

std::mutex& captureMutex() {
  static std::mutex m;
  return m;
}

}  // namespace

StderrCapture::StderrCapture() : m_lock(captureMutex()) {
  std::fflush(stderr);
  m_file = ::memfd_create("zfvis-codec-stderr", MFD_CLOEXEC);
  if (m_file < 0) return;
  m_saved = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
  if (m_saved < 0 || ::dup2(m_file, 2) < 0) {
    if (m_saved >= 0) ::close(m_saved);
    m_saved = -1;
  }
}

StderrCapture::~StderrCapture() {
  finish();
}

std::string StderrCapture::finish() {
  std::string out;
  if (m_saved >= 0) {
    std::fflush(stderr);
    ::dup2(m_saved, 2);
    ::close(m_saved);
    m_saved = -1;
    char buf[4096];
    for (off_t at = 0; out.size() < (size_t(1) << 20);) {
      const ssize_t n = ::pread(m_file, buf, sizeof buf, at);
      if (n <= 0) break;
      out.append(buf, size_t(n));
      at += n;
    }
  }
  if (m_file >= 0) {
    ::close(m_file);
    m_file = -1;
  }
  if (m_lock.owns_lock()) m_lock.unlock();
  return out;
}

std::string codecReason(const std::string& captured) {
  std::istringstream in(captured);
  std::string line, first, plain, error;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (first.empty()) first = line;
    if (line[0] == '[') continue;  // OpenCV's log lines repeat the codec's message less clearly
    if (plain.empty()) plain = line;
    if (line.find("error") != std::string::npos) {
      error = line;
      break;
    }
  }
  std::string out = !error.empty() ? error : !plain.empty() ? plain : first;
  if (out.size() > 200) out = out.substr(0, 197) + "...";
  return out;
}

}  // namespace zfvis
