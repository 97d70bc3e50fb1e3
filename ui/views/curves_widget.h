// A training run's curves, drawn with QPainter (no Qt Charts): the mean loss as a line on the
// left axis, the training accuracy as a line and the test accuracy as points on the right axis
// (0-100 %), against SGD steps, with ticks on both axes, a legend and an optional vertical marker
// (the evolution view's checkpoint). Rows come from a log.json (readLog) or live from a Trainer.
#pragma once

#include <optional>
#include <vector>

#include <QWidget>

#include "core/analysis/training/training_log.h"

namespace zfvis::ui {

class CurvesWidget : public QWidget {
  Q_OBJECT
 public:
  explicit CurvesWidget(QWidget* parent = nullptr);

  /// Replaces the rows.
  void setRows(std::vector<LogRow> rows);
  /// Adds one row (a live run).
  void appendRow(const LogRow& row);
  /// Forgets every row and the marker.
  void clear();
  /// The rows drawn.
  const std::vector<LogRow>& rows() const { return m_rows; }
  /// Number of rows drawn.
  int rowCount() const { return int(m_rows.size()); }
  /// The x axis spans at least 0..steps (a live run's total, so the axis does not rescale).
  void setStepRange(int64_t steps);
  /// A vertical line at `step` (nullopt: none).
  void setMarker(std::optional<int64_t> step);
  /// The marker's step.
  std::optional<int64_t> marker() const { return m_marker; }
  /// Text shown when there are no rows.
  void setPlaceholder(const QString& text);

  QSize sizeHint() const override { return {480, 240}; }
  QSize minimumSizeHint() const override { return {240, 140}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  std::vector<LogRow> m_rows;
  int64_t m_stepRange = 0;
  std::optional<int64_t> m_marker;
  QString m_placeholder;
};

/// "Nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi], about `count` of them.
std::vector<double> niceTicks(double lo, double hi, int count);

}  // namespace zfvis::ui
