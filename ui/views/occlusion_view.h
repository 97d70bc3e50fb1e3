// The occlusion view (Zeiler & Fergus fig. 7): slides a grey square over the input (patch size,
// stride, target class, optionally the selected feature map) in a background job with a progress
// bar and Cancel, then shows the target-probability heat map over the image and the map of the
// most probable class.
#pragma once

#include <memory>

#include <QImage>

#include "core/analysis/occlusion/occlusion.h"
#include "ui/views/view_base.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace zfvis::ui {

class ImageView;

/// A finished occlusion run as shown.
struct OcclusionPicture {
  std::shared_ptr<const Activations> activations;  // the run whose input was occluded
  OcclusionOptions options;                        // as run
  OcclusionResult result;                          // core's numbers
  std::string featureLayer;                        // name of the recorded layer ("" when none)
  cv::Mat heatmapBgr, labelBgr, featureBgr;        // core's pictures (feature map may be empty)
  QImage heatmap, labels, feature;                 // the same as QImages
  double milliseconds = 0;                         // run time
};

class OcclusionView : public ViewBase {
  Q_OBJECT
 public:
  OcclusionView(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  QString viewId() const override { return QStringLiteral("occlusion"); }
  std::optional<ViewExport> exportView() const override;

  /// Starts a run with the current settings (cancels one in progress).
  void run();
  /// Cancels the run in progress.
  void cancel();
  /// True while a run is in progress.
  bool isRunning() const;
  /// Runs automatically whenever a forward result is available and nothing is shown.
  void setAutoRun(bool autoRun);
  /// Sets the patch size and the stride.
  void setPatch(int patch, int stride);
  /// The patch size and stride set.
  int patch() const;
  int stride() const;
  /// The target class chosen (-1: the unoccluded top-1); -2 when the typed text names no class.
  int targetClass() const;
  /// Chooses the target class (-1: top-1).
  void setTargetClass(int index);
  /// The target chooser (an editable list of "K  name" filtered by substring as you type).
  QComboBox* targetBox() const { return m_target; }
  /// The last finished run (null when none or out of date).
  const std::shared_ptr<const OcclusionPicture>& picture() const { return m_picture; }

  /// Job slot of the runs.
  static inline const QString kJob = QStringLiteral("occlusion");

 protected:
  void refresh() override;

 private:
  void setRunning(bool running);
  void fillTargets();
  void showMessage(const QString& text);

  ImageView* m_heatmap;
  ImageView* m_labels;
  QSpinBox* m_patch;
  QSpinBox* m_stride;
  QComboBox* m_target;
  QCheckBox* m_feature;
  QCheckBox* m_auto;
  QPushButton* m_run;
  QPushButton* m_cancel;
  QProgressBar* m_progress;
  QLabel* m_info;
  std::shared_ptr<const OcclusionPicture> m_picture;
};

}  // namespace zfvis::ui
