// Pictures of occlusion experiments: a heat map of the target probability over the image and a
// map of the most probable class with a legend.
#pragma once

#include <opencv2/core.hpp>

#include "core/occlusion.h"

namespace zfvis {

/// The target-class probability per placement, colour-mapped (low = dark) and blended over the
/// input image (8-bit BGR, the network's view), each placement's value painted at its patch
/// centre region; with a colour bar.
cv::Mat renderOcclusionHeatmap(const OcclusionResult& r, const cv::Mat& input);

/// The feature-map activation per placement, like renderOcclusionHeatmap (needs a layer).
cv::Mat renderOcclusionFeatureMap(const OcclusionResult& r, const cv::Mat& input);

/// The most probable class per placement as flat colours, with a legend naming the classes
/// that occur (ImageNet names when the net has 1000 outputs).
cv::Mat renderOcclusionLabelMap(const OcclusionResult& r, const cv::Mat& input, int classes);

}  // namespace zfvis
