// The Model Zoo manifest: the embedded copy, and clear errors for malformed files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/zoo/zoo_manifest.h"

namespace zfvis {
namespace {

std::string errorOf(const std::string& json) {
  try {
    parseZooManifest(json, "test.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string withModel(const std::string& model) {
  return R"({"base_url": "http://x/", "models": [)" + model + "]}";
}

const std::string kGood =
    R"({"id": "m", "path": "a/m.onnx", "size": 10, "sha256": ")" + std::string(64, 'A') + R"("})";

TEST(ZooManifest, EmbeddedCopyListsTheZooModels) {
  const ZooManifest& m = embeddedZooManifest();
  EXPECT_EQ(m.baseUrl, "https://github.com/onnx/models/raw/main/validated/vision/classification/");
  ASSERT_NE(m.find("bvlc-alexnet"), nullptr);
  ASSERT_NE(m.find("zfnet512"), nullptr);
  const ZooModel& z = m.require("zfnet512");
  EXPECT_EQ(z.size, 349005501);
  EXPECT_EQ(z.sha256, "c975ca6a24c0a2e1584c6f82667e0ac9c06084fc7769d267f71b4a154d1f1c72");
  EXPECT_EQ(z.opset, 12);
  EXPECT_EQ(z.license, "MIT");
  EXPECT_EQ(z.fileName(), "zfnet512-12.onnx");
  ASSERT_TRUE(z.top1.has_value());
  EXPECT_DOUBLE_EQ(*z.top1, 55.97);
  EXPECT_EQ(m.require("bvlc-alexnet").fileName(), "bvlcalexnet-12.onnx");
  EXPECT_EQ(joinUrl(m.baseUrl, z.path),
            "https://github.com/onnx/models/raw/main/validated/vision/classification/zfnet-512/"
            "model/zfnet512-12.onnx");
}

TEST(ZooManifest, EmbeddedCopyMatchesTheResourceFile) {
  // The embedded text must be resources/model-zoo.json (and the shared copy, when present).
  const auto resource =
      loadZooManifest(std::string(ZFVIS_SOURCE_DIR) + "/resources/model-zoo.json");
  const ZooManifest& embedded = embeddedZooManifest();
  ASSERT_EQ(resource.models.size(), embedded.models.size());
  for (size_t i = 0; i < resource.models.size(); ++i) {
    EXPECT_EQ(resource.models[i].id, embedded.models[i].id);
    EXPECT_EQ(resource.models[i].sha256, embedded.models[i].sha256);
    EXPECT_EQ(resource.models[i].size, embedded.models[i].size);
  }
  const std::filesystem::path shared = std::string(ZFVIS_SHARED_DIR) + "/data/model-zoo.json";
  if (std::filesystem::exists(shared)) {
    EXPECT_EQ(nlohmann::json::parse(readFile(shared)),
              nlohmann::json::parse(
                  readFile(std::string(ZFVIS_SOURCE_DIR) + "/resources/model-zoo.json")));
  }
}

TEST(ZooManifest, DigestsAreLowercased) {
  auto m = parseZooManifest(withModel(kGood), "test.json");
  EXPECT_EQ(m.models.at(0).sha256, std::string(64, 'a'));
  EXPECT_EQ(m.models.at(0).title, "m");  // defaults to the id
}

TEST(ZooManifest, UnknownIdListsTheKnownOnes) {
  auto m = parseZooManifest(withModel(kGood), "test.json");
  try {
    m.require("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown zoo model 'nope' (known: m)"), std::string::npos);
  }
}

TEST(ZooManifest, MalformedFilesNameTheSourceEntryAndField) {
  EXPECT_NE(errorOf("{").find("test.json"), std::string::npos);
  EXPECT_NE(errorOf(R"({"models": []})").find("\"base_url\""), std::string::npos);
  EXPECT_NE(errorOf(R"({"base_url": "x"})").find("\"models\""), std::string::npos);
  const std::string digest = std::string(64, 'a');
  auto model = [&](const std::string& fields) { return withModel("{" + fields + "}"); };
  std::string e = errorOf(model(R"("id": "m", "path": "m.onnx", "size": 10)"));
  EXPECT_NE(e.find("models[0] ('m')"), std::string::npos) << e;
  EXPECT_NE(e.find("missing \"sha256\""), std::string::npos) << e;
  e = errorOf(model(R"("id": "m", "path": "m.onnx", "size": 10, "sha256": "abc")"));
  EXPECT_NE(e.find("64 hex digits"), std::string::npos) << e;
  e = errorOf(model(R"("id": "m", "path": "m.onnx", "size": -1, "sha256": ")" + digest + "\""));
  EXPECT_NE(e.find("\"size\" must be a positive integer"), std::string::npos) << e;
  e = errorOf(model(R"("id": "m", "path": "m.onnx", "size": "10", "sha256": ")" + digest + "\""));
  EXPECT_NE(e.find("\"size\""), std::string::npos) << e;
  for (const char* path : {"../etc/passwd", "/abs.onnx", "dir/", "http://evil/x.onnx"}) {
    e = errorOf(model(std::string(R"("id": "m", "size": 1, "sha256": ")") + digest +
                      R"(", "path": ")" + path + "\""));
    EXPECT_NE(e.find("\"path\" must be a relative path"), std::string::npos) << path << ": " << e;
  }
  e = errorOf(model(R"("id": "a b", "path": "m.onnx", "size": 1, "sha256": ")" + digest + "\""));
  EXPECT_NE(e.find("\"id\" may only contain"), std::string::npos) << e;
}

TEST(ZooManifest, DuplicateIdsAndFileNamesAreRefused) {
  const std::string digest = std::string(64, 'a');
  auto entry = [&](const std::string& id, const std::string& path) {
    return R"({"id": ")" + id + R"(", "path": ")" + path + R"(", "size": 1, "sha256": ")" + digest +
           "\"}";
  };
  EXPECT_NE(errorOf(withModel(entry("a", "x/a.onnx") + "," + entry("a", "y/b.onnx")))
                .find("duplicate id 'a'"),
            std::string::npos);
  EXPECT_NE(errorOf(withModel(entry("a", "x/m.onnx") + "," + entry("b", "y/m.onnx")))
                .find("file name 'm.onnx' is used by another entry"),
            std::string::npos);
}

TEST(ZooManifest, JoinUrlAddsOneSlash) {
  EXPECT_EQ(joinUrl("http://h/a/", "b.onnx"), "http://h/a/b.onnx");
  EXPECT_EQ(joinUrl("http://h/a", "b.onnx"), "http://h/a/b.onnx");
}

TEST(ZooManifest, MissingFileNamesThePath) {
  try {
    loadZooManifest("/nonexistent/zoo.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/zoo.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace zfvis
