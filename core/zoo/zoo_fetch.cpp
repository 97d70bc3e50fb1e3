#include "core/zoo/zoo_fetch.h"

#include <cstdlib>

namespace zfvis {

namespace fs = std::filesystem;

std::string zooBaseUrl(const ZooManifest& manifest, const std::string& override) {
  if (!override.empty()) return override;
  const char* env = std::getenv("ZFVIS_ZOO_BASE_URL");
  if (env && *env) return env;
  return manifest.baseUrl;
}

DownloadResult fetchZooModel(const ZooModel& model, const std::string& baseUrl,
                             const fs::path& cacheDir, ProgressSink* sink,
                             const DownloadOptions& options) {
  DownloadRequest request;
  request.label = model.id;
  request.url = joinUrl(baseUrl, model.path);
  request.destination = zooModelPath(model, cacheDir);
  request.size = model.size;
  request.sha256 = model.sha256;
  return downloadVerified(request, sink, options);
}

}  // namespace zfvis
