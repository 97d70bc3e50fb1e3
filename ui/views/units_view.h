// The units view (Zeiler & Fergus fig. 2 over a dataset, issue 13): a scan database (zfvis-cli
// scan, or Scan Folder… here with the open model) shown layer by layer as a mosaic of every unit's
// top image patches (core's computeAtlasPatches: images decoded in a job, each layer's mosaic
// cached). A click on a unit shows its top 9 projected back to pixels beside the patches at full
// size (core's computeAtlas and renderAtlasSheet, in a job, cached per layer, unit and mode); a
// double-click on a patch opens that image in the other views with the layer, the unit and its
// position selected. A database made with another model (or preprocessing) is refused in one
// line; a scan from the window shows images done / total and can be cancelled, and scanning the
// same folder again resumes it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QHash>
#include <QImage>

#include "core/analysis/scan/atlas.h"
#include "core/render/atlas_sheet.h"
#include "ui/views/view_base.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;

namespace zfvis::ui {

class ImageView;

/// An opened scan database, checked against the model it is shown with.
struct UnitsDatabase {
  QString path;                             // the SQLite file
  std::shared_ptr<const CompiledNet> net;   // the open model it belongs to
  std::string modelId;                      // its identity (modelIdentity())
  std::map<std::string, std::string> meta;  // the recorded parameters and state
  std::vector<ScanLayer> layers;            // the scanned layers
  bool complete = false;                    // every image scanned
  int64_t images = 0, skipped = 0;          // images scanned, bad ones skipped
  QString imageRoot;                        // where the images' relative paths start
};

/// A layer's mosaic: every unit's top patches.
struct UnitsMosaic {
  std::shared_ptr<const UnitsDatabase> db;  // the database it shows
  QString layer;                            // the scanned layer's name
  Atlas atlas;                              // computeAtlasPatches of every unit
  AtlasLayout layout;                       // where each unit and patch is
  cv::Mat bgr;                              // renderAtlasSheet, projections off
  QImage image;                             // the same as a QImage
};

/// One unit at full size: its top projections beside the patches.
struct UnitDetail {
  std::shared_ptr<const UnitsDatabase> db;  // the database it shows
  QString layer;                            // the scanned layer's name
  int unit = -1;                            // the channel
  ProjectionMode mode = ProjectionMode::Deconvnet;
  Atlas atlas;         // computeAtlas of this unit alone
  AtlasLayout layout;  // where each cell is
  cv::Mat bgr;         // renderAtlasSheet
  QImage image;        // the same as a QImage
};

class UnitsView : public ViewBase {
  Q_OBJECT
 public:
  UnitsView(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  QString viewId() const override { return QStringLiteral("units"); }
  std::optional<ViewExport> exportView() const override;

  /// Opens a scan database (checked against the open model once one is open; a refusal is an
  /// error message).
  void openDatabase(const QString& path);
  /// Scans `folder` with the open model into `db` (default layers, top 9), resuming an
  /// unfinished scan of the same folder and model; the database opens when it is done.
  void scanFolder(const QString& folder, const QString& db);
  /// Cancels a running scan (what was committed stays; scanning again resumes).
  void cancelScan();
  /// True while a scan runs.
  bool isScanning() const;
  /// The database a scan of `folder` with the open model goes to by default (a file per folder
  /// and model under the application's data folder, so scanning again resumes it).
  QString defaultDatabaseFor(const QString& folder) const;

  /// Shows scanned layer `name`.
  void setLayer(const QString& name);
  /// The scanned layer shown (empty when none).
  QString layer() const;
  /// Shows unit `unit` of the layer at full size.
  void selectUnit(int unit);
  /// The unit shown at full size (-1 when none).
  int selectedUnit() const { return m_unit; }
  /// The projection mode of the full-size cells.
  void setMode(ProjectionMode mode);
  /// Opens image `rank` (0-based) of the shown unit in the other views with the layer, the unit
  /// and its position selected (what a double-click on its patch does).
  void openPatch(int rank);

  /// The open database (null when none).
  const std::shared_ptr<const UnitsDatabase>& database() const { return m_db; }
  /// The mosaic shown (null while none).
  const std::shared_ptr<const UnitsMosaic>& mosaic() const { return m_mosaic; }
  /// The unit shown at full size (null while none).
  const std::shared_ptr<const UnitDetail>& detail() const { return m_detail; }
  /// Layers whose mosaic is cached.
  int cachedMosaics() const { return int(m_mosaics.size()); }
  ImageView* mosaicView() const { return m_mosaicView; }
  ImageView* detailView() const { return m_detailView; }

  /// Shows the Open Scan Database dialog.
  void openDatabaseDialog();
  /// Shows the Scan Folder dialog.
  void scanFolderDialog();

  /// Job slots.
  static inline const QString kOpenJob = QStringLiteral("units-open");
  static inline const QString kMosaicJob = QStringLiteral("units-mosaic");
  static inline const QString kUnitJob = QStringLiteral("units-unit");
  static inline const QString kScanJob = QStringLiteral("units-scan");
  /// Images per forward run of a scan from the window (recorded in the database).
  static constexpr int kScanBatch = 32;
  /// Images per unit in the full-size view.
  static constexpr int kTop = 9;

 signals:
  /// A patch was opened: the window opens `image` and selects `selection` with it.
  void openImageRequested(const QString& image, const Selection& selection);
  /// A mosaic is shown.
  void mosaicShown(const QString& layer);
  /// A unit is shown at full size.
  void unitShown(int unit);
  /// A scan from the window ended (finished, cancelled or failed).
  void scanEnded();

 protected:
  void refresh() override;

 private:
  void startOpen(bool explicitOpen);
  void showMosaic();
  void showDetail();
  void clearPictures(const QString& message);
  void updateButtons();
  void openCell(const AtlasCell& cell, const QString& layer);
  ProjectionMode mode() const;
  QString describeCell(const AtlasCell& cell) const;

  QPushButton* m_open;
  QPushButton* m_scan;
  QPushButton* m_cancel;
  QProgressBar* m_progress;
  QComboBox* m_layer;
  QComboBox* m_mode;
  QLabel* m_info;
  QLabel* m_detailInfo;
  ImageView* m_mosaicView;
  ImageView* m_detailView;
  QString m_path;           // the database to show (empty: none)
  bool m_explicit = false;  // the user asked for it: a refusal is an error dialog
  int m_unit = -1;
  std::shared_ptr<const UnitsDatabase> m_db;
  std::shared_ptr<const UnitsMosaic> m_mosaic;
  std::shared_ptr<const UnitDetail> m_detail;
  QHash<QString, std::shared_ptr<const UnitsMosaic>> m_mosaics;  // layer -> mosaic
  QHash<QString, std::shared_ptr<const UnitDetail>> m_details;   // "layer/unit/mode" -> cells
};

}  // namespace zfvis::ui
