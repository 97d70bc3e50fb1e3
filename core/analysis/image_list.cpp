#include "core/analysis/image_list.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <string_view>

#include "core/base/error.h"
#include "core/base/file_types.h"

namespace zfvis {
namespace fs = std::filesystem;

namespace {

std::vector<ImageEntry> listFolder(const fs::path& dir) {
  std::vector<ImageEntry> out;
  std::error_code ec;
  auto it =
      fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw Error("'" + dir.string() + "': cannot read the folder (" + ec.message() + ")");
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw Error("'" + dir.string() + "': cannot read the folder (" + ec.message() + ")");
    std::error_code fileEc;
    if (!it->is_regular_file(fileEc) || !hasImageExtension(it->path())) continue;
    out.push_back({it->path(), it->path().lexically_relative(dir).generic_string()});
  }
  std::sort(out.begin(), out.end(),
            [](const ImageEntry& a, const ImageEntry& b) { return a.name < b.name; });
  return out;
}

std::vector<ImageEntry> listFile(const fs::path& list) {
  std::ifstream in(list, std::ios::binary);
  if (!in) throw Error("'" + list.string() + "': cannot open the image list");
  std::vector<ImageEntry> out;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line.erase(0, start);
    if (line.find('\0') != std::string::npos)
      throw Error("'" + list.string() + "': line " + std::to_string(out.size() + 1) +
                  " holds a NUL byte; expected one image path per line");
    fs::path p(line);
    out.push_back({p.is_absolute() ? p : list.parent_path() / p, line});
  }
  if (in.bad()) throw Error("'" + list.string() + "': read error");
  return out;
}

}  // namespace

std::vector<ImageEntry> listImages(const fs::path& source) {
  std::error_code ec;
  const fs::file_status st = fs::status(source, ec);
  if (ec || !fs::exists(st)) throw Error("'" + source.string() + "' does not exist");
  std::vector<ImageEntry> out;
  if (fs::is_directory(st))
    out = listFolder(source);
  else if (fs::is_regular_file(st) && hasImageExtension(source))
    out = {{source, source.filename().string()}};
  else if (fs::is_regular_file(st))
    out = listFile(source);
  else
    throw Error("'" + source.string() + "' is neither a folder nor an image list file");
  if (out.empty())
    throw Error("'" + source.string() + "' holds no image" +
                (fs::is_directory(st) ? " (expected .png, .jpg, ... files below it)"
                                      : " (expected one image path per line)"));
  return out;
}

}  // namespace zfvis
