#include "ui/summary_table_model.h"

#include <QFont>

#include "ui/layer_table_model.h"

namespace zfvis::ui {

namespace {
QString opName(LayerType t) {
  auto n = onnxOpName(t);
  return QString::fromUtf8(n.data(), qsizetype(n.size()));
}
}  // namespace

SummaryTableModel::SummaryTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void SummaryTableModel::setNetwork(std::shared_ptr<const NetworkDef> def) {
  beginResetModel();
  m_def = std::move(def);
  m_shapes = m_def ? m_def->outputShapes() : std::vector<Shape>{};
  m_total = m_def ? m_def->paramCount() : 0;
  m_nonTrainable = 0;
  if (m_def)
    for (const auto& l : m_def->layers)
      if (l.type == LayerType::BatchNorm) m_nonTrainable += l.weights.numel() / 2;
  endResetModel();
}

int SummaryTableModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !m_def) return 0;
  return static_cast<int>(m_def->layers.size()) + 2;  // input, layers, totals
}

int SummaryTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant SummaryTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
    return {};
  const int row = index.row();
  const int last = rowCount() - 1;
  if (role == Qt::TextAlignmentRole && index.column() == Params)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::FontRole && row == last) {
    QFont f;
    f.setBold(true);
    return f;
  }
  if (role != Qt::DisplayRole) return {};
  if (row == 0) {
    switch (index.column()) {
      case Layer:
        return QString::fromStdString(m_def->input.name);
      case Type:
        return tr("Input");
      case OutputShape:
        return compactShape(m_def->input.shape);
      case Params:
        return QStringLiteral("0");
      default:
        return {};
    }
  }
  if (row == last) {
    switch (index.column()) {
      case Layer:
        return tr("Total");
      case Type:
        return m_nonTrainable ? tr("%1 non-trainable").arg(withThousands(m_nonTrainable))
                              : QString();
      case OutputShape:
        return tr("%n layer(s)", nullptr, last - 1);
      case Params:
        return withThousands(m_total);
      default:
        return {};
    }
  }
  const size_t i = size_t(row - 1);
  const LayerSpec& l = m_def->layers[i];
  switch (index.column()) {
    case Layer:
      return QString::fromStdString(l.name);
    case Type:
      return opName(l.type);
    case OutputShape:
      return compactShape(m_shapes[i]);
    case Params:
      return withThousands(l.paramCount());
    default:
      return {};
  }
}

QVariant SummaryTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Layer:
      return tr("Layer");
    case Type:
      return tr("Type");
    case OutputShape:
      return tr("Output shape");
    case Params:
      return tr("Params");
    default:
      return {};
  }
}

}  // namespace zfvis::ui
