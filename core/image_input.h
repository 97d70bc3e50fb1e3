// Turning image files (or .npy tensors) into network inputs, and network inputs back into images.
#pragma once

#include <filesystem>

#include <opencv2/core.hpp>

#include "core/network.h"
#include "core/tensor.h"

namespace zfvis {

/// Loads any image OpenCV reads (8/16-bit or float, gray, RGB, RGBA composited over white, EXIF
/// orientation applied) as 8-bit BGR; throws Error naming the file when it is missing, is not an
/// image or is truncated.
cv::Mat loadImageBgr(const std::filesystem::path& path);
/// Decodes image bytes like loadImageBgr; `what` names the source in errors.
cv::Mat decodeImageBgr(const std::string& bytes, const std::string& what);

/// Scales the image so it covers height x width (shorter side first) and center-crops it.
cv::Mat resizeAndCrop(const cv::Mat& bgr, int height, int width);

/// Converts an 8-bit BGR (or gray) image, already height x width, into a 1 x C x H x W tensor
/// with the preset's channel order, scale and mean. C is 3, or 1 for gray networks.
Tensor imageToTensor(const cv::Mat& bgr, int channels, Preprocess preset);

/// The inverse of imageToTensor for one sample (C x H x W or 1 x C x H x W): 8-bit BGR, clamped.
cv::Mat tensorToImage(const Tensor& input, Preprocess preset);

/// Loads a network input from an image file (resize, crop, preset) or a float32 .npy file
/// (C x H x W or 1 x C x H x W, used as is). Returns 1 x C x H x W; throws Error naming the file
/// and both shapes when a .npy does not match the network input.
Tensor loadNetworkInput(const std::filesystem::path& path, const InputSpec& spec);

}  // namespace zfvis
