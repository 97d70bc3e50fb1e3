// A folder that appears all at once: files are written into a hidden sibling
// (DIR.tmp-XXXXXX, same parent so the final rename is atomic), which replaces DIR only when
// commit() is called. A staging folder that is destroyed uncommitted (error, cancel) is removed,
// so a failed export never leaves a half-written DIR or a temporary folder behind.
#pragma once

#include <filesystem>

namespace zfvis {

class StagingDir {
 public:
  /// Creates the staging folder next to `target`. Throws Error naming `target` when it already
  /// exists and `replace` is false, when it exists but is not a folder, or when the staging
  /// folder cannot be created.
  StagingDir(const std::filesystem::path& target, bool replace);
  /// Removes the staging folder unless it was committed.
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  /// Where to write the files.
  const std::filesystem::path& path() const { return m_staging; }
  /// The folder the files will appear in.
  const std::filesystem::path& target() const { return m_target; }

  /// Moves the staging folder to the target: atomically swapped with an existing target when
  /// replacing (the old one is then deleted), refused when a target appeared meanwhile and
  /// replacing is off. Throws Error naming the target on failure (the staging folder is kept
  /// until destruction, then removed).
  void commit();

 private:
  std::filesystem::path m_target;
  std::filesystem::path m_staging;
  bool m_replace = false;
  bool m_committed = false;
};

}  // namespace zfvis
