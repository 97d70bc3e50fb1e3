// The predictions panel: the top-5 classes with probabilities drawn as bars.
#pragma once

#include <QWidget>

class QLabel;
class QTableView;

namespace zfvis::ui {

class AppState;
class PredictionsModel;

class PredictionsPanel : public QWidget {
  Q_OBJECT
 public:
  /// Shows the predictions of `state`'s forward runs.
  explicit PredictionsPanel(AppState* state, QWidget* parent = nullptr);
  /// The model (tests).
  PredictionsModel* model() const { return m_model; }

 private:
  void update();

  AppState* m_state;
  PredictionsModel* m_model;
  QTableView* m_table;
  QLabel* m_note;
};

}  // namespace zfvis::ui
