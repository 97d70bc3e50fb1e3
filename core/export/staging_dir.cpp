#include "core/export/staging_dir.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2 (glibc >= 2.28)
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.h"

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

// A fresh, uniquely named sibling of `target`: <target>.<what>-XXXXXX.
fs::path makeSibling(const fs::path& target, const std::string& what) {
  std::string tmpl = target.string() + "." + what + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw Error("cannot create a folder next to '" + target.string() +
                "': " + std::strerror(errno));
  return fs::path(buf.data());
}

}  // namespace

StagingDir::StagingDir(const fs::path& target, bool replace)
    : m_target(normalTarget(target)), m_replace(replace) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(m_target, ec);
  if (fs::exists(st)) {
    if (!replace)
      throw Error("'" + m_target.string() + "' already exists (use --force to replace it)");
    if (!fs::is_directory(st))
      throw Error("'" + m_target.string() + "' exists and is not a folder; not replacing it");
  }
  const fs::path parent = m_target.parent_path().empty() ? fs::path(".") : m_target.parent_path();
  if (!fs::is_directory(parent, ec))
    throw Error("cannot export to '" + m_target.string() + "': folder '" + parent.string() +
                "' does not exist");
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
  const bool exists = fs::exists(fs::symlink_status(m_target, ec));
  if (exists && !m_replace)
    throw Error("'" + m_target.string() + "' already exists (use --force to replace it)");
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
