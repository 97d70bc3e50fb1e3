// zfvis-cli export end to end on the built-in nin: files, progress lines, refusing an existing
// folder (exit 1, one line) and --force.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/base/atomic_file.h"
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

  CliResult forced = runCli(base + " --force --projections none");
  ASSERT_EQ(forced.code, 0) << forced.err;
  EXPECT_TRUE(fs::exists(out / "index.html"));
  EXPECT_EQ(nlohmann::json::parse(readFile(out / "manifest.json"))["projection_layers"], "none");
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(dir)) entries.push_back(e.path().filename());
  EXPECT_EQ(entries, std::vector<std::string>{"nin report"});  // no temporary folders left

  // --force only replaces an earlier report: the user's own files are never deleted.
  writeFileAtomic(out / "marker", "x");
  CliResult mixed = runCli(base + " --force");
  EXPECT_EQ(mixed.code, 1);
  EXPECT_EQ(mixed.errLines(), 1u) << mixed.err;
  EXPECT_NE(mixed.err.find("holds 'marker', which is not part of its zfvis report"),
            std::string::npos)
      << mixed.err;
  EXPECT_EQ(readFile(out / "marker"), "x");
  fs::create_directories(dir / "mine");
  writeFileAtomic(dir / "mine" / "thesis.tex", "x");
  CliResult user = runCli("export --model nin --image " + kChelsea + " --out '" +
                          (dir / "mine").string() + "' --force --projections none");
  EXPECT_EQ(user.code, 1);
  EXPECT_EQ(user.errLines(), 1u) << user.err;
  EXPECT_NE(user.err.find("is not a zfvis report"), std::string::npos) << user.err;
  EXPECT_EQ(readFile(dir / "mine" / "thesis.tex"), "x");

  CliResult bad = runCli("export --model nin --image " + kChelsea + " --out " +
                         (dir / "x").string() + " --mode sideways");
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.errLines(), 1u) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "x"));
  fs::remove_all(dir);
}

// The staging folder of an export killed with SIGKILL (no chance to clean up) and a temporary
// file of a killed `activations --png` are removed by the next run that writes the same target.
TEST(ExportCli, LeftoversOfKilledRunsAreRemovedByTheNextRun) {
  const fs::path dir = fs::temp_directory_path() / ("zfvis-killed-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path out = dir / "report";
  const pid_t child = ::fork();
  if (child == 0) {
    ::freopen("/dev/null", "w", stderr);
    ::execl(ZFVIS_CLI, ZFVIS_CLI, "export", "--model", "caffe-alexnet", "--image", kChelsea.c_str(),
            "--out", out.c_str(), "--projections", "all", nullptr);
    ::_exit(127);
  }
  // Kill it once its staging folder holds a few files (the export takes many seconds).
  const std::string prefix = "report.tmp-" + std::to_string(child) + "-";
  fs::path staging;
  for (int i = 0; i < 1200 && staging.empty(); ++i) {
    ::usleep(50 * 1000);
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().rfind(prefix, 0) == 0 && fs::exists(e.path() / "layers") &&
          std::distance(fs::recursive_directory_iterator(e.path()),
                        fs::recursive_directory_iterator{}) >= 8)
        staging = e.path();
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_FALSE(staging.empty()) << "the export never staged its files";
  ASSERT_TRUE(fs::is_directory(staging));  // what kill -9 leaves behind
  ASSERT_FALSE(fs::exists(out));
  // A temporary file as a killed writer of conv1.png leaves it.
  const fs::path png = dir / "conv1.png";
  writeFileAtomic(dir / ("conv1.png.tmp." + std::to_string(child) + ".0"), "half");

  CliResult r = runCli("export --model nin --image " + kChelsea + " --out " + out.string() +
                       " --projections none");
  ASSERT_EQ(r.code, 0) << r.err;
  r = runCli("activations --model nin --image " + kChelsea + " --layer conv1 --png " +
             png.string());
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(dir)) entries.push_back(e.path().filename());
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"conv1.png", "report"}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace zfvis
