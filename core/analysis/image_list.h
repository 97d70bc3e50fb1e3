// The images of a collection, in a fixed order (ARCHITECTURE.md "Dataset scans"): a folder is
// walked recursively and sorted by relative path; a list file (one path per line) keeps its
// order. Used by the evolution figure and the dataset scan.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace zfvis {

/// One image of a collection.
struct ImageEntry {
  std::filesystem::path path;  // as opened
  std::string name;            // relative to the folder (or as written in the list file)
};

/// The images of `source`:
/// - a folder: every regular file with an image extension below it (symbolic links to files are
///   followed, links to folders are not), sorted by relative path (byte order of its generic
///   form, '/' separators);
/// - an image file (by its extension): that image alone;
/// - another file: a list with one path per line, kept in order; blank lines and lines starting
/// with
///   '#' are skipped, relative paths are relative to the list file's folder, and any extension is
///   accepted (the reader decides).
/// Throws Error naming `source` when it does not exist, cannot be read, or holds no image.
std::vector<ImageEntry> listImages(const std::filesystem::path& source);

}  // namespace zfvis
