#include "core/export/staging_dir.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2 (glibc >= 2.28)
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "core/base/atomic_file.h"
#include "core/base/error.h"

namespace zfvis {

namespace fs = std::filesystem;

namespace {

fs::path normalTarget(const fs::path& target) {
  fs::path p = target.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "out/" -> "out"
  if (p.empty() || p == "." || p == "..")
    throw Error("cannot export to '" + target.string() + "': expected a new folder name");
  return p;
}

// A fresh, uniquely named sibling of `target`: <target>.<what>-<pid>-XXXXXX. The process id lets
// a later run tell a dead process's leftover from a live one's folder.
fs::path makeSibling(const fs::path& target, const std::string& what) {
  std::string tmpl = target.string() + "." + what + "-" + std::to_string(::getpid()) + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw Error("cannot create a folder next to '" + target.string() +
                "': " + std::strerror(errno));
  return fs::path(buf.data());
}

// Removes <target>.tmp-<pid>-XXXXXX and <target>.old-<pid>-XXXXXX folders whose process is gone
// (killed while exporting or replacing); anything else, and a live process's folders, stay.
void removeStaleSiblings(const fs::path& target, const fs::path& parent) {
  static const char kMkdtempChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const std::string name = target.filename().string();
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    long pid = -1;
    for (const char* what : {".tmp-", ".old-"})
      if (pid < 0) pid = leftoverPid(entry, name + what, '-', kMkdtempChars);
    std::error_code typeError;
    if (pid < 0 || entry.size() != name.size() + 5 + std::to_string(pid).size() + 7 ||
        processAlive(pid) || it->is_symlink(typeError) || !it->is_directory(typeError))
      continue;
    stale.push_back(it->path());
  }
  for (const fs::path& p : stale) fs::remove_all(p, ec);  // never follows links inside
}

}  // namespace

StagingDir::StagingDir(const fs::path& target, ReplaceCheck mayReplace)
    : m_target(normalTarget(target)), m_mayReplace(std::move(mayReplace)) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(m_target, ec);
  if (fs::exists(st)) {
    if (!m_mayReplace)
      throw Error("'" + m_target.string() + "' already exists (use --force to replace it)");
    if (!fs::is_directory(st))
      throw Error("'" + m_target.string() + "' exists and is not a folder; not replacing it");
    m_mayReplace(m_target);
  }
  const fs::path parent = m_target.parent_path().empty() ? fs::path(".") : m_target.parent_path();
  if (!fs::is_directory(parent, ec))
    throw Error("cannot export to '" + m_target.string() + "': folder '" + parent.string() +
                "' does not exist");
  removeStaleSiblings(m_target, parent);
  m_staging = makeSibling(m_target, "tmp");
  ::chmod(m_staging.c_str(), 0755);  // mkdtemp makes it private
}

StagingDir::~StagingDir() {
  if (m_committed) return;
  std::error_code ec;
  fs::remove_all(m_staging, ec);
}

void StagingDir::commit() {
  if (m_committed) return;
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(m_target, ec);
  const bool exists = fs::exists(st);
  if (exists && !m_mayReplace)
    throw Error("'" + m_target.string() + "' already exists (use --force to replace it)");
  if (exists) {
    // Checked again: the folder may have changed since the export started.
    if (!fs::is_directory(st))
      throw Error("'" + m_target.string() + "' exists and is not a folder; not replacing it");
    m_mayReplace(m_target);
  }
  if (!exists) {
    // No replacement: refuse to land on a target created meanwhile.
    if (::renameat2(AT_FDCWD, m_staging.c_str(), AT_FDCWD, m_target.c_str(), RENAME_NOREPLACE) !=
        0) {
      if (errno == EEXIST)
        throw Error("'" + m_target.string() + "' already exists (use --force to replace it)");
      if ((errno != EINVAL && errno != ENOSYS) ||
          ::rename(m_staging.c_str(), m_target.c_str()) != 0)
        throw Error("cannot create '" + m_target.string() + "': " + std::strerror(errno));
    }
    m_committed = true;
    return;
  }
  // Replace: swap the two folders in one step, then delete the old contents (now in staging).
  if (::renameat2(AT_FDCWD, m_staging.c_str(), AT_FDCWD, m_target.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(m_staging, ec);
    m_committed = true;
    return;
  }
  if (errno != EINVAL && errno != ENOSYS)
    throw Error("cannot replace '" + m_target.string() + "': " + std::strerror(errno));
  // The file system cannot exchange: move the old folder aside, move the new one in.
  const fs::path old = makeSibling(m_target, "old");
  fs::remove(old, ec);
  if (::rename(m_target.c_str(), old.c_str()) != 0)
    throw Error("cannot replace '" + m_target.string() + "': " + std::strerror(errno));
  if (::rename(m_staging.c_str(), m_target.c_str()) != 0) {
    const int err = errno;
    ::rename(old.c_str(), m_target.c_str());
    throw Error("cannot replace '" + m_target.string() + "': " + std::strerror(err));
  }
  m_committed = true;
  fs::remove_all(old, ec);
}

}  // namespace zfvis
