#include "ui/views/occlusion_view.h"

#include <chrono>

#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include "core/render/occlusion_picture.h"
#include "ui/convert.h"
#include "ui/image_view.h"

namespace zfvis::ui {

OcclusionView::OcclusionView(AppState* state, JobTracker* jobs, QWidget* parent)
    : ViewBase(state, jobs, parent) {
  m_heatmap = new ImageView(this);
  m_labels = new ImageView(this);
  for (ImageView* v : {m_heatmap, m_labels}) {
    v->setMaxFitScale(3.0);
    v->setMessage(tr("Press Run to slide a grey square over the image."));
  }
  // Defaults: the paper's 50 and 8 pixels on 224, scaled to the model's input (modelChanged).
  m_patch = new QSpinBox(this);
  m_patch->setRange(1, 4096);
  m_patch->setValue(50);
  m_patch->setSuffix(tr(" px"));
  m_patch->setToolTip(
      tr("Side of the grey square, in input pixels (default: 50 on 224 pixels, as in the paper, "
         "scaled to the input)"));
  m_stride = new QSpinBox(this);
  m_stride->setRange(1, 4096);
  m_stride->setValue(8);
  m_stride->setSuffix(tr(" px"));
  m_stride->setToolTip(tr("Step between placements (default: 8 on 224 pixels, scaled)"));
  // The target: "top-1" or any class, found by typing part of its name or number.
  m_target = new QComboBox(this);
  m_target->setEditable(true);
  m_target->setInsertPolicy(QComboBox::NoInsert);
  m_target->setMinimumContentsLength(16);
  m_target->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_target->completer()->setCompletionMode(QCompleter::PopupCompletion);
  m_target->completer()->setFilterMode(Qt::MatchContains);
  m_target->completer()->setCaseSensitivity(Qt::CaseInsensitive);
  m_target->setToolTip(
      tr("Class whose probability is mapped (top-1: the unoccluded top class); type part of a "
         "name or number to find it"));
  fillTargets();
  m_feature = new QCheckBox(tr("Selected feature map"), this);
  m_feature->setToolTip(tr("Also record the total activation of the selected layer and channel"));
  m_auto = new QCheckBox(tr("Auto"), this);
  m_auto->setToolTip(tr("Run again whenever the model or image changes"));
  m_run = new QPushButton(tr("Run"), this);
  m_cancel = new QPushButton(tr("Cancel"), this);
  m_cancel->setEnabled(false);
  m_progress = new QProgressBar(this);
  m_progress->setRange(0, 1000);
  m_progress->setValue(0);
  m_progress->setMaximumWidth(200);
  m_progress->setTextVisible(false);
  m_info = new QLabel(this);
  m_info->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  m_info->setWordWrap(true);  // never cut: long class names wrap

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Patch:"), this));
  bar->addWidget(m_patch);
  bar->addWidget(new QLabel(tr("Stride:"), this));
  bar->addWidget(m_stride);
  bar->addWidget(new QLabel(tr("Target:"), this));
  bar->addWidget(m_target);
  bar->addWidget(m_feature);
  bar->addStretch(1);
  auto* bar2 = new QHBoxLayout;
  bar2->addWidget(m_run);
  bar2->addWidget(m_cancel);
  bar2->addWidget(m_progress);
  bar2->addWidget(m_auto);
  bar2->addSpacing(8);
  bar2->addStretch(1);
  // Core's pictures are wide (image, map and legend side by side): stack them.
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(m_heatmap);
  split->addWidget(m_labels);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(bar);
  layout->addLayout(bar2);
  layout->addWidget(m_info);  // its own row: the whole text, wrapped when narrow
  layout->addWidget(split, 1);

  connect(m_run, &QPushButton::clicked, this, &OcclusionView::run);
  connect(m_cancel, &QPushButton::clicked, this, &OcclusionView::cancel);
  connect(m_jobs, &JobTracker::jobProgress, this,
          [this](const QString& slot, int permille, const QString& text) {
            if (slot != kJob) return;
            m_progress->setValue(permille);
            m_progress->setFormat(tr("%1 placements").arg(text));
            m_progress->setTextVisible(true);
            m_progress->setToolTip(tr("%1 placements").arg(text));
          });
  connect(m_jobs, &JobTracker::jobCancelled, this, [this](const QString& slot) {
    if (slot != kJob) return;
    setRunning(false);
    m_info->setText(tr("Cancelled."));
    if (!m_picture) showMessage(tr("Cancelled. Press Run to slide a grey square over the image."));
  });
  // A result belongs to one model and input: drop it (and stop a run) when they change.
  connect(m_state, &AppState::forwardChanged, this, [this] {
    if (m_picture && m_picture->activations == m_state->activations()) return;
    if (isRunning()) m_jobs->cancel(kJob);
    m_picture.reset();
    showMessage(tr("Press Run to slide a grey square over the image."));
    m_info->clear();
    invalidate();
  });
  connect(m_state, &AppState::modelChanged, this, [this] {
    const NetworkDef* def = m_state->def();
    if (def && def->input.shape.rank() == 3) {
      const int h = int(def->input.shape[1]), w = int(def->input.shape[2]);
      const int side = std::min(h, w);
      m_patch->setMaximum(side);
      m_stride->setMaximum(side);
      const OcclusionDefaults d = defaultOcclusionGeometry(w, h);
      setPatch(d.patch, d.stride);
    }
  });
  connect(m_state, &AppState::classNamesChanged, this, &OcclusionView::fillTargets);
}

void OcclusionView::setAutoRun(bool autoRun) {
  m_auto->setChecked(autoRun);
  invalidate();
}

void OcclusionView::setPatch(int patch, int stride) {
  m_patch->setValue(patch);
  m_stride->setValue(stride);
}

int OcclusionView::patch() const {
  return m_patch->value();
}

int OcclusionView::stride() const {
  return m_stride->value();
}

void OcclusionView::fillTargets() {
  const int keep = targetClass();
  const QSignalBlocker block(m_target);
  m_target->clear();
  m_target->addItem(tr("top-1"), -1);
  const auto& names = m_state->classNames();
  for (int c = 0; c < int(names.size()); ++c)
    m_target->addItem(QStringLiteral("%1  %2").arg(c).arg(QString::fromStdString(names[size_t(c)])),
                      c);
  setTargetClass(keep >= 0 && keep < int(names.size()) ? keep : -1);
  if (m_target->lineEdit()) m_target->lineEdit()->setCursorPosition(0);  // the start in view
}

int OcclusionView::targetClass() const {
  if (m_target->count() == 0) return -1;
  const QString text = m_target->currentText().trimmed();
  int i = m_target->findText(text, Qt::MatchFixedString);
  if (i < 0) {
    // A bare number, or a name typed in full.
    bool isNumber = false;
    const int k = text.toInt(&isNumber);
    if (isNumber) return k >= 0 && k < m_target->count() - 1 ? k : -2;
    for (int j = 1; j < m_target->count() && i < 0; ++j)
      if (m_state->className(j - 1).compare(text, Qt::CaseInsensitive) == 0) i = j;
    if (text.isEmpty()) i = 0;
  }
  return i < 0 ? -2 : m_target->itemData(i).toInt();
}

void OcclusionView::setTargetClass(int index) {
  m_target->setCurrentIndex(index >= 0 && index + 1 < m_target->count() ? index + 1 : 0);
}

void OcclusionView::showMessage(const QString& text) {
  m_heatmap->clear(text);
  m_labels->clear(text);
}

bool OcclusionView::isRunning() const {
  return m_jobs->isBusy(kJob);
}

void OcclusionView::setRunning(bool running) {
  m_run->setEnabled(!running);
  m_cancel->setEnabled(running);
  if (!running) {
    m_progress->setValue(0);
    m_progress->setTextVisible(false);
  }
}

void OcclusionView::refresh() {
  if (m_auto->isChecked() && !m_picture && !isRunning() && m_state->forward()) run();
}

void OcclusionView::cancel() {
  m_jobs->cancel(kJob);
}

void OcclusionView::run() {
  auto fwd = m_state->forward();
  if (!fwd) {
    m_info->setText(tr("Open a model and an image first."));
    return;
  }
  auto net = m_state->net();
  auto acts = fwd->activations;
  OcclusionOptions o;
  o.patch = m_patch->value();
  o.stride = m_stride->value();
  o.targetClass = targetClass();
  if (o.targetClass < -1) {
    m_info->setText(
        tr("No class is named \"%1\": pick one from the list.").arg(m_target->currentText()));
    return;
  }
  std::string featureLayer;
  if (m_feature->isChecked() && m_state->layer() >= 0 && m_state->channel() >= 0) {
    o.layer = size_t(m_state->layer());
    o.channel = m_state->channel();
    featureLayer = m_state->layerName(m_state->layer()).toStdString();
  }
  const cv::Mat input = fwd->inputView;
  setRunning(true);
  m_progress->setValue(0);
  m_progress->setFormat(tr("starting…"));
  m_progress->setTextVisible(true);
  const std::vector<std::string> names = m_state->classNames();
  if (!m_picture)
    showMessage(
        tr("Computing the occlusion map (patch %1, stride %2)…").arg(o.patch).arg(o.stride));
  m_info->setText(tr("Running: patch %1, stride %2…").arg(o.patch).arg(o.stride));
  m_jobs->start(
      kJob, tr("Occlusion (patch %1, stride %2)").arg(o.patch).arg(o.stride),
      [net, acts, o, input, featureLayer, names](ProgressSink& sink) {
        const auto t0 = std::chrono::steady_clock::now();
        auto pic = std::make_shared<OcclusionPicture>();
        pic->activations = acts;
        pic->options = o;
        pic->featureLayer = featureLayer;
        // A CompiledNet of its own: its primitives are built and run on the occlusion thread
        // (see Lane), and a long run never holds up forward runs and projections.
        auto own = CompiledNet::compile(net->defPtr(), net->options());
        pic->result = runOcclusion(own, acts->input(), o, &sink);
        const int classes = int(acts->finalOutput().numel() / acts->finalOutput().shape()[0]);
        pic->heatmapBgr = renderOcclusionHeatmap(pic->result, input, names);
        pic->labelBgr = renderOcclusionLabelMap(pic->result, input, classes, names);
        if (!pic->result.featureActivation.empty())
          pic->featureBgr = renderOcclusionFeatureMap(pic->result, input);
        pic->heatmap = toQImage(pic->heatmapBgr);
        pic->labels = toQImage(pic->labelBgr);
        pic->feature = toQImage(pic->featureBgr);
        pic->milliseconds =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        return std::shared_ptr<const OcclusionPicture>(std::move(pic));
      },
      [this](std::shared_ptr<const OcclusionPicture> pic) {
        setRunning(false);
        if (pic->activations != m_state->activations()) return;
        m_picture = std::move(pic);
        const OcclusionResult& r = m_picture->result;
        // With a feature map recorded, it takes the place of the label map.
        m_heatmap->setImage(m_picture->heatmap);
        m_labels->setImage(m_picture->feature.isNull() ? m_picture->labels : m_picture->feature);
        m_info->setText(tr("%1 × %2 placements in %3 s · target %4 \"%5\": unoccluded p = %6")
                            .arg(r.rows)
                            .arg(r.cols)
                            .arg(m_picture->milliseconds / 1000.0, 0, 'f', 1)
                            .arg(r.targetClass)
                            .arg(m_state->className(r.targetClass))
                            .arg(double(r.baseProbability), 0, 'f', 4));
        m_info->setToolTip(m_info->text());
      },
      [this](const QString& message) {
        setRunning(false);
        m_info->setText(message);
        if (!m_picture) showMessage(tr("Press Run to slide a grey square over the image."));
      },
      Lane::Background);
}

std::optional<ViewExport> OcclusionView::exportView() const {
  if (!m_picture) return std::nullopt;
  const OcclusionResult& r = m_picture->result;
  ViewExport e;
  // What the view shows: the heat map above the label map, or above the feature map when one
  // was recorded (it takes the label map's place).
  e.image = stackOcclusionPictures({m_picture->heatmapBgr, m_picture->featureBgr.empty()
                                                               ? m_picture->labelBgr
                                                               : m_picture->featureBgr});
  e.text = baseMetadata();
  e.text.push_back({"zfvis:patch", std::to_string(r.patch)});
  e.text.push_back({"zfvis:stride", std::to_string(r.stride)});
  e.text.push_back({"zfvis:class", std::to_string(r.targetClass)});
  e.arrays.push_back({"", r.probability});
  e.intArrays.push_back({"-labels", NpyInt32{Shape{r.rows, r.cols}, r.topClass}});
  if (!r.featureActivation.empty()) {
    e.arrays.push_back({"-feature", r.featureActivation});
    e.text.push_back({"zfvis:layer", m_picture->featureLayer});
  }
  e.stem = QStringLiteral("occlusion-p%1-s%2").arg(r.patch).arg(r.stride);
  return e;
}

}  // namespace zfvis::ui
