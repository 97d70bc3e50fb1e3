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
  const NetworkDef* def = m_state->def();
  const std::string image =
      m_state->source().empty() ? std::string() : m_state->source().name.toStdString();
  return pictureText(viewId().toStdString(), def ? def->name : std::string(), def && def->untrained,
                     image);
}

}  // namespace zfvis::ui
