#include "ui/views/graph_view.h"

#include <QBrush>
#include <QGraphicsPathItem>
#include <QGraphicsRectItem>
#include <QGraphicsScene>
#include <QGraphicsSceneMouseEvent>
#include <QGraphicsSimpleTextItem>
#include <QGraphicsView>
#include <QImage>
#include <QLabel>
#include <QPainter>
#include <QPainterPath>
#include <QPen>
#include <QVBoxLayout>

#include "core/engine/engine.h"
#include "core/model/layer_info.h"
#include "core/model/summary.h"
#include "ui/app_state.h"
#include "ui/convert.h"

namespace zfvis::ui {

namespace {

constexpr double kBoxW = 170, kBoxH = 44, kGapX = 26, kGapY = 34;
const QColor kBoxFill(0xf4, 0xf6, 0xfa), kBoxLine(0x70, 0x78, 0x88);
const QColor kSelectedFill(0xff, 0xe0, 0x8a), kSelectedLine(0xc0, 0x7a, 0x00);

// Box fill by operator family, so convolutions, pooling and dense layers stand out.
QColor fillFor(LayerType t) {
  switch (t) {
    case LayerType::Conv:
      return QColor(0xdc, 0xe9, 0xfb);
    case LayerType::MaxPool:
    case LayerType::AveragePool:
    case LayerType::GlobalAveragePool:
      return QColor(0xe3, 0xf4, 0xe1);
    case LayerType::Dense:
      return QColor(0xf6, 0xe2, 0xf3);
    case LayerType::Concat:
    case LayerType::Add:
      return QColor(0xfd, 0xec, 0xd9);
    default:
      return kBoxFill;
  }
}

// A layer's box: a click selects the layer.
class NodeItem : public QGraphicsRectItem {
 public:
  NodeItem(const QRectF& r, AppState* state, int layer)
      : QGraphicsRectItem(r), m_state(state), m_layer(layer) {
    setAcceptedMouseButtons(Qt::LeftButton);
    setCursor(Qt::PointingHandCursor);
  }

 protected:
  void mousePressEvent(QGraphicsSceneMouseEvent* event) override {
    if (m_layer >= 0) m_state->setLayer(m_layer);
    event->accept();
  }

 private:
  AppState* m_state;
  int m_layer;
};

QString elided(const QString& text, const QFont& font, double width) {
  return QFontMetrics(font).elidedText(text, Qt::ElideLeft, int(width));
}

}  // namespace

GraphView::GraphView(AppState* state, JobTracker* jobs, QWidget* parent)
    : ViewBase(state, jobs, parent) {
  m_info = new QLabel(this);
  m_info->setWordWrap(true);
  m_scene = new QGraphicsScene(this);
  m_view = new QGraphicsView(m_scene, this);
  m_view->setRenderHint(QPainter::Antialiasing);
  m_view->setDragMode(QGraphicsView::ScrollHandDrag);
  m_view->setBackgroundBrush(Qt::white);
  m_view->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(m_info);
  layout->addWidget(m_view, 1);
  connect(m_state, &AppState::modelChanged, this, [this] {
    m_stale = true;
    invalidate();
  });
  connect(m_state, &AppState::layerChanged, this, [this](int layer) { highlight(layer); });
}

QRectF GraphView::nodeRect(int layer) const {
  if (layer < 0 || layer >= m_nodes.size()) return {};
  return m_nodes[layer]->sceneBoundingRect();
}

void GraphView::refresh() {
  if (!m_stale) {
    highlight(m_state->layer());
    return;
  }
  m_stale = false;
  const auto& net = m_state->net();
  m_scene->clear();
  m_nodes.clear();
  m_edgeCount = 0;
  m_highlighted = -1;
  if (!net) {
    m_info->setText(tr("No model is open."));
    return;
  }
  const NetworkDef& def = net->def();
  LayerGraph g;
  std::vector<Shape> shapes;
  try {
    g = layoutLayerGraph(def);
    shapes = def.outputShapes();
  } catch (const std::exception& e) {
    m_info->setText(tr("Cannot draw the graph: %1").arg(oneLine(e.what())));
    return;
  }
  auto boxAt = [&](int depth, int column, int rowWidth) {
    const double x = (column - (rowWidth - 1) / 2.0) * (kBoxW + kGapX) - kBoxW / 2;
    return QRectF(x, depth * (kBoxH + kGapY), kBoxW, kBoxH);
  };
  QFont nameFont = font();
  QFont smallFont = font();
  smallFont.setPointSizeF(std::max(6.0, font().pointSizeF() * 0.85));
  auto addBox = [&](const QRectF& r, const QString& title, const QString& detail,
                    const QColor& fill, int layer) {
    auto* box = new NodeItem(r, m_state, layer);
    box->setBrush(fill);
    box->setPen(QPen(kBoxLine, 1));
    m_scene->addItem(box);
    auto* t = new QGraphicsSimpleTextItem(elided(title, nameFont, kBoxW - 8), box);
    t->setFont(nameFont);
    t->setPos(r.center().x() - t->boundingRect().width() / 2, r.top() + 3);
    auto* d = new QGraphicsSimpleTextItem(elided(detail, smallFont, kBoxW - 8), box);
    d->setFont(smallFont);
    d->setBrush(QColor(0x44, 0x44, 0x44));
    d->setPos(r.center().x() - d->boundingRect().width() / 2,
              r.bottom() - d->boundingRect().height() - 3);
    return box;
  };
  const QRectF inputBox = boxAt(0, 0, 1);
  addBox(inputBox, QString::fromStdString(def.input.name),
         tr("input %1").arg(QString::fromStdString(def.input.shape.str())),
         QColor(0xee, 0xee, 0xee), -1)
      ->setToolTip(tr("The network input"));
  QVector<QRectF> rects;
  for (size_t i = 0; i < def.layers.size(); ++i) {
    const LayerSpec& l = def.layers[i];
    const LayerGraph::Node& n = g.nodes[i];
    const QRectF r = boxAt(n.depth, n.column, g.rowWidths[size_t(n.depth)]);
    rects << r;
    const QString op = QString::fromStdString(std::string(onnxOpName(l.type)));
    const QString shape = QString::fromStdString(shapes[i].str());
    auto* box =
        addBox(r, QString::fromStdString(l.name), op + "  " + shape, fillFor(l.type), int(i));
    box->setToolTip(tr("%1: %2, output %3, %4 parameters")
                        .arg(QString::fromStdString(l.name), op, shape,
                             QString::fromStdString(thousandsSeparated(l.paramCount()))));
    box->setZValue(1);
    m_nodes << box;
  }
  const QPen edgePen(QColor(0x8a, 0x90, 0x9c), 1.2);
  for (const LayerGraph::Edge& e : g.edges) {
    const QRectF from = e.from < 0 ? inputBox : rects[e.from];
    const QRectF to = rects[e.to];
    const QPointF a(from.center().x(), from.bottom()), b(to.center().x(), to.top());
    QPainterPath path(a);
    const double dy = std::max(kGapY, (b.y() - a.y()) / 2);
    path.cubicTo(a + QPointF(0, dy), b - QPointF(0, dy), b);
    m_scene->addPath(path, edgePen)->setZValue(0);
    ++m_edgeCount;
  }
  m_scene->setSceneRect(m_scene->itemsBoundingRect().adjusted(-20, -20, 20, 20));
  int branches = g.maxColumns;
  m_info->setText(
      tr("%1: %2 layers, %3 connections, %4 rows, up to %5 side by side. Click a box to select "
         "its layer.")
          .arg(QString::fromStdString(def.name))
          .arg(def.layers.size())
          .arg(m_edgeCount)
          .arg(g.depthCount - 1)
          .arg(branches));
  highlight(m_state->layer());
}

void GraphView::highlight(int layer) {
  if (m_highlighted >= 0 && m_highlighted < m_nodes.size()) {
    QGraphicsRectItem* old = m_nodes[m_highlighted];
    old->setPen(QPen(kBoxLine, 1));
    if (const NetworkDef* def = m_state->def(); def && size_t(m_highlighted) < def->layers.size())
      old->setBrush(fillFor(def->layers[size_t(m_highlighted)].type));
  }
  m_highlighted = -1;
  if (layer < 0 || layer >= m_nodes.size()) return;
  QGraphicsRectItem* box = m_nodes[layer];
  box->setPen(QPen(kSelectedLine, 3));
  box->setBrush(kSelectedFill);
  m_highlighted = layer;
  m_view->ensureVisible(box, 40, 60);
}

std::optional<ViewExport> GraphView::exportView() const {
  if (m_nodes.isEmpty()) return std::nullopt;
  const QRectF r = m_scene->sceneRect();
  // At most 4000 px on the longer side (deep nets are tall).
  const double scale = std::min(1.0, 4000.0 / std::max(r.width(), r.height()));
  QImage image(QSize(int(r.width() * scale), int(r.height() * scale)), QImage::Format_RGB32);
  image.fill(Qt::white);
  {
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    m_scene->render(&p, QRectF(), r);
  }
  ViewExport e;
  e.image = toBgrMat(image);
  e.text = baseMetadata();
  e.stem = QString::fromStdString(m_state->def()->name) + "-graph";
  return e;
}

}  // namespace zfvis::ui
