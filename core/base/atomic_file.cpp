#include "core/base/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/base/error.h"

namespace zfvis {

bool processAlive(long pid) {
  if (pid <= 0) return false;
  // Signal 0 checks existence only; EPERM means the process exists but belongs to someone else.
  return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

long leftoverPid(std::string_view name, std::string_view prefix, char separator,
                 std::string_view restChars) {
  if (name.substr(0, prefix.size()) != prefix) return -1;
  name.remove_prefix(prefix.size());
  const size_t sep = name.find(separator);
  if (sep == 0 || sep == std::string_view::npos || sep > 9 || sep + 1 == name.size()) return -1;
  long pid = 0;
  for (char c : name.substr(0, sep)) {
    if (c < '0' || c > '9') return -1;
    pid = pid * 10 + (c - '0');
  }
  if (name.substr(sep + 1).find_first_not_of(restChars) != std::string_view::npos) return -1;
  return pid;
}

void removeStaleTempFiles(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const std::string prefix = path.filename().string() + ".tmp.";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const long pid = leftoverPid(name, prefix, '.', "0123456789");
    if (pid < 0 || processAlive(pid)) continue;
    std::error_code typeError;
    if (!it->is_symlink(typeError) && !it->is_regular_file(typeError)) continue;
    ::unlink(it->path().c_str());  // a symbolic link is removed itself, never its target
  }
}

void checkWritable(const std::filesystem::path& path) {
  const std::filesystem::path parent = path.parent_path().empty() ? "." : path.parent_path();
  struct stat st {};
  int err = 0;
  if (::stat(parent.c_str(), &st) != 0)
    err = errno;
  else if (!S_ISDIR(st.st_mode))
    err = ENOTDIR;
  else if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    err = EISDIR;
  else if (::access(parent.c_str(), W_OK) != 0)
    err = errno;
  if (err) throw Error("cannot write '" + path.string() + "': " + std::strerror(err));
}

void writeFileAtomic(const std::filesystem::path& path, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  removeStaleTempFiles(path);
  // O_EXCL | O_NOFOLLOW: never write through a file or link that is already there under the
  // temporary name (a leftover of an earlier process with the same id); take the next name.
  std::filesystem::path tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    tmp = path;
    tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) throw Error("cannot write '" + path.string() + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error("cannot write '" + path.string() + "': " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot write '" + path.string() + "': " + std::strerror(err));
  }
}

std::string readFile(const std::filesystem::path& path, size_t maxBytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error("cannot read '" + path.string() + "': " +
                (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error("cannot read '" + path.string() + "': " + ec.message());
  if (size > maxBytes)
    throw Error("cannot read '" + path.string() + "': file is too large (" + std::to_string(size) +
                " bytes)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + path.string() + "': " + std::strerror(errno));
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<size_t>(in.gcount()) != size)
    throw Error("cannot read '" + path.string() + "': short read");
  return data;
}

}  // namespace zfvis
