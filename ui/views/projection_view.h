// The projection view: the selected channel's activation projected back to pixel space (core's
// Projector: deconvnet, guided backpropagation or saliency), next to the image patch of its
// receptive field, the projection laid over the whole input with the field outlined, and a grid
// of the layer's 9 strongest channels (one batched backward pass).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <QImage>

#include "core/analysis/projector/projector.h"
#include "ui/views/view_base.h"

class QCheckBox;
class QComboBox;
class QLabel;

namespace zfvis::ui {

class ImageView;

/// One Projector per forward run, shared by the view's jobs (a mutex serialises them: a
/// Projector is not thread-safe).
struct SharedProjector {
  std::shared_ptr<const Activations> activations;  // the run it projects from
  std::mutex mutex;                                // held while projecting
  std::unique_ptr<Projector> projector;            // created on first use
  /// The projector, created if needed; call with `mutex` held.
  Projector& get();
};

/// The selected channel's projection as shown.
struct ProjectionPicture {
  std::shared_ptr<const Activations> activations;  // the run it came from
  Projection projection;                           // core's result (network input space)
  cv::Mat viewBgr;                                 // renderProjectionView: crop + patch + caption
  QImage view;                                     // the same as a QImage
  QImage overlay;           // the projection blended over the input (full size)
  double milliseconds = 0;  // time spent projecting and rendering
};

/// The top-K grid as shown.
struct TopProjections {
  std::shared_ptr<const Activations> activations;  // the run it came from
  size_t layer = 0;                                // its layer
  std::vector<Projection> projections;             // strongest channel first
  cv::Mat bgr;                                     // renderProjectionGrid
  QImage image;                                    // the same as a QImage
};

class ProjectionView : public ViewBase {
  Q_OBJECT
 public:
  ProjectionView(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  QString viewId() const override { return QStringLiteral("projection"); }
  std::optional<ViewExport> exportView() const override;

  /// The selected channel's projection (null when none).
  const std::shared_ptr<const ProjectionPicture>& picture() const { return m_picture; }
  /// The top-9 grid (null when none or switched off).
  const std::shared_ptr<const TopProjections>& top() const { return m_top; }
  /// Whether the top-9 grid is switched on.
  bool showsTop() const;
  /// The projection mode chosen.
  ProjectionMode mode() const;
  /// Chooses the projection mode.
  void setMode(ProjectionMode mode);

  /// Job slots: the selected channel, and the top-9 grid.
  static inline const QString kJob = QStringLiteral("projection");
  static inline const QString kTopJob = QStringLiteral("projection-top");
  /// Channels in the top grid.
  static constexpr int kTopCount = 9;

 signals:
  /// A new projection of the selected channel is on screen.
  void projectionShown(int channel);

 protected:
  void refresh() override;

 private:
  void updateLrnChoice();
  std::shared_ptr<SharedProjector> projectorFor(const std::shared_ptr<const Activations>& acts,
                                                bool top);
  void refreshTop();
  LrnBackward lrn() const;

  ImageView* m_view;
  ImageView* m_overlay;
  ImageView* m_topView;
  QComboBox* m_mode;
  QComboBox* m_lrn;
  QCheckBox* m_crop;
  QCheckBox* m_showTop;
  QLabel* m_info;
  bool m_topDirty = true;
  std::shared_ptr<SharedProjector> m_projector, m_topProjector;
  std::shared_ptr<const ProjectionPicture> m_picture;
  std::shared_ptr<const TopProjections> m_top;
};

}  // namespace zfvis::ui
