#include "core/render/png.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/base/atomic_file.h"

// libpng reports errors with longjmp; no local is modified between setjmp and the jump, so
// GCC's -Wclobbered warnings about locals inside inlined library code do not apply.
#pragma GCC diagnostic ignored "-Wclobbered"
#include "core/base/error.h"

namespace zfvis {

namespace {

void writeToString(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void flushNothing(png_structp) {}

std::string encodePng(const cv::Mat& image, const PngText& text, const std::string& what) {
  if (image.empty() || image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3))
    throw Error("cannot write " + what + ": expected a non-empty 8-bit gray or BGR image");
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    throw Error("cannot write " + what + ": libpng initialisation failed");
  }
  std::vector<png_text> chunks(text.size());
  std::vector<uint8_t> rgb;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Error("cannot write " + what + ": PNG encoding failed");
  }
  png_set_write_fn(png, &out, writeToString, flushNothing);
  const int channels = image.channels();
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.cols),
               static_cast<png_uint_32>(image.rows), 8,
               channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  for (size_t i = 0; i < text.size(); ++i) {
    chunks[i].compression = PNG_TEXT_COMPRESSION_NONE;
    chunks[i].key = const_cast<char*>(text[i].first.c_str());
    chunks[i].text = const_cast<char*>(text[i].second.c_str());
    chunks[i].text_length = text[i].second.size();
  }
  if (!chunks.empty()) png_set_text(png, info, chunks.data(), static_cast<int>(chunks.size()));
  png_write_info(png, info);
  if (channels == 3) png_set_bgr(png);
  for (int y = 0; y < image.rows; ++y)
    png_write_row(png, const_cast<png_bytep>(image.ptr<png_byte>(y)));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace

void writePng(const std::filesystem::path& path, const cv::Mat& image, const PngText& text) {
  writeFileAtomic(path, encodePng(image, text, "'" + path.string() + "'"));
}

PngText readPngText(const std::filesystem::path& path) {
  std::string bytes = readFile(path);
  PngText out;
  if (bytes.size() < 8 || std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8) != 0)
    throw Error("'" + path.string() + "' is not a PNG file");
  size_t pos = 8;
  while (pos + 12 <= bytes.size()) {
    uint32_t len = (uint32_t(uint8_t(bytes[pos])) << 24) |
                   (uint32_t(uint8_t(bytes[pos + 1])) << 16) |
                   (uint32_t(uint8_t(bytes[pos + 2])) << 8) | uint32_t(uint8_t(bytes[pos + 3]));
    std::string type = bytes.substr(pos + 4, 4);
    if (pos + 12 + len > bytes.size()) break;
    if (type == "tEXt") {
      std::string body = bytes.substr(pos + 8, len);
      auto nul = body.find('\0');
      if (nul != std::string::npos) out.emplace_back(body.substr(0, nul), body.substr(nul + 1));
    }
    if (type == "IEND") break;
    pos += 12 + len;
  }
  return out;
}

PngText pictureText(std::string_view view, std::string_view model, bool untrained,
                    std::string_view image, std::string_view layer) {
  PngText t{{"Software", "zfvis " ZFVIS_VERSION}, {"zfvis:view", std::string(view)}};
  if (!model.empty()) {
    t.push_back({"zfvis:model", std::string(model)});
    t.push_back({"zfvis:untrained", untrained ? "true" : "false"});
  }
  if (!image.empty()) t.push_back({"zfvis:image", std::string(image)});
  if (!layer.empty()) t.push_back({"zfvis:layer", std::string(layer)});
  return t;
}

std::string pngTextValue(const PngText& text, std::string_view key) {
  for (const auto& [k, v] : text)
    if (k == key) return v;
  return {};
}

}  // namespace zfvis
