#include "core/base/file_types.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace zfvis {

std::string asciiLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return s;
}

std::string lowerExtension(const std::filesystem::path& file) {
  return asciiLower(file.extension().string());
}

bool hasImageExtension(const std::filesystem::path& file) {
  static constexpr std::array<std::string_view, 19> kExtensions = {
      ".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".pbm",
      ".pgm", ".ppm", ".pnm",  ".pam", ".pfm", ".ras", ".sr",  ".hdr",  ".jp2"};
  const std::string ext = lowerExtension(file);
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

bool hasNpyExtension(const std::filesystem::path& file) {
  return lowerExtension(file) == ".npy";
}

}  // namespace zfvis
