// A layer's feature maps (one sample) as a grid image.
#pragma once

#include <opencv2/core.hpp>

#include "core/base/tensor.h"
#include "core/render/colormap.h"

namespace zfvis {

enum class MapNormalization {
  PerMap,    // each map stretched to its own min..max
  PerLayer,  // one min..max for the whole layer (weak maps look weak)
};

struct ActivationGridOptions {
  Colormap colormap = Colormap::Viridis;  // colours
  MapNormalization normalization = MapNormalization::PerMap;
  bool markMax = false;  // outline each map's maximum
  int columns = 0;       // 0: about square
  int scale = 0;         // integer upscaling per cell; 0: auto
  int separator = 1;     // pixels between cells
};

/// Where the cells of a grid are, for hit-testing in views.
struct GridLayout {
  int count = 0, columns = 0, rows = 0;  // cells
  int cellWidth = 0, cellHeight = 0;     // pixels per cell after scaling
  int separator = 1;                     // pixels between cells
  int mapWidth = 0, mapHeight = 0;       // map size (1 x 1 for vectors; 0: not a map grid)
  /// The pixel rectangle of cell i.
  cv::Rect cellRect(int i) const;
  /// The cell under a pixel, or -1.
  int cellAt(cv::Point p) const;
  /// The position (x, y) inside the map under a pixel (each map element covers an equal block
  /// of its cell), or (-1, -1) outside every cell or when the grid has no map size.
  cv::Point positionAt(cv::Point p) const;
  /// Total image size.
  cv::Size size() const;
};

/// The layout renderActivationGrid uses for maps of this shape.
GridLayout activationGridLayout(const Shape& maps, const ActivationGridOptions& options = {});

/// Renders one sample's output: C x H x W (or 1 x C x H x W) as a grid of colour-mapped cells;
/// a vector (C or 1 x C, e.g. a dense layer) as a heat strip. 8-bit BGR.
cv::Mat renderActivationGrid(const Tensor& maps, const ActivationGridOptions& options = {});

}  // namespace zfvis
