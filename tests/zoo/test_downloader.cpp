// Verified downloads against a local HTTP server: good file, wrong digest, truncated transfer,
// resume with Range (206) and restart when the server ignores it (200), 404, cancellation.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/zoo/downloader.h"
#include "core/zoo/zoo_cache.h"
#include "core/zoo/zoo_fetch.h"
#include "tests/zoo/local_http_server.h"
#include "tests/zoo/test_data.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
using test::kPayloadSha256;
using test::kPayloadSize;

// Records every report; optionally asks to stop once `cancelAt` bytes are on disk.
class RecordingSink : public ProgressSink {
 public:
  explicit RecordingSink(int64_t cancelAt = -1) : m_cancelAt(cancelAt) {}
  void report(int64_t done, int64_t total) override { reports.emplace_back(done, total); }
  bool cancelled() const override {
    return m_cancelAt >= 0 && !reports.empty() && reports.back().first >= m_cancelAt;
  }
  std::vector<std::pair<int64_t, int64_t>> reports;

 private:
  int64_t m_cancelAt;
};

class Download : public ::testing::Test {
 protected:
  void SetUp() override {
    test::bypassProxies();
    m_payload = test::payloadBytes(kPayloadSize);
    m_server.addFile("/good.bin", m_payload);
    m_dest = m_dir.path() / "models" / "good.onnx";
  }

  DownloadRequest request(const std::string& prefix = "",
                          const std::string& sha256 = kPayloadSha256) const {
    DownloadRequest r;
    r.label = "good";
    r.url = m_server.baseUrl() + prefix + "good.bin";
    r.destination = m_dest;
    r.size = static_cast<int64_t>(kPayloadSize);
    r.sha256 = sha256;
    return r;
  }

  // Runs a download that must fail and returns its message.
  std::string failure(const DownloadRequest& r, ProgressSink* sink = nullptr) {
    try {
      downloadVerified(r, sink);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected the download of " << r.url << " to fail";
    return "";
  }

  // Names of the files in the destination folder, sorted.
  std::vector<std::string> folderContents() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(m_dest.parent_path(), ec))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path part() const { return partialPath(m_dest); }

  test::ScratchDir m_dir{"dl"};
  test::LocalHttpServer m_server;
  std::string m_payload;
  fs::path m_dest;
};

TEST_F(Download, GoodFileIsVerifiedAndRenamed) {
  RecordingSink sink;
  DownloadResult r = downloadVerified(request(), &sink);
  EXPECT_EQ(r.path, m_dest);
  EXPECT_FALSE(r.alreadyPresent);
  EXPECT_FALSE(r.resumed);
  EXPECT_EQ(r.bytesReceived, static_cast<int64_t>(kPayloadSize));
  EXPECT_EQ(test::slurp(m_dest), m_payload);
  EXPECT_EQ(folderContents(), (std::vector<std::string>{"good.onnx", "good.onnx.sha256"}));
  auto requests = m_server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].range, "");
  EXPECT_EQ(requests[0].status, 200);
  // Progress counts bytes on disk, never goes backwards and ends at the total.
  ASSERT_FALSE(sink.reports.empty());
  for (size_t i = 1; i < sink.reports.size(); ++i)
    EXPECT_GE(sink.reports[i].first, sink.reports[i - 1].first);
  EXPECT_EQ(sink.reports.back(),
            std::make_pair(static_cast<int64_t>(kPayloadSize), static_cast<int64_t>(kPayloadSize)));
}

TEST_F(Download, CachedFileIsUsedWithoutTheNetwork) {
  downloadVerified(request());
  m_server.clearRequests();
  DownloadResult r = downloadVerified(request());
  EXPECT_TRUE(r.alreadyPresent);
  EXPECT_EQ(r.path, m_dest);
  EXPECT_TRUE(m_server.requests().empty());
}

TEST_F(Download, WrongDigestLeavesNothingUsable) {
  const std::string wrong(64, '0');
  const std::string message = failure(request("", wrong));
  EXPECT_NE(message.find("fetch 'good': SHA-256 mismatch for " + request().url), std::string::npos)
      << message;
  EXPECT_NE(message.find(std::string("got ") + kPayloadSha256), std::string::npos) << message;
  EXPECT_TRUE(folderContents().empty()) << "left: " << folderContents().front();
}

TEST_F(Download, TruncatedTransferFailsThenResumesWithRange) {
  const std::string message = failure(request("truncated/"));
  EXPECT_NE(message.find("run the same command again to resume"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(m_dest));
  ASSERT_TRUE(fs::exists(part()));
  const auto half = kPayloadSize / 2;
  EXPECT_EQ(fs::file_size(part()), half);

  m_server.clearRequests();
  DownloadResult r = downloadVerified(request());
  EXPECT_TRUE(r.resumed);
  EXPECT_EQ(r.resumedFrom, static_cast<int64_t>(half));
  EXPECT_EQ(r.bytesReceived, static_cast<int64_t>(kPayloadSize - half));
  auto requests = m_server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].range, "bytes=" + std::to_string(half) + "-");
  EXPECT_EQ(requests[0].status, 206);
  EXPECT_EQ(test::slurp(m_dest), m_payload);
  EXPECT_FALSE(fs::exists(part()));
}

TEST_F(Download, ServerIgnoringRangeRestartsFromZero) {
  fs::create_directories(m_dest.parent_path());
  test::spit(part(), std::string(1000, '\xAA'));  // junk that must not survive
  DownloadResult r = downloadVerified(request("norange/"));
  EXPECT_FALSE(r.resumed);
  EXPECT_EQ(r.bytesReceived, static_cast<int64_t>(kPayloadSize));
  auto requests = m_server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].range, "bytes=1000-");
  EXPECT_EQ(requests[0].status, 200);
  EXPECT_EQ(test::slurp(m_dest), m_payload);
}

TEST_F(Download, ResumedJunkIsCaughtByTheDigest) {
  // A .part whose bytes do not belong to the file: the resumed result fails verification and is
  // deleted, so the next attempt starts from zero and succeeds.
  fs::create_directories(m_dest.parent_path());
  test::spit(part(), std::string(1000, '\xAA'));
  const std::string message = failure(request());
  EXPECT_NE(message.find("SHA-256 mismatch"), std::string::npos) << message;
  EXPECT_TRUE(folderContents().empty());
  downloadVerified(request());
  EXPECT_EQ(test::slurp(m_dest), m_payload);
}

TEST_F(Download, PartialLargerThanExpectedRestarts) {
  fs::create_directories(m_dest.parent_path());
  test::spit(part(), std::string(kPayloadSize + 100, 'x'));
  DownloadResult r = downloadVerified(request());
  EXPECT_FALSE(r.resumed);
  auto requests = m_server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].range, "");
  EXPECT_EQ(test::slurp(m_dest), m_payload);
}

TEST_F(Download, CompletePartialIsVerifiedWithoutTheNetwork) {
  fs::create_directories(m_dest.parent_path());
  test::spit(part(), m_payload);  // e.g. interrupted between the last byte and the rename
  DownloadResult r = downloadVerified(request());
  EXPECT_TRUE(m_server.requests().empty());
  EXPECT_EQ(r.bytesReceived, 0);
  EXPECT_EQ(test::slurp(m_dest), m_payload);
}

TEST_F(Download, UnsatisfiableRangeRestartsOnceFromZero) {
  // The server's file is shorter than the .part: it answers 416, the download starts over, and
  // the full answer (300000 bytes) then disagrees with the expected size.
  fs::create_directories(m_dest.parent_path());
  test::spit(part(), std::string(kPayloadSize + 10, 'x'));
  DownloadRequest r = request();
  r.size = static_cast<int64_t>(kPayloadSize) + 1000;
  const std::string message = failure(r);
  EXPECT_NE(message.find("the server sends 300000 bytes but the manifest expects 301000"),
            std::string::npos)
      << message;
  auto requests = m_server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].status, 416);
  EXPECT_EQ(requests[1].range, "");
  EXPECT_TRUE(folderContents().empty());
}

TEST_F(Download, PartialLockedByAnotherDownloadIsRefused) {
  fs::create_directories(m_dest.parent_path());
  int fd = ::open(part().c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const std::string message = failure(request());
  EXPECT_NE(message.find("another zfvis process is downloading it"), std::string::npos) << message;
  EXPECT_TRUE(fs::exists(part()));  // the other download's file is left alone
  ::close(fd);
  downloadVerified(request());
  EXPECT_EQ(test::slurp(m_dest), m_payload);
}

TEST_F(Download, Http404NamesTheStatusAndUrl) {
  DownloadRequest r = request();
  r.url = m_server.baseUrl() + "missing.bin";
  const std::string message = failure(r);
  EXPECT_NE(message.find("fetch 'good': HTTP 404 for " + r.url), std::string::npos) << message;
  EXPECT_TRUE(folderContents().empty());
}

TEST_F(Download, SizeDisagreementIsRefusedBeforeDownloading) {
  for (int64_t delta : {-10, +10}) {
    DownloadRequest r = request();
    r.size += delta;
    const std::string message = failure(r);
    EXPECT_NE(message.find("the server sends 300000 bytes but the manifest expects " +
                           std::to_string(r.size)),
              std::string::npos)
        << message;
    EXPECT_TRUE(folderContents().empty());
  }
}

TEST_F(Download, CancelKeepsThePartialFileForResume) {
  RecordingSink cancelling(64 * 1024);
  EXPECT_THROW(downloadVerified(request("slow/"), &cancelling), Cancelled);
  EXPECT_FALSE(fs::exists(m_dest));
  ASSERT_TRUE(fs::exists(part()));
  const auto kept = fs::file_size(part());
  EXPECT_GE(kept, 64u * 1024u);
  EXPECT_LT(kept, kPayloadSize);

  m_server.clearRequests();
  DownloadResult r = downloadVerified(request());
  EXPECT_TRUE(r.resumed);
  EXPECT_EQ(r.resumedFrom, static_cast<int64_t>(kept));
  ASSERT_EQ(m_server.requests().size(), 1u);
  EXPECT_EQ(m_server.requests()[0].range, "bytes=" + std::to_string(kept) + "-");
  EXPECT_EQ(test::slurp(m_dest), m_payload);
}

TEST_F(Download, CancelBeforeStartingLeavesNothing) {
  RecordingSink cancelling(0);
  EXPECT_THROW(downloadVerified(request(), &cancelling), Cancelled);
  EXPECT_TRUE(folderContents().empty());
}

TEST_F(Download, FollowsRedirects) {
  downloadVerified(request("redirect/"));
  EXPECT_EQ(test::slurp(m_dest), m_payload);
  auto requests = m_server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].status, 302);
  EXPECT_EQ(requests[1].target, "/good.bin");
}

TEST_F(Download, CorruptCachedFileIsReplaced) {
  fs::create_directories(m_dest.parent_path());
  test::spit(m_dest, std::string(kPayloadSize, 'z'));  // right size, wrong bytes
  std::vector<std::string> notes;
  DownloadOptions options;
  options.onStatus = [&notes](const std::string& n) { notes.push_back(n); };
  DownloadResult r = downloadVerified(request(), nullptr, options);
  EXPECT_FALSE(r.alreadyPresent);
  EXPECT_EQ(test::slurp(m_dest), m_payload);
  bool mentioned = false;
  for (const auto& n : notes) mentioned |= n.find("does not match the manifest") != n.npos;
  EXPECT_TRUE(mentioned);
}

TEST_F(Download, ConnectionRefusedIsAnError) {
  std::string url;
  {
    test::LocalHttpServer gone;
    url = gone.baseUrl() + "good.bin";
  }
  DownloadRequest r = request();
  r.url = url;
  const std::string message = failure(r);
  EXPECT_NE(message.find("fetch 'good': cannot download " + url), std::string::npos) << message;
  EXPECT_TRUE(folderContents().empty());
}

TEST_F(Download, BadRequestsAreRefused) {
  DownloadRequest r = request();
  r.sha256 = "abc";
  EXPECT_NE(failure(r).find("64 hex digits"), std::string::npos);
  r = request();
  r.size = 0;
  EXPECT_NE(failure(r).find("size must be positive"), std::string::npos);
}

TEST_F(Download, SidecarSparesRehashingUntilTheFileChanges) {
  downloadVerified(request());
  EXPECT_EQ(checkCachedFile(m_dest, kPayloadSize, kPayloadSha256, nullptr, false),
            CachedFileState::Verified);
  // Same size, different bytes, new mtime: the sidecar is stale, hashing finds the damage.
  const auto mtime = fs::last_write_time(m_dest);
  std::string damaged = m_payload;
  damaged[12345] ^= 1;
  test::spit(m_dest, damaged);
  fs::last_write_time(m_dest, mtime + std::chrono::seconds(5));
  EXPECT_EQ(checkCachedFile(m_dest, kPayloadSize, kPayloadSha256, nullptr, false),
            CachedFileState::Unverified);
  EXPECT_EQ(checkCachedFile(m_dest, kPayloadSize, kPayloadSha256), CachedFileState::Corrupt);
  // When size and mtime match the sidecar, it is trusted without reading the file: this is what
  // spares rehashing 350 MB on every run.
  fs::last_write_time(m_dest, mtime);
  EXPECT_EQ(checkCachedFile(m_dest, kPayloadSize, kPayloadSha256), CachedFileState::Verified);
  EXPECT_EQ(checkCachedFile(m_dest, kPayloadSize + 1, kPayloadSha256), CachedFileState::Corrupt);
  EXPECT_EQ(checkCachedFile(m_dir.path() / "none.onnx", kPayloadSize, kPayloadSha256),
            CachedFileState::Missing);
}

TEST_F(Download, HashingWithoutSidecarWritesOne) {
  fs::create_directories(m_dest.parent_path());
  test::spit(m_dest, m_payload);
  EXPECT_FALSE(fs::exists(sidecarPath(m_dest)));
  RecordingSink sink;
  EXPECT_EQ(checkCachedFile(m_dest, kPayloadSize, kPayloadSha256, &sink),
            CachedFileState::Verified);
  EXPECT_FALSE(sink.reports.empty());
  const std::string sidecar = test::slurp(sidecarPath(m_dest));
  EXPECT_EQ(sidecar.rfind(std::string(kPayloadSha256) + "  good.onnx\nsize 300000\nmtime ", 0), 0u)
      << sidecar;
}

// ---- zoo cache helpers ----

class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : m_name(name) {
    if (const char* v = std::getenv(name)) m_old = v;
  }
  ~EnvGuard() {
    if (m_old)
      ::setenv(m_name, m_old->c_str(), 1);
    else
      ::unsetenv(m_name);
  }

 private:
  const char* m_name;
  std::optional<std::string> m_old;
};

TEST(ZooCache, CacheDirFollowsXdgThenHome) {
  EnvGuard xdg("XDG_CACHE_HOME"), home("HOME");
  ::setenv("XDG_CACHE_HOME", "/x/cache", 1);
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(zooCacheDir(), fs::path("/x/cache/zfvis/models"));
  ::setenv("XDG_CACHE_HOME", "relative/ignored", 1);
  EXPECT_EQ(zooCacheDir(), fs::path("/home/u/.cache/zfvis/models"));
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(zooCacheDir(), fs::path("/home/u/.cache/zfvis/models"));
  ::unsetenv("HOME");
  EXPECT_THROW(zooCacheDir(), Error);
}

TEST(ZooCache, BaseUrlOverrideBeatsEnvironmentBeatsManifest) {
  EnvGuard env("ZFVIS_ZOO_BASE_URL");
  ZooManifest m;
  m.baseUrl = "https://manifest/";
  ::unsetenv("ZFVIS_ZOO_BASE_URL");
  EXPECT_EQ(zooBaseUrl(m), "https://manifest/");
  ::setenv("ZFVIS_ZOO_BASE_URL", "http://mirror/", 1);
  EXPECT_EQ(zooBaseUrl(m), "http://mirror/");
  EXPECT_EQ(zooBaseUrl(m, "http://flag/"), "http://flag/");
}

TEST_F(Download, CachedZooModelIsNulloptThenPathThenRefusesDamage) {
  ZooModel model;
  model.id = "good";
  model.path = "good.bin";
  model.size = static_cast<int64_t>(kPayloadSize);
  model.sha256 = kPayloadSha256;
  const fs::path cache = m_dir.path() / "cache";
  EXPECT_FALSE(cachedZooModel(model, cache).has_value());
  DownloadResult r = fetchZooModel(model, m_server.baseUrl(), cache);
  EXPECT_EQ(r.path, cache / "good.bin");
  ASSERT_TRUE(cachedZooModel(model, cache).has_value());
  EXPECT_EQ(*cachedZooModel(model, cache), cache / "good.bin");
  test::spit(cache / "good.bin", "short");
  EXPECT_THROW(cachedZooModel(model, cache), Error);
}

}  // namespace
}  // namespace zfvis
