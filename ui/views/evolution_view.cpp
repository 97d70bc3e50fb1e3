#include "ui/views/evolution_view.h"

#include <algorithm>

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QVBoxLayout>

#include "core/analysis/training/dataset.h"
#include "core/base/error.h"
#include "core/base/position_text.h"
#include "core/engine/engine.h"
#include "core/import/model_loader.h"
#include "core/model/small_nets.h"
#include "core/render/evolution_sheet.h"
#include "core/render/png.h"
#include "ui/convert.h"
#include "ui/file_dialogs.h"
#include "ui/image_view.h"
#include "ui/settings.h"
#include "ui/views/curves_widget.h"

namespace zfvis::ui {

namespace {

namespace fs = std::filesystem;

// Fashion-MNIST test images the view searches (the first N of the test split).
constexpr int kFashionImages = 200;
// At most this many images of a folder (the search runs once per checkpoint).
constexpr size_t kMaxFolderImages = 500;
const QString kFashionChoice = QStringLiteral("fashion-mnist");

// The run folder of a source: the folder itself, or a shipped run's folder for its name.
std::optional<fs::path> runFolder(const QString& source) {
  const fs::path p = toPath(source);
  std::error_code ec;
  if (fs::is_directory(p, ec)) return p;
  if (auto shipped = shippedRunDir(source.toStdString())) return *shipped;
  return std::nullopt;
}

// The layer shown first: the second convolution (the paper's figure follows layers 1-5; the
// first one's filters are shown anyway), else the first, else the first layer with channels.
int defaultLayer(const NetworkDef& def, const std::vector<int>& layers) {
  std::vector<int> convs;
  for (int l : layers)
    if (def.layers[size_t(l)].type == LayerType::Conv) convs.push_back(l);
  if (convs.size() >= 2) return convs[1];
  if (!convs.empty()) return convs[0];
  return layers.empty() ? -1 : layers.front();
}

// The image set as network inputs of `def`.
std::vector<Tensor> loadInputs(const QString& choice, const NetworkDef& def, QString& label,
                               ProgressSink& sink) {
  std::vector<Tensor> inputs;
  const Shape shape = def.input.shape.withBatch(1);
  if (choice == kFashionChoice) {
    const Dataset data = loadDataset("fashion-mnist", def.input.shape);
    const int64_t n = std::min<int64_t>(kFashionImages, data.test.size());
    for (int64_t i = 0; i < n; ++i) {
      if (sink.cancelled()) throw Cancelled();
      Tensor t(shape);
      sampleToInput(data.test, i, def.input, t.data());
      inputs.push_back(std::move(t));
    }
    label = QObject::tr("the first %1 Fashion-MNIST test images").arg(n);
    return inputs;
  }
  std::vector<ImageEntry> images = listImages(toPath(choice));
  if (images.size() > kMaxFolderImages) images.resize(kMaxFolderImages);
  for (size_t i = 0; i < images.size(); ++i) {
    if (sink.cancelled()) throw Cancelled();
    inputs.push_back(loadNetworkInput(images[i].path, def.input));
    sink.report(int64_t(i + 1), int64_t(images.size()));
  }
  label = QObject::tr("%1 images of %2").arg(images.size()).arg(QFileInfo(choice).fileName());
  return inputs;
}

// One column and its pictures.
std::shared_ptr<const EvolutionPicture> computePicture(std::shared_ptr<const EvolutionRun> run,
                                                       int k, int layer, ProgressSink& sink) {
  auto pic = std::make_shared<EvolutionPicture>();
  pic->run = run;
  pic->checkpoint = k;
  pic->layer = layer;
  const EvolutionCheckpoint& cp = run->checkpoints[size_t(k)];
  auto def = std::make_shared<NetworkDef>(k == 0 ? *run->first : loadModel(cp.file.string()));
  if (k != 0) requireSameArchitecture(*run->first, *def, cp.file);
  const std::vector<int> units = evolutionUnits(*def, size_t(layer), {});
  pic->column = evolveCheckpoint(*def, cp, size_t(layer), units, run->inputs, {}, &sink);

  const Preprocess preprocess = run->first->input.preprocess;
  EvolutionSheetOptions options;
  options.withPatch = true;
  pic->cellsBgr = renderEvolutionUnitGrid(pic->column, preprocess, options, 0, &pic->cellsLayout);
  pic->cells = toQImage(pic->cellsBgr);
  pic->filters = toQImage(renderEvolutionFilters(pic->column, preprocess));

  // The whole layer on each unit's best image (one run per distinct image).
  auto net = CompiledNet::compile(def);
  Session session(net);
  RunOptions lean;
  lean.keepAll = false;
  lean.keep = {size_t(layer)};
  QHash<int64_t, QImage> byImage;
  for (const UnitMaximum& m : pic->column.units) {
    if (m.image < 0) {
      pic->activations.emplace_back();
      continue;
    }
    if (!byImage.contains(m.image)) {
      if (sink.cancelled()) throw Cancelled();
      const Tensor& in = run->inputs[size_t(m.image)];
      auto acts = session.run(in.reshaped(def->input.shape.withBatch(1)), lean);
      const Tensor& out = acts->output(size_t(layer));
      std::vector<int64_t> dims(out.shape().dims().begin() + 1, out.shape().dims().end());
      const Tensor maps = out.reshaped(Shape(dims));
      ActivationGridOptions o;
      o.markMax = true;
      byImage[m.image] = toQImage(renderActivationGrid(maps, o));
      // Vectors (dense layers) are a heat strip without cells to mark.
      if (maps.shape().rank() == 3) pic->activationLayout = activationGridLayout(maps.shape(), o);
    }
    pic->activations.push_back(byImage[m.image]);
  }
  return pic;
}

}  // namespace

EvolutionView::EvolutionView(AppState* state, JobTracker* jobs, const QString& samplesDir,
                             QWidget* parent)
    : ViewBase(state, jobs, parent), m_samplesDir(samplesDir) {
  m_source = new QComboBox(this);
  m_source->setToolTip(tr("The training run whose checkpoints are shown"));
  // Run folders and image folders are long paths: the combos do not widen the window for them.
  m_source->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_source->setMinimumContentsLength(14);
  for (const char* name : {"zf-small", "alex-small"})
    if (shippedRunDir(name))
      m_source->addItem(tr("%1 (shipped run)").arg(name), QString::fromLatin1(name));
  m_chooseRun = new QPushButton(tr("Choose run folder…"), this);
  m_layer = new QComboBox(this);
  m_layer->setToolTip(tr("The layer whose units are followed"));
  m_layer->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_layer->setMinimumContentsLength(16);
  m_images = new QComboBox(this);
  m_images->setToolTip(tr("The images searched for each unit's strongest activation"));
  m_images->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_images->setMinimumContentsLength(14);
  std::error_code ec;
  if (fs::exists(fs::path(kFashionMnistDir) / "t10k-images-idx3-ubyte.gz", ec) ||
      fs::exists(fs::path(kFashionMnistDir) / "t10k-images-idx3-ubyte", ec))
    m_images->addItem(tr("Fashion-MNIST test images (first %1)").arg(kFashionImages),
                      kFashionChoice);
  if (!m_samplesDir.isEmpty()) m_images->addItem(tr("Sample images"), m_samplesDir);
  m_chooseImages = new QPushButton(tr("Images…"), this);
  m_export = new QPushButton(tr("Export…"), this);
  m_export->setToolTip(tr("Every checkpoint as one picture (Zeiler & Fergus fig. 4), PNG"));
  m_slider = new QSlider(Qt::Horizontal, this);
  m_slider->setTickPosition(QSlider::TicksBelow);
  m_slider->setPageStep(1);
  m_slider->setEnabled(false);
  m_checkpointLabel = new QLabel(this);
  m_checkpointLabel->setMinimumWidth(200);
  m_unit = new QComboBox(this);
  m_unit->setToolTip(tr("The unit whose best image's activations are shown"));
  m_info = new QLabel(this);
  m_info->setWordWrap(true);
  m_filters = new ImageView(this);
  m_filters->setPixelated(true);
  m_filters->setMaxFitScale(6.0);
  m_cells = new ImageView(this);
  m_cells->setPixelated(true);
  m_cells->setMaxFitScale(3.0);
  m_activations = new ImageView(this);
  m_activations->setPixelated(true);
  m_activations->setMaxFitScale(4.0);
  m_curves = new CurvesWidget(this);
  m_curves->setPlaceholder(tr("This run has no log.json."));

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Run:"), this));
  bar->addWidget(m_source, 1);
  bar->addWidget(m_chooseRun);
  bar->addSpacing(8);
  bar->addWidget(new QLabel(tr("Layer:"), this));
  bar->addWidget(m_layer);
  bar->addSpacing(8);
  bar->addWidget(m_export);
  // The images go on the slider's row: one row for all of it would make the window wider than
  // a 1024-pixel screen.
  auto* sliderBar = new QHBoxLayout;
  sliderBar->addWidget(new QLabel(tr("Images:"), this));
  sliderBar->addWidget(m_images, 1);
  sliderBar->addWidget(m_chooseImages);
  sliderBar->addSpacing(8);
  sliderBar->addWidget(new QLabel(tr("Checkpoint:"), this));
  sliderBar->addWidget(m_slider, 1);
  sliderBar->addWidget(m_checkpointLabel);

  auto titled = [this](const QString& title, QWidget* body, QWidget* extra = nullptr) {
    auto* box = new QWidget(this);
    auto* l = new QVBoxLayout(box);
    l->setContentsMargins(0, 0, 0, 0);
    auto* head = new QHBoxLayout;
    auto* label = new QLabel(QStringLiteral("<b>%1</b>").arg(title), box);
    head->addWidget(label);
    if (extra) head->addWidget(extra);
    head->addStretch(1);
    l->addLayout(head);
    l->addWidget(body, 1);
    return box;
  };
  auto* left = new QSplitter(Qt::Vertical, this);
  left->addWidget(titled(tr("First-layer filters"), m_filters));
  left->addWidget(titled(tr("Loss and accuracy"), m_curves));
  auto* right = new QSplitter(Qt::Vertical, this);
  auto* unitPanel = new QWidget(this);
  auto* unitLayout = new QVBoxLayout(unitPanel);
  unitLayout->setContentsMargins(0, 0, 0, 0);
  unitLayout->addWidget(m_activations, 1);
  unitLayout->addWidget(m_info);
  right->addWidget(titled(tr("Activations on the best image of unit"), unitPanel, m_unit));
  auto* body = new QSplitter(Qt::Horizontal, this);
  body->addWidget(left);
  body->addWidget(titled(tr("Strongest activation per unit, projected (click a unit)"), m_cells));
  body->addWidget(right);
  body->setStretchFactor(0, 3);
  body->setStretchFactor(1, 3);
  body->setStretchFactor(2, 3);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(bar);
  layout->addLayout(sliderBar);
  layout->addWidget(body, 1);

  clearPictures(m_source->count() ? tr("Opening the run…")
                                  : tr("Choose a training run folder (zfvis-cli train or the "
                                       "Train tab writes one)."));
  connect(m_chooseRun, &QPushButton::clicked, this, &EvolutionView::chooseRunFolder);
  connect(m_chooseImages, &QPushButton::clicked, this, &EvolutionView::chooseImageFolder);
  connect(m_export, &QPushButton::clicked, this, &EvolutionView::exportDialog);
  connect(m_source, &QComboBox::currentIndexChanged, this, [this] {
    m_run.reset();
    invalidate();
  });
  connect(m_images, &QComboBox::currentIndexChanged, this, [this] {
    m_run.reset();
    invalidate();
  });
  connect(m_layer, &QComboBox::currentIndexChanged, this, [this] {
    m_cache.clear();
    showColumn();
  });
  connect(m_slider, &QSlider::valueChanged, this, &EvolutionView::showColumn);
  connect(m_unit, &QComboBox::currentIndexChanged, this, &EvolutionView::showUnit);
  // A click on a unit's cell shows its activations.
  connect(m_cells, &ImageView::clicked, this, [this](QPoint pixel) {
    if (!m_picture) return;
    const int u = m_picture->cellsLayout.unitAt({pixel.x(), pixel.y()});
    if (u >= 0) selectUnit(u);
  });
}

void EvolutionView::setSource(const QString& source) {
  int i = m_source->findData(source);
  if (i < 0) {
    const QFileInfo info(source);
    m_source->addItem(info.isDir() ? info.fileName() + " — " + info.absolutePath() : source,
                      source);
    i = m_source->count() - 1;
  }
  if (i == m_source->currentIndex()) {
    m_run.reset();
    invalidate();
  }
  m_source->setCurrentIndex(i);
}

void EvolutionView::setCheckpoint(int index) {
  m_slider->setValue(index);
}

int EvolutionView::checkpoint() const {
  return m_run ? m_slider->value() : -1;
}

void EvolutionView::setLayer(int layer) {
  const int i = m_layer->findData(layer);
  if (i >= 0) m_layer->setCurrentIndex(i);
}

int EvolutionView::layer() const {
  return m_run && m_layer->currentIndex() >= 0 ? m_layer->currentData().toInt() : -1;
}

void EvolutionView::refresh() {
  openRun();
}

void EvolutionView::clearPictures(const QString& message) {
  m_picture.reset();
  m_filters->clear(message);
  m_cells->clear(message);
  m_activations->clear(QString());
  m_info->clear();
}

void EvolutionView::openRun() {
  m_jobs->cancel(kJob);
  m_cache.clear();
  m_run.reset();
  m_slider->setEnabled(false);
  m_curves->clear();
  const QString source = m_source->currentData().toString();
  const QString images = m_images->currentData().toString();
  if (source.isEmpty()) {
    m_jobs->cancel(kRunJob);
    clearPictures(
        tr("Choose a training run folder (zfvis-cli train or the Train tab writes one)."));
    return;
  }
  if (images.isEmpty()) {
    m_jobs->cancel(kRunJob);
    clearPictures(tr("Choose a folder of images to search (Images…)."));
    return;
  }
  clearPictures(tr("Opening the run…"));
  m_jobs->start(
      kRunJob, tr("Opening the run %1").arg(source),
      [source, images](ProgressSink& sink) {
        auto run = std::make_shared<EvolutionRun>();
        run->source = source;
        run->checkpoints = resolveCheckpoints({toPath(source)});
        auto first =
            std::make_shared<NetworkDef>(loadModel(run->checkpoints.front().file.string()));
        const std::vector<Shape> shapes = first->outputShapes();
        for (size_t i = 0; i < shapes.size(); ++i)
          if (shapes[i].rank() == 1 || shapes[i].rank() == 3) run->layers.push_back(int(i));
        if (run->layers.empty())
          throw Error("'" + source.toStdString() + "' has no layer with channels to follow");
        run->defaultLayer = defaultLayer(*first, run->layers);
        if (auto dir = runFolder(source)) {
          std::error_code ec;
          if (fs::exists(*dir / "log.json", ec)) run->log = readLog(*dir);
        }
        run->inputs = loadInputs(images, *first, run->images, sink);
        run->first = std::move(first);
        return std::shared_ptr<const EvolutionRun>(std::move(run));
      },
      [this](std::shared_ptr<const EvolutionRun> run) {
        m_run = std::move(run);
        const NetworkDef& def = *m_run->first;
        const std::vector<Shape> shapes = def.outputShapes();
        {
          QSignalBlocker block(m_layer);
          m_layer->clear();
          for (int l : m_run->layers)
            m_layer->addItem(QStringLiteral("%1  (%2)")
                                 .arg(QString::fromStdString(def.layers[size_t(l)].name),
                                      QString::fromStdString(shapes[size_t(l)].str())),
                             l);
          m_layer->setCurrentIndex(std::max(0, m_layer->findData(m_run->defaultLayer)));
        }
        {
          QSignalBlocker block(m_slider);
          m_slider->setRange(0, int(m_run->checkpoints.size()) - 1);
          m_slider->setValue(m_slider->maximum());  // the trained state first
          m_slider->setEnabled(true);
        }
        m_curves->setRows(m_run->log);
        showColumn();
      },
      [this](const QString& message) { clearPictures(message); });
}

void EvolutionView::showColumn() {
  if (!m_run) return;
  const int k = m_slider->value(), layer = this->layer();
  const EvolutionCheckpoint& cp = m_run->checkpoints[size_t(k)];
  QString label = tr("%1 / %2 · %3")
                      .arg(k + 1)
                      .arg(m_run->checkpoints.size())
                      .arg(QString::fromStdString(cp.label()));
  if (cp.testAccuracy) label += tr(", %1% test").arg(100.0 * *cp.testAccuracy, 0, 'f', 1);
  m_checkpointLabel->setText(label);
  m_checkpointLabel->setToolTip(QString::fromStdString(cp.file.string()));
  m_curves->setMarker(cp.step ? std::optional<int64_t>(*cp.step) : std::nullopt);
  if (auto it = m_cache.constFind(k); it != m_cache.constEnd()) {
    m_jobs->cancel(kJob);
    showPicture(*it);
    return;
  }
  if (layer < 0) return;
  m_cells->setMessage(tr("Searching %1 for each unit's strongest activation…").arg(m_run->images));
  auto run = m_run;
  m_jobs->start(
      kJob, tr("Evolution: checkpoint %1").arg(QString::fromStdString(cp.label())),
      [run, k, layer](ProgressSink& sink) { return computePicture(run, k, layer, sink); },
      [this](std::shared_ptr<const EvolutionPicture> pic) {
        if (pic->run != m_run || pic->layer != this->layer()) return;
        m_cache.insert(pic->checkpoint, pic);
        if (pic->checkpoint == m_slider->value()) showPicture(std::move(pic));
      },
      [this](const QString& message) { clearPictures(message); });
}

void EvolutionView::showPicture(std::shared_ptr<const EvolutionPicture> pic) {
  const bool sameLayer = m_picture && m_picture->run == pic->run && m_picture->layer == pic->layer;
  m_picture = std::move(pic);
  if (m_picture->filters.isNull())
    m_filters->clear(tr("This network has no convolution."));
  else
    m_filters->setImage(m_picture->filters, sameLayer);
  m_cells->setImage(m_picture->cells, sameLayer);
  const int previous = m_unit->currentIndex();
  {
    QSignalBlocker block(m_unit);
    m_unit->clear();
    for (const UnitMaximum& m : m_picture->column.units)
      m_unit->addItem(QStringLiteral("#%1").arg(m.unit), m.unit);
    m_unit->setCurrentIndex(std::clamp(previous, 0, m_unit->count() - 1));
  }
  showUnit();
  emit columnShown(m_picture->checkpoint);
}

int EvolutionView::selectedUnit() const {
  return m_unit->currentIndex();
}

void EvolutionView::selectUnit(int index) {
  if (index >= 0 && index < m_unit->count()) m_unit->setCurrentIndex(index);
}

void EvolutionView::showUnit() {
  if (!m_picture) return;
  const int u = m_unit->currentIndex();
  if (u < 0 || u >= int(m_picture->column.units.size())) return;
  if (u < int(m_picture->cellsLayout.cells.size())) {
    const cv::Rect r = m_picture->cellsLayout.cells[size_t(u)];
    m_cells->setMarks({{QRectF(r.x - 2, r.y - 2, r.width + 4, r.height + 4), QColor(255, 80, 60)}});
  }
  const UnitMaximum& m = m_picture->column.units[size_t(u)];
  const QImage& image = m_picture->activations[size_t(u)];
  if (m.image < 0 || image.isNull()) {
    m_activations->clear(tr("Unit #%1 never fired on these images.").arg(m.unit));
    m_info->setText(tr("Unit #%1: no positive activation.").arg(m.unit));
    return;
  }
  m_activations->setImage(image, true);
  m_activations->setToolTip(tr("The layer on unit #%1's best image").arg(m.unit));
  QVector<ImageView::Mark> marks;
  if (m.unit < m_picture->activationLayout.count) {
    const cv::Rect r = m_picture->activationLayout.cellRect(m.unit);
    marks.push_back({QRectF(r.x, r.y, r.width, r.height), QColor(255, 80, 60)});
  }
  m_activations->setMarks(marks);
  m_info->setText(tr("Unit #%1: strongest on image %2 of %3 (value %4 at %5). The "
                     "red box is the unit's map; the rest of the layer is shown for context.")
                      .arg(m.unit)
                      .arg(m.image)
                      .arg(m_run ? m_run->images : QString())
                      .arg(m.value, 0, 'g', 4)
                      .arg(positionText(m.position)));
}

void EvolutionView::chooseRunFolder() {
  askFolder(this, tr("Choose a Training Run Folder"), "run",
            [this](const QString& dir) { setSource(dir); });
}

void EvolutionView::chooseImageFolder() {
  askFolder(this, tr("Choose a Folder of Images"), "image", [this](const QString& dir) {
    int i = m_images->findData(dir);
    if (i < 0) {
      m_images->addItem(QFileInfo(dir).fileName(), dir);
      i = m_images->count() - 1;
    }
    m_images->setCurrentIndex(i);
  });
}

void EvolutionView::exportDialog() {
  if (!m_run) return;
  const QString stem =
      QStringLiteral("evolution-%1").arg(QString::fromStdString(m_run->first->name));
  askPngPath(this, tr("Export the Evolution Sheet"), stem,
             [this](const QString& file) { exportSheetTo(file); });
}

void EvolutionView::exportSheetTo(const QString& pngPath) {
  if (!m_run || layer() < 0) return;
  auto run = m_run;
  const int layer = this->layer();
  std::vector<std::shared_ptr<const EvolutionPicture>> cached(run->checkpoints.size());
  for (auto it = m_cache.cbegin(); it != m_cache.cend(); ++it)
    if (it.value()->layer == layer) cached[size_t(it.key())] = it.value();
  const auto png = toPath(pngPath);
  m_jobs->start(
      kExportJob, tr("Exporting the evolution sheet"),
      [run, layer, cached, png](ProgressSink& sink) {
        Evolution e;
        const NetworkDef& def = *run->first;
        e.layer = size_t(layer);
        e.layerName = def.layers[e.layer].name;
        e.units = evolutionUnits(def, e.layer, {});
        e.preprocess = def.input.preprocess;
        for (const LayerSpec& l : def.layers) e.layerNames.push_back(l.name);
        e.images.resize(run->inputs.size());
        for (size_t k = 0; k < run->checkpoints.size(); ++k) {
          if (cached[k]) {
            e.columns.push_back(cached[k]->column);
          } else {
            const EvolutionCheckpoint& cp = run->checkpoints[k];
            const NetworkDef d = k == 0 ? def : loadModel(cp.file.string());
            if (k != 0) requireSameArchitecture(def, d, cp.file);
            e.columns.push_back(evolveCheckpoint(d, cp, e.layer, e.units, run->inputs, {}));
          }
          sink.report(int64_t(k + 1), int64_t(run->checkpoints.size()));
          if (sink.cancelled()) throw Cancelled();
        }
        PngText text = pictureText("evolution", def.name, false, run->images.toStdString());
        text.push_back({"zfvis:layer", e.layerName});
        text.push_back({"zfvis:run", run->source.toStdString()});
        writePng(png, renderEvolutionSheet(e), text);
        return true;
      },
      [this, pngPath](bool) { m_info->setText(tr("Exported %1").arg(pngPath)); });
}

std::optional<ViewExport> EvolutionView::exportView() const {
  if (!m_picture) return std::nullopt;
  ViewExport e;
  e.image = m_picture->cellsBgr;
  e.text = pictureText("evolution", m_picture->run->first->name, false,
                       m_picture->run->images.toStdString());
  e.text.push_back({"zfvis:layer", m_picture->run->first->layers[size_t(m_picture->layer)].name});
  e.text.push_back({"zfvis:checkpoint", m_picture->column.checkpoint.file.string()});
  e.stem =
      QStringLiteral("evolution-%1-%2")
          .arg(QString::fromStdString(m_picture->run->first->layers[size_t(m_picture->layer)].name))
          .arg(m_picture->checkpoint);
  return e;
}

}  // namespace zfvis::ui
