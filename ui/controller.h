// Opens models and images and runs the forward pass, all as background jobs, and installs the
// results into the AppState. A model or image that fails to open leaves the previous one loaded.
#pragma once

#include <optional>

#include <QObject>
#include <QString>
#include <opencv2/core.hpp>

#include "core/model/network.h"
#include "ui/app_state.h"
#include "ui/jobs.h"

namespace zfvis::ui {

/// Job slot names (the status bar and the tests refer to them).
inline const QString kModelJob = QStringLiteral("model");
inline const QString kImageJob = QStringLiteral("image");
inline const QString kForwardJob = QStringLiteral("forward");

class Controller : public QObject {
  Q_OBJECT
 public:
  /// Works on `state`, running jobs on `jobs`; both must outlive the controller.
  Controller(AppState* state, JobTracker* jobs, QObject* parent = nullptr);

  /// Opens a built-in model or a .onnx / .h5 file (with optional Keras weights) in the
  /// background; `layer` (name or index, optional) is selected once it is open.
  void openModel(const QString& spec, const QString& weights = {}, const QString& layer = {});
  /// Opens an image file (or a .npy network input) in the background; once it is the input,
  /// `select` (when given) is selected with it.
  void openImage(const QString& path, std::optional<Selection> select = std::nullopt);
  /// Uses an image already in memory (pasted, dropped) as the input.
  void setImage(const cv::Mat& bgr, const QString& name);
  /// Overrides the model's preprocessing preset (none: the model's own).
  void setPreset(std::optional<Preprocess> preset);
  /// Runs the forward pass for the current model and input (no-op when either is missing or a
  /// model or image is still opening: that one runs it when it arrives).
  void runForward();

  /// True for file names that open as models (.onnx, .h5, .hdf5, .keras).
  static bool isModelFile(const QString& fileName);
  /// True for file names that open as images (what OpenCV reads, and .npy).
  static bool isImageFile(const QString& fileName);

 signals:
  /// A model finished opening (for the recent-files list).
  void modelOpened(const QString& spec, const QString& weights);
  /// An image file finished opening (for the recent-files list).
  void imageOpened(const QString& path);

 private:
  AppState* m_state;
  JobTracker* m_jobs;
};

/// Top-k classes of one output row: probabilities (softmax unless the net ends in Softmax) with
/// ImageNet labels for 1000-class nets.
std::vector<Prediction> topPredictions(const NetworkDef& def, const Tensor& output, int k);

}  // namespace zfvis::ui
