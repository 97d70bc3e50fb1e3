#include "core/base/resource_dir.h"

#include <cstdlib>

namespace zfvis {

std::vector<std::filesystem::path> resourceDirs() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("ZFVIS_RESOURCES"); env && *env) dirs.emplace_back(env);
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "zfvis");
  dirs.emplace_back(ZFVIS_SOURCE_RESOURCES_DIR);
  return dirs;
}

std::optional<std::filesystem::path> findResource(const std::filesystem::path& relative) {
  std::error_code ec;
  for (const auto& dir : resourceDirs())
    if (std::filesystem::exists(dir / relative, ec)) return dir / relative;
  return std::nullopt;
}

}  // namespace zfvis
