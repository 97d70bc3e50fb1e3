// What `zfvis` opens when it is started without --model: the trained BVLC AlexNet from the Model
// Zoo cache when it is there; else nothing (the start page offers to fetch it) or, offline, the
// best model that needs no download: the shipped zf-small trained on Fashion-MNIST.
#pragma once

#include <filesystem>
#include <string>

#include "core/base/progress.h"
#include "core/zoo/zoo_manifest.h"

namespace zfvis {

/// The Model Zoo entry opened at start: the trained BVLC AlexNet.
inline constexpr const char* kStartZooId = "bvlc-alexnet";
/// The Model Zoo entries the start page offers to fetch, in order.
inline constexpr const char* kStartPageZooIds[] = {"bvlc-alexnet", "zfnet512"};

/// The model to open at start and why.
struct StartChoice {
  std::string spec;      // model to open (a cached zoo file or a built-in); empty: none
  bool fromZoo = false;  // spec is the verified cached zoo file
  bool offline = false;  // spec is the offline fallback
  std::string message;   // one line for the status bar, saying why
};

/// Without --model: the verified cached file of manifest entry kStartZooId in `cacheDir` (an
/// empty cacheDir, a missing entry or a file failing verification count as not cached); when it
/// is not cached, offlineStartModel() if `offline`, else an empty spec (show the start page)
/// with the reason in `message`. Hashing a file without a fresh .sha256 sidecar reports to
/// `sink`. Never throws Error.
StartChoice chooseStartModel(const ZooManifest& manifest, const std::filesystem::path& cacheDir,
                             bool offline, ProgressSink* sink = nullptr);

/// The best model that needs no download: the trained zf-small when its shipped run is present,
/// else the untrained caffe-alexnet; message "<reason>; opened the trained zf-small (offline)".
StartChoice offlineStartModel(const std::string& reason);

}  // namespace zfvis
