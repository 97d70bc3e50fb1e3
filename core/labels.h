// Class labels: the ImageNet-1k names in the standard output order.
#pragma once

#include <string>
#include <vector>

namespace zfvis {

struct ClassLabel {
  std::string id;    // "n02123045"
  std::string name;  // "tabby, tabby cat"
};

/// The 1000 ImageNet classes (embedded at build time from resources/imagenet_synset.txt).
const std::vector<ClassLabel>& imagenetLabels();
/// The display name of class `index` for a network with `classes` outputs: the ImageNet name
/// when classes == 1000, else "class <index>".
std::string classDisplayName(int index, int classes);
/// The model's own name for class `index` when it carries one per output (`names`, e.g.
/// NetworkDef::classNames), else classDisplayName(index, classes).
std::string classDisplayName(int index, int classes, const std::vector<std::string>& names);

}  // namespace zfvis
