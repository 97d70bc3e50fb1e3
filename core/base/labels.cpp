#include "core/base/labels.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/base/error.h"

namespace zfvis {

namespace detail {
extern const char* const kImagenetSynsetText;
}

const std::vector<ClassLabel>& imagenetLabels() {
  static const std::vector<ClassLabel> labels = [] {
    std::vector<ClassLabel> out;
    std::istringstream in(detail::kImagenetSynsetText);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto space = line.find(' ');
      if (space == std::string::npos) continue;
      out.push_back({line.substr(0, space), line.substr(space + 1)});
    }
    return out;
  }();
  return labels;
}

std::string classDisplayName(int index, int classes) {
  const auto& labels = imagenetLabels();
  if (classes == static_cast<int>(labels.size()) && index >= 0 && index < classes)
    return labels[static_cast<size_t>(index)].name;
  return "class " + std::to_string(index);
}

std::string classDisplayName(int index, int classes, const std::vector<std::string>& names) {
  if (int(names.size()) == classes && index >= 0 && index < classes) return names[size_t(index)];
  return classDisplayName(index, classes);
}

std::vector<std::string> resolveClassNames(int classes, const std::vector<std::string>& given,
                                           const std::vector<std::string>& model) {
  if (classes <= 0) return {};
  if (int(given.size()) == classes) return given;
  if (int(model.size()) == classes) return model;
  std::vector<std::string> out;
  out.reserve(size_t(classes));
  for (int c = 0; c < classes; ++c) out.push_back(classDisplayName(c, classes));
  return out;
}

namespace {

// True when `s` has the structure of UTF-8 (lead bytes followed by the right number of
// continuation bytes): enough to tell text from binary.
bool isUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t more = c < 0x80           ? 0
                        : (c >> 5) == 0x6  ? 1
                        : (c >> 4) == 0xE  ? 2
                        : (c >> 3) == 0x1E ? 3
                                           : 99;
    if (more == 99 || i + more >= s.size() + (more == 0 ? 1 : 0)) return false;
    for (size_t k = 1; k <= more; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += more + 1;
  }
  return true;
}

}  // namespace

std::vector<std::string> parseClassNames(const std::string& text, const std::string& what) {
  if (text.find('\0') != std::string::npos)
    throw Error(what +
                " is not a text file (it holds NUL bytes); expected one class name per line");
  if (!isUtf8(text)) throw Error(what + " is not UTF-8 text; expected one class name per line");
  std::vector<std::string> names;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw Error(what + " starts with '[' but is not a JSON list: " + e.what());
    }
    if (!j.is_array()) throw Error(what + ": expected a JSON list of strings");
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_string())
        throw Error(what + ": JSON item " + std::to_string(i) + " is not a string");
      names.push_back(j[i].get<std::string>());
    }
  } else {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      names.push_back(line);
    }
    while (!names.empty() && names.back().empty()) names.pop_back();
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i].empty())
        throw Error(what + ": line " + std::to_string(i + 1) +
                    " is empty; expected one class name per line");
  }
  if (names.empty()) throw Error(what + " names no class; expected one class name per line");
  return names;
}

std::vector<std::string> readClassNamesFile(const std::filesystem::path& path, int classes,
                                            const std::string& model) {
  const std::string what = "labels file '" + path.string() + "'";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(what + " does not exist");
  if (std::filesystem::is_directory(path, ec)) throw Error(what + " is a folder, not a file");
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(what + " cannot be read: " + ec.message());
  if (size > kMaxLabelsFileBytes)
    throw Error(what + " is " + std::to_string(size) + " bytes; labels files are at most " +
                std::to_string(kMaxLabelsFileBytes) + " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(what + " cannot be opened");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw Error(what + " cannot be read");
  std::vector<std::string> names = parseClassNames(buf.str(), what);
  if (classes >= 0 && int64_t(names.size()) != classes)
    throw Error(what + " has " + std::to_string(names.size()) + " names but model '" + model +
                "' has " + std::to_string(classes) + " classes");
  return names;
}

}  // namespace zfvis
