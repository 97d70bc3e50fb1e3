#include "core/labels.h"

#include <sstream>

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

}  // namespace zfvis
