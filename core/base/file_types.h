// File types by name, in one place for the model and image loaders, the dataset readers, the
// CLI and the UI's file lists: a lower-case extension and the lists of extensions zfvis reads.
#pragma once

#include <filesystem>
#include <string>

namespace zfvis {

/// `s` with ASCII letters in lower case (extensions, hex digests).
std::string asciiLower(std::string s);

/// The extension of `file` in lower case, with its dot (".png"); "" when it has none.
std::string lowerExtension(const std::filesystem::path& file);

/// True when the extension (any case) is one of the image formats zfvis reads through OpenCV:
/// PNG, JPEG, BMP, TIFF, WebP, the PNM family, Sun raster, Radiance HDR and JPEG 2000.
bool hasImageExtension(const std::filesystem::path& file);

/// True when the extension is ".npy" (any case): a NumPy array (an input tensor, a filter bank).
bool hasNpyExtension(const std::filesystem::path& file);

}  // namespace zfvis
