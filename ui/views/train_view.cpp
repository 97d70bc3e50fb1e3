#include "ui/views/train_view.h"

#include <chrono>
#include <limits>

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QVBoxLayout>

#include "core/analysis/compare/filter_bank.h"
#include "core/analysis/training/run_files.h"
#include "core/render/filter_grid.h"
#include "ui/convert.h"
#include "ui/file_dialogs.h"
#include "ui/image_view.h"
#include "ui/settings.h"
#include "ui/thread_handover.h"
#include "ui/views/curves_widget.h"

namespace zfvis::ui {

namespace {

using Clock = std::chrono::steady_clock;

// How often the worker redraws the filters and posts a step report (the GUI thread sees a few
// events a second, not one per step).
constexpr auto kFiltersEvery = std::chrono::milliseconds(500);
constexpr auto kStepEvery = std::chrono::milliseconds(100);

QString duration(double seconds) {
  const int s = int(seconds + 0.5);
  if (s < 60) return QObject::tr("%1 s").arg(s);
  if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QObject::tr("%1 h %2 min").arg(s / 3600).arg(s % 3600 / 60);
}

// The first convolution of a network (-1 when it has none).
int firstConv(const NetworkDef& def) {
  for (size_t i = 0; i < def.layers.size(); ++i)
    if (def.layers[i].type == LayerType::Conv) return int(i);
  return -1;
}

}  // namespace

/// The Trainer's observer, on the worker thread: forwards progress to the job's sink, asks the
/// sink whether to stop, and posts what the view shows to the GUI thread (queued), throttled.
class TrainRelay final : public TrainingObserver {
 public:
  TrainRelay(ProgressSink& sink, TrainView* view, quint64 run, const Trainer& trainer)
      : m_sink(sink), m_view(view), m_run(run), m_trainer(trainer) {
    const NetworkDef& def = trainer.network();
    m_conv = firstConv(def);
    m_options.normalization = FilterNormalization::PerFilter;
    m_options.channelOrder = channelOrderOf(def.input.preprocess);
  }

  bool cancelled() const override { return m_sink.cancelled(); }
  void report(int64_t done, int64_t total) override { m_sink.report(done, total); }

  void onStep(const StepReport& r) override {
    const Clock::time_point now = Clock::now();
    if (now - m_lastStep >= kStepEvery || r.step == r.totalSteps) {
      m_lastStep = now;
      post([r](TrainView* v, quint64 run) { v->onStep(run, r); });
    }
    if (now - m_lastFilters >= kFiltersEvery) postFilters();
  }
  void onLogRow(const LogRow& row) override {
    post([row](TrainView* v, quint64 run) { v->onLogRow(run, row); });
  }
  void onCheckpoint(const CheckpointReport& c) override {
    post([c](TrainView* v, quint64 run) { v->onCheckpoint(run, c); });
    postFilters();
  }

  /// Renders the first layer's current filters and posts them.
  void postFilters() {
    m_lastFilters = Clock::now();
    if (m_conv < 0) return;
    QImage image = toQImage(renderFilterGrid(m_trainer.weights(size_t(m_conv)), m_options));
    post([image](TrainView* v, quint64 run) { v->onFilters(run, image); });
  }

  template <typename F>
  void post(F f) {
    TrainView* view = m_view;
    const quint64 run = m_run;
    HandOver handOver;  // `f`'s captures, copied into the queued call
    QMetaObject::invokeMethod(
        view,
        [view, run, f] {
          handOverFence();
          f(view, run);
        },
        Qt::QueuedConnection);
  }

 private:
  ProgressSink& m_sink;
  TrainView* m_view;
  quint64 m_run;
  const Trainer& m_trainer;
  int m_conv = -1;
  FilterGridOptions m_options;
  Clock::time_point m_lastStep{}, m_lastFilters{};
};

TrainView::TrainView(AppState* state, JobTracker* jobs, QWidget* parent)
    : ViewBase(state, jobs, parent) {
  m_model = new QComboBox(this);
  m_model->addItem(tr("alex-small (9×9 stride 2 first layer)"), QStringLiteral("alex-small"));
  m_model->addItem(tr("zf-small (5×5 stride 1 first layer)"), QStringLiteral("zf-small"));
  m_model->setToolTip(
      tr("alex-small and zf-small take the dataset's image size and classes; "
         "another model keeps its input and gets a new last layer"));
  m_dataKind = new QComboBox(this);
  m_dataKind->addItem(tr("Fashion-MNIST"), QStringLiteral("fashion-mnist"));
  m_dataKind->addItem(tr("CIFAR-10 (binary batches)"), QStringLiteral("cifar10"));
  m_dataKind->addItem(tr("Class folders"), QStringLiteral("folder"));
  m_dataKind->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
  // Narrow enough for a 1024-pixel screen (the longest choice is cut, its tooltip is not).
  m_dataKind->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_dataKind->setMinimumContentsLength(13);
  m_model->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_model->setMinimumContentsLength(20);
  m_dataDir = new QLineEdit(this);
  m_dataDir->setMinimumWidth(80);
  m_dataBrowse = new QPushButton(tr("Browse…"), this);
  m_epochs = new QSpinBox(this);
  m_epochs->setRange(1, 1000);
  m_epochs->setValue(2);
  m_batch = new QSpinBox(this);
  m_batch->setRange(1, 4096);
  m_batch->setValue(64);
  m_learningRate = new QDoubleSpinBox(this);
  m_learningRate->setDecimals(4);
  m_learningRate->setRange(0.0001, 10.0);
  m_learningRate->setSingleStep(0.001);
  m_learningRate->setValue(0.01);
  m_output = new QLineEdit(this);
  m_output->setText(defaultOutputDir());
  m_outputBrowse = new QPushButton(tr("Browse…"), this);
  m_start = new QPushButton(tr("Start"), this);
  m_cancel = new QPushButton(tr("Cancel"), this);
  m_resume = new QPushButton(tr("Resume"), this);
  m_resume->setToolTip(tr("Continue the interrupted run in the output folder (its resume.json)"));
  m_progress = new QProgressBar(this);
  m_progress->setFormat(tr("step %v / %m"));
  m_progress->setRange(0, 1);
  m_progress->setValue(0);
  m_progress->setTextVisible(false);  // until a run starts
  m_eta = new QLabel(this);
  m_status = new QLabel(this);
  m_status->setWordWrap(true);
  m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_curves = new CurvesWidget(this);
  m_curves->setPlaceholder(tr("Start a run: its loss and accuracy appear here."));
  m_filters = new ImageView(this);
  m_filters->setPixelated(true);
  m_filters->setMaxFitScale(8.0);
  m_filters->clear(tr("The first layer's filters, as they train."));
  m_checkpoints = new QListWidget(this);
  m_open = new QPushButton(tr("Open"), this);
  m_open->setToolTip(tr("Open the selected checkpoint as the current model"));
  m_evolution = new QPushButton(tr("Show Evolution"), this);
  m_evolution->setToolTip(tr("Open this run in the evolution view"));

  auto* dataRow = new QHBoxLayout;
  dataRow->addWidget(m_dataKind);
  dataRow->addWidget(m_dataDir, 1);
  dataRow->addWidget(m_dataBrowse);
  auto* outRow = new QHBoxLayout;
  outRow->addWidget(m_output, 1);
  outRow->addWidget(m_outputBrowse);
  auto* settings = new QGroupBox(tr("Run"), this);
  auto* form = new QFormLayout(settings);
  form->addRow(tr("Architecture:"), m_model);
  form->addRow(tr("Data:"), dataRow);
  form->addRow(tr("Epochs:"), m_epochs);
  form->addRow(tr("Batch:"), m_batch);
  form->addRow(tr("Learning rate:"), m_learningRate);
  form->addRow(tr("Output folder:"), outRow);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_start);
  buttons->addWidget(m_cancel);
  buttons->addWidget(m_resume);
  buttons->addStretch(1);
  form->addRow(buttons);
  form->addRow(m_progress);
  form->addRow(m_eta);
  form->addRow(m_status);

  auto* cps = new QGroupBox(tr("Checkpoints"), this);
  auto* cpsLayout = new QVBoxLayout(cps);
  cpsLayout->addWidget(m_checkpoints, 1);
  auto* cpButtons = new QHBoxLayout;
  cpButtons->addWidget(m_open);
  cpButtons->addWidget(m_evolution);
  cpButtons->addStretch(1);
  cpsLayout->addLayout(cpButtons);

  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(settings);
  leftLayout->addWidget(cps, 1);
  auto* curvesBox = new QGroupBox(tr("Loss and accuracy"), this);
  (new QVBoxLayout(curvesBox))->addWidget(m_curves);
  auto* filtersBox = new QGroupBox(tr("First-layer filters"), this);
  (new QVBoxLayout(filtersBox))->addWidget(m_filters);
  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(curvesBox);
  right->addWidget(filtersBox);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 3);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(split);

  auto dataKindChanged = [this] {
    const bool fashion = m_dataKind->currentData().toString() == "fashion-mnist";
    m_dataDir->setPlaceholderText(
        fashion
            ? tr("%1 (Debian's dataset-fashion-mnist)").arg(QString::fromLatin1(kFashionMnistDir))
            : tr("folder (required)"));
  };
  dataKindChanged();
  connect(m_dataKind, &QComboBox::currentIndexChanged, this, dataKindChanged);
  connect(m_dataBrowse, &QPushButton::clicked, this, &TrainView::browseData);
  connect(m_outputBrowse, &QPushButton::clicked, this, &TrainView::browseOutput);
  connect(m_output, &QLineEdit::textEdited, this, [this] { m_outputEdited = true; });
  connect(m_output, &QLineEdit::textChanged, this, &TrainView::updateButtons);
  connect(m_model, &QComboBox::currentIndexChanged, this, [this] {
    if (!m_outputEdited) m_output->setText(defaultOutputDir());
  });
  connect(m_start, &QPushButton::clicked, this, &TrainView::start);
  connect(m_cancel, &QPushButton::clicked, this, &TrainView::cancel);
  connect(m_resume, &QPushButton::clicked, this, &TrainView::resume);
  connect(m_open, &QPushButton::clicked, this, &TrainView::openSelected);
  connect(m_checkpoints, &QListWidget::itemDoubleClicked, this, &TrainView::openSelected);
  connect(m_checkpoints, &QListWidget::currentRowChanged, this, &TrainView::updateButtons);
  connect(m_evolution, &QPushButton::clicked, this, [this] {
    if (!m_runDir.isEmpty()) emit showEvolutionRequested(m_runDir);
  });
  connect(m_jobs, &JobTracker::jobEnded, this, [this](const QString& slot, quint64 id) {
    if (slot == kJob && id == m_jobId) onJobEnded(id);
  });
  // The open model as a third choice (trained from scratch on the dataset).
  connect(m_state, &AppState::modelChanged, this, [this] {
    const int i = m_model->findData(QStringLiteral("open"), Qt::UserRole + 1);
    const QString spec = m_state->modelSpec();
    const bool usable = !spec.isEmpty() && spec != "alex-small" && spec != "zf-small" &&
                        m_state->modelWeights().isEmpty();
    if (i >= 0 && !usable) m_model->removeItem(i);
    if (!usable) return;
    const QString text = tr("the open model: %1").arg(QFileInfo(spec).fileName());
    if (i >= 0) {
      m_model->setItemText(i, text);
      m_model->setItemData(i, spec);
    } else {
      m_model->addItem(text, spec);
      m_model->setItemData(m_model->count() - 1, QStringLiteral("open"), Qt::UserRole + 1);
    }
  });
  updateButtons();
}

QString TrainView::defaultOutputDir() const {
  QString base = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
  if (base.isEmpty()) base = QDir::homePath();
  const QString model = QFileInfo(m_model->currentData().toString()).completeBaseName();
  return QDir(base).filePath(
      QStringLiteral("zfvis-runs/%1-%2")
          .arg(model, QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss")));
}

void TrainView::setArchitecture(const QString& model) {
  int i = m_model->findData(model);
  if (i < 0) {
    m_model->addItem(QFileInfo(model).fileName(), model);
    i = m_model->count() - 1;
  }
  m_model->setCurrentIndex(i);
}

void TrainView::setData(const QString& spec) {
  const int colon = spec.indexOf(QLatin1Char(':'));
  const QString kind = colon < 0 ? spec : spec.left(colon);
  const int i = m_dataKind->findData(kind);
  m_dataKind->setCurrentIndex(std::max(0, i));
  m_dataDir->setText(colon < 0 ? QString() : spec.mid(colon + 1));
}

void TrainView::setOutputDir(const QString& dir) {
  m_outputEdited = true;
  m_output->setText(dir);
}

void TrainView::setSchedule(int epochs, int batch, double learningRate) {
  m_epochs->setValue(epochs);
  m_batch->setValue(batch);
  m_learningRate->setValue(learningRate);
}

QString TrainView::dataSpec() const {
  const QString kind = m_dataKind->currentData().toString();
  const QString dir = m_dataDir->text().trimmed();
  return dir.isEmpty() ? kind : kind + ":" + dir;
}

QString TrainView::outputDir() const {
  return m_output->text().trimmed();
}

TrainConfig TrainView::config() const {
  TrainConfig c;
  c.model = m_model->currentData().toString().toStdString();
  c.data = dataSpec().toStdString();
  c.epochs = m_epochs->value();
  c.batch = m_batch->value();
  c.learningRate = m_learningRate->value();
  return c;
}

void TrainView::start() {
  launch(false);
}
void TrainView::resume() {
  launch(true);
}

void TrainView::cancel() {
  if (!isTraining()) return;
  m_jobs->cancel(kJob);
  m_status->setText(tr("Stopping: writing the resume state…"));
  m_cancel->setEnabled(false);
}

void TrainView::launch(bool resume) {
  if (isTraining()) return;
  // A new run into the suggested folder: a fresh suggestion when that one holds a run already
  // (the field keeps showing the last run, so Resume applies to it).
  if (const QDir used(outputDir()); !resume && !m_outputEdited && used.exists() && !used.isEmpty())
    m_output->setText(defaultOutputDir());
  const QString dir = outputDir();
  if (dir.isEmpty()) {
    m_status->setText(tr("Choose an output folder."));
    return;
  }
  const TrainConfig cfg = config();
  const quint64 run = ++m_run;
  m_runDir = dir;
  m_finished = false;
  m_lastStep = 0;
  m_checkpoints->clear();
  m_curves->clear();
  m_filters->clear(tr("Loading the data…"));
  m_progress->setRange(0, 1);
  m_progress->setValue(0);
  m_progress->setTextVisible(true);
  m_eta->clear();
  m_status->setText(resume ? tr("Resuming %1…").arg(dir) : tr("Loading the data…"));
  const auto out = toPath(dir);
  // The job's value is ignored (its end is handled in onJobEnded, which also sees cancelled
  // runs); failures go to the error reporter as one line.
  m_jobId = m_jobs->start(
      kJob, resume ? tr("Resuming the training run") : tr("Training %1").arg(toQString(cfg.model)),
      [this, run, cfg, out, resume](ProgressSink& sink) {
        std::unique_ptr<Trainer> trainer =
            resume ? Trainer::resume(out) : Trainer::create(cfg, out);
        TrainRelay relay(sink, this, run, *trainer);
        const int64_t total = trainer->totalSteps(), done = trainer->step();
        const QString network =
            QStringLiteral("%1 on %2")
                .arg(toQString(trainer->network().name), toQString(trainer->dataset().name));
        // A resumed run shows its history too: the log so far and the checkpoints written.
        std::vector<LogRow> rows = trainer->log();
        std::vector<RunCheckpoint> written;
        if (resume) written = listRunCheckpoints(out);
        relay.post([total, done, network, rows, written](TrainView* v, quint64 r) {
          v->onStarted(r, total, done, network);
          for (const LogRow& row : rows) v->onLogRow(r, row);
          for (const RunCheckpoint& c : written)
            v->onCheckpoint(r, {c.step, c.epoch, c.file, c.testAccuracy});
        });
        relay.postFilters();
        const TrainOutcome outcome = trainer->run(&relay);
        return outcome.finished;
      },
      [this, run](bool finished) {
        if (run == m_run) m_finished = finished;
      });
  updateButtons();
}

void TrainView::onStarted(quint64 run, int64_t totalSteps, int64_t done, const QString& network) {
  if (run != m_run) return;
  m_progress->setRange(0, int(std::min<int64_t>(totalSteps, std::numeric_limits<int>::max())));
  m_progress->setValue(int(done));
  m_curves->setStepRange(totalSteps);
  m_status->setText(tr("Training %1 into %2").arg(network, QDir::toNativeSeparators(m_runDir)));
}

void TrainView::onStep(quint64 run, const StepReport& r) {
  if (run != m_run) return;
  m_lastStep = r.step;
  m_progress->setRange(0, int(std::min<int64_t>(r.totalSteps, std::numeric_limits<int>::max())));
  m_progress->setValue(int(r.step));
  QString text = tr("epoch %1 · loss %2 · %3 elapsed")
                     .arg(r.epoch + 1)
                     .arg(r.loss, 0, 'f', 3)
                     .arg(duration(r.seconds));
  if (r.step > 0 && r.step < r.totalSteps)
    text +=
        tr(" · ETA %1").arg(duration(r.seconds / double(r.step) * double(r.totalSteps - r.step)));
  m_eta->setText(text);
}

void TrainView::onLogRow(quint64 run, const LogRow& row) {
  if (run == m_run) m_curves->appendRow(row);
}

void TrainView::onCheckpoint(quint64 run, const CheckpointReport& c) {
  if (run != m_run) return;
  QString text = tr("step %1 · epoch %2").arg(c.step).arg(c.epoch, 0, 'f', 2);
  if (c.testAccuracy) text += tr(" · %1% test").arg(100.0 * *c.testAccuracy, 0, 'f', 1);
  text += QStringLiteral(" — ") + toQString(c.file.filename().string());
  auto* item = new QListWidgetItem(text, m_checkpoints);
  item->setData(Qt::UserRole, toQString(c.file.string()));
  item->setToolTip(toQString(c.file.string()));
  m_checkpoints->scrollToBottom();
  updateButtons();
}

void TrainView::onFilters(quint64 run, const QImage& image) {
  if (run != m_run || image.isNull()) return;
  m_filtersImage = image;
  m_filters->setImage(image, m_filterUpdates > 0);
  ++m_filterUpdates;
}

void TrainView::onJobEnded(quint64) {
  m_jobId = 0;
  const bool resumable = QFileInfo::exists(QDir(m_runDir).filePath("resume.json"));
  if (m_finished)
    m_status->setText(tr("Finished: %1 checkpoints in %2. Open one, or Show Evolution.")
                          .arg(m_checkpoints->count())
                          .arg(QDir::toNativeSeparators(m_runDir)));
  else if (resumable)
    m_status->setText(tr("Stopped at step %1; the run folder keeps a resume state (Resume "
                         "continues it).")
                          .arg(m_lastStep));
  else
    m_status->setText(tr("Stopped."));
  m_eta->clear();
  updateButtons();
  emit trainingEnded(m_finished);
}

void TrainView::updateButtons() {
  const bool training = isTraining();
  m_start->setEnabled(!training);
  m_cancel->setEnabled(training);
  m_resume->setEnabled(!training && QFileInfo::exists(QDir(outputDir()).filePath("resume.json")));
  m_open->setEnabled(m_checkpoints->currentRow() >= 0);
  m_evolution->setEnabled(!m_runDir.isEmpty() && m_checkpoints->count() > 0);
  for (QWidget* w : {static_cast<QWidget*>(m_model), static_cast<QWidget*>(m_dataKind),
                     static_cast<QWidget*>(m_dataDir), static_cast<QWidget*>(m_dataBrowse),
                     static_cast<QWidget*>(m_epochs), static_cast<QWidget*>(m_batch),
                     static_cast<QWidget*>(m_learningRate), static_cast<QWidget*>(m_output),
                     static_cast<QWidget*>(m_outputBrowse)})
    w->setEnabled(!training);
}

void TrainView::openSelected() {
  QListWidgetItem* item = m_checkpoints->currentItem();
  if (item) emit openModelRequested(item->data(Qt::UserRole).toString());
}

void TrainView::browseData() {
  askFolder(this, tr("Choose the Dataset Folder"), "dataset",
            [this](const QString& dir) { m_dataDir->setText(dir); });
}

void TrainView::browseOutput() {
  auto* dialog = new QFileDialog(this, tr("Choose the Run Folder"), outputDir());
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setFileMode(QFileDialog::Directory);
  connect(dialog, &QFileDialog::fileSelected, this,
          [this](const QString& dir) { setOutputDir(dir); });
  dialog->open();
}

std::optional<ViewExport> TrainView::exportView() const {
  if (m_filtersImage.isNull()) return std::nullopt;
  ViewExport e;
  e.image = toBgrMat(m_filtersImage);
  // The model trained, not the window's open model.
  e.text = pictureText("train", config().model, false, std::string());
  e.text.push_back({"zfvis:run", toStdString(m_runDir)});
  e.stem = QStringLiteral("training-filters");
  return e;
}

}  // namespace zfvis::ui
