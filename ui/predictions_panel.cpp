#include "ui/predictions_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/app_state.h"
#include "ui/predictions_model.h"

namespace zfvis::ui {

namespace {

/// Draws the probability as a bar behind its text.
class ProbabilityBarDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override {
    const double p = index.data(PredictionsModel::ProbabilityRole).toDouble();
    QRectF bar = QRectF(option.rect).adjusted(2, 3, -2, -3);
    bar.setWidth(bar.width() * std::clamp(p, 0.0, 1.0));
    painter->fillRect(bar, QColor(90, 150, 230, 110));
    QStyledItemDelegate::paint(painter, option, index);
  }
};

}  // namespace

PredictionsPanel::PredictionsPanel(AppState* state, QWidget* parent)
    : QWidget(parent), m_state(state) {
  m_model = new PredictionsModel(this);
  m_table = new QTableView(this);
  m_table->setModel(m_model);
  m_table->verticalHeader()->hide();
  m_table->setSelectionMode(QAbstractItemView::NoSelection);
  m_table->setItemDelegateForColumn(PredictionsModel::Probability,
                                    new ProbabilityBarDelegate(m_table));
  m_table->horizontalHeader()->setSectionResizeMode(PredictionsModel::Label, QHeaderView::Stretch);
  m_table->setWordWrap(false);
  m_note = new QLabel(this);
  m_note->setWordWrap(true);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(m_table, 1);
  layout->addWidget(m_note);
  connect(m_state, &AppState::forwardChanged, this, &PredictionsPanel::update);
  connect(m_state, &AppState::classNamesChanged, this, &PredictionsPanel::update);
  update();
}

void PredictionsPanel::update() {
  const auto& fwd = m_state->forward();
  // Named as the window names classes now (Model -> Load Labels… relabels without a rerun).
  std::vector<Prediction> top = fwd ? fwd->top : std::vector<Prediction>{};
  for (Prediction& p : top) p.label = m_state->className(p.classIndex);
  m_model->setPredictions(std::move(top));
  m_table->resizeColumnToContents(PredictionsModel::Rank);
  m_table->resizeColumnToContents(PredictionsModel::Class);
  m_table->resizeColumnToContents(PredictionsModel::Probability);
  const NetworkDef* def = m_state->def();
  if (fwd && def && def->untrained) {
    m_note->setText(tr("Untrained weights: these predictions are meaningless."));
  } else if (fwd) {
    m_note->setText(
        tr("%1 classes · forward %2 ms").arg(fwd->classes).arg(fwd->milliseconds, 0, 'f', 1));
  } else {
    m_note->clear();
  }
}

}  // namespace zfvis::ui
