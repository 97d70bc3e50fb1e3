// The common base of the central views (activations, filters, projection, compare, occlusion):
// lazy refresh (only a visible view recomputes; a hidden one catches up when shown), and what
// File -> Export View writes for it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <QString>
#include <QWidget>
#include <opencv2/core.hpp>

#include "core/base/npy.h"
#include "core/base/tensor.h"
#include "core/render/png.h"
#include "ui/app_state.h"
#include "ui/jobs.h"

class QTextBrowser;
class QToolButton;

namespace zfvis::ui {

/// What File -> Export View writes for a view: a PNG and the numbers behind it. For a chosen
/// file "dir/name.png", array (suffix, data) goes to "dir/name<suffix>.npy" and text (suffix,
/// contents) to "dir/name<suffix>".
struct ViewExport {
  cv::Mat image;                                            // the picture (8-bit BGR)
  PngText text;                                             // PNG tEXt metadata
  QString stem;                                             // suggested file name stem
  std::vector<std::pair<std::string, Tensor>> arrays;       // float32 .npy files
  std::vector<std::pair<std::string, NpyInt32>> intArrays;  // int32 .npy files (label maps)
  std::vector<std::pair<std::string, std::string>> texts;   // other files (JSON statistics)
};

class ViewBase : public QWidget {
  Q_OBJECT
 public:
  /// A view of `state` that runs its work on `jobs`.
  ViewBase(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  /// The name --view uses ("activations").
  virtual QString viewId() const = 0;
  /// What File -> Export View would write now; nullopt while nothing is shown.
  virtual std::optional<ViewExport> exportView() const = 0;
  /// True while a refresh is scheduled but has not started its job yet.
  bool refreshPending() const { return m_refreshQueued; }
  /// Recomputes now if out of date (tests call this for hidden views).
  void refreshNow();
  /// Adds the "How to read this" toggle (at the end of the view's first row of controls) and its
  /// collapsed text (helpText(viewId()), under that row); nothing for a view without a text.
  /// MainWindow calls it once the view is built.
  void installHelp();
  /// The toggle (null without help).
  QToolButton* helpButton() const { return m_helpButton; }
  /// The help text panel, hidden until the toggle is checked (null without help).
  QTextBrowser* helpPanel() const { return m_helpText; }

 protected:
  /// Recomputes what the view shows (start jobs here).
  virtual void refresh() = 0;
  /// Marks the view out of date; a visible view refreshes on the next event-loop turn, a hidden
  /// one when it is shown.
  void invalidate();
  /// The PNG metadata every export carries (model, untrained, image, view).
  PngText baseMetadata() const;
  void showEvent(QShowEvent* event) override;

  AppState* m_state;
  JobTracker* m_jobs;

 private:
  void scheduleRefresh();
  QToolButton* m_helpButton = nullptr;
  QTextBrowser* m_helpText = nullptr;
  bool m_dirty = true;
  bool m_refreshQueued = false;
};

}  // namespace zfvis::ui
