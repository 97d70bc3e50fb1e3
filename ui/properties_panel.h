// The properties panel: the selected layer's operator, kernel, stride, padding, dilation, groups,
// ceil mode, input and output shapes, parameter count and receptive field on the input (size and
// jump), and its weight tensor's statistics (min, max, mean, std, share of near-zero values),
// computed by core/layer_info in a background job.
#pragma once

#include <memory>

#include <QWidget>

class QTreeWidget;
class QTreeWidgetItem;

namespace zfvis {
struct ReceptiveField;
class Shape;
}  // namespace zfvis

namespace zfvis::ui {

class AppState;
class JobTracker;

class PropertiesPanel : public QWidget {
  Q_OBJECT
 public:
  /// The job slot computing the weight statistics.
  static inline const QString kJob = QStringLiteral("properties");

  PropertiesPanel(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  /// The value shown for `label` ("Kernel", "Stride", "Min", ...), empty when none.
  QString value(const QString& label) const;
  /// The layer shown, -1 when none.
  int shownLayer() const { return m_layer; }
  /// True once the weight statistics of the shown layer are in (or it has no weights).
  bool statsReady() const { return m_statsReady; }
  /// The tree (tests).
  QTreeWidget* tree() const { return m_tree; }
  /// As wide as the layer list it sits under.
  QSize sizeHint() const override { return {345, 330}; }

 private:
  void onModelChanged();
  void showLayer(int layer);

  AppState* m_state;
  JobTracker* m_jobs;
  QTreeWidget* m_tree;
  QTreeWidgetItem* m_layerGroup;
  QTreeWidgetItem* m_weightGroup;
  int m_layer = -1;
  bool m_statsReady = false;
  std::shared_ptr<const void> m_cache;  // shapes and receptive fields of the open model
};

}  // namespace zfvis::ui
