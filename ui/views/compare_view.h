// The compare view (Zeiler & Fergus fig. 6): the first-layer filters of two models side by side on
// one scale, with core's statistics (RMS, dead filters, frequency bands) and the radial spectrum
// plot. Model A defaults to the open model, model B to the other of AlexNet / ZFNet; either can be
// a built-in, an .onnx / .h5 file or a .npy filter bank.
#pragma once

#include <memory>
#include <vector>

#include <QHash>
#include <QImage>

#include "core/analysis/compare/filter_bank.h"
#include "core/analysis/compare/filter_stats.h"
#include "core/render/compare_picture.h"
#include "ui/views/view_base.h"

class QCheckBox;
class QComboBox;
class QLabel;

namespace zfvis::ui {

class ImageView;

/// A rendered comparison.
struct ComparePicture {
  std::vector<std::shared_ptr<const FilterBank>> banks;  // the sides, A first
  std::vector<FilterBankStats> stats;                    // their statistics
  FilterStatsOptions statsOptions;                       // definitions used
  QStringList specs;                                     // what each side was opened from
  CompareViewOptions options;                            // as drawn
  cv::Mat bgr;                                           // the picture
  QImage image;                                          // the same as a QImage
};

class CompareView : public ViewBase {
  Q_OBJECT
 public:
  CompareView(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  QString viewId() const override { return QStringLiteral("compare"); }
  std::optional<ViewExport> exportView() const override;

  /// Chooses side `side` (0 = A, 1 = B): "" for the open model, a built-in name or a file.
  void setSide(int side, const QString& spec);
  /// What side `side` is set to.
  QString side(int side) const;
  /// The picture shown (null when none).
  const std::shared_ptr<const ComparePicture>& picture() const { return m_picture; }

  /// Job slot of the comparisons.
  static inline const QString kJob = QStringLiteral("compare");

 protected:
  void refresh() override;

 private:
  void fillChoices(QComboBox* box);
  void browse(int side);
  void pickDefaultB();

  ImageView* m_view;
  QComboBox* m_side[2];
  QComboBox* m_normalization;
  QCheckBox* m_spectrum;
  QLabel* m_info;
  bool m_userChoseB = false;
  std::shared_ptr<const ComparePicture> m_picture;
  QHash<QString, std::shared_ptr<const FilterBank>> m_banks;  // spec -> first-layer bank
};

}  // namespace zfvis::ui
