#include "ui/views/view_base.h"

#include <QTimer>

namespace zfvis::ui {

ViewBase::ViewBase(AppState* state, JobTracker* jobs, QWidget* parent)
    : QWidget(parent), m_state(state), m_jobs(jobs) {}

void ViewBase::invalidate() {
  m_dirty = true;
  if (isVisible()) scheduleRefresh();
}

void ViewBase::scheduleRefresh() {
  if (m_refreshQueued) return;
  m_refreshQueued = true;
  QTimer::singleShot(0, this, [this] {
    m_refreshQueued = false;
    if (isVisible()) refreshNow();
  });
}

void ViewBase::refreshNow() {
  if (!m_dirty) return;
  m_dirty = false;
  refresh();
}

void ViewBase::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (m_dirty) scheduleRefresh();
}

PngText ViewBase::baseMetadata() const {
  PngText t = {{"Software", "zfvis " ZFVIS_VERSION}, {"zfvis:view", viewId().toStdString()}};
  if (const NetworkDef* def = m_state->def()) {
    t.push_back({"zfvis:model", def->name});
    t.push_back({"zfvis:untrained", def->untrained ? "true" : "false"});
  }
  if (!m_state->source().empty())
    t.push_back({"zfvis:image", m_state->source().name.toStdString()});
  return t;
}

}  // namespace zfvis::ui
