// The activations view: the selected layer's feature maps as a zoomable grid (core's
// renderActivationGrid, rendered off the GUI thread). Hovering a map shows its channel, maximum
// and position; clicking selects the channel and, with "Snap to maximum" off, the clicked
// position too (the projection view then projects from there); Up/Down move by a row of the grid.
#pragma once

#include <memory>

#include <QImage>
#include <QSize>

#include "core/render/activation_grid.h"
#include "ui/views/view_base.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QTimer;

namespace zfvis::ui {

class ImageView;

/// A rendered grid and what hit-testing needs.
struct ActivationPicture {
  std::shared_ptr<const Activations> activations;  // the run it shows
  int layer = -1;                                  // the layer it shows
  ActivationGridOptions options;
  cv::Mat bgr;                      // the picture as core rendered it
  QImage image;                     // the same as a QImage
  GridLayout layout;                // where each channel's cell is
  int mapHeight = 1, mapWidth = 1;  // size of one map (1 x 1 for vectors)
  std::vector<float> maxima;        // per channel: largest value
  std::vector<int> argmax;          // per channel: its flat position y * W + x
  float lo = 0, hi = 0;             // range over the layer
};

/// The largest integer upscaling (1..16) at which a grid of `maps` fits into `viewport`.
int fittingGridScale(const Shape& maps, const ActivationGridOptions& options, QSize viewport);

class ActivationsView : public ViewBase {
  Q_OBJECT
 public:
  ActivationsView(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  QString viewId() const override { return QStringLiteral("activations"); }
  std::optional<ViewExport> exportView() const override;

  /// The picture shown (null before the first render).
  const std::shared_ptr<const ActivationPicture>& picture() const { return m_picture; }
  /// The image view (tests hit-test through it).
  ImageView* imageView() const { return m_view; }
  /// Tooltip text for image pixel `pixel` of the grid (empty outside a cell).
  QString describePixel(QPoint pixel) const;
  /// The channel under image pixel `pixel` of the grid, or -1.
  int channelAt(QPoint pixel) const;
  /// Whether a click selects the channel's maximum (true, the default) or the clicked position.
  bool snapToMaximum() const;
  /// Sets what a click selects.
  void setSnapToMaximum(bool snap);

  /// Job slot of the renders.
  static inline const QString kJob = QStringLiteral("activations");

 protected:
  void refresh() override;
  void keyPressEvent(QKeyEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void updateMarks();
  void saveOptions();
  ActivationGridOptions options() const;

  ImageView* m_view;
  QComboBox* m_colormap;
  QComboBox* m_normalization;
  QCheckBox* m_markMax;
  QCheckBox* m_snap;
  QLabel* m_info;
  QTimer* m_resizeTimer;
  std::shared_ptr<const ActivationPicture> m_picture;
};

}  // namespace zfvis::ui
