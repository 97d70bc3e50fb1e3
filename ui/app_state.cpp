#include "ui/app_state.h"

#include <algorithm>

#include "core/base/labels.h"

namespace zfvis::ui {

AppState::AppState(QObject* parent) : QObject(parent) {}

void AppState::setModel(std::shared_ptr<const CompiledNet> net, const QString& spec,
                        const QString& weights, int preferredLayer) {
  QString previousLayer = m_layer >= 0 ? layerName(m_layer) : QString();
  m_net = std::move(net);
  m_modelSpec = spec;
  m_modelWeights = weights;
  m_labelsFile.clear();
  m_classNames = m_net ? resolveClassNames(classCount(), {}, m_net->def().classNames)
                       : std::vector<std::string>{};
  ++m_generation;
  m_forward.reset();
  m_layer = -1;
  m_channel = -1;
  clearPosition();
  if (m_net) {
    const int count = layerCount();
    int keep = previousLayer.isEmpty() ? -1 : m_net->def().indexOf(previousLayer.toStdString());
    if (preferredLayer >= 0 && preferredLayer < count)
      m_layer = preferredLayer;
    else if (keep >= 0)
      m_layer = keep;
    else
      m_layer = defaultLayer();
  }
  emit modelChanged();
  emit classNamesChanged();
  emit forwardChanged();
  emit layerChanged(m_layer);
  emit channelChanged(m_channel);
}

int AppState::classCount() const {
  if (!m_net) return 0;
  const auto shapes = m_net->def().outputShapes();
  return shapes.empty() ? 0 : int(shapes.back().numel());
}

QString AppState::className(int index) const {
  if (index >= 0 && index < int(m_classNames.size()))
    return QString::fromStdString(m_classNames[size_t(index)]);
  return tr("class %1").arg(index);
}

void AppState::setClassNames(std::vector<std::string> names, const QString& file) {
  if (!m_net) return;
  const int classes = classCount();
  if (!names.empty() && int(names.size()) != classes) return;
  m_labelsFile = names.empty() ? QString() : file;
  m_classNames = resolveClassNames(classes, names, m_net->def().classNames);
  emit classNamesChanged();
}

void AppState::setSource(InputSource source) {
  m_source = std::move(source);
  ++m_generation;
  clearPosition();
  emit sourceChanged();
  clearForward();
}

Preprocess AppState::preset() const {
  if (m_presetOverride) return *m_presetOverride;
  return m_net ? m_net->def().input.preprocess : Preprocess::Caffe;
}

void AppState::setPresetOverride(std::optional<Preprocess> preset) {
  if (preset == m_presetOverride) return;
  m_presetOverride = preset;
  ++m_generation;
  clearPosition();
  emit presetChanged();
  clearForward();
}

void AppState::clearForward() {
  if (!m_forward) return;
  m_forward.reset();
  emit forwardChanged();
}

std::shared_ptr<const Activations> AppState::activations() const {
  return m_forward ? m_forward->activations : nullptr;
}

bool AppState::setForward(std::shared_ptr<const ForwardResult> result) {
  if (!result || !result->activations || result->generation != m_generation || !m_net ||
      &result->activations->net() != m_net.get())
    return false;
  m_forward = std::move(result);
  const bool pickChannel = m_channel < 0;
  if (pickChannel && m_layer >= 0) m_channel = strongestChannel(m_layer);
  emit forwardChanged();
  if (pickChannel) emit channelChanged(m_channel);
  return true;
}

int AppState::layerCount() const {
  return m_net ? static_cast<int>(m_net->def().layers.size()) : 0;
}

QString AppState::layerName(int layer) const {
  if (layer < 0 || layer >= layerCount()) return {};
  return QString::fromStdString(m_net->def().layers[static_cast<size_t>(layer)].name);
}

Shape AppState::layerShape(int layer) const {
  if (layer < 0 || layer >= layerCount()) return {};
  return m_net->outputShapes()[static_cast<size_t>(layer)];
}

int AppState::channelCount(int layer) const {
  Shape s = layerShape(layer);
  return s.rank() == 0 ? 0 : static_cast<int>(s[0]);
}

void AppState::setLayer(int layer) {
  if (!m_net) return;
  layer = std::clamp(layer, 0, layerCount() - 1);
  if (layer == m_layer) return;
  m_layer = layer;
  m_channel = m_forward ? strongestChannel(layer) : -1;
  clearPosition();
  emit layerChanged(m_layer);
  emit channelChanged(m_channel);
}

void AppState::setChannel(int channel) {
  if (m_layer < 0) return;
  const int count = channelCount(m_layer);
  if (count <= 0) return;
  channel = std::clamp(channel, 0, count - 1);
  if (channel == m_channel) return;
  m_channel = channel;
  clearPosition();
  emit channelChanged(m_channel);
}

void AppState::clearPosition() {
  if (!m_position) return;
  m_position.reset();
  emit positionChanged();
}

std::optional<cv::Point> AppState::clampPosition(int layer, std::optional<cv::Point> p) const {
  const Shape s = layerShape(layer);
  if (!p || s.rank() != 3) return std::nullopt;
  return cv::Point(std::clamp(p->x, 0, int(s[2]) - 1), std::clamp(p->y, 0, int(s[1]) - 1));
}

void AppState::setPosition(std::optional<cv::Point> position) {
  if (m_layer < 0) return;
  position = clampPosition(m_layer, position);
  if (position == m_position) return;
  m_position = position;
  emit positionChanged();
}

void AppState::select(int layer, int channel, std::optional<cv::Point> position) {
  if (!m_net) return;
  layer = std::clamp(layer, 0, layerCount() - 1);
  const int count = channelCount(layer);
  channel = count > 0 ? std::clamp(channel, 0, count - 1) : -1;
  position = clampPosition(layer, position);
  const bool newLayer = layer != m_layer, newChannel = channel != m_channel,
             newPosition = position != m_position;
  m_layer = layer;
  m_channel = channel;
  m_position = position;
  if (newLayer) emit layerChanged(m_layer);
  if (newChannel || newLayer) emit channelChanged(m_channel);
  if (newPosition) emit positionChanged();
}

int AppState::strongestChannel(int layer) const {
  if (!m_forward || layer < 0 || size_t(layer) >= m_forward->strongest.size()) return 0;
  return m_forward->strongest[size_t(layer)];
}

int AppState::defaultLayer() const {
  const auto& layers = m_net->def().layers;
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].type == LayerType::Conv) return static_cast<int>(i);
  return 0;
}

}  // namespace zfvis::ui
