// PNG files with metadata text chunks (model, layer, mode, normalisation), written atomically.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

namespace zfvis {

using PngText = std::vector<std::pair<std::string, std::string>>;

/// Writes an 8-bit BGR or gray image as PNG with tEXt chunks, via a temporary file and rename;
/// throws Error naming the file.
void writePng(const std::filesystem::path& path, const cv::Mat& image, const PngText& text = {});
/// Reads the tEXt chunks of a PNG file (tests, export checks).
PngText readPngText(const std::filesystem::path& path);

}  // namespace zfvis
