// The GUI's document: the open model, the input image, the last forward run and the selected
// layer, channel and (optionally) position. Every view reads it and listens to its signals; the
// Controller writes it. Lives on the GUI thread; the objects it hands out (CompiledNet,
// Activations, cv::Mat copies) may be read from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QObject>
#include <QString>
#include <opencv2/core.hpp>

#include "core/engine/engine.h"
#include "core/model/network.h"

namespace zfvis::ui {

/// One of the top predictions.
struct Prediction {
  int classIndex = 0;     // index into the network output
  float probability = 0;  // softmax probability (the net's own when it ends in Softmax)
  QString label;          // ImageNet name, or "class <index>"
};

/// Where the network input comes from.
struct InputSource {
  QString name;           // file path, "clipboard" or a sample name (for the status bar)
  QString path;           // the file (empty for pasted images)
  cv::Mat image;          // 8-bit BGR as loaded; empty for a .npy tensor
  bool isTensor = false;  // `path` is a .npy network input used as is
  /// True when nothing is loaded.
  bool empty() const { return image.empty() && !isTensor; }
};

/// A layer, channel and position to select together (AppState::select).
struct Selection {
  int layer = -1;                     // layer index
  int channel = -1;                   // channel of that layer
  std::optional<cv::Point> position;  // (x, y) in its output; nullopt: the channel's maximum
};

/// What one forward run produced.
struct ForwardResult {
  std::shared_ptr<const Activations> activations;  // every layer's output (keepAll)
  cv::Mat inputView;  // the input as the network sees it (8-bit BGR, H x W of the net)
  Preprocess preset = Preprocess::Caffe;  // the preset the input was made with
  std::vector<Prediction> top;            // the top-5 classes
  int classes = 0;                        // number of network outputs
  double milliseconds = 0;                // time of the forward run
  quint64 generation = 0;                 // AppState::inputGeneration() it was computed for
  // Per layer, the channel holding its largest value (core strongestChannel), found on the worker:
  // the GUI thread picks a layer's channel without converting its output.
  std::vector<int> strongest;
};

class AppState : public QObject {
  Q_OBJECT
 public:
  explicit AppState(QObject* parent = nullptr);

  /// The compiled model, null when none is open.
  const std::shared_ptr<const CompiledNet>& net() const { return m_net; }
  /// The model definition, null when none is open.
  const NetworkDef* def() const { return m_net ? &m_net->def() : nullptr; }
  /// How the model was opened (built-in name or file).
  const QString& modelSpec() const { return m_modelSpec; }
  /// The Keras weights applied to it, if any.
  const QString& modelWeights() const { return m_modelWeights; }
  /// Replaces the model; clears the forward result and picks a layer (same name if it exists,
  /// else `preferredLayer` if valid, else the first convolution).
  void setModel(std::shared_ptr<const CompiledNet> net, const QString& spec, const QString& weights,
                int preferredLayer = -1);

  /// The names of the model's output classes, one per class (resolveClassNames: loaded labels,
  /// else the model's own, else ImageNet's for 1000 classes, else "class K"); empty without a
  /// model.
  const std::vector<std::string>& classNames() const { return m_classNames; }
  /// The name of class `index` ("class K" when out of range).
  QString className(int index) const;
  /// The file the class names were loaded from (empty: the model's own names).
  const QString& labelsFile() const { return m_labelsFile; }
  /// Number of output classes of the open model (0 without one).
  int classCount() const;
  /// Replaces the class names with `names` (one per class, from `file`); an empty list goes back
  /// to the model's own. Ignored when the count does not match the model. Opening another model
  /// drops them.
  void setClassNames(std::vector<std::string> names, const QString& file);

  /// The input source.
  const InputSource& source() const { return m_source; }
  /// Replaces the input; clears the forward result.
  void setSource(InputSource source);

  /// The preprocessing preset in use: the override, else the model's own.
  Preprocess preset() const;
  /// The user's preset override (none: the model's).
  std::optional<Preprocess> presetOverride() const { return m_presetOverride; }
  /// Sets the override; clears the forward result.
  void setPresetOverride(std::optional<Preprocess> preset);

  /// Bumps whenever the model, the input or the preset changes.
  quint64 inputGeneration() const { return m_generation; }

  /// The last forward run for the current model and input, null while none.
  const std::shared_ptr<const ForwardResult>& forward() const { return m_forward; }
  /// Activations of the last forward run, null while none.
  std::shared_ptr<const Activations> activations() const;
  /// Installs a forward result; ignored (returns false) when it is for an older generation or
  /// has no activations.
  bool setForward(std::shared_ptr<const ForwardResult> result);

  /// The selected layer, -1 when no model is open.
  int layer() const { return m_layer; }
  /// Selects a layer (clamped); the channel moves to the layer's strongest one.
  void setLayer(int layer);
  /// Number of layers of the open model.
  int layerCount() const;
  /// The layer's name.
  QString layerName(int layer) const;
  /// The per-sample output shape of a layer.
  Shape layerShape(int layer) const;
  /// Number of channels (feature maps, or units of a vector) of a layer's output.
  int channelCount(int layer) const;

  /// The selected channel of the selected layer, -1 while unknown.
  int channel() const { return m_channel; }
  /// Selects a channel (clamped to the layer's channels).
  void setChannel(int channel);
  /// The channel holding the layer's largest activation (0 without activations or when the
  /// forward result does not say).
  int strongestChannel(int layer) const;

  /// The selected position (x, y) in the selected layer's output; nullopt: the channel's
  /// maximum (the default). Cleared whenever the layer, the channel, the model, the input or the
  /// preset changes, unless set together with them by select().
  const std::optional<cv::Point>& position() const { return m_position; }
  /// Sets the position (clamped to the layer's maps; ignored for layers without positions).
  void setPosition(std::optional<cv::Point> position);
  /// Selects a layer, a channel and a position at once (each clamped); emits layerChanged,
  /// channelChanged and positionChanged for what changed.
  void select(int layer, int channel, std::optional<cv::Point> position);

 signals:
  /// A model was opened (the layer list changes).
  void modelChanged();
  /// The class names changed (Load Labels, or another model).
  void classNamesChanged();
  /// The input source changed.
  void sourceChanged();
  /// The preset changed.
  void presetChanged();
  /// A forward result was installed or cleared.
  void forwardChanged();
  /// The selected layer changed.
  void layerChanged(int layer);
  /// The selected channel changed.
  void channelChanged(int channel);
  /// The selected position changed (set, moved or cleared).
  void positionChanged();

 private:
  void clearForward();
  void clearPosition();
  std::optional<cv::Point> clampPosition(int layer, std::optional<cv::Point> position) const;
  int defaultLayer() const;

  std::shared_ptr<const CompiledNet> m_net;
  QString m_modelSpec, m_modelWeights;
  std::vector<std::string> m_classNames;  // resolved, one per class
  QString m_labelsFile;
  InputSource m_source;
  std::optional<Preprocess> m_presetOverride;
  std::shared_ptr<const ForwardResult> m_forward;
  quint64 m_generation = 1;
  int m_layer = -1;
  int m_channel = -1;
  std::optional<cv::Point> m_position;
};

}  // namespace zfvis::ui
