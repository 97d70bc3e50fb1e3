// Receptive fields: which input pixels can influence a unit of a layer, from the layer geometry.
#pragma once

#include <vector>

#include <opencv2/core/types.hpp>

#include "core/model/network.h"

namespace zfvis {

/// Geometry of one layer's units in input pixels: unit (y, x) sees the input rows
/// [offsetY + y * jumpY, offsetY + y * jumpY + sizeY) (likewise for columns), before clipping.
struct ReceptiveField {
  int sizeY = 1, sizeX = 1;      // receptive field size (11 for AlexNet conv1, 163 for conv5)
  int jumpY = 1, jumpX = 1;      // input pixels between neighbouring units (the total stride)
  int offsetY = 0, offsetX = 0;  // input coordinate of unit (0, 0)'s first row/column
  bool global = false;           // the unit sees the whole input (dense layers, global pooling)

  /// The box of unit (y, x), clipped to an input of `inputSize`.
  cv::Rect box(int y, int x, cv::Size inputSize) const;
};

/// Receptive field of every layer of `def` (same order as def.layers).
std::vector<ReceptiveField> receptiveFields(const NetworkDef& def);

}  // namespace zfvis
