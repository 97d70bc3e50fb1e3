#include "ui/views/units_view.h"

#include <algorithm>
#include <cmath>

#include <QComboBox>
#include <QCryptographicHash>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStandardPaths>
#include <QToolTip>
#include <QVBoxLayout>

#include "core/analysis/image_list.h"
#include "core/analysis/scan/scan.h"
#include "core/base/error.h"
#include "ui/convert.h"
#include "ui/file_dialogs.h"
#include "ui/image_view.h"
#include "ui/settings.h"

namespace zfvis::ui {

namespace {

namespace fs = std::filesystem;

QString detailKey(const QString& layer, int unit, ProjectionMode mode) {
  return QStringLiteral("%1/%2/%3").arg(layer).arg(unit).arg(int(mode));
}

// Opens `path` and checks it against `net` (opened as `spec` with `weights`).
std::shared_ptr<const UnitsDatabase> openScan(const QString& path,
                                              std::shared_ptr<const CompiledNet> net,
                                              const std::string& spec, const std::string& weights) {
  auto db = std::make_shared<UnitsDatabase>();
  db->path = path;
  db->net = net;
  const fs::path file = toPath(path);
  const ScanReader scan(file);
  db->modelId = modelIdentity(net->def(), spec, weights);
  checkScanModel(scan, file, db->modelId);
  const Preprocess scanned = parsePreprocess(scan.meta().at("preprocess"));
  if (scanned != net->def().input.preprocess)
    throw Error("'" + file.string() + "' was scanned with " + scan.meta().at("preprocess") +
                " preprocessing; the model uses " +
                std::string(preprocessName(net->def().input.preprocess)));
  db->meta = scan.meta();
  db->layers = scan.layers();
  db->complete = scan.complete();
  db->images = scan.imageCount();
  db->skipped = scan.skippedCount();
  db->imageRoot = toQString(db->meta["image_root"]);
  return db;
}

// Units per row of a mosaic of `n` units: about square.
int mosaicColumns(int n) {
  return std::max(1, int(std::ceil(std::sqrt(double(n)))));
}

}  // namespace

UnitsView::UnitsView(AppState* state, JobTracker* jobs, QWidget* parent)
    : ViewBase(state, jobs, parent) {
  m_open = new QPushButton(tr("Open Scan Database…"), this);
  m_open->setToolTip(tr("A database written by zfvis-cli scan or by Scan Folder…"));
  m_scan = new QPushButton(tr("Scan Folder…"), this);
  m_scan->setToolTip(tr("Find every unit's top %1 images in a folder with the open model (every "
                        "convolution's rectified output); scanning the same folder again resumes")
                         .arg(kTop));
  m_cancel = new QPushButton(tr("Cancel"), this);
  m_cancel->setVisible(false);
  m_progress = new QProgressBar(this);
  m_progress->setRange(0, 1000);
  m_progress->setMaximumWidth(200);
  m_progress->setVisible(false);
  m_layer = new QComboBox(this);
  m_layer->setToolTip(tr("The scanned layer whose units are shown"));
  m_layer->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_layer->setMinimumContentsLength(18);
  m_mode = new QComboBox(this);
  m_mode->addItem(tr("Deconvnet"), int(ProjectionMode::Deconvnet));
  m_mode->addItem(tr("Guided backprop"), int(ProjectionMode::Guided));
  m_mode->addItem(tr("Saliency"), int(ProjectionMode::Saliency));
  m_mode->setToolTip(tr("How the selected unit's top images are projected"));
  m_mode->setCurrentIndex(Settings::viewOption("units/mode", 0).toInt());
  m_info = new QLabel(this);
  m_info->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_detailInfo = new QLabel(this);
  m_detailInfo->setWordWrap(true);
  m_mosaicView = new ImageView(this);
  m_mosaicView->setPixelated(true);
  m_mosaicView->setMaxFitScale(3.0);
  m_mosaicView->setDoubleClickFits(false);
  m_detailView = new ImageView(this);
  m_detailView->setPixelated(true);
  m_detailView->setMaxFitScale(2.0);
  m_detailView->setDoubleClickFits(false);

  auto* bar = new QHBoxLayout;
  bar->addWidget(m_open);
  bar->addWidget(m_scan);
  bar->addWidget(m_progress);
  bar->addWidget(m_cancel);
  bar->addSpacing(8);
  bar->addWidget(new QLabel(tr("Layer:"), this));
  bar->addWidget(m_layer);
  bar->addSpacing(8);
  bar->addWidget(new QLabel(tr("Mode:"), this));
  bar->addWidget(m_mode);
  bar->addSpacing(12);
  bar->addWidget(m_info, 1);
  auto titled = [this](const QString& title, QWidget* body, QWidget* below = nullptr) {
    auto* box = new QWidget(this);
    auto* l = new QVBoxLayout(box);
    l->setContentsMargins(0, 0, 0, 0);
    l->addWidget(new QLabel(QStringLiteral("<b>%1</b>").arg(title), box));
    l->addWidget(body, 1);
    if (below) l->addWidget(below);
    return box;
  };
  auto* body = new QSplitter(Qt::Horizontal, this);
  body->addWidget(titled(tr("Every unit's top image patches (click a unit)"), m_mosaicView));
  body->addWidget(titled(tr("The unit's top %1, projected, beside the patches (double-click a "
                            "patch to open its image)")
                             .arg(kTop),
                         m_detailView, m_detailInfo));
  body->setStretchFactor(0, 5);
  body->setStretchFactor(1, 4);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(bar);
  layout->addWidget(body, 1);
  clearPictures(tr("Open a scan database (zfvis-cli scan) or scan a folder of images."));

  connect(m_open, &QPushButton::clicked, this, &UnitsView::openDatabaseDialog);
  connect(m_scan, &QPushButton::clicked, this, &UnitsView::scanFolderDialog);
  connect(m_cancel, &QPushButton::clicked, this, &UnitsView::cancelScan);
  connect(m_layer, &QComboBox::currentIndexChanged, this, [this] {
    m_unit = -1;
    showMosaic();
  });
  connect(m_mode, &QComboBox::currentIndexChanged, this, [this] {
    Settings::setViewOption("units/mode", m_mode->currentIndex());
    showDetail();
  });
  // The database belongs to a model: with another one open it is checked again.
  connect(m_state, &AppState::modelChanged, this, [this] {
    if (m_path.isEmpty()) return;
    m_explicit = false;
    invalidate();
  });
  connect(m_state, &AppState::modelChanged, this, &UnitsView::updateButtons);
  connect(m_mosaicView, &ImageView::clicked, this, [this](QPoint pixel) {
    if (!m_mosaic) return;
    const AtlasHit hit = m_mosaic->layout.hitTest({pixel.x(), pixel.y()});
    if (hit.unit >= 0) selectUnit(m_mosaic->atlas.units[size_t(hit.unit)].unit);
  });
  connect(m_mosaicView, &ImageView::doubleClicked, this, [this](QPoint pixel) {
    if (!m_mosaic || pixel.x() < 0) return m_mosaicView->zoomToFit();
    const AtlasHit hit = m_mosaic->layout.hitTest({pixel.x(), pixel.y()});
    if (hit.unit < 0 || hit.rank < 0) return m_mosaicView->zoomToFit();
    openCell(m_mosaic->atlas.units[size_t(hit.unit)].cells[size_t(hit.rank)], m_mosaic->layer);
  });
  connect(m_detailView, &ImageView::doubleClicked, this, [this](QPoint pixel) {
    if (!m_detail || pixel.x() < 0) return m_detailView->zoomToFit();
    const AtlasHit hit = m_detail->layout.hitTest({pixel.x(), pixel.y()});
    if (hit.unit < 0 || hit.rank < 0) return m_detailView->zoomToFit();
    openPatch(hit.rank);
  });
  auto hover = [this](ImageView* view, bool detail) {
    return [this, view, detail](QPoint pixel, QPoint global) {
      QString text;
      const auto* atlas = detail ? (m_detail ? &m_detail->atlas : nullptr)
                                 : (m_mosaic ? &m_mosaic->atlas : nullptr);
      const AtlasLayout* layout = detail ? (m_detail ? &m_detail->layout : nullptr)
                                         : (m_mosaic ? &m_mosaic->layout : nullptr);
      if (atlas && pixel.x() >= 0) {
        const AtlasHit hit = layout->hitTest({pixel.x(), pixel.y()});
        if (hit.unit >= 0) {
          const AtlasUnit& u = atlas->units[size_t(hit.unit)];
          text = tr("unit #%1").arg(u.unit);
          if (hit.rank >= 0) text += "\n" + describeCell(u.cells[size_t(hit.rank)]);
        }
      }
      if (text.isEmpty())
        QToolTip::hideText();
      else
        QToolTip::showText(global, text, view);
    };
  };
  connect(m_mosaicView, &ImageView::hovered, this, hover(m_mosaicView, false));
  connect(m_detailView, &ImageView::hovered, this, hover(m_detailView, true));
  connect(m_jobs, &JobTracker::jobEnded, this, [this](const QString& slot) {
    if (slot != kScanJob) return;
    updateButtons();
    if (!isScanning()) emit scanEnded();
  });
  // A refused database or a failed scan: the error dialog has the message, the view keeps it.
  connect(m_jobs, &JobTracker::jobFailed, this, [this](const QString& slot, const QString& msg) {
    if (slot == kOpenJob) clearPictures(msg);
    if (slot == kScanJob) m_info->setText(msg);
  });
  connect(m_jobs, &JobTracker::jobProgress, this,
          [this](const QString& slot, int permille, const QString& text) {
            if (slot != kScanJob) return;
            m_progress->setValue(permille);
            m_info->setText(tr("Scanning: %1 images").arg(text));
          });
  updateButtons();
}

QString UnitsView::describeCell(const AtlasCell& c) const {
  return tr("rank %1: %2 at %3, value %4")
      .arg(c.entry.rank)
      .arg(toQString(c.entry.path))
      .arg(positionText({c.entry.x, c.entry.y}))
      .arg(c.entry.value, 0, 'g', 4);
}

ProjectionMode UnitsView::mode() const {
  return static_cast<ProjectionMode>(m_mode->currentData().toInt());
}

void UnitsView::setMode(ProjectionMode mode) {
  m_mode->setCurrentIndex(m_mode->findData(int(mode)));
}

QString UnitsView::layer() const {
  return m_db ? m_layer->currentData().toString() : QString();
}

void UnitsView::setLayer(const QString& name) {
  const int i = m_layer->findData(name);
  if (i >= 0) m_layer->setCurrentIndex(i);
}

bool UnitsView::isScanning() const {
  return m_jobs->isBusy(kScanJob);
}

void UnitsView::updateButtons() {
  const bool scanning = isScanning();
  m_scan->setEnabled(m_state->net() && !scanning);
  m_cancel->setVisible(scanning);
  m_progress->setVisible(scanning);
}

void UnitsView::clearPictures(const QString& message) {
  m_mosaic.reset();
  m_detail.reset();
  m_mosaicView->clear(message);
  m_detailView->clear(QString());
  m_detailInfo->clear();
}

void UnitsView::openDatabase(const QString& path) {
  m_path = path;
  m_explicit = true;
  m_db.reset();
  invalidate();
}

void UnitsView::refresh() {
  if (m_path.isEmpty()) return;
  if (m_db && m_db->net == m_state->net()) return;
  startOpen(m_explicit);
}

void UnitsView::startOpen(bool explicitOpen) {
  m_jobs->cancel(kMosaicJob);
  m_jobs->cancel(kUnitJob);
  m_db.reset();
  m_mosaics.clear();
  m_details.clear();
  {
    QSignalBlocker block(m_layer);
    m_layer->clear();
  }
  m_info->clear();
  auto net = m_state->net();
  if (!net) {
    m_jobs->cancel(kOpenJob);
    clearPictures(tr("Open the model %1 was scanned with.").arg(QFileInfo(m_path).fileName()));
    return;
  }
  clearPictures(tr("Opening %1…").arg(QFileInfo(m_path).fileName()));
  const QString path = m_path;
  const std::string spec = m_state->modelSpec().toStdString();
  const std::string weights = m_state->modelWeights().toStdString();
  std::function<void(const QString&)> onError;
  if (!explicitOpen)  // reopened for another model: say so in place, no dialog
    onError = [this](const QString& message) { clearPictures(message); };
  m_jobs->start(
      kOpenJob, tr("Opening the scan %1").arg(QFileInfo(path).fileName()),
      [path, net, spec, weights](ProgressSink&) { return openScan(path, net, spec, weights); },
      [this](std::shared_ptr<const UnitsDatabase> db) {
        if (db->path != m_path || db->net != m_state->net()) return;
        m_db = std::move(db);
        m_info->setText(tr("%1: %2 images%3, top %4 per unit")
                            .arg(QFileInfo(m_db->path).fileName())
                            .arg(m_db->images)
                            .arg(m_db->skipped ? tr(" (%1 skipped)").arg(m_db->skipped) : QString())
                            .arg(toQString(m_db->meta.at("top_k"))));
        m_info->setToolTip(m_db->path);
        if (!m_db->complete) {
          clearPictures(tr("This scan is unfinished (%1 of %2 images): scan the same folder "
                           "again to resume it.")
                            .arg(toQString(m_db->meta.at("images_done")),
                                 toQString(m_db->meta.at("image_count"))));
          return;
        }
        // The window's layer when it was scanned, else the last scanned layer.
        const QString current = m_state->layerName(m_state->layer());
        QSignalBlocker block(m_layer);
        for (const ScanLayer& l : m_db->layers) {
          const QString name = toQString(l.name);
          m_layer->addItem(
              l.height * l.width > 1
                  ? tr("%1  (%2 units, %3×%4)").arg(name).arg(l.channels).arg(l.height).arg(l.width)
                  : tr("%1  (%2 units)").arg(name).arg(l.channels),
              name);
        }
        const int i = m_layer->findData(current);
        m_layer->setCurrentIndex(i >= 0 ? i : m_layer->count() - 1);
        m_unit = -1;
        showMosaic();
      },
      onError);
}

void UnitsView::showMosaic() {
  m_detail.reset();
  m_detailView->clear(QString());
  m_detailInfo->clear();
  if (!m_db || m_layer->currentIndex() < 0) return;
  const QString layer = m_layer->currentData().toString();
  if (auto it = m_mosaics.constFind(layer); it != m_mosaics.constEnd()) {
    m_jobs->cancel(kMosaicJob);
    m_mosaic = *it;
    m_mosaicView->setImage(m_mosaic->image);
    emit mosaicShown(layer);
    selectUnit(m_unit >= 0 ? m_unit : m_mosaic->atlas.units.front().unit);
    return;
  }
  m_mosaic.reset();
  m_mosaicView->clear(tr("Reading the top images of %1…").arg(layer));
  auto db = m_db;
  m_jobs->start(
      kMosaicJob, tr("Units of %1").arg(layer),
      [db, layer](ProgressSink& sink) {
        auto m = std::make_shared<UnitsMosaic>();
        m->db = db;
        m->layer = layer;
        const ScanReader scan(toPath(db->path));
        const ScanLayer& sl = scan.layer(layer.toStdString());
        AtlasOptions o;
        o.lo = 0;
        o.hi = sl.channels - 1;
        o.top = kTop;
        m->atlas = computeAtlasPatches(scan, db->net->def(), db->modelId, sl.name, o, &sink);
        AtlasSheetOptions so;
        so.projections = false;
        so.minCellSize = 16;
        so.maxCellSize = 32;  // caffe-alexnet's relu5 (163 x 163 crops) stays a small mosaic
        so.unitsPerRow = mosaicColumns(int(m->atlas.units.size()));
        m->layout = atlasLayout(m->atlas, so);
        m->bgr = renderAtlasSheet(m->atlas, so);
        m->image = toQImage(m->bgr);
        return std::shared_ptr<const UnitsMosaic>(std::move(m));
      },
      [this](std::shared_ptr<const UnitsMosaic> m) {
        if (m->db != m_db) return;
        m_mosaics.insert(m->layer, m);
        if (m->layer != this->layer()) return;
        m_mosaic = std::move(m);
        m_mosaicView->setImage(m_mosaic->image);
        emit mosaicShown(m_mosaic->layer);
        if (!m_mosaic->atlas.units.empty())
          selectUnit(m_unit >= 0 ? m_unit : m_mosaic->atlas.units.front().unit);
      },
      [this](const QString& message) { clearPictures(message); });
}

void UnitsView::selectUnit(int unit) {
  if (!m_mosaic) return;
  const auto& units = m_mosaic->atlas.units;
  const auto it = std::find_if(units.begin(), units.end(),
                               [unit](const AtlasUnit& u) { return u.unit == unit; });
  if (it == units.end()) return;
  m_unit = unit;
  const auto& block = m_mosaic->layout.units[size_t(it - units.begin())];
  m_mosaicView->setMarks(
      {{QRectF(block.x - 2, block.y - 2, block.width + 4, block.height + 4), QColor(255, 80, 60)}});
  showDetail();
}

void UnitsView::showDetail() {
  if (!m_db || !m_mosaic || m_unit < 0) return;
  const QString layer = m_mosaic->layer;
  const int unit = m_unit;
  const ProjectionMode md = mode();
  const QString key = detailKey(layer, unit, md);
  if (auto it = m_details.constFind(key); it != m_details.constEnd()) {
    m_jobs->cancel(kUnitJob);
    m_detail = *it;
    m_detailView->setImage(m_detail->image, true);
    m_detailInfo->setText(tr("%1 #%2: its top %3 images, projected (%4) from the recorded "
                             "position, beside the image patches.")
                              .arg(layer)
                              .arg(unit)
                              .arg(m_detail->atlas.units.front().cells.size())
                              .arg(QString::fromUtf8(projectionModeName(md))));
    emit unitShown(unit);
    return;
  }
  m_detail.reset();
  m_detailView->clear(tr("Projecting the top %1 of %2 #%3…").arg(kTop).arg(layer).arg(unit));
  m_detailInfo->clear();
  auto db = m_db;
  // The open model's engine thread: its forward runs and projections queue there.
  m_jobs->start(
      kUnitJob, tr("Projecting %1 #%2").arg(layer).arg(unit),
      [db, layer, unit, md](ProgressSink& sink) {
        auto d = std::make_shared<UnitDetail>();
        d->db = db;
        d->layer = layer;
        d->unit = unit;
        d->mode = md;
        const ScanReader scan(toPath(db->path));
        AtlasOptions o;
        o.lo = o.hi = unit;
        o.top = kTop;
        o.mode = md;
        d->atlas = computeAtlas(scan, db->net, db->modelId, layer.toStdString(), o, &sink);
        AtlasSheetOptions so;
        so.minCellSize = 96;
        so.unitsPerRow = 1;
        d->layout = atlasLayout(d->atlas, so);
        d->bgr = renderAtlasSheet(d->atlas, so);
        d->image = toQImage(d->bgr);
        return std::shared_ptr<const UnitDetail>(std::move(d));
      },
      [this, key](std::shared_ptr<const UnitDetail> d) {
        if (d->db != m_db) return;
        m_details.insert(key, d);
        if (key != detailKey(this->layer(), m_unit, mode())) return;
        showDetail();
      },
      [this](const QString& message) {
        m_detail.reset();
        m_detailView->clear(message);
      },
      Lane::Engine);
}

void UnitsView::openPatch(int rank) {
  if (!m_detail || m_detail->atlas.units.empty()) return;
  const auto& cells = m_detail->atlas.units.front().cells;
  if (rank < 0 || rank >= int(cells.size())) return;
  openCell(cells[size_t(rank)], m_detail->layer);
}

void UnitsView::openCell(const AtlasCell& cell, const QString& layer) {
  if (!m_db) return;
  const fs::path rel = fs::path(cell.entry.path);
  const fs::path file = rel.is_absolute() ? rel : toPath(m_db->imageRoot) / rel;
  Selection s;
  s.layer = int(cell.projection.layer);
  s.channel = cell.projection.channel;
  const Shape shape = m_db->net->outputShapes()[cell.projection.layer];
  if (shape.rank() == 3) s.position = cv::Point(cell.entry.x, cell.entry.y);
  m_detailInfo->setText(tr("Opened %1 with %2 #%3 at %4 selected.")
                            .arg(toQString(cell.entry.path), layer)
                            .arg(s.channel)
                            .arg(positionText({cell.entry.x, cell.entry.y})));
  emit openImageRequested(toQString(file.string()), s);
}

QString UnitsView::defaultDatabaseFor(const QString& folder) const {
  const QString dir =
      QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/scans");
  const QString model = m_state->modelSpec() + QLatin1Char('\n') + m_state->modelWeights();
  const QByteArray key = QCryptographicHash::hash(
      (QFileInfo(folder).absoluteFilePath() + QLatin1Char('\n') + model).toUtf8(),
      QCryptographicHash::Sha256);
  const QString name = m_state->def() ? QString::fromStdString(m_state->def()->name) : "model";
  return QDir(dir).filePath(
      QStringLiteral("%1-%2-%3.sqlite")
          .arg(QFileInfo(folder).fileName(), name, QString::fromLatin1(key.toHex().left(10))));
}

void UnitsView::scanFolder(const QString& folder, const QString& dbPath) {
  auto net = m_state->net();
  if (!net) return;
  const std::string spec = m_state->modelSpec().toStdString();
  const std::string weights = m_state->modelWeights().toStdString();
  const fs::path images = toPath(folder), db = toPath(dbPath);
  m_progress->setValue(0);
  m_info->setText(tr("Scanning %1…").arg(folder));
  m_jobs->start(
      kScanJob, tr("Scanning %1").arg(QFileInfo(folder).fileName()),
      [net, spec, weights, images, db](ProgressSink& sink) {
        ScanOptions o;
        o.model = modelIdentity(net->def(), spec, weights);
        o.topK = kTop;
        o.batch = kScanBatch;
        o.imageRoot = images;
        std::error_code ec;
        fs::create_directories(db.parent_path(), ec);
        const std::vector<ImageEntry> list = listImages(images);
        // A CompiledNet of its own: the scan's batches never wait for the engine thread.
        auto own = CompiledNet::compile(net->defPtr());
        return runScan(own, list, db, o, &sink);
      },
      [this, dbPath](ScanSummary s) {
        m_info->setText(tr("Scanned %1 images (%2 now, %3 before, %4 skipped)")
                            .arg(s.images)
                            .arg(s.scanned)
                            .arg(s.resumed)
                            .arg(s.skipped));
        openDatabase(dbPath);
      },
      {}, Lane::Background);
  updateButtons();
}

void UnitsView::cancelScan() {
  if (!isScanning()) return;
  m_jobs->cancel(kScanJob);
  m_info->setText(tr("Scan cancelled; scanning the same folder again resumes it."));
}

void UnitsView::openDatabaseDialog() {
  askOpenFile(this, tr("Open Scan Database"), QStringLiteral("scan"),
              tr("Scan databases (*.sqlite *.db);;All files (*)"),
              [this](const QString& file) { openDatabase(file); });
}

void UnitsView::scanFolderDialog() {
  if (!m_state->net()) return;
  askFolder(this, tr("Choose a Folder of Images to Scan"), "scan-images",
            [this](const QString& dir) { scanFolder(dir, defaultDatabaseFor(dir)); });
}

std::optional<ViewExport> UnitsView::exportView() const {
  const bool detail = m_detail && m_detail->db == m_db;
  if (!detail && !m_mosaic) return std::nullopt;
  ViewExport e;
  e.image = detail ? m_detail->bgr : m_mosaic->bgr;
  e.text = baseMetadata();
  const QString layer = detail ? m_detail->layer : m_mosaic->layer;
  e.text.push_back({"zfvis:layer", layer.toStdString()});
  e.text.push_back({"zfvis:db", m_db ? m_db->path.toStdString() : std::string()});
  if (detail) {
    e.text.push_back({"zfvis:unit", std::to_string(m_detail->unit)});
    e.text.push_back({"zfvis:mode", projectionModeName(m_detail->mode)});
  }
  e.stem = detail ? QStringLiteral("%1-unit%2-atlas").arg(layer).arg(m_detail->unit)
                  : QStringLiteral("%1-units").arg(layer);
  return e;
}

}  // namespace zfvis::ui
