// Finding zfvis's data files (trained models, sample images) from any program: the installed
// share/zfvis folder next to the program's bin/ (after `cmake --install`), else the source tree's
// resources/ folder the build was configured from (programs and tests run from the build tree).
// $ZFVIS_RESOURCES, when set, is searched first.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

namespace zfvis {

/// The folders searched, in order: $ZFVIS_RESOURCES, <program dir>/../share/zfvis, the source
/// tree's resources/.
std::vector<std::filesystem::path> resourceDirs();
/// The first existing `relative` path in resourceDirs(), if any.
std::optional<std::filesystem::path> findResource(const std::filesystem::path& relative);

}  // namespace zfvis
