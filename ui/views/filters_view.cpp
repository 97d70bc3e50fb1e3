#include "ui/views/filters_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include "core/base/error.h"
#include "ui/convert.h"
#include "ui/image_view.h"
#include "ui/settings.h"

namespace zfvis::ui {

int filterLayerFor(const NetworkDef& def, int layer) {
  for (int guard = 0; layer >= 0 && guard < int(def.layers.size()); ++guard) {
    const LayerSpec& l = def.layers[size_t(layer)];
    if (l.type == LayerType::Conv) return layer;
    if (l.inputs.empty()) return -1;
    layer = def.indexOf(l.inputs[0]);
  }
  return -1;
}

FiltersView::FiltersView(AppState* state, JobTracker* jobs, QWidget* parent)
    : ViewBase(state, jobs, parent) {
  m_view = new ImageView(this);
  m_view->setPixelated(true);
  m_view->setMaxFitScale(4.0);
  m_normalization = new QComboBox(this);
  m_normalization->addItem(tr("Per filter"), int(FilterNormalization::PerFilter));
  m_normalization->addItem(tr("Per layer"), int(FilterNormalization::PerLayer));
  m_normalization->addItem(tr("RMS (Zeiler & Fergus)"), int(FilterNormalization::Rms));
  m_normalization->setToolTip(
      tr("Per filter: each filter stretched to its own range. Per layer: one symmetric scale. "
         "RMS: one scale in units of the layer's RMS, with an RMS bar under each filter."));
  m_channels = new QComboBox(this);
  m_channels->addItem(tr("Auto"), int(FilterChannels::Auto));
  m_channels->addItem(tr("Mean over inputs"), int(FilterChannels::Mean));
  m_channels->addItem(tr("Every input channel"), int(FilterChannels::PerInput));
  m_channels->addItem(tr("One input channel"), int(FilterChannels::Single));
  m_channels->setToolTip(
      tr("What a tile shows: RGB for a first layer, otherwise the mean over "
         "input channels, every input channel, or one of them"));
  m_inputChannel = new QSpinBox(this);
  m_inputChannel->setPrefix(tr("input "));
  m_inputChannel->setEnabled(false);
  m_normalization->setCurrentIndex(Settings::viewOption("filters/normalization", 0).toInt());
  m_channels->setCurrentIndex(Settings::viewOption("filters/channels", 0).toInt());
  m_info = new QLabel(this);
  m_info->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  m_info->setWordWrap(true);  // never cut: long layer names and values wrap
  auto* fit = new QToolButton(this);
  fit->setText(tr("Fit"));
  auto* actual = new QToolButton(this);
  actual->setText(tr("1:1"));

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Normalise:"), this));
  bar->addWidget(m_normalization);
  bar->addSpacing(8);
  bar->addWidget(new QLabel(tr("Tiles:"), this));
  bar->addWidget(m_channels);
  bar->addWidget(m_inputChannel);
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

  connect(fit, &QToolButton::clicked, m_view, &ImageView::zoomToFit);
  connect(actual, &QToolButton::clicked, m_view, &ImageView::actualSize);
  auto optionsChanged = [this] {
    m_inputChannel->setEnabled(m_channels->currentData().toInt() == int(FilterChannels::Single));
    Settings::setViewOption("filters/normalization", m_normalization->currentIndex());
    Settings::setViewOption("filters/channels", m_channels->currentIndex());
    invalidate();
  };
  connect(m_normalization, &QComboBox::currentIndexChanged, this, optionsChanged);
  connect(m_channels, &QComboBox::currentIndexChanged, this, optionsChanged);
  connect(m_inputChannel, &QSpinBox::valueChanged, this, optionsChanged);
  // Filters depend on the model and the layer, not on the image.
  connect(m_state, &AppState::modelChanged, this, [this] {
    m_jobs->cancel(kJob);
    m_picture.reset();
    invalidate();
  });
  connect(m_state, &AppState::layerChanged, this, [this] {
    const NetworkDef* def = m_state->def();
    const int conv = def ? filterLayerFor(*def, m_state->layer()) : -1;
    if (!m_picture || conv != m_picture->layer)
      invalidate();
    else
      updateMarks();
  });
  connect(m_state, &AppState::channelChanged, this, &FiltersView::updateMarks);
  connect(m_view, &ImageView::hovered, this, [this](QPoint pixel, QPoint global) {
    const QString text = describePixel(pixel);
    if (text.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(global, text, m_view);
  });
  connect(m_view, &ImageView::clicked, this, [this](QPoint pixel) {
    const int f = filterAt(pixel);
    const NetworkDef* def = m_state->def();
    // The filter index is a channel of the selected layer when that layer keeps the conv's
    // channels (the conv itself, its ReLU, LRN, pooling).
    if (f >= 0 && def && m_state->channelCount(m_state->layer()) == m_picture->bank.filters())
      m_state->setChannel(f);
  });
}

FilterGridOptions FiltersView::options() const {
  FilterGridOptions o;
  o.normalization = static_cast<FilterNormalization>(m_normalization->currentData().toInt());
  o.channels = static_cast<FilterChannels>(m_channels->currentData().toInt());
  o.inputChannel = m_inputChannel->value();
  return o;
}

void FiltersView::refresh() {
  const NetworkDef* def = m_state->def();
  const int conv = def ? filterLayerFor(*def, m_state->layer()) : -1;
  if (!def || conv < 0) {
    m_picture.reset();
    m_info->clear();
    m_view->clear(def ? tr("Layer %1 has no convolution filters (it is not fed by a "
                           "convolution).")
                            .arg(m_state->layerName(m_state->layer()))
                      : tr("Open a model to see its filters."));
    return;
  }
  auto net = m_state->net();
  FilterGridOptions opts = options();
  const int inputs = int(def->layers[size_t(conv)].weights.shape()[1]);
  {
    QSignalBlocker block(m_inputChannel);
    m_inputChannel->setRange(0, std::max(0, inputs - 1));
  }
  opts.inputChannel = std::min(opts.inputChannel, inputs - 1);
  const bool sameLayer = m_picture && m_picture->net == net && m_picture->layer == conv;
  if (!sameLayer) m_view->setMessage(tr("Drawing…"));
  m_jobs->start(
      kJob, tr("Drawing the filters of %1").arg(m_state->layerName(conv)),
      [net, conv, opts](ProgressSink&) {
        auto pic = std::make_shared<FilterPicture>();
        pic->net = net;
        pic->layer = conv;
        pic->bank = convFilterBank(net->def(), size_t(conv));
        pic->options = opts;
        pic->options.channelOrder = pic->bank.channelOrder;
        pic->options.colourInput = pic->bank.colourInput;
        pic->channels = resolveFilterChannels(pic->bank.weights.shape(), pic->options);
        pic->bgr = renderFilterGrid(pic->bank.weights, pic->options);
        pic->layout = filterGridLayout(pic->bank.weights.shape(), pic->options);
        pic->image = toQImage(pic->bgr);
        return std::shared_ptr<const FilterPicture>(std::move(pic));
      },
      [this, sameLayer](std::shared_ptr<const FilterPicture> pic) {
        m_picture = std::move(pic);
        m_view->setImage(m_picture->image, sameLayer);
        const FilterBank& b = m_picture->bank;
        m_info->setText(
            tr("%1 · %2 filters · %3 × %4 × %5 · stride %6%7")
                .arg(QString::fromStdString(b.layer))
                .arg(b.filters())
                .arg(b.inputChannels())
                .arg(b.kernelH())
                .arg(b.kernelW())
                .arg(b.strideH)
                .arg(m_picture->layer == m_state->layer()
                         ? QString()
                         : tr(" (feeds %1)").arg(m_state->layerName(m_state->layer()))));
        m_info->setToolTip(m_info->text());
        updateMarks();
      },
      [this](const QString& message) {
        m_picture.reset();
        m_info->clear();
        m_view->clear(message);
      });
}

void FiltersView::updateMarks() {
  QVector<ImageView::Mark> marks;
  const int c = m_state->channel();
  if (m_picture && c >= 0 && c < m_picture->bank.filters() &&
      m_state->channelCount(m_state->layer()) == m_picture->bank.filters()) {
    const int per =
        m_picture->channels == FilterChannels::PerInput ? m_picture->bank.inputChannels() : 1;
    const cv::Rect first = m_picture->layout.cellRect(c * per);
    const cv::Rect last = m_picture->layout.cellRect(c * per + per - 1);
    const cv::Rect r = first | last;
    marks.push_back({QRectF(r.x, r.y, r.width, r.height), QColor(255, 80, 60)});
  }
  m_view->setMarks(marks);
}

int FiltersView::filterAt(QPoint pixel) const {
  if (!m_picture || pixel.x() < 0) return -1;
  const int cell = m_picture->layout.cellAt({pixel.x(), pixel.y()});
  if (cell < 0) return -1;
  return filterCellInfo(m_picture->bank.weights, m_picture->options, cell).filter;
}

QString FiltersView::describePixel(QPoint pixel) const {
  if (!m_picture || pixel.x() < 0) return {};
  const int cell = m_picture->layout.cellAt({pixel.x(), pixel.y()});
  if (cell < 0) return {};
  const FilterCellInfo info = filterCellInfo(m_picture->bank.weights, m_picture->options, cell);
  if (info.filter < 0) return {};
  QString text = tr("filter %1").arg(info.filter);
  if (info.inputChannel >= 0) text += tr(", input channel %1").arg(info.inputChannel);
  return text + tr("\nRMS %1").arg(info.rms, 0, 'g', 4);
}

std::optional<ViewExport> FiltersView::exportView() const {
  if (!m_picture) return std::nullopt;
  ViewExport e;
  e.image = m_picture->bgr;
  e.text = baseMetadata();
  e.text.push_back({"zfvis:layer", m_picture->bank.layer});
  e.text.push_back({"zfvis:normalization",
                    std::string(filterNormalizationName(m_picture->options.normalization))});
  e.arrays.push_back({"", m_picture->bank.weights});
  e.stem = QString::fromStdString(m_picture->bank.layer) + "-filters";
  return e;
}

}  // namespace zfvis::ui
