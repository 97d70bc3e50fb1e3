#include "ui/predictions_model.h"

namespace zfvis::ui {

PredictionsModel::PredictionsModel(QObject* parent) : QAbstractTableModel(parent) {}

void PredictionsModel::setPredictions(std::vector<Prediction> predictions) {
  beginResetModel();
  m_predictions = std::move(predictions);
  endResetModel();
}

int PredictionsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_predictions.size());
}

int PredictionsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant PredictionsModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
    return {};
  const Prediction& p = m_predictions[size_t(index.row())];
  if (role == ProbabilityRole) return static_cast<double>(p.probability);
  if (role == Qt::TextAlignmentRole && index.column() != Label)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole) return p.label;
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case Rank:
      return index.row() + 1;
    case Class:
      return p.classIndex;
    case Label:
      return p.label;
    case Probability:
      return QStringLiteral("%1 %").arg(100.0 * p.probability, 0, 'f', 2);
    default:
      return {};
  }
}

QVariant PredictionsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Rank:
      return tr("#");
    case Class:
      return tr("Class");
    case Label:
      return tr("Label");
    case Probability:
      return tr("Probability");
    default:
      return {};
  }
}

}  // namespace zfvis::ui
