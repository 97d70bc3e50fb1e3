#include "core/zoo/zoo_cache.h"

#include <cstdlib>

#include "core/base/error.h"

namespace zfvis {

namespace fs = std::filesystem;

fs::path zooCacheDir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg && fs::path(xdg).is_absolute()) return fs::path(xdg) / "zfvis" / "models";
  const char* home = std::getenv("HOME");
  if (home && *home) return fs::path(home) / ".cache" / "zfvis" / "models";
  throw Error("cannot find the model cache folder: neither XDG_CACHE_HOME nor HOME is set");
}

fs::path zooModelPath(const ZooModel& model, const fs::path& cacheDir) {
  return cacheDir / model.fileName();
}

std::optional<fs::path> cachedZooModel(const ZooModel& model, const fs::path& cacheDir,
                                       ProgressSink* sink) {
  const fs::path file = zooModelPath(model, cacheDir);
  switch (checkCachedFile(file, model.size, model.sha256, sink)) {
    case CachedFileState::Missing:
      return std::nullopt;
    case CachedFileState::Verified:
      return file;
    default:
      throw Error("zoo model '" + model.id + "': the cached file '" + file.string() +
                  "' does not match the manifest's size and SHA-256; run `zfvis-cli fetch " +
                  model.id + "` to download it again");
  }
}

std::optional<fs::path> cachedZooModel(const std::string& id) {
  return cachedZooModel(embeddedZooManifest().require(id), zooCacheDir());
}

}  // namespace zfvis
