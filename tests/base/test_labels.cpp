// Class names: one resolver (given > model's own > ImageNet for 1000 classes > "class K"), the
// labels file reader and its refusals, and ONNX metadata carrying names.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "core/base/error.h"
#include "core/base/labels.h"
#include "core/import/onnx_import.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
const fs::path kOnnx = fs::path(ZFVIS_FIXTURES_DIR) / "onnx";

fs::path writeTemp(const std::string& name, const std::string& contents) {
  const fs::path p =
      fs::temp_directory_path() / ("zfvis-labels-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p, std::ios::binary) << contents;
  return p;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Labels, ResolverPrefersGivenThenModelThenImagenetThenNumbers) {
  const std::vector<std::string> given = {"a", "b", "c"}, model = {"x", "y", "z"};
  EXPECT_EQ(resolveClassNames(3, given, model), given);
  EXPECT_EQ(resolveClassNames(3, {}, model), model);
  EXPECT_EQ(resolveClassNames(3, {"only one"}, model), model);  // wrong count: not used
  EXPECT_EQ(resolveClassNames(3, {}, {}),
            (std::vector<std::string>{"class 0", "class 1", "class 2"}));
  const auto imagenet = resolveClassNames(1000, {}, {});
  ASSERT_EQ(imagenet.size(), 1000u);
  EXPECT_EQ(imagenet[281], "tabby, tabby cat");
  EXPECT_EQ(imagenet[0], imagenetLabels()[0].name);
  // A 1000-way model with its own names keeps them.
  std::vector<std::string> own(1000, "n");
  EXPECT_EQ(resolveClassNames(1000, {}, own)[281], "n");
  EXPECT_TRUE(resolveClassNames(0, given, model).empty());
}

TEST(Labels, ParsesLinesAndJsonLists) {
  EXPECT_EQ(parseClassNames("cat\ndog\n\n", "t"), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(parseClassNames("cat\r\ndog wolf\r\n", "t"),
            (std::vector<std::string>{"cat", "dog wolf"}));
  EXPECT_EQ(parseClassNames("  [\"cat\", \"T-shirt/top\", \"caf\u00e9\"]", "t"),
            (std::vector<std::string>{"cat", "T-shirt/top", "caf\u00e9"}));
  EXPECT_NE(errorOf([] { parseClassNames("", "t"); }).find("names no class"), std::string::npos);
  EXPECT_NE(errorOf([] { parseClassNames("\n\n", "t"); }).find("names no class"),
            std::string::npos);
  EXPECT_NE(errorOf([] { parseClassNames("a\n\nb\n", "t"); }).find("line 2 is empty"),
            std::string::npos);
  EXPECT_NE(errorOf([] { parseClassNames(std::string("a\0b", 3), "t"); }).find("NUL"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              parseClassNames(
                  "\xff\xfe"
                  "a",
                  "t");
            }).find("UTF-8"),
            std::string::npos);
  EXPECT_NE(errorOf([] { parseClassNames("[\"a\", 3]", "t"); }).find("item 1"), std::string::npos);
  EXPECT_NE(errorOf([] { parseClassNames("[\"a\"", "t"); }).find("not a JSON list"),
            std::string::npos);
}

TEST(Labels, FileCountMustMatchTheModelsClasses) {
  const fs::path three = writeTemp("three.txt", "a\nb\nc\n");
  EXPECT_EQ(readClassNamesFile(three, 3, "m"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(errorOf([&] { readClassNamesFile(three, 10, "m"); }),
            "labels file '" + three.string() + "' has 3 names but model 'm' has 10 classes");
  EXPECT_NE(
      errorOf([] { readClassNamesFile("/no/such/labels.txt", 3, "m"); }).find("does not exist"),
      std::string::npos);
  EXPECT_NE(errorOf([] { readClassNamesFile(fs::temp_directory_path(), 3, "m"); }).find("folder"),
            std::string::npos);
  const fs::path empty = writeTemp("empty.txt", "");
  EXPECT_NE(errorOf([&] { readClassNamesFile(empty, 3, "m"); }).find(empty.string()),
            std::string::npos);
  fs::remove(three);
  fs::remove(empty);
}

TEST(Labels, OnnxMetadataCarriesNamesAsLinesOrJson) {
  const NetworkDef plain = importOnnx(kOnnx / "matmul_add.onnx");
  EXPECT_TRUE(plain.classNames.empty());
  const NetworkDef lines = importOnnx(kOnnx / "matmul_add_labels.onnx");
  ASSERT_EQ(lines.classNames.size(), 10u);
  EXPECT_EQ(lines.classNames[0], "zero");
  EXPECT_EQ(lines.classNames[9], "nine");
  const NetworkDef json = importOnnx(kOnnx / "matmul_add_labels_json.onnx");
  ASSERT_EQ(json.classNames.size(), 10u);
  EXPECT_EQ(json.classNames[3], "THREE");
  EXPECT_EQ(resolveClassNames(10, {}, json.classNames)[3], "THREE");
}

}  // namespace
}  // namespace zfvis
