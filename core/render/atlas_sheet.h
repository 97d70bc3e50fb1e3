// The unit atlas (Zeiler & Fergus fig. 2) as one picture: for each unit a 3x3 grid of the
// projections of its top-9 activations (each cropped to its receptive field) beside the 3x3 grid
// of the matching image patches, units in a grid with their index. Every cell uses one integer
// scale, chosen from the largest receptive-field crop, so crops clipped at the image border look
// smaller, as in the paper.
#pragma once

#include <vector>

#include <opencv2/core.hpp>

#include "core/analysis/scan/atlas.h"

namespace zfvis {

struct AtlasSheetOptions {
  int minCellSize = 48;     // crops are upscaled (nearest neighbour) to at least this
  int maxCellSize = 0;      // > 0: larger crops are shrunk (area averaging) to fit this cell
  int unitsPerRow = 4;      // units side by side
  bool patches = true;      // the image patch grid beside each projection grid
  bool projections = true;  // the projection grid (off: a mosaic of the image patches alone)
};

/// A cell of the picture under a pixel.
struct AtlasHit {
  int unit = -1;       // index into Atlas::units (-1: none)
  int rank = -1;       // 0-based rank of the cell (-1: on the unit but not on a cell)
  bool patch = false;  // the image patch (else the projection)
};

/// Where everything goes.
struct AtlasLayout {
  int scale = 1;  // integer upscaling of every crop
  int cell = 1;   // cell side (pixels); smaller than the largest crop times `scale` when
                  // maxCellSize shrinks the crops
  cv::Size size;  // the whole picture
  /// For unit i (index into Atlas::units) and rank r (0-based): the projection cell and the
  /// patch cell (empty when patches are off). Crops are centred in their cell.
  std::vector<std::vector<std::pair<cv::Rect, cv::Rect>>> cells;
  /// For unit i: its whole block (label and grids).
  std::vector<cv::Rect> units;
  /// The unit and cell under pixel `p` (cells win over their unit's block).
  AtlasHit hitTest(cv::Point p) const;
};

/// The layout of `atlas` with `options`.
AtlasLayout atlasLayout(const Atlas& atlas, const AtlasSheetOptions& options = {});
/// One cell's content: the projection (or, with `patch`, the image patch) cropped to the
/// receptive field and upscaled by `scale`.
cv::Mat renderAtlasCell(const AtlasCell& cell, Preprocess preprocess, int scale, bool patch);
/// The whole picture. Each cell holds renderAtlasCell(cell, preprocess, scale, patch), centred,
/// shrunk to fit the cell (keeping its aspect) when maxCellSize makes the cell smaller.
cv::Mat renderAtlasSheet(const Atlas& atlas, const AtlasSheetOptions& options = {});

}  // namespace zfvis
