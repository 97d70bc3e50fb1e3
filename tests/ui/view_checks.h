// Checks on the real MainWindow shared by the GUI walk and soak: what a view should show for the
// selected layer, and waiting until the window has settled.
#pragma once

#include <algorithm>

#include <QElapsedTimer>
#include <QString>
#include <QStringList>

#include "core/model/small_nets.h"
#include "tests/ui/ui_test_util.h"
#include "ui/app_state.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/views/activations_view.h"
#include "ui/views/compare_view.h"
#include "ui/views/evolution_view.h"
#include "ui/views/filters_view.h"
#include "ui/views/graph_view.h"
#include "ui/views/occlusion_view.h"
#include "ui/views/projection_view.h"
#include "ui/views/train_view.h"
#include "ui/views/units_view.h"

namespace zfvis::uitest {

// The views in tab order (Ctrl+1 .. Ctrl+9 select them).
inline const QStringList kViews = {"activations", "filters",   "projection", "compare", "occlusion",
                                   "train",       "evolution", "units",      "graph"};

// What a view shows, when it does not show the layer it should; empty when it does.
inline QString viewProblem(ui::MainWindow& w, const QString& id, int layer) {
  ui::AppState* s = w.state();
  const auto acts = s->activations();
  if (id == "activations") {
    auto pic = qobject_cast<ui::ActivationsView*>(w.view(id))->picture();
    if (!pic || pic->layer != layer || pic->activations != acts) return "no activations picture";
  } else if (id == "filters") {
    auto pic = qobject_cast<ui::FiltersView*>(w.view(id))->picture();
    const int conv = ui::filterLayerFor(*s->def(), layer);
    if (conv < 0 && pic) return "filters shown for a layer no convolution feeds";
    if (conv >= 0 && (!pic || pic->layer != conv)) return "no filters of the layer's convolution";
  } else if (id == "projection") {
    auto* view = qobject_cast<ui::ProjectionView*>(w.view(id));
    auto pic = view->picture();
    if (!pic || pic->activations != acts || int(pic->projection.layer) != layer ||
        pic->projection.channel != s->channel())
      return "no projection of the selected channel";
    if (view->showsTop() && (!view->top() || int(view->top()->layer) != layer))
      return "no top-9 grid";
  } else if (id == "compare") {
    // Without a convolution there are no first-layer filters to compare (the view says so).
    bool hasConv = false;
    for (const LayerSpec& l : s->def()->layers) hasConv = hasConv || l.type == LayerType::Conv;
    if (hasConv != bool(qobject_cast<ui::CompareView*>(w.view(id))->picture()))
      return hasConv ? "no comparison" : "a comparison without first-layer filters";
  } else if (id == "occlusion") {
    auto pic = qobject_cast<ui::OcclusionView*>(w.view(id))->picture();
    if (!pic || pic->activations != acts) return "no occlusion map";
  } else if (id == "train") {
    // Independent of the open model and layer: settled means no run is going on.
    if (qobject_cast<ui::TrainView*>(w.view(id))->isTraining()) return "still training";
  } else if (id == "graph") {
    // One box per layer, the selected one highlighted.
    auto* view = qobject_cast<ui::GraphView*>(w.view(id));
    if (view->nodeCount() != s->layerCount()) return "not one box per layer";
    if (view->highlighted() != layer) return "the selected layer is not highlighted";
  } else if (id == "evolution") {
    // Independent of the open model and layer: the shipped run (when present) with the column
    // of the slider's checkpoint and layer.
    auto* view = qobject_cast<ui::EvolutionView*>(w.view(id));
    if (!shippedRunDir("zf-small")) return {};
    if (!view->run()) return "no run open";
    auto pic = view->picture();
    if (!pic || pic->run != view->run() || pic->checkpoint != view->checkpoint() ||
        pic->layer != view->layer())
      return "no column for the slider's checkpoint";
  } else if (id == "units") {
    // Independent of the layer: with a finished scan of the open model open, the mosaic of the
    // shown layer with a block per unit, and the selected unit's cells.
    auto* view = qobject_cast<ui::UnitsView*>(w.view(id));
    const auto& db = view->database();
    if (!db || !db->complete) return {};
    if (db->net != s->net()) return "a scan of another model shown";
    auto mosaic = view->mosaic();
    if (!mosaic || mosaic->db != db || mosaic->layer != view->layer())
      return "no mosaic of the shown layer";
    const auto it = std::find_if(db->layers.begin(), db->layers.end(), [&](const ScanLayer& l) {
      return l.name == mosaic->layer.toStdString();
    });
    if (it == db->layers.end() || int(mosaic->atlas.units.size()) != it->channels)
      return "the mosaic has not one block per unit";
    auto detail = view->detail();
    if (!detail || detail->db != db || detail->unit != view->selectedUnit())
      return "no cells of the selected unit";
  }
  return {};
}

// Runs the event loop until no job runs and no view waits to start one, on two checks 5 ms apart
// (result handlers may start follow-up jobs); false when that takes over `timeoutMs`.
inline bool settle(ui::MainWindow& w, int timeoutMs) {
  QElapsedTimer t;
  t.start();
  for (int calm = 0; t.elapsed() < timeoutMs;) {
    calm = w.isSettled() ? calm + 1 : 0;
    if (calm == 2) return true;
    runEventLoopFor(5);
  }
  return false;
}

}  // namespace zfvis::uitest
