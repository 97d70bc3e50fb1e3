// The filters view: the weights of the selected convolution as a grid (core's renderFilterGrid,
// RGB tiles for a first layer), with a normalisation and a channel-mode control. For a layer that
// is not a convolution it shows the convolution feeding it (relu1 -> conv1). Hovering a tile
// shows its filter and RMS; clicking selects that channel.
#pragma once

#include <memory>

#include <QImage>

#include "core/analysis/compare/filter_bank.h"
#include "core/render/filter_grid.h"
#include "ui/views/view_base.h"

class QComboBox;
class QLabel;
class QSpinBox;

namespace zfvis::ui {

class ImageView;

/// A rendered filter grid and what hit-testing needs.
struct FilterPicture {
  std::shared_ptr<const CompiledNet> net;         // the model it belongs to
  int layer = -1;                                 // the Conv layer drawn
  FilterBank bank;                                // its weights
  FilterGridOptions options;                      // as drawn
  FilterChannels channels = FilterChannels::Rgb;  // the resolved channel mode
  cv::Mat bgr;                                    // the picture
  QImage image;                                   // the same as a QImage
  GridLayout layout;                              // tile positions
};

/// The Conv layer whose filters the filters view shows for `layer`: the layer itself, else the
/// nearest convolution up its chain of first inputs; -1 when there is none.
int filterLayerFor(const NetworkDef& def, int layer);

class FiltersView : public ViewBase {
  Q_OBJECT
 public:
  FiltersView(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  QString viewId() const override { return QStringLiteral("filters"); }
  std::optional<ViewExport> exportView() const override;

  /// The picture shown (null when none).
  const std::shared_ptr<const FilterPicture>& picture() const { return m_picture; }
  /// The image view.
  ImageView* imageView() const { return m_view; }
  /// The filter under grid pixel `pixel`, or -1.
  int filterAt(QPoint pixel) const;
  /// Tooltip text for grid pixel `pixel` (empty outside a tile).
  QString describePixel(QPoint pixel) const;

  /// Job slot of the renders.
  static inline const QString kJob = QStringLiteral("filters");
  /// The normalisation and tiles chosen (Export All draws with the normalisation too).
  FilterGridOptions options() const;

 protected:
  void refresh() override;

 private:
  void updateMarks();

  ImageView* m_view;
  QComboBox* m_normalization;
  QComboBox* m_channels;
  QSpinBox* m_inputChannel;
  QLabel* m_info;
  std::shared_ptr<const FilterPicture> m_picture;
};

}  // namespace zfvis::ui
