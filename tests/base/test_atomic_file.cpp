// Atomic writes clean up after processes that were killed mid-write: "<target>.tmp.<pid>.<n>"
// files whose process is gone are removed by the next write of the same target, and nothing else.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "tests/reference/cli_runner.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;

TEST(AtomicFile, ProcessAliveTellsRunningFromGone) {
  EXPECT_TRUE(processAlive(::getpid()));
  EXPECT_TRUE(processAlive(1));
  EXPECT_FALSE(processAlive(testing::deadProcessId()));
  EXPECT_FALSE(processAlive(0));
  EXPECT_FALSE(processAlive(-5));
}

TEST(AtomicFile, LeftoverNamesCarryTheProcessId) {
  EXPECT_EQ(leftoverPid("a.png.tmp.123.4", "a.png.tmp.", '.', "0123456789"), 123);
  EXPECT_EQ(leftoverPid("a.png.tmp.123.", "a.png.tmp.", '.', "0123456789"), -1);
  EXPECT_EQ(leftoverPid("a.png.tmp..4", "a.png.tmp.", '.', "0123456789"), -1);
  EXPECT_EQ(leftoverPid("a.png.tmp.12x.4", "a.png.tmp.", '.', "0123456789"), -1);
  EXPECT_EQ(leftoverPid("a.png.tmp.123.4.bak", "a.png.tmp.", '.', "0123456789"), -1);
  EXPECT_EQ(leftoverPid("b.png.tmp.123.4", "a.png.tmp.", '.', "0123456789"), -1);
  EXPECT_EQ(leftoverPid("a.png.tmp.12345678901.4", "a.png.tmp.", '.', "0123456789"), -1);
}

TEST(AtomicFile, WritesRemoveTemporaryFilesOfDeadProcessesOnly) {
  const fs::path dir = fs::temp_directory_path() / ("zfvis-atomic-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  writeFileAtomic(dir / "victim.txt", "keep");
  const std::string dead = std::to_string(testing::deadProcessId()),
                    live = std::to_string(::getpid());
  const std::vector<std::string> stale = {"out.png.tmp." + dead + ".0",
                                          "out.png.tmp." + dead + ".17"};
  const std::vector<std::string> kept = {
      "out.png.tmp." + live + ".3",    // a live process's write in progress
      "out.png.tmp.1.0",               // pid 1 always runs
      "other.png.tmp." + dead + ".0",  // another target's
      "out.png.tmp." + dead + ".0.bak", "out.png.tmp." + dead};
  for (const std::string& f : stale) writeFileAtomic(dir / f, "half");
  for (const std::string& f : kept) writeFileAtomic(dir / f, "other");
  fs::create_directory(dir / ("out.png.tmp." + dead + ".5"));  // folders are never removed
  fs::create_symlink(dir / "victim.txt", dir / ("out.png.tmp." + dead + ".9"));

  writeFileAtomic(dir / "out.png", "new");
  EXPECT_EQ(readFile(dir / "out.png"), "new");
  for (const std::string& f : stale) EXPECT_FALSE(fs::exists(dir / f)) << f;
  for (const std::string& f : kept) EXPECT_EQ(readFile(dir / f), "other") << f;
  EXPECT_TRUE(fs::is_directory(dir / ("out.png.tmp." + dead + ".5")));
  // The stale link is removed as a link: the file it pointed to is untouched.
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir / ("out.png.tmp." + dead + ".9"))));
  EXPECT_EQ(readFile(dir / "victim.txt"), "keep");
  fs::remove_all(dir);
}

TEST(AtomicFile, CheckWritableSaysWhatTheWriteWouldSay) {
  const fs::path dir = fs::temp_directory_path() / ("zfvis-writable-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "folder");
  writeFileAtomic(dir / "file", "x");
  auto message = [](const fs::path& p) {
    try {
      checkWritable(p);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("writable");
  };
  EXPECT_EQ(message(dir / "new.png"), "writable");
  EXPECT_EQ(message(dir / "file"), "writable");  // replaced by the rename
  for (const fs::path& p : {dir / "no" / "a.png", dir / "folder", dir / "file" / "a.png"}) {
    std::string written = "no error";
    try {
      writeFileAtomic(p, "x");
    } catch (const Error& e) {
      written = e.what();
    }
    EXPECT_EQ(message(p), written) << p;
    EXPECT_NE(written, "no error") << p;
  }
  EXPECT_TRUE(fs::is_directory(dir / "folder"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace zfvis
