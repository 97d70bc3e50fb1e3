// PNG files with metadata text chunks (model, layer, mode, normalisation), written atomically.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

namespace zfvis {

using PngText = std::vector<std::pair<std::string, std::string>>;

/// Writes an 8-bit BGR or gray image as PNG with tEXt chunks, via a temporary file and rename;
/// throws Error naming the file.
void writePng(const std::filesystem::path& path, const cv::Mat& image, const PngText& text = {});
/// The text chunks every zfvis picture starts with: the software and the view; the model and
/// whether its weights are untrained, the image and the layer, each when not empty. Callers append
/// their own.
PngText pictureText(std::string_view view, std::string_view model, bool untrained,
                    std::string_view image = {}, std::string_view layer = {});
/// Reads the tEXt chunks of a PNG file (tests, export checks).
PngText readPngText(const std::filesystem::path& path);
/// The value of the first chunk called `key`; empty when there is none.
std::string pngTextValue(const PngText& text, std::string_view key);

}  // namespace zfvis
