// zfvis-cli fetch: download a pretrained ONNX Model Zoo file into the user cache, verified.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/base/progress.h"
#include "core/zoo/downloader.h"
#include "core/zoo/zoo_cache.h"
#include "core/zoo/zoo_fetch.h"
#include "core/zoo/zoo_manifest.h"

namespace zfvis::cli {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void onInterrupt(int) {
  g_interrupted = 1;
}

// Installs a Ctrl-C handler that cancels the download cleanly (keeping the .part) for its lifetime.
class InterruptGuard {
 public:
  InterruptGuard() : m_previous(std::signal(SIGINT, onInterrupt)) { g_interrupted = 0; }
  ~InterruptGuard() { std::signal(SIGINT, m_previous); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  void (*m_previous)(int);
};

double mb(int64_t bytes) {
  return static_cast<double>(bytes) / 1e6;
}

// Progress on stderr: one updating line on a terminal, else a line every 10%.
class FetchProgress : public ProgressSink {
 public:
  explicit FetchProgress(std::string id) : m_id(std::move(id)), m_tty(::isatty(2) != 0) {}
  ~FetchProgress() override { endLine(); }

  void report(int64_t done, int64_t total) override {
    if (total <= 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (!m_started) {
      m_started = true;
      m_startTime = now;
      m_startBytes = done;
    }
    const int percent = static_cast<int>(done * 100 / total);
    if (m_tty) {
      if (done != total && now - m_lastPrint < std::chrono::milliseconds(100)) return;
      m_lastPrint = now;
      const double seconds = std::chrono::duration<double>(now - m_startTime).count();
      char rate[32] = "";
      if (seconds > 0.5)
        std::snprintf(rate, sizeof rate, "  %.1f MB/s", mb(done - m_startBytes) / seconds);
      std::fprintf(stderr, "\rfetch %s: %3d%%  %.1f / %.1f MB%s   ", m_id.c_str(), percent,
                   mb(done), mb(total), rate);
      m_lineOpen = true;
      if (done == total) endLine();
    } else {
      const int decile = percent / 10;
      if (decile < m_lastDecile) m_lastDecile = 0;  // restarted from zero
      if (decile <= m_lastDecile) return;
      m_lastDecile = decile;
      std::fprintf(stderr, "fetch %s: %d%% (%.1f / %.1f MB)\n", m_id.c_str(), decile * 10, mb(done),
                   mb(total));
    }
  }

  bool cancelled() const override { return g_interrupted != 0; }

  /// Prints a one-line note and starts a new progress phase.
  void status(const std::string& text) {
    endLine();
    std::fprintf(stderr, "fetch %s: %s\n", m_id.c_str(), text.c_str());
    m_lastDecile = 0;
    m_started = false;
  }

  /// Finishes an open progress line on a terminal.
  void endLine() {
    if (!m_lineOpen) return;
    std::fputc('\n', stderr);
    m_lineOpen = false;
  }

 private:
  std::string m_id;
  bool m_tty = false;
  bool m_lineOpen = false;
  bool m_started = false;
  int m_lastDecile = 0;  // last 10% step printed; 0% is not worth a line
  int64_t m_startBytes = 0;
  std::chrono::steady_clock::time_point m_startTime{};
  std::chrono::steady_clock::time_point m_lastPrint{};
};

// "yes", "no", "partial 42%", "corrupt", "present (not verified yet)".
std::string cacheStatus(const ZooModel& model, const fs::path& cacheDir) {
  const fs::path file = zooModelPath(model, cacheDir);
  switch (checkCachedFile(file, model.size, model.sha256, nullptr, /*allowHashing=*/false)) {
    case CachedFileState::Verified:
      return "yes";
    case CachedFileState::Unverified:
      return "yes (not verified yet)";
    case CachedFileState::Corrupt:
      return "corrupt";
    case CachedFileState::Missing:
      break;
  }
  std::error_code ec;
  const auto part = fs::file_size(partialPath(file), ec);
  if (!ec && part > 0)
    return "partial " + std::to_string(static_cast<int64_t>(part) * 100 / model.size) + "%";
  return "no";
}

int printList(const ZooManifest& manifest, const std::string& baseUrl, const fs::path& cacheDir,
              bool json) {
  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const ZooModel& m : manifest.models) {
      out.push_back({{"id", m.id},
                     {"title", m.title},
                     {"size", m.size},
                     {"sha256", m.sha256},
                     {"opset", m.opset},
                     {"license", m.license},
                     {"url", joinUrl(baseUrl, m.path)},
                     {"file", zooModelPath(m, cacheDir).string()},
                     {"cached", cacheStatus(m, cacheDir)}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("ONNX Model Zoo files (manifest: %s)\ncache: %s\n\n", manifest.source.c_str(),
              cacheDir.string().c_str());
  std::printf("  %-20s %10s  %-13s %s\n", "ID", "SIZE", "CACHED", "TITLE");
  for (const ZooModel& m : manifest.models)
    std::printf("  %-20s %7.1f MB  %-13s %s\n", m.id.c_str(), mb(m.size),
                cacheStatus(m, cacheDir).c_str(), m.title.c_str());
  std::printf("\nDownload one with `zfvis-cli fetch ID`; it prints the file to pass to --model.\n");
  return 0;
}

}  // namespace

int runFetch(const ArgList& argv) {
  // Args only knows --options: a leading word is the model id.
  ArgList rest = argv;
  std::string id;
  if (!rest.empty() && rest.front().rfind("--", 0) != 0) {
    id = rest.front();
    rest.erase(rest.begin());
  }
  Args args(rest,
            {{"list", false},
             {"json", false},
             {"manifest"},
             {"base-url"},
             {"cache-dir"},
             {"min-rate"},
             {"rate-window"},
             {"timeout"}},
            "fetch");
  if (args.has("list") && !id.empty())
    throw UsageError("fetch: give either a model id or --list, not both");
  if (!args.has("list") && id.empty())
    throw UsageError("fetch: which model? give an id (see `zfvis-cli fetch --list`)");
  if (args.has("json") && !args.has("list"))
    throw UsageError("fetch: --json only applies to --list");
  // The limits (0 switches the rate or the total timeout off); checked before anything is read.
  DownloadOptions options;
  options.minRateBytesPerSecond =
      args.intValue("min-rate", int(options.minRateBytesPerSecond), 0, 1 << 30);
  options.rateWindowSeconds =
      args.intValue("rate-window", int(options.rateWindowSeconds), 1, 86400);
  options.totalTimeoutSeconds =
      args.intValue("timeout", int(options.totalTimeoutSeconds), 0, 30 * 86400);

  std::optional<ZooManifest> loaded;
  if (auto file = args.value("manifest")) loaded = loadZooManifest(*file);
  const ZooManifest& manifest = loaded ? *loaded : embeddedZooManifest();
  const std::string baseUrl = zooBaseUrl(manifest, args.value("base-url").value_or(""));
  const fs::path cacheDir =
      args.value("cache-dir") ? fs::path(*args.value("cache-dir")) : zooCacheDir();
  if (args.has("list")) return printList(manifest, baseUrl, cacheDir, args.has("json"));

  const ZooModel& model = manifest.require(id);
  const std::string url = joinUrl(baseUrl, model.path);
  std::fprintf(stderr, "fetch %s: %s, %.1f MB%s%s\nfetch %s: from %s\n", model.id.c_str(),
               model.title.c_str(), mb(model.size), model.license.empty() ? "" : ", licence ",
               model.license.c_str(), model.id.c_str(), url.c_str());

  InterruptGuard interruptGuard;
  FetchProgress progress(model.id);
  options.onStatus = [&progress](const std::string& text) { progress.status(text); };
  DownloadResult result;
  try {
    result = fetchZooModel(model, baseUrl, cacheDir, &progress, options);
  } catch (const Cancelled&) {
    progress.status("stopped; the partial download is kept, run the same command to resume");
    throw;
  }
  progress.endLine();
  if (result.alreadyPresent)
    std::fprintf(stderr, "fetch %s: already downloaded; size and SHA-256 verified\n",
                 model.id.c_str());
  else
    std::fprintf(stderr, "fetch %s: done, SHA-256 verified (%s)\n", model.id.c_str(),
                 model.sha256.c_str());
  std::printf("%s\n", result.path.string().c_str());
  return 0;
}

}  // namespace zfvis::cli
