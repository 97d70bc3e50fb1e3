// Pictures of occlusion experiments: a heat map of the target probability over the image and a
// map of the most probable class with a legend.
//
// Each placement's value is painted on the stride x stride cell centred on its patch's centre
// (cell top-left: (j * stride + (patch - stride) / 2, i * stride + (patch - stride) / 2)), so
// neighbouring cells tile the image without gaps or overlaps and a value sits where the occluder
// was centred, as in Zeiler & Fergus fig. 7. The border strips that no patch centre reaches
// (about patch / 2 wide) show the image darkened. Pictures are [the input with the most
// sensitive placement outlined | the map blended over the input | colour bar or legend] under a
// two-line title, upscaled so the image is about 400 pixels across.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/analysis/occlusion/occlusion.h"

namespace zfvis {

/// The target-class probability per placement, colour-mapped (viridis, low = dark) over its
/// min..max and blended over the input image (8-bit BGR, the network's view), each placement's
/// value painted at its patch centre cell; with a colour bar labelled with the range and the
/// unoccluded probability. `names`: the class names (resolveClassNames; empty: ImageNet's for
/// 1000 classes, else "class K").
cv::Mat renderOcclusionHeatmap(const OcclusionResult& r, const cv::Mat& input,
                               const std::vector<std::string>& names = {});

/// The feature-map activation per placement, like renderOcclusionHeatmap (needs a layer).
cv::Mat renderOcclusionFeatureMap(const OcclusionResult& r, const cv::Mat& input);

/// The most probable class per placement as flat colours, with a legend naming the classes
/// that occur (`names` when it has one per class, else ImageNet names when the net has 1000
/// outputs), most frequent first.
cv::Mat renderOcclusionLabelMap(const OcclusionResult& r, const cv::Mat& input, int classes,
                                const std::vector<std::string>& names = {});

/// Pictures one above the other (left-aligned, the narrower padded with the pictures'
/// background), as the Occlusion view shows them: Export View writes what is on screen. Empty
/// pictures are skipped; all empty gives an empty Mat.
cv::Mat stackOcclusionPictures(const std::vector<cv::Mat>& pictures);

/// The cell of placement (row, col) in input pixels (see above; not clipped).
cv::Rect occlusionCell(const OcclusionResult& r, int row, int col);

/// A colour per legend slot: 20 hand-picked distinct colours, then golden-angle hues.
cv::Vec3b occlusionLabelColour(int slot);

}  // namespace zfvis
