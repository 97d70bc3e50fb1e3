#include "ui/views/activations_view.h"

#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include "core/analysis/unit_response.h"
#include "core/base/error.h"
#include "core/base/position_text.h"
#include "ui/convert.h"
#include "ui/image_view.h"
#include "ui/layer_table_model.h"
#include "ui/settings.h"

namespace zfvis::ui {

namespace {

/// One sample's maps as (channels, height, width, vector) when drawable, else throws.
void mapGeometry(const Shape& s, const std::string& layer, int64_t& channels, int64_t& h,
                 int64_t& w) {
  if (s.rank() == 4 && s[0] == 1) {
    channels = s[1], h = s[2], w = s[3];
  } else if (s.rank() == 2 && s[0] == 1) {
    channels = s[1], h = 1, w = 1;
  } else {
    throw Error("layer '" + layer + "' has output " + s.str() +
                ", which cannot be drawn as feature maps");
  }
}

}  // namespace

int fittingGridScale(const Shape& maps, const ActivationGridOptions& options, QSize viewport) {
  ActivationGridOptions one = options;
  one.scale = 1;
  const cv::Size base = activationGridLayout(maps, one).size();
  if (base.width <= 0 || base.height <= 0) return 1;
  const double f = std::min(double(viewport.width() - 8) / base.width,
                            double(viewport.height() - 8) / base.height);
  return std::clamp(static_cast<int>(std::floor(f)), 1, 16);
}

ActivationsView::ActivationsView(AppState* state, JobTracker* jobs, QWidget* parent)
    : ViewBase(state, jobs, parent) {
  m_view = new ImageView(this);
  m_view->setPixelated(true);
  m_view->setMaxFitScale(6.0);
  m_view->setMessage(tr("Open a model and an image to see its feature maps."));

  m_colormap = new QComboBox(this);
  m_colormap->addItem(tr("Viridis"), static_cast<int>(Colormap::Viridis));
  m_colormap->addItem(tr("Gray"), static_cast<int>(Colormap::Gray));
  m_colormap->setToolTip(tr("Colormap of the feature maps"));
  m_normalization = new QComboBox(this);
  m_normalization->addItem(tr("Per map"), static_cast<int>(MapNormalization::PerMap));
  m_normalization->addItem(tr("Per layer"), static_cast<int>(MapNormalization::PerLayer));
  m_normalization->setToolTip(
      tr("Per map: each map stretched to its own range. Per layer: one range for the layer, so "
         "weak maps look weak."));
  m_markMax = new QCheckBox(tr("Mark maxima"), this);
  m_markMax->setToolTip(tr("Outline each map's largest activation"));
  m_colormap->setCurrentIndex(Settings::viewOption("activations/colormap", 0).toInt());
  m_normalization->setCurrentIndex(Settings::viewOption("activations/normalization", 0).toInt());
  m_markMax->setChecked(Settings::viewOption("activations/markMax", false).toBool());
  m_snap = new QCheckBox(tr("Snap to maximum"), this);
  m_snap->setToolTip(
      tr("A click on a map selects the channel's largest activation (on) or the clicked "
         "position (off); the projection view projects from it"));
  m_snap->setChecked(Settings::viewOption("activations/snap", true).toBool());

  auto* fit = new QToolButton(this);
  fit->setText(tr("Fit"));
  fit->setToolTip(tr("Fit the grid into the view (double-click, 0)"));
  auto* actual = new QToolButton(this);
  actual->setText(tr("1:1"));
  actual->setToolTip(tr("One screen pixel per grid pixel (1)"));
  m_info = new QLabel(this);
  m_info->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  m_info->setWordWrap(true);  // never cut: long layer names and values wrap
  m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Colormap:"), this));
  bar->addWidget(m_colormap);
  bar->addSpacing(8);
  bar->addWidget(new QLabel(tr("Normalise:"), this));
  bar->addWidget(m_normalization);
  bar->addSpacing(8);
  bar->addWidget(m_markMax);
  bar->addWidget(m_snap);
  bar->addSpacing(8);
  bar->addWidget(fit);
  bar->addWidget(actual);
  bar->addSpacing(12);
  bar->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(bar);
  layout->addWidget(m_info);  // its own row: the whole text, wrapped when narrow
  layout->addWidget(m_view, 1);

  // After a resize, draw the grid again when a different integer scale would fit.
  m_resizeTimer = new QTimer(this);
  m_resizeTimer->setSingleShot(true);
  m_resizeTimer->setInterval(150);
  connect(m_resizeTimer, &QTimer::timeout, this, [this] {
    if (!m_picture || !m_view->isFit()) return;
    const Tensor& t = m_picture->activations->output(size_t(m_picture->layer));
    if (fittingGridScale(t.shape(), m_picture->options, m_view->size()) != m_picture->options.scale)
      invalidate();
  });
  connect(fit, &QToolButton::clicked, m_view, &ImageView::zoomToFit);
  connect(actual, &QToolButton::clicked, m_view, &ImageView::actualSize);
  auto optionsChanged = [this] {
    saveOptions();
    invalidate();
  };
  connect(m_colormap, &QComboBox::currentIndexChanged, this, optionsChanged);
  connect(m_normalization, &QComboBox::currentIndexChanged, this, optionsChanged);
  connect(m_markMax, &QCheckBox::toggled, this, optionsChanged);
  connect(m_snap, &QCheckBox::toggled, this,
          [this](bool on) { Settings::setViewOption("activations/snap", on); });

  connect(m_state, &AppState::forwardChanged, this, [this] {
    m_jobs->cancel(kJob);
    invalidate();
  });
  connect(m_state, &AppState::layerChanged, this, [this] {
    m_jobs->cancel(kJob);
    invalidate();
  });
  connect(m_state, &AppState::channelChanged, this, [this] { updateMarks(); });
  connect(m_state, &AppState::positionChanged, this, [this] { updateMarks(); });
  connect(m_view, &ImageView::hovered, this, [this](QPoint pixel, QPoint global) {
    const QString text = describePixel(pixel);
    if (text.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(global, text, m_view);
  });
  connect(m_view, &ImageView::clicked, this, [this](QPoint pixel) {
    const int c = channelAt(pixel);
    if (c < 0) return;
    std::optional<cv::Point> position;
    if (!m_snap->isChecked()) position = m_picture->layout.positionAt({pixel.x(), pixel.y()});
    m_state->select(m_picture->layer, c, position);
  });
}

ActivationGridOptions ActivationsView::options() const {
  ActivationGridOptions o;
  o.colormap = static_cast<Colormap>(m_colormap->currentData().toInt());
  o.normalization = static_cast<MapNormalization>(m_normalization->currentData().toInt());
  o.markMax = m_markMax->isChecked();
  return o;
}

void ActivationsView::saveOptions() {
  Settings::setViewOption("activations/colormap", m_colormap->currentIndex());
  Settings::setViewOption("activations/normalization", m_normalization->currentIndex());
  Settings::setViewOption("activations/markMax", m_markMax->isChecked());
}

void ActivationsView::refresh() {
  auto acts = m_state->activations();
  const int layer = m_state->layer();
  if (!acts || layer < 0) {
    m_picture.reset();
    m_info->clear();
    m_view->clear(m_state->net() && !m_state->source().empty()
                      ? tr("Computing…")
                      : tr("Open a model and an image to see its feature maps."));
    return;
  }
  ActivationGridOptions opts = options();
  const QSize viewport = m_view->size();
  const bool sameGeometry = m_picture && m_picture->activations && m_picture->layer == layer &&
                            &m_picture->activations->net() == &acts->net();
  if (!sameGeometry) m_view->setMessage(tr("Computing…"));
  const std::string layerName = m_state->layerName(layer).toStdString();
  m_jobs->start(
      kJob, tr("Drawing %1").arg(QString::fromStdString(layerName)),
      [acts, layer, opts, layerName, viewport](ProgressSink&) {
        auto pic = std::make_shared<ActivationPicture>();
        pic->activations = acts;
        pic->layer = layer;
        const Tensor& t = acts->output(static_cast<size_t>(layer));
        int64_t channels = 0, h = 1, w = 1;
        mapGeometry(t.shape(), layerName, channels, h, w);
        pic->options = opts;
        pic->options.scale = fittingGridScale(t.shape(), opts, viewport);
        pic->mapHeight = static_cast<int>(h);
        pic->mapWidth = static_cast<int>(w);
        pic->bgr = renderActivationGrid(t, pic->options);
        pic->layout = activationGridLayout(t.shape(), pic->options);
        pic->image = toQImage(pic->bgr);
        // Each channel's peak by core's one rule (unitResponse), the map's range for the legend.
        pic->maxima.resize(size_t(channels));
        pic->argmax.resize(size_t(channels));
        for (int64_t c = 0; c < channels; ++c) {
          const UnitResponse peak = unitResponse(t, 0, c);
          pic->maxima[size_t(c)] = peak.value;
          pic->argmax[size_t(c)] = static_cast<int>(peak.y * w + peak.x);
        }
        const auto [lo, hi] = std::minmax_element(t.data(), t.data() + t.numel());
        pic->lo = t.numel() ? *lo : 0.0f;
        pic->hi = t.numel() ? *hi : 0.0f;
        return std::shared_ptr<const ActivationPicture>(std::move(pic));
      },
      [this, sameGeometry](std::shared_ptr<const ActivationPicture> pic) {
        m_picture = std::move(pic);
        m_view->setImage(m_picture->image, sameGeometry);
        const Shape shape = m_state->layerShape(m_picture->layer);
        m_info->setText(tr("%1 · %2 · min %3 · max %4")
                            .arg(m_state->layerName(m_picture->layer), compactShape(shape))
                            .arg(double(m_picture->lo), 0, 'g', 4)
                            .arg(double(m_picture->hi), 0, 'g', 4));
        m_info->setToolTip(m_info->text());
        updateMarks();
      },
      [this](const QString& message) {
        m_picture.reset();
        m_info->clear();
        m_view->clear(message);
      });
}

void ActivationsView::resizeEvent(QResizeEvent* event) {
  ViewBase::resizeEvent(event);
  m_resizeTimer->start();
}

bool ActivationsView::snapToMaximum() const {
  return m_snap->isChecked();
}

void ActivationsView::setSnapToMaximum(bool snap) {
  m_snap->setChecked(snap);
}

void ActivationsView::updateMarks() {
  QVector<ImageView::Mark> marks;
  const int c = m_state->channel();
  if (m_picture && c >= 0 && c < m_picture->layout.count) {
    const GridLayout& g = m_picture->layout;
    const cv::Rect r = g.cellRect(c);
    marks.push_back({QRectF(r.x, r.y, r.width, r.height), QColor(255, 80, 60)});
    // The chosen position: the block its element covers in the cell.
    if (const auto& p = m_state->position(); p && g.mapWidth > 0 && g.mapHeight > 0) {
      const double sx = double(r.width) / g.mapWidth, sy = double(r.height) / g.mapHeight;
      marks.push_back({QRectF(r.x + p->x * sx, r.y + p->y * sy, sx, sy), QColor(255, 255, 255)});
    }
  }
  m_view->setMarks(marks);
}

int ActivationsView::channelAt(QPoint pixel) const {
  if (!m_picture || pixel.x() < 0) return -1;
  return m_picture->layout.cellAt({pixel.x(), pixel.y()});
}

QString ActivationsView::describePixel(QPoint pixel) const {
  const int c = channelAt(pixel);
  if (c < 0) return {};
  const ActivationPicture& p = *m_picture;
  const int w = p.mapWidth, h = p.mapHeight;
  const bool vector = h == 1 && w == 1;
  const float maxValue = p.maxima[size_t(c)];
  if (vector) return tr("unit %1\nvalue %2").arg(c).arg(double(maxValue), 0, 'g', 5);
  const cv::Point at = p.layout.positionAt({pixel.x(), pixel.y()});
  const Tensor& t = p.activations->output(size_t(p.layer));
  const float here = t[int64_t(c) * h * w + int64_t(at.y) * w + at.x];
  const int am = p.argmax[size_t(c)];
  return tr("channel %1\nmax %2 at %3\nhere %4: %5")
      .arg(c)
      .arg(double(maxValue), 0, 'g', 5)
      .arg(positionText({am % w, am / w}))
      .arg(positionText(at))
      .arg(double(here), 0, 'g', 5);
}

void ActivationsView::keyPressEvent(QKeyEvent* event) {
  const int columns = m_picture ? std::max(1, m_picture->layout.columns) : 1;
  const int c = std::max(0, m_state->channel());
  if (event->key() == Qt::Key_Up)
    m_state->setChannel(c - columns);
  else if (event->key() == Qt::Key_Down)
    m_state->setChannel(c + columns);
  else
    return ViewBase::keyPressEvent(event);
  event->accept();
}

std::optional<ViewExport> ActivationsView::exportView() const {
  if (!m_picture) return std::nullopt;
  ViewExport e;
  e.image = m_picture->bgr;
  e.arrays.push_back({"", m_picture->activations->output(size_t(m_picture->layer))});
  const std::string layer = m_state->layerName(m_picture->layer).toStdString();
  e.text = baseMetadata();
  e.text.push_back({"zfvis:layer", layer});
  e.text.push_back({"zfvis:colormap", std::string(colormapName(m_picture->options.colormap))});
  e.text.push_back(
      {"zfvis:normalization",
       m_picture->options.normalization == MapNormalization::PerMap ? "per-map" : "per-layer"});
  e.stem = QString::fromStdString(layer) + "-activations";
  return e;
}

}  // namespace zfvis::ui
