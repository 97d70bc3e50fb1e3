// Where fetched Model Zoo files live ($XDG_CACHE_HOME/zfvis/models, else ~/.cache/zfvis/models)
// and how to look one up (fetching is core/zoo/zoo_fetch.h).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/base/progress.h"
#include "core/zoo/cached_file.h"
#include "core/zoo/zoo_manifest.h"

namespace zfvis {

/// The user cache folder for zoo models: $XDG_CACHE_HOME/zfvis/models when XDG_CACHE_HOME is an
/// absolute path, else $HOME/.cache/zfvis/models. Throws Error when neither variable is usable.
std::filesystem::path zooCacheDir();

/// Where `model` is cached inside `cacheDir` (`cacheDir / model.fileName()`).
std::filesystem::path zooModelPath(const ZooModel& model, const std::filesystem::path& cacheDir);

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
