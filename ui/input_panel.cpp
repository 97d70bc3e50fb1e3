#include "ui/input_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "core/base/position_text.h"
#include "core/base/tensor.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/convert.h"
#include "ui/image_view.h"

namespace zfvis::ui {

namespace {
QString presetText(Preprocess p) {
  auto n = preprocessName(p);
  return QString::fromUtf8(n.data(), qsizetype(n.size()));
}
}  // namespace

InputPanel::InputPanel(AppState* state, Controller* controller, QWidget* parent)
    : QWidget(parent), m_state(state), m_controller(controller) {
  m_view = new ImageView(this);
  m_view->setMaxFitScale(4.0);
  m_view->setMessage(tr("No image.\nFile → Open Image, a sample, drag and drop or paste."));
  m_view->setMinimumSize(160, 160);
  m_preset = new QComboBox(this);
  m_preset->setToolTip(
      tr("How the image becomes the network input: caffe = BGR 0..255 minus the mean; "
         "torchvision = RGB /255, mean and std; raw = RGB 0..1"));
  m_info = new QLabel(this);
  m_info->setWordWrap(true);
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Preprocessing:"), this));
  bar->addWidget(m_preset, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(m_view, 1);
  layout->addWidget(m_info);
  layout->addLayout(bar);
  updatePresetBox();
  connect(m_preset, &QComboBox::activated, this, [this](int index) {
    const int v = m_preset->itemData(index).toInt();
    m_controller->setPreset(v < 0 ? std::nullopt : std::optional(static_cast<Preprocess>(v)));
  });
  connect(m_state, &AppState::modelChanged, this, [this] {
    m_fields.clear();
    if (const NetworkDef* def = m_state->def()) {
      try {
        m_fields = receptiveFields(*def);
      } catch (const std::exception&) {
        // Geometry the receptive-field code does not know: no outline.
      }
    }
    updatePresetBox();
    update();
  });
  connect(m_state, &AppState::sourceChanged, this, &InputPanel::update);
  connect(m_state, &AppState::forwardChanged, this, &InputPanel::update);
  connect(m_state, &AppState::layerChanged, this, &InputPanel::updateField);
  connect(m_state, &AppState::channelChanged, this, &InputPanel::updateField);
  connect(m_state, &AppState::positionChanged, this, &InputPanel::updateField);
  update();
}

void InputPanel::updatePresetBox() {
  QSignalBlocker block(m_preset);
  m_preset->clear();
  const NetworkDef* def = m_state->def();
  m_preset->addItem(
      def ? tr("Model default (%1)").arg(presetText(def->input.preprocess)) : tr("Model default"),
      -1);
  for (Preprocess p : {Preprocess::Caffe, Preprocess::Torchvision, Preprocess::Raw})
    m_preset->addItem(presetText(p), static_cast<int>(p));
  const auto o = m_state->presetOverride();
  m_preset->setCurrentIndex(o ? m_preset->findData(static_cast<int>(*o)) : 0);
}

void InputPanel::update() {
  const InputSource& src = m_state->source();
  const auto& fwd = m_state->forward();
  if (fwd && !fwd->inputView.empty()) {
    m_view->setImage(toQImage(fwd->inputView));
    m_info->setText(tr("%1 as the network sees it: %2 × %3, %4")
                        .arg(src.name)
                        .arg(fwd->inputView.cols)
                        .arg(fwd->inputView.rows)
                        .arg(presetText(fwd->preset)));
  } else if (!src.image.empty()) {
    m_view->setImage(toQImage(src.image));
    m_info->setText(tr("%1: %2 × %3").arg(src.name).arg(src.image.cols).arg(src.image.rows));
  } else {
    m_view->clear(src.isTensor ? tr("%1 (a tensor)").arg(src.name)
                               : tr("No image.\nFile → Open Image, a sample, drag and drop or "
                                    "paste."));
    m_info->setText(src.isTensor ? src.name : QString());
  }
  updateField();
}

void InputPanel::updateField() {
  // The selected unit (the chosen position, else the channel's largest activation), and the
  // input pixels it sees.
  m_field = {};
  const auto acts = m_state->activations();
  const int layer = m_state->layer(), channel = m_state->channel();
  const auto& fwd = m_state->forward();
  if (acts && fwd && !fwd->inputView.empty() && layer >= 0 && channel >= 0 &&
      size_t(layer) < m_fields.size() && !m_fields[size_t(layer)].global) {
    const Tensor& t = acts->output(size_t(layer));
    if (t.shape().rank() == 4 && channel < t.shape()[1]) {
      const int64_t h = t.shape()[2], w = t.shape()[3];
      int64_t best = 0;
      if (const auto& p = m_state->position()) {
        best = int64_t(p->y) * w + p->x;
      } else {
        const float* m = t.data() + int64_t(channel) * h * w;
        for (int64_t k = 1; k < h * w; ++k)
          if (m[k] > m[best]) best = k;
      }
      const cv::Rect r =
          m_fields[size_t(layer)].box(int(best / w), int(best % w), fwd->inputView.size());
      m_field = QRect(r.x, r.y, r.width, r.height);
    }
  }
  if (m_field.isEmpty())
    m_view->setMarks({});
  else
    m_view->setMarks({{QRectF(m_field), QColor(255, 80, 60)}});
  m_view->setToolTip(m_field.isEmpty()
                         ? QString()
                         : tr("Receptive field of the selected unit: %1")
                               .arg(QString::fromStdString(regionText(
                                   m_field.y(), m_field.x(), m_field.height(), m_field.width()))));
}

}  // namespace zfvis::ui
