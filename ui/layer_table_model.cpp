#include "ui/layer_table_model.h"

#include "core/model/summary.h"

namespace zfvis::ui {

LayerTableModel::LayerTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void LayerTableModel::setNetwork(std::shared_ptr<const NetworkDef> def) {
  beginResetModel();
  m_def = std::move(def);
  m_shapes = m_def ? m_def->outputShapes() : std::vector<Shape>{};
  endResetModel();
}

int LayerTableModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !m_def) return 0;
  return static_cast<int>(m_def->layers.size());
}

int LayerTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant LayerTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
    return {};
  const LayerSpec& l = m_def->layers[static_cast<size_t>(index.row())];
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Index:
        return index.row();
      case Name:
        return QString::fromStdString(l.name);
      case Type:
        return QString::fromUtf8(onnxOpName(l.type).data(), qsizetype(onnxOpName(l.type).size()));
      case OutputShape:
        return compactShape(m_shapes[size_t(index.row())]);
      case Params:
        return withThousands(l.paramCount());
      default:
        return {};
    }
  }
  if (role == Qt::TextAlignmentRole && (index.column() == Index || index.column() == Params))
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole) {
    QStringList inputs;
    for (const auto& in : l.inputs) inputs << QString::fromStdString(in);
    // Everything the columns show, for a dock too narrow to show it all.
    return tr("%1 (%2) <- %3\noutput %4 · %5 parameters")
        .arg(QString::fromStdString(l.name),
             QString::fromUtf8(onnxOpName(l.type).data(), qsizetype(onnxOpName(l.type).size())),
             inputs.join(QStringLiteral(", ")), compactShape(m_shapes[size_t(index.row())]),
             withThousands(l.paramCount()));
  }
  return {};
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Index:
      return tr("#");
    case Name:
      return tr("Layer");
    case Type:
      return tr("Type");
    case OutputShape:
      return tr("Output");
    case Params:
      return tr("Params");
    default:
      return {};
  }
}

QString compactShape(const Shape& shape) {
  QStringList dims;
  for (int64_t d : shape.dims()) dims << QString::number(d);
  return dims.join(QChar(0x00D7));
}

QString withThousands(int64_t value) {
  return QString::fromStdString(thousandsSeparated(value));
}

}  // namespace zfvis::ui
