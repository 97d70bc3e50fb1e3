#include "ui/views/projection_view.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSplitter>
#include <QVBoxLayout>
#include <opencv2/imgproc.hpp>

#include "core/base/position_text.h"
#include "core/render/projection_picture.h"
#include "ui/convert.h"
#include "ui/image_view.h"
#include "ui/settings.h"

namespace zfvis::ui {

Projector& SharedProjector::get() {
  if (!projector) projector = std::make_unique<Projector>(activations);
  return *projector;
}

namespace {

std::vector<std::string> layerNames(const NetworkDef& def) {
  std::vector<std::string> names;
  for (const auto& l : def.layers) names.push_back(l.name);
  return names;
}

}  // namespace

ProjectionView::ProjectionView(AppState* state, JobTracker* jobs, QWidget* parent)
    : ViewBase(state, jobs, parent) {
  m_view = new ImageView(this);
  m_view->setPixelated(true);
  m_view->setMaxFitScale(4.0);
  m_overlay = new ImageView(this);
  m_overlay->setMaxFitScale(4.0);
  m_topView = new ImageView(this);
  m_topView->setMaxFitScale(2.0);
  for (ImageView* v : {m_view, m_overlay, m_topView})
    v->setMessage(tr("Open a model and an image, then pick a channel."));

  m_mode = new QComboBox(this);
  m_mode->addItem(tr("Deconvnet"), int(ProjectionMode::Deconvnet));
  m_mode->addItem(tr("Guided backprop"), int(ProjectionMode::Guided));
  m_mode->addItem(tr("Saliency"), int(ProjectionMode::Saliency));
  m_mode->setToolTip(
      tr("How the signal passes each ReLU on the way down: deconvnet relu(g), "
         "guided relu(g)·[x>0], saliency g·[x>0]"));
  m_lrn = new QComboBox(this);
  m_lrn->addItem(tr("LRN gradient"), int(LrnBackward::Gradient));
  m_lrn->addItem(tr("LRN pass-through"), int(LrnBackward::Pass));
  m_crop = new QCheckBox(tr("Crop to receptive field"), this);
  m_showTop = new QCheckBox(tr("Top %1 channels").arg(kTopCount), this);
  m_mode->setCurrentIndex(Settings::viewOption("projection/mode", 0).toInt());
  m_lrn->setCurrentIndex(Settings::viewOption("projection/lrn", 0).toInt());
  m_crop->setChecked(Settings::viewOption("projection/crop", true).toBool());
  m_showTop->setChecked(Settings::viewOption("projection/top", true).toBool());
  m_info = new QLabel(this);
  m_info->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  m_info->setWordWrap(true);  // never cut: long layer names and values wrap

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Mode:"), this));
  bar->addWidget(m_mode);
  bar->addWidget(m_lrn);
  bar->addSpacing(8);
  bar->addWidget(m_crop);
  bar->addWidget(m_showTop);
  bar->addSpacing(12);
  bar->addStretch(1);
  auto* top = new QSplitter(Qt::Horizontal, this);
  top->addWidget(m_view);
  top->addWidget(m_overlay);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(top);
  split->addWidget(m_topView);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(bar);
  layout->addWidget(m_info);  // its own row: the whole text, wrapped when narrow
  layout->addWidget(split, 1);

  auto optionsChanged = [this] {
    Settings::setViewOption("projection/mode", m_mode->currentIndex());
    Settings::setViewOption("projection/lrn", m_lrn->currentIndex());
    Settings::setViewOption("projection/crop", m_crop->isChecked());
    Settings::setViewOption("projection/top", m_showTop->isChecked());
    m_topView->setVisible(m_showTop->isChecked());
    m_topDirty = true;
    invalidate();
  };
  connect(m_mode, &QComboBox::currentIndexChanged, this, optionsChanged);
  connect(m_lrn, &QComboBox::currentIndexChanged, this, optionsChanged);
  connect(m_crop, &QCheckBox::toggled, this, optionsChanged);
  connect(m_showTop, &QCheckBox::toggled, this, optionsChanged);
  m_topView->setVisible(m_showTop->isChecked());
  auto reset = [this] {
    m_jobs->cancel(kJob);
    m_jobs->cancel(kTopJob);
    m_topDirty = true;
    invalidate();
  };
  connect(m_state, &AppState::forwardChanged, this, reset);
  connect(m_state, &AppState::layerChanged, this, reset);
  // The LRN rule only matters for networks with an LRN layer.
  connect(m_state, &AppState::modelChanged, this, &ProjectionView::updateLrnChoice);
  updateLrnChoice();
  auto reproject = [this] {
    m_jobs->cancel(kJob);
    invalidate();
  };
  connect(m_state, &AppState::channelChanged, this, reproject);
  connect(m_state, &AppState::positionChanged, this, reproject);
  // Clicking a cell of the top grid selects that channel (core's grid geometry finds the cell).
  connect(m_topView, &ImageView::clicked, this, [this](QPoint pixel) {
    if (!m_top || m_top->projections.empty()) return;
    const int i =
        projectionGridCellAt(cv::Size(m_top->image.width(), m_top->image.height()),
                             int(m_top->projections.size()), cv::Point(pixel.x(), pixel.y()));
    if (i >= 0) m_state->setChannel(m_top->projections[size_t(i)].channel);
  });
}

void ProjectionView::updateLrnChoice() {
  const NetworkDef* def = m_state->def();
  const bool hasLrn =
      def && std::any_of(def->layers.begin(), def->layers.end(),
                         [](const LayerSpec& l) { return l.type == LayerType::LRN; });
  m_lrn->setEnabled(hasLrn);
  m_lrn->setToolTip(
      hasLrn ? tr("How the projection passes the LRN layers: their true gradient, or unchanged")
      : def  ? tr("%1 has no LRN layer: this choice changes nothing")
                  .arg(QString::fromStdString(def->name))
            : tr("Open a model with LRN layers to choose how projections pass them"));
}

bool ProjectionView::showsTop() const {
  return m_showTop->isChecked();
}

ProjectionMode ProjectionView::mode() const {
  return static_cast<ProjectionMode>(m_mode->currentData().toInt());
}

void ProjectionView::setMode(ProjectionMode mode) {
  m_mode->setCurrentIndex(m_mode->findData(int(mode)));
}

LrnBackward ProjectionView::lrn() const {
  return static_cast<LrnBackward>(m_lrn->currentData().toInt());
}

std::shared_ptr<SharedProjector> ProjectionView::projectorFor(
    const std::shared_ptr<const Activations>& acts, bool top) {
  // The selected channel and the top grid use separate projectors, so a click never waits for
  // the grid's batched pass.
  std::shared_ptr<SharedProjector>& slot = top ? m_topProjector : m_projector;
  if (!slot || slot->activations != acts) {
    slot = std::make_shared<SharedProjector>();
    slot->activations = acts;
  }
  return slot;
}

void ProjectionView::refresh() {
  auto fwd = m_state->forward();
  const int layer = m_state->layer(), channel = m_state->channel();
  if (!fwd || layer < 0 || channel < 0) {
    m_picture.reset();
    m_top.reset();
    m_info->clear();
    const QString msg = m_state->net() && !m_state->source().empty()
                            ? tr("Computing…")
                            : tr("Open a model and an image, then pick a channel.");
    for (ImageView* v : {m_view, m_overlay, m_topView}) v->clear(msg);
    return;
  }
  auto shared = projectorFor(fwd->activations, false);
  ProjectionRequest request;
  request.layer = size_t(layer);
  request.channel = channel;
  request.position = m_state->position();  // nullopt: the channel's maximum
  request.mode = mode();
  request.lrn = lrn();
  ProjectionViewOptions vo;
  vo.crop = m_crop->isChecked();
  const Preprocess preset = fwd->preset;
  const cv::Mat input = fwd->inputView;
  m_jobs->start(
      kJob, tr("Projecting %1 #%2").arg(m_state->layerName(layer)).arg(channel),
      [shared, request, vo, preset, input](ProgressSink&) {
        const auto t0 = std::chrono::steady_clock::now();
        auto pic = std::make_shared<ProjectionPicture>();
        pic->activations = shared->activations;
        {
          std::lock_guard lock(shared->mutex);
          pic->projection = shared->get().project(request);
        }
        const NetworkDef& def = shared->activations->net().def();
        pic->viewBgr = renderProjectionView(pic->projection, input, preset, layerNames(def), vo);
        pic->view = toQImage(pic->viewBgr);
        pic->overlay = toQImage(renderProjectionOverlay(pic->projection, input, preset));
        pic->milliseconds =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        return std::shared_ptr<const ProjectionPicture>(std::move(pic));
      },
      [this, chosen = request.position.has_value()](std::shared_ptr<const ProjectionPicture> pic) {
        const bool same = m_picture && m_picture->view.size() == pic->view.size();
        m_picture = std::move(pic);
        const Projection& p = m_picture->projection;
        m_view->setImage(m_picture->view, same);
        m_overlay->setImage(m_picture->overlay, true);
        m_overlay->setMarks(
            {{QRectF(p.field.x, p.field.y, p.field.width, p.field.height), QColor(255, 80, 60)}});
        m_info->setText(
            tr("%1 #%2 at %3 = %4 · %5 · field %6 · %7 ms")
                .arg(m_state->layerName(int(p.layer)))
                .arg(p.channel)
                .arg(positionText(p.position) + (chosen ? tr(" (chosen)") : tr(" (maximum)")))
                .arg(double(p.activation), 0, 'g', 4)
                .arg(QString::fromUtf8(projectionModeName(p.mode)))
                .arg(QString::fromStdString(
                    regionText(p.field.y, p.field.x, p.field.height, p.field.width)))
                .arg(m_picture->milliseconds, 0, 'f', 0));
        m_info->setToolTip(m_info->text());
        emit projectionShown(p.channel);
      },
      [this](const QString& message) {
        m_picture.reset();
        m_info->clear();
        m_view->clear(message);
        m_overlay->clear();
      },
      Lane::Engine);
  if (m_topDirty) refreshTop();
}

void ProjectionView::refreshTop() {
  m_topDirty = false;
  auto fwd = m_state->forward();
  if (!m_showTop->isChecked() || !fwd) {
    m_top.reset();
    m_topView->clear();
    return;
  }
  auto shared = projectorFor(fwd->activations, true);
  const size_t layer = size_t(m_state->layer());
  const ProjectionMode md = mode();
  const LrnBackward lr = lrn();
  ProjectionViewOptions vo;
  vo.crop = m_crop->isChecked();
  vo.minCellSize = 96;
  const Preprocess preset = fwd->preset;
  const cv::Mat input = fwd->inputView;
  m_topView->setMessage(tr("Projecting the %1 strongest channels…").arg(kTopCount));
  m_jobs->start(
      kTopJob, tr("Projecting the top %1 channels").arg(kTopCount),
      [shared, layer, md, lr, vo, preset, input](ProgressSink& sink) {
        auto top = std::make_shared<TopProjections>();
        top->activations = shared->activations;
        top->layer = layer;
        {
          std::lock_guard lock(shared->mutex);
          Projector& p = shared->get();
          top->projections =
              p.projectChannels(layer, p.topChannels(layer, kTopCount), md, lr, &sink);
        }
        top->bgr = renderProjectionGrid(top->projections, input, preset,
                                        layerNames(shared->activations->net().def()), vo);
        top->image = toQImage(top->bgr);
        return std::shared_ptr<const TopProjections>(std::move(top));
      },
      [this](std::shared_ptr<const TopProjections> top) {
        const bool same = m_top && m_top->image.size() == top->image.size();
        m_top = std::move(top);
        m_topView->setImage(m_top->image, same);
      },
      [this](const QString& message) {
        m_top.reset();
        m_topView->clear(message);
      },
      Lane::Engine);
}

std::optional<ViewExport> ProjectionView::exportView() const {
  if (!m_picture) return std::nullopt;
  const Projection& p = m_picture->projection;
  const std::string layer = m_state->layerName(int(p.layer)).toStdString();
  ViewExport e;
  e.image = m_picture->viewBgr;
  e.text = baseMetadata();
  e.text.push_back({"zfvis:layer", layer});
  e.text.push_back({"zfvis:channel", std::to_string(p.channel)});
  e.text.push_back(
      {"zfvis:position", std::to_string(p.position.y) + "," + std::to_string(p.position.x)});
  e.text.push_back({"zfvis:mode", projectionModeName(p.mode)});
  e.arrays.push_back({"", p.image});
  if (m_top && m_top->activations == m_picture->activations) {
    std::vector<Tensor> parts;
    for (const Projection& q : m_top->projections)
      parts.push_back(q.image.reshaped(q.image.shape().withBatch(1)));
    if (!parts.empty()) e.arrays.push_back({"-top", Tensor::stack(parts)});
  }
  e.stem = QString::fromStdString(layer) + "-" + QString::number(p.channel) + "-" +
           QString::fromUtf8(projectionModeName(p.mode));
  return e;
}

}  // namespace zfvis::ui
