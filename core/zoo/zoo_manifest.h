// The ONNX Model Zoo manifest: which pretrained files `zfvis-cli fetch` can download, from where,
// and the size and SHA-256 each download must have. Embedded at build time from
// resources/model-zoo.json; a different file can be loaded for tests or mirrors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zfvis {

/// One downloadable model file.
struct ZooModel {
  std::string id;              // "zfnet512": what users type after `fetch`
  std::string title;           // "ZFNet-512 (Caffe2, ILSVRC2013; ...)"
  std::string path;            // "zfnet-512/model/zfnet512-12.onnx", relative to the base URL
  int64_t size = 0;            // exact file size in bytes
  std::string sha256;          // 64 lowercase hex digits
  int opset = 0;               // ONNX opset, 0 when unknown
  std::string input;           // "data_0 float[1,3,224,224]", may be empty
  std::string output;          // "softmaxout_1 float[1,1000]", may be empty
  std::optional<double> top1;  // ImageNet top-1 accuracy in percent, when published
  std::optional<double> top5;  // ImageNet top-5 accuracy in percent, when published
  std::string license;         // "BSD-3-Clause"

  /// The name of the cached file: the last component of `path` ("zfnet512-12.onnx").
  std::string fileName() const;
};

/// The whole manifest.
struct ZooManifest {
  std::string source;             // where it came from ("embedded model-zoo.json" or a path)
  std::string about;              // free text describing the collection
  std::string baseUrl;            // prefix joined with each model's path (see joinUrl)
  std::string preprocessingNote;  // how the zoo's models expect their input
  std::vector<ZooModel> models;   // in manifest order

  /// The model with this id, or null.
  const ZooModel* find(std::string_view id) const;
  /// The model with this id; throws Error listing the known ids when there is none.
  const ZooModel& require(std::string_view id) const;
  /// "bvlc-alexnet, caffenet, ..." for messages.
  std::string idList() const;
};

/// Parses manifest JSON text; `source` names it in error messages. Throws Error naming the source,
/// the entry and the field on malformed input (missing or ill-typed fields, a digest that is not
/// 64 hex digits, a non-positive size, unsafe or duplicate file names, duplicate ids).
ZooManifest parseZooManifest(std::string_view json, const std::string& source);

/// Reads and parses a manifest file.
ZooManifest loadZooManifest(const std::filesystem::path& path);

/// The manifest compiled into the binary (resources/model-zoo.json), parsed once.
const ZooManifest& embeddedZooManifest();

/// `base` + `path`, inserting a '/' between them when `base` does not end with one.
std::string joinUrl(const std::string& base, const std::string& path);

}  // namespace zfvis
