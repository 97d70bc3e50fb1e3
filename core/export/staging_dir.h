// A folder that appears all at once: files are written into a hidden sibling
// (DIR.tmp-PID-XXXXXX, same parent so the final rename is atomic), which replaces DIR only when
// commit() is called. A staging folder that is destroyed uncommitted (error, cancel) is removed,
// so a failed export never leaves a half-written DIR or a temporary folder behind. A process that
// is killed (kill -9, power loss) cannot clean up: its DIR.tmp-PID-* and DIR.old-PID-* siblings are
// removed by the next StagingDir for the same DIR once no process with that id runs.
#pragma once

#include <filesystem>
#include <functional>

namespace zfvis {

/// Decides whether an existing target folder may be replaced; throws Error naming it when not.
using ReplaceCheck = std::function<void(const std::filesystem::path&)>;

class StagingDir {
 public:
  /// Removes stale siblings of dead processes, then creates the staging folder next to `target`.
  /// Throws Error naming `target` when it exists and `mayReplace` is empty or throws, when it
  /// exists but is not a folder, or when the staging folder cannot be created.
  explicit StagingDir(const std::filesystem::path& target, ReplaceCheck mayReplace = {});
  /// Removes the staging folder unless it was committed.
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  /// Where to write the files.
  const std::filesystem::path& path() const { return m_staging; }
  /// The folder the files will appear in.
  const std::filesystem::path& target() const { return m_target; }

  /// Moves the staging folder to the target: atomically swapped with an existing target that
  /// `mayReplace` accepts (checked again here; the old one is then deleted), refused when a target
  /// appeared meanwhile and replacing is off. Throws Error naming the target on failure (the
  /// staging folder is kept until destruction, then removed).
  void commit();

 private:
  std::filesystem::path m_target;
  std::filesystem::path m_staging;
  ReplaceCheck m_mayReplace;
  bool m_committed = false;
};

}  // namespace zfvis
