// Runs zfvis-cli in a child process for the CLI tests: exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace zfvis::testing {

/// What a zfvis-cli run printed and returned.
struct CliResult {
  int code = -1;         // exit status (-1: killed by a signal)
  std::string out, err;  // stdout, stderr
  /// Number of lines on stderr.
  size_t errLines() const { return size_t(std::count(err.begin(), err.end(), '\n')); }
};

/// Runs `cli` with `args` (a shell command line fragment; quote paths with spaces).
inline CliResult runCli(const std::string& cli, const std::string& args) {
  static std::atomic<int> counter{0};
  const std::filesystem::path errFile =
      std::filesystem::temp_directory_path() /
      ("zfvis-cli-stderr-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  const std::string cmd = cli + " " + args + " 2>'" + errFile.string() + "'";
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(errFile);
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  std::filesystem::remove(errFile);
  return r;
}

/// A fixture with a fresh folder per test for what the CLI writes; removed afterwards.
class CliOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = std::filesystem::temp_directory_path() / ("zfvis-" + std::to_string(::getpid()) + "-" +
                                                      info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(m_dir);
    std::filesystem::create_directories(m_dir);
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }
  /// A file in this test's folder.
  std::string path(const std::string& name) const { return (m_dir / name).string(); }

  std::filesystem::path m_dir;
};

/// The id of a process that has exited and been reaped, as a `kill -9` leaves one behind (for
/// tests of leftover cleanup; ids are reused only after the kernel wraps around).
inline long deadProcessId() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return long(child);
}

#ifdef ZFVIS_CLI
/// Runs the zfvis-cli built with the tests.
inline CliResult runCli(const std::string& args) {
  return runCli(ZFVIS_CLI, args);
}
#endif

}  // namespace zfvis::testing
