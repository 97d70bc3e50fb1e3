#include "ui/views/view_base.h"

#include <QBoxLayout>
#include <QTextBrowser>
#include <QTimer>
#include <QToolButton>

#include "ui/help_texts.h"

namespace zfvis::ui {

ViewBase::ViewBase(AppState* state, JobTracker* jobs, QWidget* parent)
    : QWidget(parent), m_state(state), m_jobs(jobs) {}

void ViewBase::installHelp() {
  const QString text = helpText(viewId());
  auto* box = qobject_cast<QBoxLayout*>(layout());
  if (text.isEmpty() || m_helpButton || !box) return;
  m_helpButton = new QToolButton(this);
  m_helpButton->setObjectName(QStringLiteral("helpButton"));
  // A compact "?" (the bars are full); the tooltip and accessible name say what it opens.
  m_helpButton->setText(QStringLiteral("?"));
  m_helpButton->setToolTip(tr("How to read this: what this view shows and how to read it"));
  m_helpButton->setAccessibleName(tr("How to read this"));
  m_helpButton->setCheckable(true);
  m_helpButton->setAutoRaise(false);
  m_helpButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
  m_helpText = new QTextBrowser(this);
  m_helpText->setObjectName(QStringLiteral("helpText"));
  m_helpText->setHtml(text);
  m_helpText->setOpenLinks(false);
  m_helpText->setMaximumHeight(fontMetrics().height() * 14);
  m_helpText->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
  m_helpText->hide();
  connect(m_helpButton, &QToolButton::toggled, this,
          [this](bool on) { m_helpText->setVisible(on); });
  // The toggle ends the first row of controls when the view starts with one.
  QLayoutItem* first = box->count() > 0 ? box->itemAt(0) : nullptr;
  auto* row = first ? qobject_cast<QBoxLayout*>(first->layout()) : nullptr;
  if (row && (row->direction() == QBoxLayout::LeftToRight)) {
    row->addWidget(m_helpButton);
  } else {
    box->insertWidget(0, m_helpButton, 0, Qt::AlignRight);
  }
  box->insertWidget(1, m_helpText);
}

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
