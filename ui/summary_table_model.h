// The model summary (like Keras' model.summary()): the input, one row per layer with its type,
// output shape and parameters, and a totals row.
#pragma once

#include <memory>
#include <vector>

#include <QAbstractTableModel>

#include "core/model/network.h"

namespace zfvis::ui {

class SummaryTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  /// Columns, left to right.
  enum Column { Layer, Type, OutputShape, Params, ColumnCount };

  explicit SummaryTableModel(QObject* parent = nullptr);

  /// Summarises `def` (null: empty).
  void setNetwork(std::shared_ptr<const NetworkDef> def);
  /// Total parameters of the network shown.
  int64_t totalParams() const { return m_total; }
  /// Parameters that are not trained (BatchNorm statistics).
  int64_t nonTrainableParams() const { return m_nonTrainable; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const NetworkDef> m_def;
  std::vector<Shape> m_shapes;
  int64_t m_total = 0, m_nonTrainable = 0;
};

}  // namespace zfvis::ui
