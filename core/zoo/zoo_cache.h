// Where fetched Model Zoo files live ($XDG_CACHE_HOME/zfvis/models, else ~/.cache/zfvis/models)
// and how to fetch one or look one up.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/progress.h"
#include "core/zoo/downloader.h"
#include "core/zoo/zoo_manifest.h"

namespace zfvis {

/// The user cache folder for zoo models: $XDG_CACHE_HOME/zfvis/models when XDG_CACHE_HOME is an
/// absolute path, else $HOME/.cache/zfvis/models. Throws Error when neither variable is usable.
std::filesystem::path zooCacheDir();

/// Where `model` is cached inside `cacheDir` (`cacheDir / model.fileName()`).
std::filesystem::path zooModelPath(const ZooModel& model, const std::filesystem::path& cacheDir);

/// The base URL to download from: `override` when non-empty, else $ZFVIS_ZOO_BASE_URL when set
/// and non-empty, else the manifest's base_url.
std::string zooBaseUrl(const ZooManifest& manifest, const std::string& override = "");

/// Downloads `model` from `baseUrl` into `cacheDir` (see downloadVerified for the guarantees).
DownloadResult fetchZooModel(const ZooModel& model, const std::string& baseUrl,
                             const std::filesystem::path& cacheDir, ProgressSink* sink = nullptr,
                             const DownloadOptions& options = {});

/// The verified cached file of `model` in `cacheDir`, or nullopt when it has not been fetched.
/// Throws Error when a file is there but fails verification (wrong size or SHA-256).
std::optional<std::filesystem::path> cachedZooModel(const ZooModel& model,
                                                    const std::filesystem::path& cacheDir,
                                                    ProgressSink* sink = nullptr);

/// The verified cached file of the embedded manifest's model `id` in zooCacheDir(), or nullopt
/// when it has not been fetched. Throws Error for an unknown id or a cached file that fails
/// verification. This is what `--model zoo:ID` resolves through.
std::optional<std::filesystem::path> cachedZooModel(const std::string& id);

}  // namespace zfvis
