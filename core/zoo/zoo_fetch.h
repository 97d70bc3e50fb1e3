// Fetching Model Zoo files into the cache over HTTP(S) (libcurl, through core/zoo/downloader).
#pragma once

#include <string>

#include "core/base/progress.h"
#include "core/zoo/downloader.h"
#include "core/zoo/zoo_cache.h"
#include "core/zoo/zoo_manifest.h"

namespace zfvis {

/// The base URL to download from: `override` when non-empty, else $ZFVIS_ZOO_BASE_URL when set
/// and non-empty, else the manifest's base_url.
std::string zooBaseUrl(const ZooManifest& manifest, const std::string& override = "");

/// Downloads `model` from `baseUrl` into `cacheDir` (see downloadVerified for the guarantees).
DownloadResult fetchZooModel(const ZooModel& model, const std::string& baseUrl,
                             const std::filesystem::path& cacheDir, ProgressSink* sink = nullptr,
                             const DownloadOptions& options = {});

}  // namespace zfvis
