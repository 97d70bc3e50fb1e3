// The main window: menus (models, images, samples, recent files, export), the layer list, the
// model / input / predictions panels, the central views in tabs, the untrained banner and a
// status bar with the model, the image, the last forward time and the running job's progress.
#pragma once

#include <memory>

#include <QHash>
#include <QMainWindow>
#include <QStringList>

#include "ui/launch_options.h"

namespace zfvis {
struct StartChoice;
struct ZooManifest;
}  // namespace zfvis

class QAction;
class QLabel;
class QMenu;
class QProgressBar;
class QProgressDialog;
class QTabWidget;
class QTableView;
class QToolButton;

namespace zfvis::ui {

class AppState;
class Controller;
class ErrorReporter;
class InputPanel;
class JobTracker;
class LayerTableModel;
class ModelPanel;
class PredictionsPanel;
class PropertiesPanel;
class StartPage;
class ViewBase;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  /// `samplesDir` holds the bundled sample photos (the Samples menu).
  explicit MainWindow(const QString& samplesDir, QWidget* parent = nullptr);
  ~MainWindow() override;

  /// The document.
  AppState* state() const { return m_state; }
  /// Opens models and images.
  Controller* controller() const { return m_controller; }
  /// The background jobs.
  JobTracker* jobs() const { return m_jobs; }
  /// Replaces where errors go (tests record them; screenshot mode exits).
  void setErrorReporter(std::shared_ptr<ErrorReporter> reporter);
  /// Where errors go.
  ErrorReporter* errorReporter() const { return m_errors.get(); }
  /// Whether window layout and recent files are read from and written to QSettings.
  void setPersistLayout(bool persist) { m_persistLayout = persist; }
  /// Restores the window geometry and dock layout saved by the last session.
  void restoreLayout();

  /// Opens the model, image, layer and view of the command line.
  void applyLaunchOptions(const LaunchOptions& options);
  /// Shows the view with this id ("activations", "filters", ...); "train" and "evolution" also
  /// replace the start page (they need no model).
  void showView(const QString& id);
  /// The id of the view shown.
  QString currentViewId() const;
  /// The view of the current tab (null before the tabs exist).
  ViewBase* currentView() const;
  /// The view with this id (null if unknown).
  ViewBase* view(const QString& id) const;
  /// Every central view, in tab order.
  const QList<ViewBase*>& views() const { return m_views; }
  /// The layer list.
  QTableView* layerTable() const { return m_layerTable; }
  /// The layer list's model.
  LayerTableModel* layerModel() const { return m_layerModel; }
  /// The model panel.
  ModelPanel* modelPanel() const { return m_modelPanel; }
  /// The input panel.
  InputPanel* inputPanel() const { return m_inputPanel; }
  /// The predictions panel.
  PredictionsPanel* predictionsPanel() const { return m_predictionsPanel; }
  /// The start page (shown in place of the tabs while no model is open).
  StartPage* startPage() const { return m_startPage; }
  /// The selected layer's properties.
  PropertiesPanel* propertiesPanel() const { return m_properties; }
  /// Replaces the Model Zoo manifest used by the start page and fetches (tests, mirrors).
  void setZooManifest(std::shared_ptr<const ZooManifest> manifest);
  /// Why the model open at start was chosen (or why none is), empty before that.
  QString startMessage() const { return m_startMessage; }
  /// The sample images found in the samples folder.
  QStringList samples() const;

  /// Writes the current view as PNG to `pngPath` and its data as .npy next to it (same stem),
  /// in the background; errors go to the error reporter.
  void exportViewTo(const QString& pngPath);
  /// Writes the Export All report of the current model and input into folder `dir` in the
  /// background (progress dialog with Cancel); a folder holding an earlier report is replaced.
  void exportAllTo(const QString& dir);
  /// Reads class names from `path` in the background (one per line or a JSON list; the count
  /// must match the model's classes) and makes them the window's; errors go to the reporter.
  void loadLabelsFrom(const QString& path);
  /// The folder of the last report Export All wrote this session (empty: none yet).
  const QString& lastReport() const { return m_lastReport; }
  /// File -> Open Exported Report (disabled until Export All finished this session).
  QAction* openReportAction() const { return m_openReport; }
  /// Model -> Load Labels….
  QAction* loadLabelsAction() const { return m_loadLabels; }
  /// Downloads Model Zoo model `id` (progress dialog with Cancel) and opens it.
  void fetchZooModel(const QString& id);
  /// Opens a file by its kind: a model (.onnx, .h5) or an image (or .npy input).
  void openFile(const QString& path);
  /// Uses the clipboard's image (or image file) as the input.
  void pasteFromClipboard();
  /// True when no job runs and no view waits to start one.
  bool isSettled() const;

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void createViews();
  void createDocks();
  void createMenus();
  void createStatusBar();
  void rebuildRecentMenus();
  void updateStatus();
  void updateBanner();
  void syncLayerSelection();
  void onJobStarted(const QString& slot, const QString& title);
  void onJobEnded();
  void showProgressFor(const QString& slot);
  void reportError(const QString& slot, const QString& message);
  void openModelDialog();
  void applyWeightsDialog();
  void openImageDialog();
  void exportViewDialog();
  void exportAllDialog();
  void loadLabelsDialog();
  QProgressDialog* progressDialog(const QString& slot, quint64 job, const QString& title,
                                  const QString& label);
  void startWithoutModel(const LaunchOptions& options);
  void openStartChoice(const StartChoice& choice, const LaunchOptions& options);
  void setStartMessage(const QString& message);
  void updateStartPage();
  void moveLayer(int delta);
  void moveChannel(int delta);

  QString m_samplesDir;
  AppState* m_state;
  JobTracker* m_jobs;
  Controller* m_controller;
  std::shared_ptr<ErrorReporter> m_errors;
  bool m_persistLayout = true;

  QLabel* m_banner = nullptr;
  QTabWidget* m_tabs = nullptr;
  QList<ViewBase*> m_views;
  QTableView* m_layerTable = nullptr;
  LayerTableModel* m_layerModel = nullptr;
  ModelPanel* m_modelPanel = nullptr;
  InputPanel* m_inputPanel = nullptr;
  PredictionsPanel* m_predictionsPanel = nullptr;
  PropertiesPanel* m_properties = nullptr;
  StartPage* m_startPage = nullptr;
  std::shared_ptr<const ZooManifest> m_zoo;
  QString m_startMessage;
  bool m_startPageDismissed = false;  // a view that needs no model was asked for
  QMenu* m_recentModels = nullptr;
  QMenu* m_recentImages = nullptr;
  QMenu* m_viewMenu = nullptr;
  QAction* m_applyWeights = nullptr;
  QAction* m_loadLabels = nullptr;
  QAction* m_modelLabels = nullptr;
  QAction* m_openReport = nullptr;
  QString m_lastReport;

  QLabel* m_modelLabel = nullptr;
  QLabel* m_imageLabel = nullptr;
  QLabel* m_timeLabel = nullptr;
  QLabel* m_jobLabel = nullptr;
  QProgressBar* m_progress = nullptr;
  QToolButton* m_cancel = nullptr;
  QHash<QString, QString> m_jobTitles;  // slot -> title of its current job
  QString m_progressSlot;               // the slot whose progress the status bar shows
};

}  // namespace zfvis::ui
