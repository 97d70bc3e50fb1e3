// Pictures of deconvnet projections: zero is mid-grey, positive and negative scaled
// symmetrically (as in Zeiler & Fergus' figures), optionally cropped to the receptive field and
// shown next to the matching image patch.
#pragma once

#include <vector>

#include <opencv2/core.hpp>

#include "core/analysis/projector/projector.h"
#include "core/model/network.h"

namespace zfvis {

/// A C x H x W (or 1 x C x H x W) projection as an 8-bit BGR image: 128 + 127 * v / scale per
/// channel, where scale = max |v| (or `scale` when > 0). 3-channel tensors are in the network's
/// channel order (`preset`: caffe = BGR, torchvision/raw = RGB); 1-channel ones are grey.
cv::Mat renderProjection(const Tensor& projection, Preprocess preset, float scale = 0.0f);

struct ProjectionViewOptions {
  bool crop = true;       // crop to the unit's receptive field
  bool withPatch = true;  // show the matching input patch to the right
  int minCellSize = 128;  // upscale small crops (nearest neighbour) to at least this size
  int scale = 0;          // integer upscaling per cell; 0: the smallest that reaches minCellSize
  bool captions = true;   // "conv5 #12 (6,7) 231.5" under each cell
};

/// One projection (cropped and with its patch per the options). `input` is the network's view of
/// the image (8-bit BGR, H x W as the network sees it; may be empty when withPatch is false).
cv::Mat renderProjectionView(const Projection& p, const cv::Mat& input, Preprocess preset,
                             const std::vector<std::string>& layerNames,
                             const ProjectionViewOptions& options = {});

/// The input with the projection laid over it where it is strong: every pixel blends toward the
/// rendered projection by |v| / max |v| (largest over the channels), so the picture stays visible
/// where the projection is zero. The rendered projection alone when `input` is empty or of
/// another size. 8-bit BGR.
cv::Mat renderProjectionOverlay(const Projection& p, const cv::Mat& input, Preprocess preset);

/// A grid of projections (K channels), same options per cell; every cell uses the same integer
/// scale (chosen from the largest crop) so crops clipped at the image border look smaller.
cv::Mat renderProjectionGrid(const std::vector<Projection>& ps, const cv::Mat& input,
                             Preprocess preset, const std::vector<std::string>& layerNames,
                             const ProjectionViewOptions& options = {});

/// Pixels between the cells of renderProjectionGrid (and around them).
inline constexpr int kProjectionGridGap = 6;
/// The columns renderProjectionGrid lays `count` cells out in: ceil(sqrt(count)).
int projectionGridColumns(int count);
/// The cell of a renderProjectionGrid picture of `gridSize` with `count` cells under `pixel`
/// (its index, row-major), or -1 on a gap edge or outside the cells.
int projectionGridCellAt(cv::Size gridSize, int count, cv::Point pixel);

}  // namespace zfvis
