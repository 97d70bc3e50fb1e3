#include "ui/views/occlusion_view.h"

#include <chrono>

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include "core/labels.h"
#include "core/render/occlusion_view.h"
#include "ui/convert.h"
#include "ui/image_view.h"
#include "ui/settings.h"

namespace zfvis::ui {

OcclusionView::OcclusionView(AppState* state, JobTracker* jobs, QWidget* parent)
    : ViewBase(state, jobs, parent) {
  m_heatmap = new ImageView(this);
  m_labels = new ImageView(this);
  for (ImageView* v : {m_heatmap, m_labels}) {
    v->setMaxFitScale(3.0);
    v->setMessage(tr("Press Run to slide a grey square over the image."));
  }
  m_patch = new QSpinBox(this);
  m_patch->setRange(1, 4096);
  m_patch->setValue(Settings::viewOption("occlusion/patch", 50).toInt());
  m_patch->setSuffix(tr(" px"));
  m_patch->setToolTip(tr("Side of the grey square, in input pixels"));
  m_stride = new QSpinBox(this);
  m_stride->setRange(1, 4096);
  m_stride->setValue(Settings::viewOption("occlusion/stride", 8).toInt());
  m_stride->setSuffix(tr(" px"));
  m_stride->setToolTip(tr("Step between placements"));
  m_target = new QSpinBox(this);
  m_target->setRange(-1, 100000);
  m_target->setValue(-1);
  m_target->setSpecialValueText(tr("top-1"));
  m_target->setToolTip(tr("Class whose probability is mapped (top-1: the unoccluded top class)"));
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
  m_info->setWordWrap(false);

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
  bar2->addWidget(m_info, 1);
  // Core's pictures are wide (image, map and legend side by side): stack them.
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(m_heatmap);
  split->addWidget(m_labels);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(bar);
  layout->addLayout(bar2);
  layout->addWidget(split, 1);

  connect(m_run, &QPushButton::clicked, this, &OcclusionView::run);
  connect(m_cancel, &QPushButton::clicked, this, &OcclusionView::cancel);
  connect(m_jobs, &JobTracker::jobProgress, this,
          [this](const QString& slot, int permille, const QString& text) {
            if (slot != kJob) return;
            m_progress->setValue(permille);
            m_progress->setToolTip(tr("%1 placements").arg(text));
          });
  connect(m_jobs, &JobTracker::jobCancelled, this, [this](const QString& slot) {
    if (slot != kJob) return;
    setRunning(false);
    m_info->setText(tr("Cancelled."));
  });
  // A result belongs to one model and input: drop it (and stop a run) when they change.
  connect(m_state, &AppState::forwardChanged, this, [this] {
    if (m_picture && m_picture->activations == m_state->activations()) return;
    if (isRunning()) m_jobs->cancel(kJob);
    m_picture.reset();
    m_heatmap->clear(tr("Press Run to slide a grey square over the image."));
    m_labels->clear(tr("Press Run to slide a grey square over the image."));
    m_info->clear();
    invalidate();
  });
  connect(m_state, &AppState::modelChanged, this, [this] {
    const NetworkDef* def = m_state->def();
    if (def && def->input.shape.rank() == 3) {
      const int side = int(std::min(def->input.shape[1], def->input.shape[2]));
      m_patch->setMaximum(side);
      m_stride->setMaximum(side);
    }
  });
}

void OcclusionView::setAutoRun(bool autoRun) {
  m_auto->setChecked(autoRun);
  invalidate();
}

void OcclusionView::setPatch(int patch, int stride) {
  m_patch->setValue(patch);
  m_stride->setValue(stride);
}

bool OcclusionView::isRunning() const {
  return m_jobs->isBusy(kJob);
}

void OcclusionView::setRunning(bool running) {
  m_run->setEnabled(!running);
  m_cancel->setEnabled(running);
  if (!running) m_progress->setValue(0);
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
  o.targetClass = m_target->value();
  std::string featureLayer;
  if (m_feature->isChecked() && m_state->layer() >= 0 && m_state->channel() >= 0) {
    o.layer = size_t(m_state->layer());
    o.channel = m_state->channel();
    featureLayer = m_state->layerName(m_state->layer()).toStdString();
  }
  Settings::setViewOption("occlusion/patch", o.patch);
  Settings::setViewOption("occlusion/stride", o.stride);
  const cv::Mat input = fwd->inputView;
  setRunning(true);
  m_progress->setValue(0);
  m_info->setText(tr("Running: patch %1, stride %2…").arg(o.patch).arg(o.stride));
  m_jobs->start(
      kJob, tr("Occlusion (patch %1, stride %2)").arg(o.patch).arg(o.stride),
      [net, acts, o, input, featureLayer](ProgressSink& sink) {
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
        pic->heatmapBgr = renderOcclusionHeatmap(pic->result, input);
        pic->labelBgr = renderOcclusionLabelMap(pic->result, input, classes);
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
        const int classes = int(m_picture->activations->finalOutput().numel());
        m_info->setText(tr("%1 × %2 placements in %3 s · target %4 \"%5\": unoccluded p = %6")
                            .arg(r.rows)
                            .arg(r.cols)
                            .arg(m_picture->milliseconds / 1000.0, 0, 'f', 1)
                            .arg(r.targetClass)
                            .arg(QString::fromStdString(classDisplayName(r.targetClass, classes)))
                            .arg(double(r.baseProbability), 0, 'f', 4));
        m_info->setToolTip(m_info->text());
      },
      [this](const QString& message) {
        setRunning(false);
        m_info->setText(message);
      },
      Lane::Background);
}

std::optional<ViewExport> OcclusionView::exportView() const {
  if (!m_picture) return std::nullopt;
  const OcclusionResult& r = m_picture->result;
  ViewExport e;
  e.image = m_picture->heatmapBgr;
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
