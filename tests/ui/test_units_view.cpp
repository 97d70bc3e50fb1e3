// The units view against core, on the shipped trained zf-small and Fashion-MNIST test images: a
// scan database made with core's runScan opens as a mosaic with one block per unit holding that
// unit's top patches (as core's computeAtlasPatches crops them); a click on a unit shows its top 9
// cells pixel for pixel as core's computeAtlas + renderAtlasCell draw them; a double-click on a
// patch opens that image with the layer, the unit and its position selected; another model's
// database is refused in one line; and a scan from the window, cancelled and scanned again, ends
// with exactly the rows of an uninterrupted core scan.
#include <QLabel>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/analysis/image_list.h"
#include "core/analysis/scan/atlas.h"
#include "core/analysis/scan/scan.h"
#include "core/analysis/training/dataset.h"
#include "core/import/model_loader.h"
#include "core/render/atlas_sheet.h"
#include "tests/ui/ui_test_util.h"
#include "tests/ui/view_checks.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/convert.h"
#include "ui/error_reporter.h"
#include "ui/image_view.h"
#include "ui/main_window.h"
#include "ui/views/projection_view.h"
#include "ui/views/units_view.h"

using namespace zfvis;
using namespace zfvis::ui;

namespace {

namespace fs = std::filesystem;
const QString kSamples = QStringLiteral(ZFVIS_SAMPLES_DIR);

// The first `count` Fashion-MNIST test images as PNG files in `dir`.
void writeFashionImages(const fs::path& dir, int count) {
  fs::create_directories(dir);
  const Dataset data = loadDataset("fashion-mnist", {});
  for (int i = 0; i < count; ++i) {
    char file[32];
    std::snprintf(file, sizeof file, "f%04d.png", i);
    cv::imwrite((dir / file).string(), data.test.image(i));
  }
}

// The options a scan from the window uses, for a core scan to compare with.
ScanOptions windowScanOptions(const NetworkDef& def, const fs::path& images) {
  ScanOptions o;
  o.model = modelIdentity(def, "zf-small");
  o.topK = UnitsView::kTop;
  o.batch = UnitsView::kScanBatch;
  o.imageRoot = images;
  return o;
}

// The pixels of `sheet` where cell `rect` shows `m`, centred as renderAtlasSheet centres it.
cv::Mat shownIn(const cv::Mat& sheet, const cv::Rect& rect, const cv::Mat& m) {
  return sheet(cv::Rect(rect.x + (rect.width - m.cols) / 2, rect.y + (rect.height - m.rows) / 2,
                        m.cols, m.rows));
}

}  // namespace

class UnitsViewTest : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<MainWindow> m_window;
  std::shared_ptr<RecordingErrorReporter> m_errors;
  QTemporaryDir m_tmp;
  fs::path m_images, m_db;
  std::shared_ptr<const NetworkDef> m_def;

  AppState* state() const { return m_window->state(); }
  UnitsView* units() const { return qobject_cast<UnitsView*>(m_window->view("units")); }
  void waitIdle() { QVERIFY(uitest::settle(*m_window, 120000)); }
  QPoint widgetPoint(ImageView* v, const cv::Rect& r) const {
    return v->imageToWidget(QPointF(r.x + r.width / 2 + 0.5, r.y + r.height / 2 + 0.5)).toPoint();
  }

 private slots:
  void initTestCase() {
    uitest::isolateSettings();
    m_images = toPath(m_tmp.filePath("fashion"));
    writeFashionImages(m_images, 40);
    m_def = std::make_shared<const NetworkDef>(loadModel("zf-small"));
    m_db = toPath(m_tmp.filePath("fashion.sqlite"));
    runScan(CompiledNet::compile(m_def), listImages(m_images), m_db,
            windowScanOptions(*m_def, m_images));

    m_window = std::make_unique<MainWindow>(kSamples);
    m_errors = std::make_shared<RecordingErrorReporter>();
    m_window->setErrorReporter(m_errors);
    m_window->setPersistLayout(false);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->controller()->openModel("zf-small");
    waitIdle();
    QVERIFY(state()->net());
  }

  void cleanupTestCase() { m_window.reset(); }
  void init() { m_errors->clear(); }
  void cleanup() {
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
  }

  void theTabIsCtrl8() {
    QTest::keyClick(m_window->layerTable(), Qt::Key_8, Qt::ControlModifier);
    QCOMPARE(m_window->currentViewId(), QStringLiteral("units"));
  }

  void mosaicHasOneBlockPerUnitWithItsTopPatches() {
    m_window->showView("units");
    units()->openDatabase(toQString(m_db.string()));
    waitIdle();
    QVERIFY(units()->database());
    QVERIFY(units()->database()->complete);
    const ScanReader scan(m_db);
    QCOMPARE(int(units()->database()->layers.size()), 5);  // relu1 .. relu5
    for (const ScanLayer& l : scan.layers()) {
      units()->setLayer(toQString(l.name));
      waitIdle();
      auto mosaic = units()->mosaic();
      QVERIFY(mosaic);
      QCOMPARE(mosaic->layer, toQString(l.name));
      QCOMPARE(int(mosaic->atlas.units.size()), l.channels);
      QCOMPARE(int(mosaic->layout.units.size()), l.channels);
      QCOMPARE(units()->mosaicView()->image(), mosaic->image);
      // Every unit's top 9 (the images are 40, so each unit has 9), patches as core crops them.
      AtlasOptions o;
      o.hi = l.channels - 1;
      const Atlas want =
          computeAtlasPatches(scan, *m_def, windowScanOptions(*m_def, m_images).model, l.name, o);
      for (size_t u = 0; u < want.units.size(); ++u) {
        QCOMPARE(mosaic->atlas.units[u].unit, int(u));
        QCOMPARE(mosaic->atlas.units[u].cells.size(), size_t(9));
        for (size_t k = 0; k < 9; ++k) {
          const AtlasCell& c = want.units[u].cells[k];
          const cv::Mat m = renderAtlasCell(c, want.preprocess, mosaic->layout.scale, true);
          cv::Mat bgr = m;
          if (bgr.channels() == 1) cv::cvtColor(bgr, bgr, cv::COLOR_GRAY2BGR);
          QCOMPARE(cv::norm(shownIn(mosaic->bgr, mosaic->layout.cells[u][k].second, bgr), bgr,
                            cv::NORM_INF),
                   0.0);
        }
      }
    }
    QCOMPARE(units()->cachedMosaics(), 5);
  }

  void clickingAUnitShowsCoresAtlasCells() {
    m_window->showView("units");
    units()->setLayer("relu2");
    waitIdle();
    auto mosaic = units()->mosaic();
    QVERIFY(mosaic);
    const int unit = 5;
    QTest::mouseClick(units()->mosaicView(), Qt::LeftButton, {},
                      widgetPoint(units()->mosaicView(), mosaic->layout.cells[unit][4].second));
    waitIdle();
    QCOMPARE(units()->selectedUnit(), unit);
    auto detail = units()->detail();
    QVERIFY(detail);
    QCOMPARE(detail->unit, unit);
    QCOMPARE(detail->layer, QStringLiteral("relu2"));
    QCOMPARE(units()->detailView()->image(), detail->image);
    // Core's atlas of that unit, on a net of our own.
    const ScanReader scan(m_db);
    AtlasOptions o;
    o.lo = o.hi = unit;
    const Atlas want = computeAtlas(scan, CompiledNet::compile(m_def),
                                    windowScanOptions(*m_def, m_images).model, "relu2", o);
    QCOMPARE(want.units.front().cells.size(), size_t(UnitsView::kTop));
    QCOMPARE(detail->atlas.units.front().cells.size(), size_t(UnitsView::kTop));
    for (size_t k = 0; k < want.units.front().cells.size(); ++k) {
      const AtlasCell& c = want.units.front().cells[k];
      QCOMPARE(detail->atlas.units.front().cells[k].entry.image, c.entry.image);
      for (int patch = 0; patch < 2; ++patch) {
        cv::Mat m = renderAtlasCell(c, want.preprocess, detail->layout.scale, patch == 1);
        if (m.channels() == 1) cv::cvtColor(m, m, cv::COLOR_GRAY2BGR);
        const auto& cell = detail->layout.cells[0][k];
        QCOMPARE(
            cv::norm(shownIn(detail->bgr, patch ? cell.second : cell.first, m), m, cv::NORM_INF),
            0.0);
      }
    }
    // Another mode is computed once, then cached.
    units()->setMode(ProjectionMode::Guided);
    waitIdle();
    QCOMPARE(units()->detail()->mode, ProjectionMode::Guided);
    units()->setMode(ProjectionMode::Deconvnet);
    QVERIFY(units()->detail() == detail);  // from the cache, at once
  }

  void doubleClickingAPatchOpensItsImageWithTheUnitSelected() {
    m_window->showView("units");
    units()->setLayer("relu2");
    units()->selectUnit(5);
    waitIdle();
    auto detail = units()->detail();
    QVERIFY(detail);
    const int rank = 2;
    const AtlasCell& c = detail->atlas.units.front().cells[rank];
    QTest::mouseDClick(units()->detailView(), Qt::LeftButton, {},
                       widgetPoint(units()->detailView(), detail->layout.cells[0][rank].second));
    waitIdle();
    QCOMPARE(m_window->currentViewId(), QStringLiteral("projection"));
    QVERIFY(toPath(state()->source().path) == m_images / c.entry.path);
    QCOMPARE(state()->layer(), m_def->indexOf("relu2"));
    QCOMPARE(state()->channel(), 5);
    QVERIFY(state()->position());
    QCOMPARE(*state()->position(), cv::Point(c.entry.x, c.entry.y));
    QVERIFY(state()->forward());
    auto* proj = qobject_cast<ProjectionView*>(m_window->view("projection"));
    QVERIFY(proj->picture());
    QCOMPARE(proj->picture()->projection.position, cv::Point(c.entry.x, c.entry.y));
    QCOMPARE(proj->picture()->projection.channel, 5);
    // The scanned value is the one projected.
    QVERIFY(std::abs(proj->picture()->projection.activation - c.entry.value) <=
            1e-5 * std::max(1.0, c.entry.value));
  }

  void anotherModelsDatabaseIsRefusedInOneLine() {
    m_window->showView("units");
    m_window->controller()->openModel("alex-small");
    waitIdle();
    // Reopened for the new model: refused in place, no dialog.
    QVERIFY(m_errors->messages().isEmpty());
    QVERIFY(!units()->database());
    QVERIFY(units()->mosaicView()->message().contains("is a scan of model"));
    // Opened explicitly: one line in the error dialog.
    units()->openDatabase(toQString(m_db.string()));
    waitIdle();
    QCOMPARE(m_errors->messages().size(), 1);
    const QString message = m_errors->messages().first();
    QVERIFY2(message.contains("is a scan of model") && !message.contains('\n'),
             qPrintable(message));
    m_errors->clear();
    // Back with its model, it shows again.
    m_window->controller()->openModel("zf-small");
    waitIdle();
    QVERIFY(units()->database());
    QVERIFY(units()->mosaic());
  }

  void scanCancelledAndScannedAgainEqualsAnUninterruptedScan() {
    m_window->showView("units");
    const fs::path images = toPath(m_tmp.filePath("scan-images"));
    writeFashionImages(images, 320);
    const fs::path whole = toPath(m_tmp.filePath("whole.sqlite"));
    runScan(CompiledNet::compile(m_def), listImages(images), whole,
            windowScanOptions(*m_def, images));
    const QString db = m_tmp.filePath("window.sqlite");
    // Cancel once the first batches are committed.
    bool cancelled = false;
    auto connection = connect(m_window->jobs(), &JobTracker::jobProgress, this,
                              [&](const QString& slot, int permille, const QString&) {
                                if (slot == UnitsView::kScanJob && permille > 0 && !cancelled) {
                                  cancelled = true;
                                  units()->cancelScan();
                                }
                              });
    QSignalSpy ended(units(), &UnitsView::scanEnded);
    units()->scanFolder(toQString(images.string()), db);
    QVERIFY(units()->isScanning());
    QVERIFY(ended.wait(120000));
    disconnect(connection);
    waitIdle();
    QVERIFY(cancelled);
    {
      const ScanReader part(toPath(db));
      QVERIFY2(!part.complete(), "the scan finished before it was cancelled");
      const int done = std::stoi(part.meta().at("images_done"));
      QVERIFY(done > 0 && done < 320);
      qInfo("cancelled after %d of 320 images", done);
    }
    units()->scanFolder(toQString(images.string()), db);
    QVERIFY(ended.wait(120000));
    waitIdle();
    QVERIFY(ScanReader(toPath(db)).complete());
    QCOMPARE(dumpScanRows(toPath(db)), dumpScanRows(whole));
    // The finished scan is the one shown.
    QVERIFY(units()->database());
    QCOMPARE(units()->database()->path, db);
    QVERIFY(units()->mosaic());
  }
};

QTEST_MAIN(UnitsViewTest)
#include "test_units_view.moc"
