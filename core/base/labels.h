// Class labels: the names shown for a network's outputs. One place decides them
// (resolveClassNames): names the user gave (`--labels FILE`, Model -> Load Labels…), else the
// model's own (ONNX metadata `zfvis.labels`, a training run's classes), else the ImageNet-1k names
// for a 1000-way output, else "class K".
#pragma once

#include <cstdint>
#include <filesystem>
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

/// The names of a network's `classes` outputs, always `classes` long: `given` when it has one
/// name per class, else `model` (NetworkDef::classNames) when it has, else ImageNet's for 1000
/// classes, else "class K".
std::vector<std::string> resolveClassNames(int classes, const std::vector<std::string>& given,
                                           const std::vector<std::string>& model);

/// Parses class names: a JSON list of strings (text starting with '['), else one name per line
/// (a trailing "\r" and trailing empty lines are dropped; an empty line inside is refused).
/// Throws Error naming `what` for text that is not UTF-8, holds a NUL byte, is malformed JSON or
/// names no class.
std::vector<std::string> parseClassNames(const std::string& text, const std::string& what);
/// Largest labels file read (a million names of 16 bytes each).
inline constexpr std::uintmax_t kMaxLabelsFileBytes = 16u << 20;
/// Reads a labels file (parseClassNames) and checks it has `classes` names; throws Error
/// "labels file 'F' has N names but model 'M' has K classes" otherwise, or naming the file when
/// it is missing, unreadable, too large, empty or binary. `classes` < 0 skips the count check.
std::vector<std::string> readClassNamesFile(const std::filesystem::path& path, int classes,
                                            const std::string& model);

}  // namespace zfvis
