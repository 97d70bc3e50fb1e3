#include "ui/main_window.h"

#include <algorithm>
#include <array>

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QIcon>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPointer>
#include <QProgressBar>
#include <QProgressDialog>
#include <QResizeEvent>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include "core/analysis/training/dataset.h"
#include "core/base/atomic_file.h"
#include "core/base/labels.h"
#include "core/base/npy.h"
#include "core/export/report.h"
#include "core/import/start_model.h"
#include "core/model/builtin_models.h"
#include "core/model/small_nets.h"
#include "core/render/png.h"
#include "core/zoo/zoo_cache.h"
#include "core/zoo/zoo_fetch.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/convert.h"
#include "ui/error_reporter.h"
#include "ui/file_dialogs.h"
#include "ui/input_panel.h"
#include "ui/jobs.h"
#include "ui/layer_table_model.h"
#include "ui/model_panel.h"
#include "ui/predictions_panel.h"
#include "ui/properties_panel.h"
#include "ui/settings.h"
#include "ui/start_page.h"
#include "ui/views/activations_view.h"
#include "ui/views/compare_view.h"
#include "ui/views/evolution_view.h"
#include "ui/views/filters_view.h"
#include "ui/views/graph_view.h"
#include "ui/views/occlusion_view.h"
#include "ui/views/projection_view.h"
#include "ui/views/train_view.h"
#include "ui/views/units_view.h"
#include "ui/zoo_dialog.h"

// Q_INIT_RESOURCE must be used outside any namespace: the icons live in the static zfvis_ui.
static void initZfvisResources() {
  Q_INIT_RESOURCE(zfvis);
}

namespace zfvis::ui {

namespace {

/// A table view whose preferred size fits the layer list's columns (docks take their first size
/// from it). In a narrower dock the name column gives up its width first (names are cut from the
/// left), then the type and the shape columns (to 7 and 6 characters), so the parameter count
/// stays in view; a row's tooltip has all of it.
class LayerTableView : public QTableView {
 public:
  using QTableView::QTableView;
  QSize sizeHint() const override { return {345, 520}; }
  /// Sizes the columns to their contents, then the name column to what is left (at most 26
  /// characters, at least 5).
  void fitColumns() {
    if (!model() || model()->columnCount() != LayerTableModel::ColumnCount) return;
    resizeColumnsToContents();
    for (int c = 0; c < LayerTableModel::ColumnCount; ++c) m_content[size_t(c)] = columnWidth(c);
    m_content[LayerTableModel::Name] =
        std::min(m_content[LayerTableModel::Name], fontMetrics().averageCharWidth() * 26);
    // Never narrower than the index and parameter columns beside the shortest name, type and
    // shape columns fitName gives them.
    setMinimumWidth(
        m_content[LayerTableModel::Index] + m_content[LayerTableModel::Params] +
        std::min(m_content[LayerTableModel::Name], least(LayerTableModel::Name)) +
        std::min(m_content[LayerTableModel::Type], least(LayerTableModel::Type)) +
        std::min(m_content[LayerTableModel::OutputShape], least(LayerTableModel::OutputShape)) +
        verticalScrollBar()->sizeHint().width() + 2 * frameWidth() + 4);
    fitName();
  }

 protected:
  void resizeEvent(QResizeEvent* event) override {
    QTableView::resizeEvent(event);
    fitName();
  }

 private:
  void fitName() {
    if (!model() || model()->columnCount() != LayerTableModel::ColumnCount ||
        m_content[LayerTableModel::Name] <= 0)
      return;
    std::array<int, LayerTableModel::ColumnCount> w = m_content;
    int excess = -viewport()->width();
    for (int v : w) excess += v;
    for (auto c : {LayerTableModel::Name, LayerTableModel::Type, LayerTableModel::OutputShape}) {
      const int give = std::clamp(w[size_t(c)] - least(c), 0, std::max(0, excess));
      w[size_t(c)] -= give;
      excess -= give;
    }
    // The name column takes what is left over.
    if (excess < 0) w[LayerTableModel::Name] -= excess;
    for (int c = 0; c < LayerTableModel::ColumnCount; ++c) setColumnWidth(c, w[size_t(c)]);
  }
  // The narrowest the name (5 characters), type (7: "MaxPool") and shape (6) columns get.
  int least(LayerTableModel::Column c) const {
    const int chars = c == LayerTableModel::Name ? 5 : c == LayerTableModel::Type ? 7 : 6;
    return std::max(chars * fontMetrics().averageCharWidth(),
                    horizontalHeader()->minimumSectionSize());
  }
  std::array<int, LayerTableModel::ColumnCount> m_content{};  // widths of the contents
};

const QString kExportJob = QStringLiteral("export");
const QString kFetchJob = QStringLiteral("fetch");
const QString kExportAllJob = QStringLiteral("export-all");
const QString kLabelsJob = QStringLiteral("labels");
const QString kStartJob = QStringLiteral("start");

QString slotTitle(const QString& slot) {
  if (slot == kModelJob) return QObject::tr("Cannot open the model");
  if (slot == kImageJob) return QObject::tr("Cannot open the image");
  if (slot == kForwardJob) return QObject::tr("Cannot run the model");
  if (slot == kExportJob) return QObject::tr("Cannot export");
  if (slot == kFetchJob) return QObject::tr("Cannot fetch the model");
  if (slot == kExportAllJob) return QObject::tr("Cannot export the report");
  if (slot == kLabelsJob) return QObject::tr("Cannot load the labels");
  if (slot == kStartJob) return QObject::tr("Cannot open the start model");
  if (slot == TrainView::kJob) return QObject::tr("Cannot train");
  if (slot == EvolutionView::kRunJob || slot == EvolutionView::kJob ||
      slot == EvolutionView::kExportJob)
    return QObject::tr("Cannot show the evolution");
  if (slot == UnitsView::kOpenJob) return QObject::tr("Cannot open the scan database");
  if (slot == UnitsView::kScanJob) return QObject::tr("Cannot scan the folder");
  if (slot == UnitsView::kMosaicJob || slot == UnitsView::kUnitJob)
    return QObject::tr("Cannot show the units");
  return QObject::tr("zfvis");
}

QString recentModelEntry(const QString& spec, const QString& weights) {
  return weights.isEmpty() ? spec : spec + QLatin1Char('\n') + weights;
}

}  // namespace

MainWindow::MainWindow(const QString& samplesDir, QWidget* parent)
    : QMainWindow(parent),
      m_samplesDir(samplesDir),
      m_state(new AppState(this)),
      m_jobs(new JobTracker(this)),
      m_controller(new Controller(m_state, m_jobs, this)),
      m_errors(std::make_shared<DialogErrorReporter>(this)),
      m_zoo(std::shared_ptr<const ZooManifest>(&embeddedZooManifest(), [](const ZooManifest*) {})) {
  initZfvisResources();
  setWindowTitle(tr("zfvis"));
  QIcon icon;
  for (int px : {32, 64, 256}) icon.addFile(QString(":/zfvis/icons/zfvis-%1.png").arg(px));
  setWindowIcon(icon);
  setAcceptDrops(true);
  setDockNestingEnabled(true);
  createViews();
  createDocks();
  createMenus();
  createStatusBar();

  connect(m_jobs, &JobTracker::jobFailed, this, &MainWindow::reportError);
  connect(m_jobs, &JobTracker::jobStarted, this, &MainWindow::onJobStarted);
  connect(m_jobs, &JobTracker::jobEnded, this, &MainWindow::onJobEnded);
  connect(m_jobs, &JobTracker::jobProgress, this,
          [this](const QString& slot, int permille, const QString& text) {
            if (slot != m_progressSlot) return;
            m_progress->setRange(0, 1000);
            m_progress->setValue(permille);
            m_progress->setToolTip(text);
          });
  connect(m_state, &AppState::modelChanged, this, [this] {
    m_layerModel->setNetwork(m_state->net() ? m_state->net()->defPtr() : nullptr);
    // Long ONNX node names ("/layer2/layer2.1/relu_1/Relu") are cut from the left, so the type,
    // shape and parameter columns stay in view; the tooltip has the whole name.
    static_cast<LayerTableView*>(m_layerTable)->fitColumns();
    m_applyWeights->setEnabled(m_state->def() && isBuiltinModel(m_state->def()->name) &&
                               m_state->modelWeights().isEmpty());
    m_loadLabels->setEnabled(m_state->def() != nullptr);
    syncLayerSelection();
    updateBanner();
    updateStatus();
    updateStartPage();
  });
  connect(m_state, &AppState::layerChanged, this, &MainWindow::syncLayerSelection);
  connect(m_state, &AppState::sourceChanged, this, &MainWindow::updateStatus);
  connect(m_state, &AppState::forwardChanged, this, &MainWindow::updateStatus);
  connect(m_controller, &Controller::modelOpened, this,
          [this](const QString& spec, const QString& weights) {
            if (!m_persistLayout) return;
            Settings::addRecentModel(recentModelEntry(spec, weights));
            rebuildRecentMenus();
          });
  connect(m_controller, &Controller::imageOpened, this, [this](const QString& path) {
    if (!m_persistLayout) return;
    Settings::addRecentImage(path);
    rebuildRecentMenus();
  });
  updateBanner();
  updateStatus();
  updateStartPage();
  // 1440 x 900, or the screen's available area when it is smaller.
  QSize size(1440, 900);
  if (QScreen* s = screen()) size = size.boundedTo(s->availableGeometry().size());
  resize(size);
}

MainWindow::~MainWindow() {
  m_jobs->cancelAll();
}

void MainWindow::setErrorReporter(std::shared_ptr<ErrorReporter> reporter) {
  m_errors = std::move(reporter);
}

void MainWindow::createViews() {
  auto* central = new QWidget(this);
  m_banner = new QLabel(central);
  m_banner->setWordWrap(true);
  m_banner->setStyleSheet(
      "QLabel { background: #fff3b0; color: #5a4500; border: 1px solid #d8b800; "
      "padding: 3px 6px; }");
  m_tabs = new QTabWidget(central);
  m_tabs->setDocumentMode(true);
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  layout->addWidget(m_banner);
  layout->addWidget(m_tabs, 1);
  m_startPage = new StartPage(m_zoo, central);
  layout->addWidget(m_startPage, 1);
  connect(m_startPage, &StartPage::fetchRequested, this, &MainWindow::fetchZooModel);
  connect(m_startPage, &StartPage::openModelRequested, this,
          [this](const QString& spec, const QString& weights) {
            m_controller->openModel(spec, weights);
          });
  connect(m_startPage, &StartPage::openFileDialogRequested, this, &MainWindow::openModelDialog);
  connect(m_startPage, &StartPage::filesDropped, this, [this](const QStringList& paths) {
    for (const QString& path : paths) openFile(path);
  });
  setCentralWidget(central);

  m_views << new ActivationsView(m_state, m_jobs, this);
  m_views << new FiltersView(m_state, m_jobs, this);
  m_views << new ProjectionView(m_state, m_jobs, this);
  m_views << new CompareView(m_state, m_jobs, this);
  m_views << new OcclusionView(m_state, m_jobs, this);
  auto* train = new TrainView(m_state, m_jobs, this);
  auto* evolution = new EvolutionView(m_state, m_jobs, m_samplesDir, this);
  auto* units = new UnitsView(m_state, m_jobs, this);
  m_views << train << evolution << units << new GraphView(m_state, m_jobs, this);
  const QStringList titles = {tr("Activations"), tr("Filters"),   tr("Projection"),
                              tr("Compare"),     tr("Occlusion"), tr("Train"),
                              tr("Evolution"),   tr("Units"),     tr("Graph")};
  // A checkpoint opens as File > Open Model opens a file; a run opens in the evolution view.
  connect(train, &TrainView::openModelRequested, this,
          [this](const QString& path) { m_controller->openModel(path); });
  connect(train, &TrainView::showEvolutionRequested, this, [this, evolution](const QString& dir) {
    evolution->setSource(dir);
    showView(evolution->viewId());
  });
  // A patch of the units view opens its image with the unit and position selected.
  connect(units, &UnitsView::openImageRequested, this,
          [this](const QString& image, const Selection& selection) {
            m_controller->openImage(image, selection);
            showView(QStringLiteral("projection"));
          });
  for (int i = 0; i < m_views.size(); ++i) {
    m_views[i]->installHelp();
    // Each view scrolls inside its tab when the window is narrower or shorter than the view's
    // controls and pictures want, so the window fits a 1024 x 700 screen.
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_views[i]);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    m_tabs->addTab(scroll, titles[i]);
  }
}

void MainWindow::createDocks() {
  m_layerModel = new LayerTableModel(this);
  m_layerTable = new LayerTableView(this);
  m_layerTable->setModel(m_layerModel);
  m_layerTable->verticalHeader()->hide();
  m_layerTable->verticalHeader()->setDefaultSectionSize(m_layerTable->fontMetrics().height() + 4);
  m_layerTable->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_layerTable->setSelectionMode(QAbstractItemView::SingleSelection);
  m_layerTable->setAlternatingRowColors(true);
  m_layerTable->horizontalHeader()->setStretchLastSection(false);
  m_layerTable->setWordWrap(false);
  m_layerTable->setTextElideMode(Qt::ElideLeft);
  connect(m_layerTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            if (current.isValid()) m_state->setLayer(current.row());
          });

  auto dock = [this](const QString& title, const QString& name, QWidget* w,
                     Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);
    d->setWidget(w);
    addDockWidget(area, d);
    return d;
  };
  dock(tr("Layers"), "layersDock", m_layerTable, Qt::LeftDockWidgetArea);
  m_modelPanel = new ModelPanel(m_state, this);
  m_inputPanel = new InputPanel(m_state, m_controller, this);
  m_predictionsPanel = new PredictionsPanel(m_state, this);
  auto* inputDock = dock(tr("Input"), "inputDock", m_inputPanel, Qt::RightDockWidgetArea);
  auto* predDock =
      dock(tr("Predictions"), "predictionsDock", m_predictionsPanel, Qt::RightDockWidgetArea);
  auto* modelDock = dock(tr("Model"), "modelDock", m_modelPanel, Qt::LeftDockWidgetArea);
  splitDockWidget(inputDock, predDock, Qt::Vertical);
  m_properties = new PropertiesPanel(m_state, m_jobs, this);
  auto* propertiesDock =
      dock(tr("Properties"), "propertiesDock", m_properties, Qt::LeftDockWidgetArea);
  splitDockWidget(findChild<QDockWidget*>("layersDock"), propertiesDock, Qt::Vertical);
  tabifyDockWidget(findChild<QDockWidget*>("layersDock"), modelDock);
  findChild<QDockWidget*>("layersDock")->raise();
}

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QMenu* model = menuBar()->addMenu(tr("&Model"));
  // Open Model… is in both menus (one action); the rest of what picks a model is under Model.
  QAction* openModel = file->addAction(tr("Open &Model…"), this, &MainWindow::openModelDialog);
  openModel->setShortcut(QKeySequence::Open);
  model->addAction(openModel);
  QMenu* builtins = model->addMenu(tr("&Built-in Models"));
  for (const BuiltinModelInfo& m : builtinModels()) {
    const QString name = QString::fromStdString(m.name);
    QAction* a = builtins->addAction(name, this, [this, name] { m_controller->openModel(name); });
    a->setToolTip(QString::fromStdString(m.description));
    a->setStatusTip(QString::fromStdString(m.description));
  }
  builtins->setToolTipsVisible(true);
  model->addAction(tr("Model &Zoo…"), this, [this] {
    auto* dialog = new ZooDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ZooDialog::fetchRequested, this, &MainWindow::fetchZooModel);
    dialog->open();
  });
  m_applyWeights =
      model->addAction(tr("Apply Keras &Weights…"), this, &MainWindow::applyWeightsDialog);
  m_applyWeights->setEnabled(false);
  m_recentModels = model->addMenu(tr("Recent Mo&dels"));
  model->addSeparator();
  m_loadLabels = model->addAction(tr("Load &Labels…"), this, &MainWindow::loadLabelsDialog);
  m_loadLabels->setStatusTip(
      tr("Class names for the model's outputs: a text file with one name per line (or a JSON "
         "list), as many as the model has classes"));
  m_loadLabels->setEnabled(false);
  m_modelLabels = model->addAction(tr("Use the Model's Own Labels"), this,
                                   [this] { m_state->setClassNames({}, QString()); });
  m_modelLabels->setEnabled(false);
  connect(m_state, &AppState::classNamesChanged, this,
          [this] { m_modelLabels->setEnabled(!m_state->labelsFile().isEmpty()); });
  file->addSeparator();
  QAction* openImage = file->addAction(tr("Open &Image…"), this, &MainWindow::openImageDialog);
  openImage->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
  QMenu* samples = file->addMenu(tr("&Samples"));
  for (const QString& path : this->samples()) {
    samples->addAction(QFileInfo(path).completeBaseName(), this,
                       [this, path] { m_controller->openImage(path); });
  }
  samples->setEnabled(!samples->isEmpty());
  m_recentImages = file->addMenu(tr("Recent Ima&ges"));
  QAction* paste = file->addAction(tr("&Paste Image"), this, &MainWindow::pasteFromClipboard);
  paste->setShortcut(QKeySequence::Paste);
  file->addSeparator();
  auto* units = qobject_cast<UnitsView*>(view(QStringLiteral("units")));
  file->addAction(tr("Open &Scan Database…"), this, [this, units] {
    showView(units->viewId());
    units->openDatabaseDialog();
  });
  QAction* scanFolder = file->addAction(tr("S&can Folder…"), this, [this, units] {
    showView(units->viewId());
    units->scanFolderDialog();
  });
  scanFolder->setStatusTip(tr("Every unit's top 9 images in a folder, with the open model"));
  file->addSeparator();
  QAction* exportView = file->addAction(tr("&Export View…"), this, &MainWindow::exportViewDialog);
  exportView->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  QAction* exportAll = file->addAction(tr("Export &All…"), this, &MainWindow::exportAllDialog);
  exportAll->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
  exportAll->setStatusTip(
      tr("Every layer's activations, filters and projections, the "
         "predictions and the summary in one folder with an index.html"));
  m_openReport = file->addAction(tr("&Open Exported Report"), this, [this] {
    if (!m_lastReport.isEmpty())
      QDesktopServices::openUrl(QUrl::fromLocalFile(QDir(m_lastReport).filePath("index.html")));
  });
  m_openReport->setEnabled(false);
  m_openReport->setStatusTip(tr("Opens the index.html of the last Export All in your browser"));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);
  rebuildRecentMenus();

  m_viewMenu = menuBar()->addMenu(tr("&View"));
  for (int i = 0; i < m_views.size(); ++i) {
    QAction* a = m_viewMenu->addAction(m_tabs->tabText(i), this,
                                       [this, i] { showView(m_views[i]->viewId()); });
    a->setShortcut(QKeySequence(Qt::CTRL | (Qt::Key_1 + i)));
  }
  m_viewMenu->addSeparator();
  for (QDockWidget* d : findChildren<QDockWidget*>()) m_viewMenu->addAction(d->toggleViewAction());

  QMenu* nav = menuBar()->addMenu(tr("&Navigate"));
  QAction* prevLayer = nav->addAction(tr("Previous Layer"), this, [this] { moveLayer(-1); });
  prevLayer->setShortcut(QKeySequence(Qt::Key_PageUp));
  QAction* nextLayer = nav->addAction(tr("Next Layer"), this, [this] { moveLayer(1); });
  nextLayer->setShortcut(QKeySequence(Qt::Key_PageDown));
  QAction* prevChannel = nav->addAction(tr("Previous Channel"), this, [this] { moveChannel(-1); });
  prevChannel->setShortcut(QKeySequence(Qt::Key_Left));
  QAction* nextChannel = nav->addAction(tr("Next Channel"), this, [this] { moveChannel(1); });
  nextChannel->setShortcut(QKeySequence(Qt::Key_Right));

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About zfvis"), this, [this] {
    QMessageBox::about(
        this, tr("About zfvis"),
        tr("<b>zfvis %1</b><p>Look inside convolutional networks the way Zeiler &amp; Fergus did "
           "(\"Visualizing and Understanding Convolutional Networks\", 2013): activations, "
           "filters, deconvnet projections, occlusion maps.</p><p>Keys: Page Up/Down: layers; "
           "arrow keys: channels; mouse wheel: zoom; drag: pan; double-click: fit.</p>")
            .arg(ZFVIS_VERSION));
  });
}

void MainWindow::createStatusBar() {
  m_modelLabel = new QLabel(this);
  m_imageLabel = new QLabel(this);
  m_timeLabel = new QLabel(this);
  m_jobLabel = new QLabel(this);
  m_progress = new QProgressBar(this);
  m_progress->setMaximumWidth(220);
  m_progress->setRange(0, 1000);
  m_progress->setTextVisible(false);
  m_cancel = new QToolButton(this);
  m_cancel->setText(tr("Cancel"));
  connect(m_cancel, &QToolButton::clicked, this, [this] {
    if (!m_progressSlot.isEmpty()) m_jobs->cancel(m_progressSlot);
  });
  statusBar()->addWidget(m_modelLabel);
  statusBar()->addWidget(m_imageLabel);
  statusBar()->addWidget(m_timeLabel);
  statusBar()->addPermanentWidget(m_jobLabel);
  statusBar()->addPermanentWidget(m_progress);
  statusBar()->addPermanentWidget(m_cancel);
  m_jobLabel->hide();
  m_progress->hide();
  m_cancel->hide();
}

void MainWindow::rebuildRecentMenus() {
  m_recentModels->clear();
  for (const QString& entry : Settings::recentModels()) {
    const QStringList parts = entry.split(QLatin1Char('\n'));
    const QString spec = parts.value(0), weights = parts.value(1);
    const QString text =
        weights.isEmpty() ? spec : tr("%1 + %2").arg(spec, QFileInfo(weights).fileName());
    m_recentModels->addAction(text, this,
                              [this, spec, weights] { m_controller->openModel(spec, weights); });
  }
  m_recentModels->setEnabled(!m_recentModels->isEmpty());
  m_recentImages->clear();
  for (const QString& path : Settings::recentImages())
    m_recentImages->addAction(path, this, [this, path] { m_controller->openImage(path); });
  m_recentImages->setEnabled(!m_recentImages->isEmpty());
  m_startPage->setRecentModels(Settings::recentModels());
}

QStringList MainWindow::samples() const {
  QStringList out;
  if (m_samplesDir.isEmpty()) return out;
  const QFileInfoList files =
      QDir(m_samplesDir).entryInfoList(QDir::Files | QDir::Readable, QDir::Name);
  for (const QFileInfo& f : files)
    if (Controller::isImageFile(f.fileName())) out << f.absoluteFilePath();
  return out;
}

void MainWindow::applyLaunchOptions(const LaunchOptions& options) {
  showView(options.view);
  // Launched straight into the occlusion view (README pictures, tests): run it once computed.
  if (options.view == "occlusion")
    if (auto* v = qobject_cast<OcclusionView*>(view("occlusion"))) v->setAutoRun(true);
  if (!options.modelGiven || options.model.isEmpty()) {
    startWithoutModel(options);
  } else {
    m_controller->openModel(options.model, options.weights, options.layer);
    QString image = options.image;
    if (!options.imageGiven) {
      const QString chelsea = QDir(m_samplesDir).filePath("chelsea.png");
      if (QFileInfo::exists(chelsea)) image = chelsea;
    }
    if (!image.isEmpty()) m_controller->openImage(image);
  }
  if (!options.scanDb.isEmpty())
    qobject_cast<UnitsView*>(view(QStringLiteral("units")))->openDatabase(options.scanDb);
}

void MainWindow::setZooManifest(std::shared_ptr<const ZooManifest> manifest) {
  m_zoo = std::move(manifest);
  m_startPage->setManifest(m_zoo);
}

void MainWindow::startWithoutModel(const LaunchOptions& options) {
  // Verifying the cached AlexNet may hash 244 MB (once; a sidecar spares it later): a job.
  const auto zoo = m_zoo;
  const bool offline = options.offline;
  m_jobs->start(
      kStartJob, tr("Looking for the trained AlexNet"),
      [zoo, offline](ProgressSink& sink) {
        std::filesystem::path cache;
        try {
          cache = zooCacheDir();
        } catch (const std::exception&) {
        }
        return chooseStartModel(*zoo, cache, offline, &sink);
      },
      [this, options](const StartChoice& choice) { openStartChoice(choice, options); });
}

void MainWindow::openStartChoice(const StartChoice& choice, const LaunchOptions& options) {
  setStartMessage(QString::fromStdString(choice.message));
  if (choice.spec.empty()) {
    if (const ZooModel* m = m_zoo->find(kStartZooId))
      m_startPage->setMessage(tr("%1 (%2 MB to download). Fetch it below, or open another model.")
                                  .arg(QString::fromStdString(choice.message))
                                  .arg(double(m->size) / 1e6, 0, 'f', 1));
    // The image is ready for whichever model is picked on the start page.
    const QString image =
        options.imageGiven ? options.image : QDir(m_samplesDir).filePath("chelsea.png");
    if (options.imageGiven || QFileInfo::exists(image)) m_controller->openImage(image);
    return;
  }
  m_controller->openModel(QString::fromStdString(choice.spec), {}, options.layer);
  if (options.imageGiven) {
    m_controller->openImage(options.image);
  } else if (choice.offline && isSmallNet(choice.spec) && hasFashionMnistTestImages()) {
    // The small nets know Fashion-MNIST: one of its test images, read off the GUI thread.
    m_jobs->start(
        kImageJob, tr("Reading a Fashion-MNIST test image"),
        [](ProgressSink&) {
          std::string label;
          cv::Mat image = fashionMnistTestImage(kFashionMnistDir, 0, &label);
          return std::make_pair(image, QString::fromStdString(label));
        },
        [this](const std::pair<cv::Mat, QString>& sample) {
          m_controller->setImage(sample.first,
                                 tr("Fashion-MNIST test image 0 (%1)").arg(sample.second));
        });
  } else if (m_state->source().empty()) {
    const QString chelsea = QDir(m_samplesDir).filePath("chelsea.png");
    if (QFileInfo::exists(chelsea)) m_controller->openImage(chelsea);
  }
}

void MainWindow::setStartMessage(const QString& message) {
  m_startMessage = message;
  statusBar()->showMessage(message);
}

void MainWindow::updateStartPage() {
  const bool start = !m_state->def() && !m_startPageDismissed;
  m_startPage->setVisible(start);
  m_tabs->setVisible(!start);
  if (start) m_startPage->updateZooButtons();
}

void MainWindow::showView(const QString& id) {
  // Train and Evolution need no open model: asking for them puts the tabs in place of the start
  // page.
  if (id == "train" || id == "evolution") {
    m_startPageDismissed = true;
    updateStartPage();
  }
  for (int i = 0; i < m_views.size(); ++i)
    if (m_views[i]->viewId() == id) m_tabs->setCurrentIndex(i);
}

ViewBase* MainWindow::currentView() const {
  const int i = m_tabs->currentIndex();
  return i >= 0 && i < int(m_views.size()) ? m_views[i] : nullptr;
}

QString MainWindow::currentViewId() const {
  ViewBase* v = currentView();
  return v ? v->viewId() : QString();
}

ViewBase* MainWindow::view(const QString& id) const {
  for (ViewBase* v : m_views)
    if (v->viewId() == id) return v;
  return nullptr;
}

bool MainWindow::isSettled() const {
  if (!m_jobs->isIdle()) return false;
  for (ViewBase* v : m_views)
    if (v->refreshPending()) return false;
  return true;
}

void MainWindow::updateBanner() {
  const NetworkDef* def = m_state->def();
  m_banner->setVisible(def && def->untrained);
  if (def && def->untrained)
    m_banner->setText(tr("<b>Untrained</b> — %1 is a built-in architecture with He-normal random "
                         "weights: the views show its structure, not learned features.")
                          .arg(QString::fromStdString(def->name).toHtmlEscaped()));
}

void MainWindow::updateStatus() {
  const NetworkDef* def = m_state->def();
  m_modelLabel->setText(def ? tr("Model: %1%2")
                                  .arg(QString::fromStdString(def->name),
                                       def->untrained ? tr(" (untrained)") : QString())
                            : tr("No model"));
  const InputSource& src = m_state->source();
  m_imageLabel->setText(src.empty() ? tr("No image") : tr("Image: %1").arg(src.name));
  const auto& fwd = m_state->forward();
  m_timeLabel->setText(fwd ? tr("Forward: %1 ms").arg(fwd->milliseconds, 0, 'f', 1) : QString());
  QString title = tr("zfvis");
  if (def) title = QString::fromStdString(def->name) + " — " + title;
  if (!src.empty()) title = src.name + " · " + title;
  setWindowTitle(title);
}

void MainWindow::syncLayerSelection() {
  const int layer = m_state->layer();
  QItemSelectionModel* sel = m_layerTable->selectionModel();
  if (layer < 0 || layer >= m_layerModel->rowCount()) {
    sel->clearSelection();
    return;
  }
  if (sel->currentIndex().row() == layer && sel->isRowSelected(layer, {})) return;
  const QModelIndex index = m_layerModel->index(layer, 0);
  sel->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  m_layerTable->scrollTo(index);
}

void MainWindow::moveLayer(int delta) {
  if (m_state->layer() >= 0) m_state->setLayer(m_state->layer() + delta);
}

void MainWindow::moveChannel(int delta) {
  if (m_state->channel() >= 0) m_state->setChannel(m_state->channel() + delta);
}

void MainWindow::onJobStarted(const QString& slot, const QString& title) {
  m_jobTitles[slot] = title;
  // Only jobs that take a while get a progress bar (no flicker for 20 ms forward runs).
  QTimer::singleShot(250, this, [this, slot] {
    if (m_jobs->isBusy(slot) && m_progressSlot.isEmpty()) showProgressFor(slot);
  });
}

void MainWindow::showProgressFor(const QString& slot) {
  m_progressSlot = slot;
  m_jobLabel->setText(m_jobTitles.value(slot) + QStringLiteral("…"));
  m_progress->setRange(0, 0);  // busy until the first progress report
  m_jobLabel->show();
  m_progress->show();
  m_cancel->show();
}

void MainWindow::onJobEnded() {
  if (m_progressSlot.isEmpty() || m_jobs->isBusy(m_progressSlot)) return;
  m_progressSlot.clear();
  for (auto it = m_jobTitles.cbegin(); it != m_jobTitles.cend(); ++it) {
    if (m_jobs->isBusy(it.key())) {
      showProgressFor(it.key());
      return;
    }
  }
  m_jobLabel->hide();
  m_progress->hide();
  m_cancel->hide();
}

void MainWindow::reportError(const QString& slot, const QString& message) {
  if (m_errors) m_errors->showError(slotTitle(slot), message);
}

void MainWindow::openModelDialog() {
  askOpenFile(this, tr("Open Model"), QStringLiteral("model"),
              tr("Models (*.onnx *.h5 *.hdf5 *.keras);;All files (*)"),
              [this](const QString& file) { m_controller->openModel(file); });
}

void MainWindow::applyWeightsDialog() {
  if (!m_state->def()) return;
  const QString spec = m_state->modelSpec();
  askOpenFile(this, tr("Apply Keras Weights to %1").arg(spec), QStringLiteral("model"),
              tr("Keras weights (*.h5 *.hdf5);;All files (*)"),
              [this, spec](const QString& file) { m_controller->openModel(spec, file); });
}

void MainWindow::openImageDialog() {
  askOpenFile(this, tr("Open Image"), QStringLiteral("image"),
              tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.ppm *.pgm);;Network "
                 "input tensors (*.npy);;All files (*)"),
              [this](const QString& file) { m_controller->openImage(file); });
}

void MainWindow::exportViewDialog() {
  ViewBase* v = currentView();
  if (!v || !v->exportView()) {
    reportError(kExportJob, tr("the %1 view shows nothing to export yet").arg(currentViewId()));
    return;
  }
  const QString stem = v->exportView()->stem;
  askPngPath(this, tr("Export View"), stem, [this](const QString& file) { exportViewTo(file); });
}

void MainWindow::exportViewTo(const QString& pngPath) {
  ViewBase* v = currentView();
  std::optional<ViewExport> e = v ? v->exportView() : std::nullopt;
  if (!e) {
    reportError(kExportJob, tr("the %1 view shows nothing to export yet").arg(currentViewId()));
    return;
  }
  const QFileInfo info(pngPath);
  const QString base = info.dir().filePath(info.completeBaseName());
  const auto png = toPath(pngPath);
  const std::string stem = toPath(base).string();
  m_jobs->start(
      kExportJob, tr("Exporting %1").arg(info.fileName()),
      [e = *e, png, stem](ProgressSink&) {
        writePng(png, e.image, e.text);
        for (const auto& [suffix, t] : e.arrays) writeNpy(stem + suffix + ".npy", t);
        for (const auto& [suffix, a] : e.intArrays)
          writeNpyInt32(stem + suffix + ".npy", a.shape, a.values);
        for (const auto& [suffix, text] : e.texts) writeFileAtomic(stem + suffix, text);
        return true;
      },
      [this, pngPath](bool) {
        statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(pngPath)), 5000);
      });
}

void MainWindow::fetchZooModel(const QString& id) {
  const ZooManifest& manifest = *m_zoo;
  const ZooModel* model = manifest.find(id.toStdString());
  if (!model) {
    reportError(kFetchJob, tr("unknown Model Zoo id '%1'").arg(id));
    return;
  }
  const ZooModel m = *model;
  const std::string base = zooBaseUrl(manifest);
  const quint64 job = m_jobs->start(
      kFetchJob, tr("Fetching %1").arg(id),
      [m, base](ProgressSink& sink) {
        return QString::fromStdString(
            zfvis::fetchZooModel(m, base, zooCacheDir(), &sink).path.string());
      },
      [this](const QString& path) {
        m_controller->openModel(path);
        if (m_state->source().empty()) {
          const QString chelsea = QDir(m_samplesDir).filePath("chelsea.png");
          if (QFileInfo::exists(chelsea)) m_controller->openImage(chelsea);
        }
      },
      [this, id](const QString& message) {
        reportError(kFetchJob, message);
        // From the start page (nothing open): the best model that needs no download instead.
        if (!m_state->def() && !m_jobs->isBusy(kModelJob)) {
          LaunchOptions options;
          openStartChoice(offlineStartModel(tr("the %1 download failed").arg(id).toStdString()),
                          options);
        }
      });
  progressDialog(kFetchJob, job, tr("Fetch from Model Zoo"),
                 tr("Fetching %1 (%2 MB)…").arg(id).arg(double(model->size) / 1e6, 0, 'f', 1));
}

QProgressDialog* MainWindow::progressDialog(const QString& slot, quint64 job, const QString& title,
                                            const QString& label) {
  // Window-modal but opened with open(): the event loop keeps running.
  auto* progress = new QProgressDialog(label, tr("Cancel"), 0, 1000, this);
  progress->setAttribute(Qt::WA_DeleteOnClose);
  progress->setWindowTitle(title);
  progress->setMinimumDuration(0);
  progress->setAutoClose(false);
  progress->setAutoReset(false);
  progress->setValue(0);
  connect(progress, &QProgressDialog::canceled, this, [this, slot] { m_jobs->cancel(slot); });
  connect(m_jobs, &JobTracker::jobProgress, progress,
          [progress, slot](const QString& s, int permille, const QString&) {
            if (s == slot) progress->setValue(permille);
          });
  QPointer<QProgressDialog> dialog(progress);
  connect(m_jobs, &JobTracker::jobEnded, progress, [dialog, job](const QString&, quint64 ended) {
    if (ended == job && dialog) dialog->close();
  });
  connect(m_jobs, &JobTracker::jobCancelled, progress, [dialog, slot](const QString& s) {
    if (s == slot && dialog) dialog->close();
  });
  progress->open();
  return progress;
}

void MainWindow::exportAllDialog() {
  const NetworkDef* def = m_state->def();
  if (!def || !m_state->forward()) {
    reportError(kExportAllJob, tr("open a model and an image first"));
    return;
  }
  const QString name = QString("zfvis-%1-%2")
                           .arg(QString::fromStdString(def->name),
                                QFileInfo(m_state->source().name).completeBaseName())
                           .replace(QLatin1Char(' '), QLatin1Char('-'));
  auto* dialog = new QFileDialog(this, tr("Export All Into Folder"),
                                 QDir(Settings::lastFolder("export")).filePath(name));
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setAcceptMode(QFileDialog::AcceptSave);
  dialog->setFileMode(QFileDialog::AnyFile);
  dialog->setOption(QFileDialog::DontConfirmOverwrite);
  connect(dialog, &QFileDialog::fileSelected, this, [this](const QString& dir) {
    Settings::setLastFolder("export", dir);
    exportAllTo(dir);
  });
  dialog->open();
}

void MainWindow::exportAllTo(const QString& dir) {
  auto fwd = m_state->forward();
  auto net = m_state->net();
  if (!fwd || !net) {
    reportError(kExportAllJob, tr("open a model and an image first"));
    return;
  }
  ExportOptions o;
  o.outDir = toPath(dir);
  // Replacing an earlier report is safe; any other existing folder is refused by core.
  o.force = QFileInfo::exists(QDir(dir).filePath("manifest.json"));
  o.imageName = m_state->source().name.toStdString();
  o.preprocess = fwd->preset;
  // Drawn as the views show it: their projection mode, colormap and normalisations, and the
  // class names in use.
  if (auto* p = qobject_cast<ProjectionView*>(view("projection"))) o.mode = p->mode();
  if (auto* a = qobject_cast<ActivationsView*>(view("activations"))) {
    o.colormap = a->options().colormap;
    o.mapNormalization = a->options().normalization;
  }
  if (auto* f = qobject_cast<FiltersView*>(view("filters")))
    o.filterNormalization = f->options().normalization;
  if (!m_state->labelsFile().isEmpty()) o.classNames = m_state->classNames();
  const Tensor input = fwd->activations->input();
  const cv::Mat inputView = fwd->inputView;
  const quint64 job = m_jobs->start(
      kExportAllJob, tr("Exporting the report"),
      [net, input, inputView, o](ProgressSink& sink) {
        // A CompiledNet of its own on the background engine thread (see Lane).
        auto own = CompiledNet::compile(net->defPtr(), net->options());
        const ExportResult r = exportReport(own, input, inputView, o, &sink);
        return QString::number(r.files.size());
      },
      [this, dir](const QString& files) {
        m_lastReport = dir;
        m_openReport->setEnabled(true);
        statusBar()->showMessage(
            tr("Exported %1 files to %2").arg(files, QDir::toNativeSeparators(dir)), 8000);
      },
      {}, Lane::Background);
  progressDialog(kExportAllJob, job, tr("Export All"),
                 tr("Writing every layer of %1 to %2…")
                     .arg(QString::fromStdString(net->def().name), QDir::toNativeSeparators(dir)));
}

void MainWindow::loadLabelsDialog() {
  if (!m_state->def()) return;
  askOpenFile(this, tr("Load Labels"), QStringLiteral("labels"),
              tr("Class names (*.txt *.json *.labels);;All files (*)"),
              [this](const QString& file) { loadLabelsFrom(file); });
}

void MainWindow::loadLabelsFrom(const QString& path) {
  if (!m_state->def()) {
    reportError(kLabelsJob, tr("open a model first"));
    return;
  }
  const int classes = m_state->classCount();
  const std::string model = m_state->def()->name;
  const auto file = toPath(path);
  const auto net = m_state->net();
  m_jobs->start(
      kLabelsJob, tr("Reading %1").arg(QFileInfo(path).fileName()),
      [file, classes, model](ProgressSink&) {
        return std::make_shared<const std::vector<std::string>>(
            readClassNamesFile(file, classes, model));
      },
      [this, path, net](std::shared_ptr<const std::vector<std::string>> names) {
        if (m_state->net() != net) return;  // another model opened meanwhile
        m_state->setClassNames(*names, path);
        statusBar()->showMessage(
            tr("%1 class names from %2").arg(names->size()).arg(QFileInfo(path).fileName()), 5000);
      });
}

void MainWindow::openFile(const QString& path) {
  if (Controller::isModelFile(path)) {
    m_controller->openModel(path);
  } else if (Controller::isImageFile(path)) {
    m_controller->openImage(path);
  } else {
    reportError(QString(), tr("cannot open '%1': expected a model (.onnx, .h5) or an image")
                               .arg(QFileInfo(path).fileName()));
  }
}

void MainWindow::pasteFromClipboard() {
  const QMimeData* mime = QApplication::clipboard()->mimeData();
  if (mime && mime->hasImage()) {
    const QImage image = qvariant_cast<QImage>(mime->imageData());
    if (!image.isNull()) {
      m_controller->setImage(toBgrMat(image), tr("pasted image"));
      return;
    }
  }
  if (mime && mime->hasUrls()) {
    for (const QUrl& url : mime->urls())
      if (url.isLocalFile()) return openFile(url.toLocalFile());
  }
  if (mime && mime->hasText()) {
    const QString text = mime->text().trimmed();
    if (QFileInfo::exists(text)) return openFile(text);
  }
  reportError(kImageJob, tr("the clipboard holds no image"));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  const QMimeData* mime = event->mimeData();
  if (mime->hasImage() || mime->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QMimeData* mime = event->mimeData();
  if (mime->hasUrls()) {
    for (const QUrl& url : mime->urls())
      if (url.isLocalFile()) openFile(url.toLocalFile());
  } else if (mime->hasImage()) {
    m_controller->setImage(toBgrMat(qvariant_cast<QImage>(mime->imageData())), tr("dropped image"));
  }
  event->acceptProposedAction();
}

void MainWindow::restoreLayout() {
  const QByteArray geometry = Settings::windowGeometry();
  if (!geometry.isEmpty()) restoreGeometry(geometry);
  const QByteArray state = Settings::windowState();
  if (!state.isEmpty()) restoreState(state);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (m_persistLayout) Settings::setWindowLayout(saveGeometry(), saveState());
  m_jobs->cancelAll();
  QMainWindow::closeEvent(event);
}

}  // namespace zfvis::ui
