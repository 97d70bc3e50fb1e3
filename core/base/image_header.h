// Image dimensions read from a file's header without decoding it, so an image that would need
// gigabytes once decoded (a 875 KB PNG can declare 30000 x 30000 pixels) is refused before any
// decoder allocates for it. Covers every format zfvis hands to OpenCV: PNG, JPEG, BMP, TIFF
// (classic and BigTIFF, first page), WebP, PNM/PAM/PFM, Sun raster, Radiance HDR and JPEG 2000.
// Anything else is "not recognised" and never reaches a decoder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zfvis {

/// What an image file's header says.
struct ImageHeader {
  std::string format;  // "PNG", "JPEG", ...; empty when the bytes are not a format listed above
  int64_t width = 0;   // pixels; 0 when the format is recognised but its header is damaged
  int64_t height = 0;  // pixels; 0 when the format is recognised but its header is damaged
};

/// Reads the format and dimensions from the first bytes of an image file. Never throws; reads
/// only within `bytes`.
ImageHeader readImageHeader(std::string_view bytes);

}  // namespace zfvis
