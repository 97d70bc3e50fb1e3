// zfvis-cli export end to end on the built-in nin: files, progress lines, refusing an existing
// folder (exit 1, one line) and --force.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/render/png.h"
#include "tests/reference/cli_runner.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::runCli;

const std::string kChelsea = std::string(ZFVIS_SOURCE_DIR) + "/resources/images/chelsea.png";

TEST(ExportCli, WritesTheReportRefusesAnExistingFolderAndReplacesItWithForce) {
  const fs::path dir =
      fs::temp_directory_path() / ("zfvis-export-cli-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path out = dir / "nin report";  // a space: the path is quoted below
  const std::string base =
      "export --model nin --image " + kChelsea + " --out '" + out.string() + "'";
  CliResult r = runCli(base + " --top 4");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote "), std::string::npos) << r.out;
  // One progress line per layer, naming it.
  EXPECT_NE(r.err.find("export: 1/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" conv1\n"), std::string::npos) << r.err;
  auto manifest = nlohmann::json::parse(readFile(out / "manifest.json"));
  EXPECT_EQ(manifest["model"], "nin");
  EXPECT_EQ(manifest["top"], 4);
  for (const auto& f : manifest["files"])
    EXPECT_TRUE(fs::exists(out / f["path"].get<std::string>())) << f["path"];
  EXPECT_NE(readFile(out / "summary.txt").find("Total params: 3,747,200"), std::string::npos);
  EXPECT_NE(readFile(out / "index.html").find("UNTRAINED"), std::string::npos);

  CliResult again = runCli(base);
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.errLines(), 1u) << again.err;
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;

  writeFileAtomic(out / "marker", "x");
  CliResult forced = runCli(base + " --force --projections none");
  ASSERT_EQ(forced.code, 0) << forced.err;
  EXPECT_FALSE(fs::exists(out / "marker"));
  EXPECT_TRUE(fs::exists(out / "index.html"));
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(dir)) entries.push_back(e.path().filename());
  EXPECT_EQ(entries, std::vector<std::string>{"nin report"});  // no temporary folders left

  CliResult bad = runCli("export --model nin --image " + kChelsea + " --out " +
                         (dir / "x").string() + " --mode sideways");
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.errLines(), 1u) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "x"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace zfvis
