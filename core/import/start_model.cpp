#include "core/import/start_model.h"

#include <exception>

#include "core/model/small_nets.h"
#include "core/zoo/zoo_cache.h"

namespace zfvis {

StartChoice chooseStartModel(const ZooManifest& manifest, const std::filesystem::path& cacheDir,
                             bool offline, ProgressSink* sink) {
  std::string reason = "AlexNet weights are not cached";
  const ZooModel* model = manifest.find(kStartZooId);
  if (!model) {
    reason = "the Model Zoo manifest has no trained AlexNet";
  } else if (!cacheDir.empty()) {
    try {
      if (auto file = cachedZooModel(*model, cacheDir, sink)) {
        StartChoice c;
        c.spec = file->string();
        c.fromZoo = true;
        c.message = "opened the trained AlexNet from the Model Zoo cache";
        return c;
      }
    } catch (const std::exception&) {
      reason = "the cached AlexNet file fails verification";
    }
  }
  if (offline) return offlineStartModel(reason);
  StartChoice c;
  c.message = reason;
  return c;
}

StartChoice offlineStartModel(const std::string& reason) {
  StartChoice c;
  c.offline = true;
  if (shippedRunDir("zf-small")) {
    c.spec = "zf-small";
    c.message = reason + "; opened the trained zf-small (offline)";
  } else {
    c.spec = "caffe-alexnet";
    c.message = reason + "; opened the untrained caffe-alexnet (offline; no trained model found)";
  }
  return c;
}

}  // namespace zfvis
