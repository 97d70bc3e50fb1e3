// The evolution figure (Zeiler & Fergus fig. 4) as one picture: a row per unit, a column per
// checkpoint, each cell the projection of the unit's strongest activation at that checkpoint,
// cropped to its receptive field; under them a row with the first layer's filters of every
// checkpoint; column headings give the epoch and test accuracy.
#pragma once

#include <vector>

#include <opencv2/core.hpp>

#include "core/analysis/evolution/evolution.h"

namespace zfvis {

struct EvolutionSheetOptions {
  int minCellSize = 96;    // projections are upscaled (nearest neighbour) to at least this
  bool withPatch = false;  // show the image patch beside each projection
  bool filters = true;     // the first layer's filters under the projections
};

/// One cell: a unit's projection at one checkpoint (grey when the unit never fired). `scale`:
/// integer upscaling (0: from the cell's own crop).
cv::Mat renderEvolutionCell(const UnitMaximum& m, Preprocess preprocess, int scale, bool withPatch);
/// The filter grid of one column (empty when the column has no Conv layer).
cv::Mat renderEvolutionFilters(const EvolutionColumn& column, Preprocess preprocess);
/// The column's heading: "epoch 2.0, 87.1%".
std::string evolutionColumnHeading(const EvolutionColumn& column);
/// The whole figure.
cv::Mat renderEvolutionSheet(const Evolution& e, const EvolutionSheetOptions& options = {});

/// Where renderEvolutionUnitGrid put each unit's picture (for hit-testing in views).
struct UnitGridLayout {
  int scale = 1;                // the integer upscaling of every projection
  std::vector<cv::Rect> cells;  // per unit (column order): its renderEvolutionCell picture
  /// The unit index (into the column's units) whose cell or label holds `p`, or -1.
  int unitAt(cv::Point p) const;
};

/// One checkpoint's units as a grid, `columns` per row (0: about square): each unit's
/// renderEvolutionCell picture (one scale for all, from options.minCellSize and the largest
/// crop; with the patch when options.withPatch) under a "#unit" label. `layout` (optional)
/// receives the scale and the cells' rectangles.
cv::Mat renderEvolutionUnitGrid(const EvolutionColumn& column, Preprocess preprocess,
                                const EvolutionSheetOptions& options = {}, int columns = 0,
                                UnitGridLayout* layout = nullptr);

}  // namespace zfvis
