// The top predictions: rank, class index, label and probability.
#pragma once

#include <vector>

#include <QAbstractTableModel>

#include "ui/app_state.h"

namespace zfvis::ui {

class PredictionsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  /// Columns, left to right.
  enum Column { Rank, Class, Label, Probability, ColumnCount };
  /// Role returning the probability as a float in [0, 1] (for the bar delegate).
  static constexpr int ProbabilityRole = Qt::UserRole + 1;

  explicit PredictionsModel(QObject* parent = nullptr);

  /// Shows these predictions (best first).
  void setPredictions(std::vector<Prediction> predictions);
  /// The predictions shown.
  const std::vector<Prediction>& predictions() const { return m_predictions; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<Prediction> m_predictions;
};

}  // namespace zfvis::ui
