// The graph view: the layer DAG drawn top to bottom by depth (core/layer_info's layered layout),
// one box per layer (name, operator, output shape) and one edge per layer input, the network
// input on top. Branching networks (two-tower AlexNet, Inception, Fire modules) show their
// branches side by side. A click on a box selects that layer everywhere; the selected layer is
// highlighted and scrolled into view whenever the selection changes.
#pragma once

#include <QRectF>
#include <QVector>

#include "ui/views/view_base.h"

class QGraphicsRectItem;
class QGraphicsScene;
class QGraphicsView;
class QLabel;

namespace zfvis::ui {

class GraphView : public ViewBase {
  Q_OBJECT
 public:
  GraphView(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  QString viewId() const override { return QStringLiteral("graph"); }
  std::optional<ViewExport> exportView() const override;

  /// Number of layer boxes shown (the input box excluded).
  int nodeCount() const { return int(m_nodes.size()); }
  /// Number of edges shown (one per layer input).
  int edgeCount() const { return m_edgeCount; }
  /// The layer whose box is highlighted, -1 when none.
  int highlighted() const { return m_highlighted; }
  /// The scene rectangle of layer i's box.
  QRectF nodeRect(int layer) const;
  /// The drawing.
  QGraphicsView* graphicsView() const { return m_view; }

 protected:
  void refresh() override;

 private:
  void highlight(int layer);

  QLabel* m_info;
  QGraphicsScene* m_scene;
  QGraphicsView* m_view;
  QVector<QGraphicsRectItem*> m_nodes;
  int m_edgeCount = 0;
  int m_highlighted = -1;
  bool m_stale = true;  // the model changed since the scene was built
};

}  // namespace zfvis::ui
