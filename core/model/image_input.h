// Turning image files (or .npy tensors) into network inputs, and network inputs back into images.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <opencv2/core.hpp>

#include "core/base/tensor.h"
#include "core/model/network.h"

namespace zfvis {

/// Images with more pixels than this are refused before they are decoded (unless a caller raises
/// the limit, e.g. zfvis-cli --max-pixels): 128 megapixels holds any camera photo up to 108 MP
/// phone and 102 MP medium-format sensors, and decodes in at most about 1.5 GB (16-bit RGBA).
inline constexpr int64_t kDefaultMaxImagePixels = 128'000'000;

/// How image files are read.
struct ImageReadOptions {
  int64_t maxPixels = kDefaultMaxImagePixels;  // larger images are refused before decoding
  /// Collect what the codec libraries print on stderr while decoding (libpng's warnings, ...)
  /// and quote it in the one error line instead. This redirects descriptor 2 for the whole
  /// process (StderrCapture), so it is for single-threaded command-line use: in the GUI it could
  /// swallow another thread's output.
  bool captureCodecOutput = false;
};

/// Loads an image (PNG, JPEG, BMP, TIFF, WebP, PNM/PAM/PFM, Sun raster, Radiance HDR, JPEG 2000;
/// 8/16-bit or float, gray, RGB, RGBA composited over white, EXIF orientation applied) as 8-bit
/// BGR. Throws Error naming the file when it is missing, is not one of those formats, has a
/// damaged header, declares more than `options.maxPixels` pixels (checked from the header,
/// before decoding), is truncated or fails to decode.
cv::Mat loadImageBgr(const std::filesystem::path& path, const ImageReadOptions& options = {});
/// Decodes image bytes like loadImageBgr; `what` names the source in errors.
cv::Mat decodeImageBgr(const std::string& bytes, const std::string& what,
                       const ImageReadOptions& options = {});

/// The network's view of an 8-bit image: scaled so it covers height x width (shorter side first,
/// the longer one rounded to whole pixels) and centre-cropped, with area averaging when shrinking
/// and bilinear interpolation when enlarging, as cv::resize of the whole image followed by the
/// crop would give it (up to rounding). Only the cropped pixels are computed, from the source
/// pixels under them: memory stays proportional to the output whatever the aspect ratio (a
/// 1 x 20000 strip no longer makes a 227 x 4,540,000 intermediate).
cv::Mat resizeAndCrop(const cv::Mat& bgr, int height, int width);

/// Converts an 8-bit BGR (or gray) image, already height x width, into a 1 x C x H x W tensor
/// with the preset's channel order, scale and mean. C is 3, or 1 for gray networks.
Tensor imageToTensor(const cv::Mat& bgr, int channels, Preprocess preset);

/// The inverse of imageToTensor for one sample (C x H x W or 1 x C x H x W): 8-bit BGR, clamped.
cv::Mat tensorToImage(const Tensor& input, Preprocess preset);

/// A decoded image as network input: the network's view of it (resizeAndCrop to the input's
/// H x W) and the 1 x C x H x W tensor made with spec.preprocess.
struct NetworkImage {
  cv::Mat view;   // 8-bit BGR (or gray), H x W
  Tensor tensor;  // 1 x C x H x W
};

/// `bgr` as the input `spec` (C x H x W) takes it. Throws Error naming `what` (the image) when
/// the input is not an image.
NetworkImage imageAsNetworkInput(const cv::Mat& bgr, const InputSpec& spec,
                                 const std::string& what);

/// True when `file`'s extension is one zfvis reads as a network input: an image
/// (core/base/file_types' hasImageExtension) or a .npy tensor.
bool hasInputExtension(const std::filesystem::path& file);

/// Loads a network input from an image file (loadImageBgr with `options`, resizeAndCrop, preset)
/// or a float32 .npy file (C x H x W or 1 x C x H x W, used as is). Returns 1 x C x H x W; throws
/// Error naming the file and both shapes when a .npy does not match the network input.
Tensor loadNetworkInput(const std::filesystem::path& path, const InputSpec& spec,
                        const ImageReadOptions& options = {});

}  // namespace zfvis
