// The layer list: one row per layer (index, name, type, output shape, parameters).
#pragma once

#include <memory>
#include <vector>

#include <QAbstractTableModel>

#include "core/model/network.h"

namespace zfvis::ui {

class LayerTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  /// Columns, left to right.
  enum Column { Index, Name, Type, OutputShape, Params, ColumnCount };

  explicit LayerTableModel(QObject* parent = nullptr);

  /// Shows the layers of `def` (null: empty).
  void setNetwork(std::shared_ptr<const NetworkDef> def);
  /// The network shown, may be null.
  const std::shared_ptr<const NetworkDef>& network() const { return m_def; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const NetworkDef> m_def;
  std::vector<Shape> m_shapes;
};

/// "96×55×55": a shape as the tables show it.
QString compactShape(const Shape& shape);
/// "1,234,567".
QString withThousands(int64_t value);

}  // namespace zfvis::ui
