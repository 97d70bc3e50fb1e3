// The model panel: name and source, the "untrained" banner for built-ins, the summary table
// (layer, type, output shape, params, totals) and the model's notes.
#pragma once

#include <QWidget>

class QLabel;
class QTableView;

namespace zfvis::ui {

class AppState;
class SummaryTableModel;

class ModelPanel : public QWidget {
  Q_OBJECT
 public:
  /// Shows the model of `state`.
  explicit ModelPanel(AppState* state, QWidget* parent = nullptr);
  /// The summary model (tests run it under QAbstractItemModelTester).
  SummaryTableModel* summaryModel() const { return m_model; }
  /// The "untrained" banner (visible for built-ins).
  QLabel* banner() const { return m_banner; }

 private:
  void update();

  AppState* m_state;
  QLabel* m_title;
  QLabel* m_banner;
  QTableView* m_table;
  QLabel* m_notes;
  SummaryTableModel* m_model;
};

}  // namespace zfvis::ui
