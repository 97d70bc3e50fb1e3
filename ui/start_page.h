// The start page, shown in place of the view tabs while no model is open: fetch the trained
// AlexNet or ZFNet-512 from the Model Zoo (size from the manifest; the main window's fetch with
// its progress dialog and Cancel), open a model file, open a built-in (marked "untrained", or
// "trained on Fashion-MNIST" for the shipped small nets) or a recent model. Files dropped on it
// open as they do anywhere in the window.
#pragma once

#include <memory>

#include <QWidget>

class QLabel;
class QListWidget;
class QPushButton;

namespace zfvis {
struct ZooManifest;
}

namespace zfvis::ui {

class StartPage : public QWidget {
  Q_OBJECT
 public:
  /// Offers the models of `manifest`.
  explicit StartPage(std::shared_ptr<const ZooManifest> manifest, QWidget* parent = nullptr);
  /// Offers the models of another manifest (tests, mirrors).
  void setManifest(std::shared_ptr<const ZooManifest> manifest);

  /// Shows why no model is open ("AlexNet weights are not cached").
  void setMessage(const QString& text);
  /// The message shown.
  QString message() const;
  /// Lists the recent models (entries as Settings::recentModels() holds them).
  void setRecentModels(const QStringList& entries);
  /// Updates the fetch buttons ("Fetch …" or "Open … (downloaded)") from the cache folder.
  void updateZooButtons();

  /// The fetch button of zoo model `id` (tests), null when the manifest has none.
  QPushButton* fetchButton(const QString& id) const;
  /// The built-in list (tests).
  QListWidget* builtins() const { return m_builtins; }
  /// The recent-models list (tests).
  QListWidget* recent() const { return m_recent; }
  /// The "Open model file…" button.
  QPushButton* openFileButton() const { return m_openFile; }

 signals:
  /// Fetch (or open, when cached) Model Zoo model `id`.
  void fetchRequested(const QString& id);
  /// Open `spec` (a built-in or a file) with optional Keras `weights`.
  void openModelRequested(const QString& spec, const QString& weights);
  /// Show the Open Model file dialog.
  void openFileDialogRequested();
  /// Local files were dropped on the page (models or images).
  void filesDropped(const QStringList& paths);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  std::shared_ptr<const ZooManifest> m_manifest;
  QLabel* m_message;
  QList<QPushButton*> m_fetch;
  QPushButton* m_openFile;
  QListWidget* m_builtins;
  QListWidget* m_recent;
};

}  // namespace zfvis::ui
