// The evolution view (Zeiler & Fergus fig. 4, interactively): a training run's checkpoints on a
// slider. For the checkpoint under the slider it shows the first convolution's filters, each
// followed unit's strongest activation over an image set projected back to pixels (beside the
// image patch), and the whole layer's activations on the selected unit's best image; beside them
// the run's loss and accuracy curves with a marker at the checkpoint. The run opens in a job (its
// checkpoints, log and image set as network inputs, once); every column is computed in a job of
// its own and cached, and moving the slider supersedes the column job still running. Export…
// writes core's renderEvolutionSheet of every checkpoint.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <QHash>
#include <QImage>

#include "core/analysis/evolution/evolution.h"
#include "core/analysis/training/training_log.h"
#include "core/render/activation_grid.h"
#include "core/render/evolution_sheet.h"
#include "ui/views/view_base.h"

class QComboBox;
class QLabel;
class QPushButton;
class QSlider;

namespace zfvis::ui {

class CurvesWidget;
class ImageView;

/// An opened run: what every column job reads.
struct EvolutionRun {
  QString source;                                // run folder or shipped name, as chosen
  std::vector<EvolutionCheckpoint> checkpoints;  // in step order
  std::shared_ptr<const NetworkDef> first;       // the first checkpoint's network
  std::vector<int> layers;                       // layers with channels (C or C x H x W output)
  int defaultLayer = -1;                         // the one selected at first (last convolution)
  std::vector<LogRow> log;                       // the run's log (empty when it has none)
  QString images;                                // what the image set is ("200 Fashion-MNIST…")
  std::vector<Tensor> inputs;                    // the image set as network inputs
};

/// One computed column with its pictures.
struct EvolutionPicture {
  std::shared_ptr<const EvolutionRun> run;  // the run it belongs to
  int checkpoint = -1;                      // index into run->checkpoints
  int layer = -1;                           // the layer followed
  EvolutionColumn column;                   // core's result
  cv::Mat cellsBgr;                         // the projections: renderEvolutionUnitGrid
  UnitGridLayout cellsLayout;               // where each unit's cell is in it
  QImage filters;                           // the first convolution's filters
  QImage cells;                             // cellsBgr as a QImage
  std::vector<QImage> activations;          // per unit: the layer on its best image (or null)
  GridLayout activationLayout;              // cell positions of those grids
};

class EvolutionView : public ViewBase {
  Q_OBJECT
 public:
  /// `samplesDir`: the sample photos (an image set when Fashion-MNIST is not installed).
  EvolutionView(AppState* state, JobTracker* jobs, const QString& samplesDir,
                QWidget* parent = nullptr);

  QString viewId() const override { return QStringLiteral("evolution"); }
  std::optional<ViewExport> exportView() const override;

  /// Opens a run folder (or a shipped run's name: "zf-small") and shows its last checkpoint.
  void setSource(const QString& source);
  /// The run shown (null before one opened).
  const std::shared_ptr<const EvolutionRun>& run() const { return m_run; }
  /// Shows checkpoint `index` (moves the slider).
  void setCheckpoint(int index);
  /// The slider's checkpoint.
  int checkpoint() const;
  /// Follows layer `layer` (an index into the run's network).
  void setLayer(int layer);
  /// The layer followed (-1 before a run opened).
  int layer() const;
  /// The column shown (null while it is computed).
  const std::shared_ptr<const EvolutionPicture>& picture() const { return m_picture; }
  /// The unit (index into the column's units) whose activations are shown.
  int selectedUnit() const;
  /// Shows the activations of unit index `index` (what a click on its cell does).
  void selectUnit(int index);
  /// Number of columns computed and cached.
  int cachedColumns() const { return int(m_cache.size()); }
  /// Writes renderEvolutionSheet of every checkpoint to `pngPath` in the background.
  void exportSheetTo(const QString& pngPath);

  QSlider* slider() const { return m_slider; }
  CurvesWidget* curves() const { return m_curves; }
  ImageView* filtersView() const { return m_filters; }
  ImageView* cellsView() const { return m_cells; }
  ImageView* activationsView() const { return m_activations; }

  /// Job slots: opening a run, computing a column, exporting the sheet.
  static inline const QString kRunJob = QStringLiteral("evolution-run");
  static inline const QString kJob = QStringLiteral("evolution");
  static inline const QString kExportJob = QStringLiteral("evolution-export");

 signals:
  /// A column is shown (tests wait for it).
  void columnShown(int checkpoint);

 protected:
  void refresh() override;

 private:
  void openRun();
  void showColumn();
  void showPicture(std::shared_ptr<const EvolutionPicture> pic);
  void showUnit();
  void clearPictures(const QString& message);
  void chooseRunFolder();
  void chooseImageFolder();
  void exportDialog();

  QString m_samplesDir;
  QComboBox* m_source;
  QPushButton* m_chooseRun;
  QComboBox* m_layer;
  QComboBox* m_images;
  QPushButton* m_chooseImages;
  QPushButton* m_export;
  QSlider* m_slider;
  QLabel* m_checkpointLabel;
  QComboBox* m_unit;
  QLabel* m_info;
  ImageView* m_filters;
  ImageView* m_cells;
  ImageView* m_activations;
  CurvesWidget* m_curves;
  std::shared_ptr<const EvolutionRun> m_run;
  std::shared_ptr<const EvolutionPicture> m_picture;
  QHash<int, std::shared_ptr<const EvolutionPicture>> m_cache;  // checkpoint -> column
};

}  // namespace zfvis::ui
