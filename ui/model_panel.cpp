#include "ui/model_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/app_state.h"
#include "ui/layer_table_model.h"
#include "ui/summary_table_model.h"

namespace zfvis::ui {

ModelPanel::ModelPanel(AppState* state, QWidget* parent) : QWidget(parent), m_state(state) {
  m_title = new QLabel(this);
  m_title->setWordWrap(true);
  m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_banner = new QLabel(this);
  m_banner->setWordWrap(true);
  m_banner->setStyleSheet(
      "QLabel { background: #fff3b0; color: #5a4500; border: 1px solid #d8b800; "
      "border-radius: 3px; padding: 4px; }");
  m_banner->hide();
  m_model = new SummaryTableModel(this);
  m_table = new QTableView(this);
  m_table->setModel(m_model);
  m_table->verticalHeader()->hide();
  m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 4);
  m_table->setSelectionMode(QAbstractItemView::NoSelection);
  m_table->setAlternatingRowColors(true);
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_table->setWordWrap(false);
  m_notes = new QLabel(this);
  m_notes->setWordWrap(true);
  m_notes->setStyleSheet("QLabel { color: palette(mid); }");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(m_title);
  layout->addWidget(m_banner);
  layout->addWidget(m_table, 1);
  layout->addWidget(m_notes);
  connect(m_state, &AppState::modelChanged, this, &ModelPanel::update);
  update();
}

void ModelPanel::update() {
  const NetworkDef* def = m_state->def();
  m_model->setNetwork(def ? m_state->net()->defPtr() : nullptr);
  if (!def) {
    m_title->setText(tr("No model open."));
    m_banner->hide();
    m_notes->clear();
    return;
  }
  m_title->setText(tr("<b>%1</b> — %2 · input %3 · %4 parameters")
                       .arg(QString::fromStdString(def->name).toHtmlEscaped(),
                            QString::fromStdString(def->source).toHtmlEscaped(),
                            QString::fromStdString(def->input.shape.str()),
                            withThousands(def->paramCount())));
  m_banner->setVisible(def->untrained);
  m_banner->setText(
      tr("<b>Untrained</b>: built-in architecture with deterministic He-normal weights. The "
         "pictures show the architecture, not learned features; predictions are meaningless. "
         "Open an ONNX or Keras file (or apply Keras weights) for a trained network."));
  QStringList notes;
  for (const auto& n : def->notes) notes << QString::fromStdString(n).toHtmlEscaped();
  m_notes->setText(notes.isEmpty() ? QString() : tr("Notes: ") + notes.join("<br>"));
  m_notes->setVisible(!notes.isEmpty());
  m_table->resizeColumnsToContents();
}

}  // namespace zfvis::ui
