#include "ui/properties_panel.h"

#include <QHeaderView>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "core/engine/engine.h"
#include "core/model/layer_info.h"
#include "ui/app_state.h"
#include "ui/convert.h"
#include "ui/jobs.h"

namespace zfvis::ui {

namespace {

// Per-model geometry, computed once per model (cheap: shape inference and receptive fields).
struct ModelGeometry {
  std::vector<Shape> shapes;
  std::vector<ReceptiveField> fields;
};

void fill(QTreeWidgetItem* group, const std::vector<std::pair<std::string, std::string>>& rows) {
  qDeleteAll(group->takeChildren());
  for (const auto& [label, value] : rows)
    new QTreeWidgetItem(group, {QString::fromStdString(label), QString::fromStdString(value)});
}

}  // namespace

PropertiesPanel::PropertiesPanel(AppState* state, JobTracker* jobs, QWidget* parent)
    : QWidget(parent), m_state(state), m_jobs(jobs) {
  m_tree = new QTreeWidget(this);
  m_tree->setColumnCount(2);
  m_tree->setHeaderLabels({tr("Property"), tr("Value")});
  m_tree->setRootIsDecorated(false);
  m_tree->setIndentation(8);
  m_tree->setAlternatingRowColors(true);
  m_tree->setSelectionMode(QAbstractItemView::NoSelection);
  m_tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  m_tree->header()->setStretchLastSection(true);
  m_layerGroup = new QTreeWidgetItem(m_tree, {tr("Layer")});
  m_weightGroup = new QTreeWidgetItem(m_tree, {tr("Weights")});
  for (QTreeWidgetItem* g : {m_layerGroup, m_weightGroup}) {
    QFont f = g->font(0);
    f.setBold(true);
    g->setFont(0, f);
    g->setFirstColumnSpanned(true);
    g->setExpanded(true);
  }
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_tree);
  connect(m_state, &AppState::modelChanged, this, &PropertiesPanel::onModelChanged);
  connect(m_state, &AppState::layerChanged, this, &PropertiesPanel::showLayer);
  // Cancelled from the status bar: say so instead of "computing…".
  connect(m_jobs, &JobTracker::jobCancelled, this, [this](const QString& slot) {
    if (slot != kJob || m_statsReady) return;
    fill(m_weightGroup, {{"Values", "not computed (cancelled)"}});
    m_statsReady = true;
  });
  onModelChanged();
}

QString PropertiesPanel::value(const QString& label) const {
  for (QTreeWidgetItem* g : {m_layerGroup, m_weightGroup})
    for (int i = 0; i < g->childCount(); ++i)
      if (g->child(i)->text(0) == label) return g->child(i)->text(1);
  return {};
}

void PropertiesPanel::onModelChanged() {
  m_cache.reset();
  if (const NetworkDef* def = m_state->def()) {
    try {
      auto geometry = std::make_shared<ModelGeometry>();
      geometry->shapes = def->outputShapes();
      geometry->fields = receptiveFields(*def);
      m_cache = geometry;
    } catch (const std::exception& e) {
      fill(m_layerGroup, {{"Error", e.what()}});
    }
  }
  m_layer = -2;  // force a refresh
  showLayer(m_state->layer());
}

void PropertiesPanel::showLayer(int layer) {
  if (layer == m_layer) return;
  m_layer = layer;
  m_statsReady = false;
  m_jobs->cancel(kJob);
  const auto net = m_state->net();
  auto geometry = std::static_pointer_cast<const ModelGeometry>(m_cache);
  if (!net || !geometry || layer < 0 || size_t(layer) >= net->def().layers.size()) {
    fill(m_layerGroup, {});
    fill(m_weightGroup, {});
    m_layer = -1;
    m_statsReady = true;
    return;
  }
  try {
    fill(m_layerGroup,
         layerInfoRows(layerInfo(net->def(), size_t(layer), geometry->shapes, geometry->fields)));
  } catch (const std::exception& e) {
    fill(m_layerGroup, {{"Error", e.what()}});
  }
  const LayerSpec& spec = net->def().layers[size_t(layer)];
  if (spec.weights.empty()) {
    fill(m_weightGroup, {{"Weights", "none"}});
    m_statsReady = true;
    return;
  }
  fill(m_weightGroup, {{"Values", "computing…"}});
  // Up to tens of millions of values (AlexNet fc6): off the GUI thread. The job holds the net.
  m_jobs->start(
      kJob, tr("Weight statistics of %1").arg(QString::fromStdString(spec.name)),
      [net, layer](ProgressSink&) { return weightStats(net->def().layers[size_t(layer)].weights); },
      [this](const WeightStats& s) {
        fill(m_weightGroup, weightStatsRows(s));
        m_statsReady = true;
      },
      [this](const QString& message) {
        fill(m_weightGroup, {{"Error", message.toStdString()}});
        m_statsReady = true;
      });
}

}  // namespace zfvis::ui
