// `zfvis-cli fetch` end to end against a local HTTP server, with --manifest and --base-url.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/zoo/local_http_server.h"
#include "tests/zoo/test_data.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;

struct CliResult {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

class FetchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    test::bypassProxies();
    m_payload = test::payloadBytes(test::kPayloadSize);
    m_server.addFile("/good.bin", m_payload);
    m_server.addFile("/wrong.bin", m_payload);
    const std::string size = std::to_string(test::kPayloadSize);
    const std::string manifest = R"({
  "base_url": "http://127.0.0.1:1/unused/",
  "models": [
    {"id": "good", "title": "Good test file", "path": "good.bin", "size": )" +
                                 size + R"(, "sha256": ")" + test::kPayloadSha256 + R"("},
    {"id": "wrong-digest", "title": "Served bytes do not match", "path": "wrong.bin", "size": )" +
                                 size + R"(, "sha256": ")" + std::string(64, 'f') + R"("},
    {"id": "missing", "title": "Not on the server", "path": "missing.bin", "size": 5,
     "sha256": ")" + std::string(64, 'e') +
                                 R"("}
  ]
})";
    m_manifest = m_dir.path() / "zoo.json";
    test::spit(m_manifest, manifest);
    m_cache = m_dir.path() / "cache";
  }

  // Runs zfvis-cli with `args` (and `env` assignments prefixed), capturing both streams.
  CliResult run(const std::string& args, const std::string& env = "") {
    const fs::path out = m_dir.path() / "stdout.txt", err = m_dir.path() / "stderr.txt";
    const std::string command = env + " '" + std::string(ZFVIS_CLI) + "' " + args + " >'" +
                                out.string() + "' 2>'" + err.string() + "' </dev/null";
    int status = std::system(command.c_str());
    CliResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = test::slurp(out);
    r.err = test::slurp(err);
    return r;
  }

  std::string common(const std::string& basePrefix = "") const {
    return "--manifest '" + m_manifest.string() + "' --base-url '" + m_server.baseUrl() +
           basePrefix + "' --cache-dir '" + m_cache.string() + "'";
  }

  static std::string lastLine(std::string text) {
    while (!text.empty() && text.back() == '\n') text.pop_back();
    auto nl = text.rfind('\n');
    return nl == std::string::npos ? text : text.substr(nl + 1);
  }

  test::ScratchDir m_dir{"cli"};
  test::LocalHttpServer m_server;
  std::string m_payload;
  fs::path m_manifest, m_cache;
};

TEST_F(FetchCli, GoodFetchPrintsThePathAndExitsZero) {
  CliResult r = run("fetch good " + common());
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path file = m_cache / "good.bin";
  EXPECT_EQ(r.out, file.string() + "\n");
  EXPECT_EQ(test::slurp(file), m_payload);
  EXPECT_FALSE(fs::exists(m_cache / "good.bin.part"));
  // Not a terminal: one progress line per 10%, ending at 100%.
  EXPECT_NE(r.err.find("fetch good: 100% (0.3 / 0.3 MB)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fetch good: 50% "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);

  CliResult again = run("fetch good " + common());
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, file.string() + "\n");
  EXPECT_NE(again.err.find("already downloaded"), std::string::npos) << again.err;
}

TEST_F(FetchCli, WrongDigestExitsOneWithOneErrorLineAndNoFile) {
  CliResult r = run("fetch wrong-digest " + common());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  const std::string line = lastLine(r.err);
  EXPECT_EQ(line.rfind("zfvis-cli fetch: error: fetch 'wrong-digest': SHA-256 mismatch", 0), 0u)
      << r.err;
  EXPECT_TRUE(fs::is_empty(m_cache));
}

TEST_F(FetchCli, Http404ExitsOneAndNamesTheStatus) {
  CliResult r = run("fetch missing " + common());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(
      lastLine(r.err).find("fetch 'missing': HTTP 404 for " + m_server.baseUrl() + "missing.bin"),
      std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::is_empty(m_cache));
}

TEST_F(FetchCli, TruncatedTransferExitsOneThenResumes) {
  CliResult r = run("fetch good " + common("truncated/"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(lastLine(r.err).find("run the same command again to resume"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(m_cache / "good.bin"));
  EXPECT_TRUE(fs::exists(m_cache / "good.bin.part"));

  CliResult list = run("fetch --list " + common());
  EXPECT_NE(list.out.find("partial 50%"), std::string::npos) << list.out;

  CliResult resumed = run("fetch good " + common());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming"), std::string::npos) << resumed.err;
  EXPECT_EQ(test::slurp(m_cache / "good.bin"), m_payload);
  auto requests = m_server.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().status, 206);
}

TEST_F(FetchCli, XdgCacheHomeAndBaseUrlFromTheEnvironment) {
  const fs::path xdg = m_dir.path() / "xdg";
  CliResult r =
      run("fetch good --manifest '" + m_manifest.string() + "'",
          "XDG_CACHE_HOME='" + xdg.string() + "' ZFVIS_ZOO_BASE_URL='" + m_server.baseUrl() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path file = xdg / "zfvis" / "models" / "good.bin";
  EXPECT_EQ(r.out, file.string() + "\n");
  EXPECT_EQ(test::slurp(file), m_payload);
}

TEST_F(FetchCli, ListShowsSizesAndCacheState) {
  CliResult before = run("fetch --list " + common());
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_NE(before.out.find("good"), std::string::npos);
  EXPECT_NE(before.out.find("0.3 MB  no"), std::string::npos) << before.out;
  ASSERT_EQ(run("fetch good " + common()).code, 0);
  CliResult after = run("fetch --list --json " + common());
  ASSERT_EQ(after.code, 0) << after.err;
  auto json = nlohmann::json::parse(after.out);
  ASSERT_EQ(json.size(), 3u);
  EXPECT_EQ(json[0]["id"], "good");
  EXPECT_EQ(json[0]["size"], test::kPayloadSize);
  EXPECT_EQ(json[0]["cached"], "yes");
  EXPECT_EQ(json[0]["url"], m_server.baseUrl() + "good.bin");
  EXPECT_EQ(json[1]["cached"], "no");
}

TEST_F(FetchCli, EmbeddedManifestListsTheZoo) {
  CliResult r = run("fetch --list --cache-dir '" + m_cache.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("zfnet512"), std::string::npos);
  EXPECT_NE(r.out.find("349.0 MB"), std::string::npos);
  EXPECT_NE(r.out.find("bvlc-alexnet"), std::string::npos);
}

// A .part planted as a symbolic link used to be written through: the file it pointed to was
// truncated and overwritten, and the cache file became a link to it.
TEST_F(FetchCli, SymlinkedPartIsRefusedAndItsTargetUntouched) {
  const fs::path victim = m_dir.path() / "victim.dat";
  const std::string precious = test::payloadBytes(3600);
  test::spit(victim, precious);
  fs::create_directories(m_cache);
  fs::create_symlink(victim, m_cache / "good.bin.part");
  CliResult r = run("fetch good " + common());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(lastLine(r.err), "zfvis-cli fetch: error: fetch 'good': '" +
                                 (m_cache / "good.bin.part").string() +
                                 "' is a symbolic link; refusing to write through it (delete it "
                                 "and run again)");
  EXPECT_EQ(test::slurp(victim), precious);
  EXPECT_FALSE(fs::exists(fs::symlink_status(m_cache / "good.bin")));
  EXPECT_TRUE(m_server.requests().empty());  // refused before any request
}

TEST_F(FetchCli, PartThatIsNotAPlainFileIsRefused) {
  fs::create_directories(m_cache / "good.bin.part");
  CliResult dir = run("fetch good " + common());
  EXPECT_EQ(dir.code, 1);
  EXPECT_NE(lastLine(dir.err).find("good.bin.part' is not a regular file; refusing to write to it"),
            std::string::npos)
      << dir.err;
  fs::remove(m_cache / "good.bin.part");
  // A hard link would let the download overwrite the other name's contents.
  const fs::path other = m_dir.path() / "other.dat";
  test::spit(other, "other");
  fs::create_hard_link(other, m_cache / "good.bin.part");
  CliResult linked = run("fetch good " + common());
  EXPECT_EQ(linked.code, 1);
  EXPECT_NE(lastLine(linked.err).find("good.bin.part' has other hard links"), std::string::npos)
      << linked.err;
  EXPECT_EQ(test::slurp(other), "other");
  EXPECT_TRUE(m_server.requests().empty());
}

// A server trickling 2.5 bytes/s used to keep fetch going for days (300 KB at 2.5 B/s).
TEST_F(FetchCli, TricklingServerIsStoppedByTheMinimumRateAndResumable) {
  const auto t0 = std::chrono::steady_clock::now();
  CliResult r = run("fetch good " + common("trickle/") + " --min-rate 100 --rate-window 2");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(lastLine(r.err).find(": fewer than 100 bytes/s arrived over 2 s (--min-rate, "
                                 "--rate-window) (run the same command again to resume)"),
            std::string::npos)
      << r.err;
  EXPECT_LT(seconds, 60.0);  // generous bound: stopped after ~2 s, not after 33 hours
  EXPECT_GT(fs::file_size(m_cache / "good.bin.part"), 0u);  // kept for a resume
  CliResult resumed = run("fetch good " + common());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(test::slurp(m_cache / "good.bin"), m_payload);
}

TEST_F(FetchCli, TotalTimeoutStopsADownloadThatKeepsTheMinimumRate) {
  CliResult r = run("fetch good " + common("trickle/") + " --min-rate 0 --timeout 2");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(lastLine(r.err).find(": the total timeout of 2 s was reached (--timeout) (run the "
                                 "same command again to resume)"),
            std::string::npos)
      << r.err;
}

TEST_F(FetchCli, UsageErrors) {
  EXPECT_EQ(run("fetch").code, 2);
  EXPECT_EQ(run("fetch good --list").code, 2);
  EXPECT_EQ(run("fetch --bogus").code, 2);
  EXPECT_EQ(run("fetch good --timeout -1 " + common()).code, 2);
  EXPECT_EQ(run("fetch good --min-rate fast " + common()).code, 2);
  EXPECT_EQ(run("fetch --list --rate-window 0 " + common()).code, 2);
  CliResult unknown = run("fetch nope " + common());
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("unknown zoo model 'nope' (known: good, wrong-digest, missing)"),
            std::string::npos)
      << unknown.err;
  CliResult badManifest = run("fetch good --manifest /nonexistent/zoo.json");
  EXPECT_EQ(badManifest.code, 1);
  EXPECT_NE(badManifest.err.find("/nonexistent/zoo.json"), std::string::npos);
}

}  // namespace
}  // namespace zfvis
