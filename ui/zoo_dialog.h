// File -> Fetch from Model Zoo: the pretrained ONNX files of the embedded manifest with their
// size, accuracy, licence and whether they are already in the cache. "Fetch and Open" asks the
// main window to download (with a progress dialog and Cancel) and open the chosen one.
#pragma once

#include <QDialog>

class QPushButton;
class QTableWidget;

namespace zfvis::ui {

class ZooDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ZooDialog(QWidget* parent = nullptr);
  /// The id of the selected row ("" when none).
  QString selectedId() const;
  /// The table (tests).
  QTableWidget* table() const { return m_table; }

 signals:
  /// The user asked for model `id`.
  void fetchRequested(const QString& id);

 private:
  QTableWidget* m_table;
  QPushButton* m_fetch;
};

}  // namespace zfvis::ui
