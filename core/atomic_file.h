// Atomic file writes: data goes to a temporary file in the target's folder, then is renamed over
// the target, so a failure never leaves a half-written file behind.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace zfvis {

/// Writes `bytes` to `path` atomically; throws Error naming the file on failure.
void writeFileAtomic(const std::filesystem::path& path, std::string_view bytes);

/// Reads a whole file; throws Error naming the file on failure. Refuses files over `maxBytes`.
std::string readFile(const std::filesystem::path& path, size_t maxBytes = size_t(1) << 32);

}  // namespace zfvis
