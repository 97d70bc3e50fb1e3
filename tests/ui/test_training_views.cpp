// The Train and Evolution tabs of the real MainWindow against core: the evolution view on the
// shipped zf-small run has a slider over exactly its checkpoints, curves with every row of its
// log.json and a marker at the checkpoint's step, different filters at the first and the last
// checkpoint, cached columns, stale column jobs superseded by fast slider moves, a layer switch,
// and an exported sheet; the train view trains alex-small on a quadrant IDX dataset to the end
// (checkpoints listed = the run folder's, curves = its log, the final checkpoint opens as the
// model, Show Evolution opens the run), Cancel mid-run leaves resume.json that Resume finishes,
// a bad dataset is one line in the error reporter, and closing the window mid-run is clean.
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QtTest>
#include <opencv2/imgcodecs.hpp>

#include "core/analysis/evolution/evolution.h"
#include "core/analysis/training/run_files.h"
#include "core/analysis/training/training_log.h"
#include "core/model/small_nets.h"
#include "tests/analysis/training/training_fixture.h"
#include "tests/ui/ui_test_util.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/error_reporter.h"
#include "ui/image_view.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/views/curves_widget.h"
#include "ui/views/evolution_view.h"
#include "ui/views/train_view.h"

using namespace zfvis;
using namespace zfvis::ui;
namespace fs = std::filesystem;

namespace {
const QString kSamples = QStringLiteral(ZFVIS_SAMPLES_DIR);

// Mean absolute difference of two images of the same size (-1 when the sizes differ).
double meanDifference(const QImage& a, const QImage& b) {
  if (a.size() != b.size() || a.isNull()) return -1;
  const QImage x = a.convertToFormat(QImage::Format_RGB32),
               y = b.convertToFormat(QImage::Format_RGB32);
  double sum = 0;
  for (int r = 0; r < x.height(); ++r) {
    const QRgb *p = reinterpret_cast<const QRgb*>(x.constScanLine(r)),
               *q = reinterpret_cast<const QRgb*>(y.constScanLine(r));
    for (int c = 0; c < x.width(); ++c)
      sum += std::abs(qRed(p[c]) - qRed(q[c])) + std::abs(qGreen(p[c]) - qGreen(q[c])) +
             std::abs(qBlue(p[c]) - qBlue(q[c]));
  }
  return sum / (3.0 * x.width() * x.height());
}

QPushButton* button(QWidget* in, const QString& text) {
  for (QPushButton* b : in->findChildren<QPushButton*>())
    if (b->text() == text) return b;
  return nullptr;
}

}  // namespace

class TrainingViews : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<MainWindow> m_window;
  std::shared_ptr<RecordingErrorReporter> m_errors;
  QTemporaryDir m_tmp;
  QString m_data;  // fashion-mnist:DIR of a quadrant dataset

  EvolutionView* evolution() const {
    return qobject_cast<EvolutionView*>(m_window->view("evolution"));
  }
  TrainView* train() const { return qobject_cast<TrainView*>(m_window->view("train")); }
  void waitIdle(int ms = 120000) { QVERIFY(m_window->jobs()->waitForIdle(ms)); }

  std::unique_ptr<MainWindow> makeWindow() {
    auto w = std::make_unique<MainWindow>(kSamples);
    w->setErrorReporter(m_errors);
    w->setPersistLayout(false);
    w->resize(1400, 900);
    w->show();
    return w;
  }

 private slots:
  void initTestCase() {
    uitest::isolateSettings();
    QVERIFY(m_tmp.isValid());
    const fs::path data = toPath(m_tmp.filePath("data"));
    fs::create_directories(data);
    testing::writeQuadrantIdx(data, "train", 512, 1);
    testing::writeQuadrantIdx(data, "t10k", 64, 2);
    m_data = "fashion-mnist:" + toQString(data.string());
    m_errors = std::make_shared<RecordingErrorReporter>();
    m_window = makeWindow();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
  }

  void cleanupTestCase() { m_window.reset(); }
  void init() { m_errors->clear(); }
  void cleanup() {
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
  }

  void evolutionShowsTheShippedRun() {
    const auto dir = shippedRunDir("zf-small");
    if (!dir) QSKIP("the shipped zf-small run is not present");
    const std::vector<RunCheckpoint> checkpoints = listRunCheckpoints(*dir);
    const std::vector<LogRow> log = readLog(*dir);
    m_window->showView("evolution");
    EvolutionView* v = evolution();
    QSignalSpy shown(v, &EvolutionView::columnShown);
    waitIdle();
    QVERIFY(v->run());
    QCOMPARE(v->run()->source, QStringLiteral("zf-small"));
    // One slider position per checkpoint, the trained state first.
    QCOMPARE(int(v->run()->checkpoints.size()), int(checkpoints.size()));
    QCOMPARE(v->slider()->minimum(), 0);
    QCOMPARE(v->slider()->maximum(), int(checkpoints.size()) - 1);
    QCOMPARE(v->checkpoint(), int(checkpoints.size()) - 1);
    QCOMPARE(shown.count(), 1);
    // The curves: every row of the log, the marker at the checkpoint's step.
    QCOMPARE(v->curves()->rowCount(), int(log.size()));
    QCOMPARE(v->curves()->marker().value_or(-1), checkpoints.back().step);
    // The column: the second convolution's first 8 units, each found on an image.
    auto last = v->picture();
    QVERIFY(last);
    QCOMPARE(last->checkpoint, v->checkpoint());
    QCOMPARE(QString::fromStdString(v->run()->first->layers[size_t(v->layer())].name),
             QStringLiteral("conv2"));
    QCOMPARE(int(last->column.units.size()), 8);
    for (const UnitMaximum& m : last->column.units) QVERIFY(m.image >= 0);
    QCOMPARE(int(last->activations.size()), 8);
    QVERIFY(!v->filtersView()->image().isNull());
    QVERIFY(!v->cellsView()->image().isNull());
    QVERIFY(!v->activationsView()->image().isNull());
    // The units as a grid; choosing one shows the layer on its best image.
    QCOMPARE(int(last->cellsLayout.cells.size()), 8);
    v->selectUnit(5);
    QCOMPARE(v->selectedUnit(), 5);
    QCOMPARE(v->activationsView()->image(), last->activations[5]);

    // Checkpoint 0 (the initialisation): other filters than the trained ones.
    v->setCheckpoint(0);
    waitIdle();
    auto first = v->picture();
    QVERIFY(first);
    QCOMPARE(first->checkpoint, 0);
    QCOMPARE(v->curves()->marker().value_or(-1), int64_t(0));
    const double diff = meanDifference(first->filters, last->filters);
    qInfo("filters: mean |init - final| = %.1f grey levels", diff);
    QVERIFY2(diff > 5, qPrintable(QString::number(diff)));
    QCOMPARE(v->cachedColumns(), 2);
    // A cached column is shown at once, without a job.
    v->setCheckpoint(v->slider()->maximum());
    QVERIFY(m_window->jobs()->isIdle());
    QCOMPARE(v->picture(), last);

    // Fast moves: only the last position's column is computed and shown.
    QSignalSpy dropped(m_window->jobs(), &JobTracker::resultDropped);
    QSignalSpy cancelled(m_window->jobs(), &JobTracker::jobCancelled);
    for (int k = 1; k <= 3; ++k) v->setCheckpoint(k);
    waitIdle();
    QCOMPARE(v->picture()->checkpoint, 3);
    QCOMPARE(v->checkpoint(), 3);
    QVERIFY(dropped.count() + cancelled.count() >= 1);

    // Another layer: its own columns.
    const int conv1 = v->run()->first->indexOf("conv1");
    v->setLayer(conv1);
    waitIdle();
    QCOMPARE(v->picture()->layer, conv1);
    QCOMPARE(v->cachedColumns(), 1);

    // The sheet of every checkpoint.
    const QString png = m_tmp.filePath("evolution.png");
    v->exportSheetTo(png);
    waitIdle();
    const cv::Mat sheet = cv::imread(png.toStdString());
    QVERIFY(!sheet.empty());
    QVERIFY(sheet.cols > int(checkpoints.size()) * 96);
    QVERIFY(v->exportView());
  }

  void trainViewTrainsToTheEnd() {
    m_window->showView("train");
    TrainView* v = train();
    const QString run = m_tmp.filePath("run-complete");
    v->setArchitecture("alex-small");
    v->setData(m_data);
    QCOMPARE(v->dataSpec(), m_data);
    v->setSchedule(1, 16, 0.02);
    v->setOutputDir(run);
    QSignalSpy ended(v, &TrainView::trainingEnded);
    QTest::mouseClick(button(v, "Start"), Qt::LeftButton);
    QVERIFY(v->isTraining());
    QVERIFY(!button(v, "Start")->isEnabled());
    waitIdle(300000);
    QCOMPARE(ended.count(), 1);
    QCOMPARE(ended.at(0).at(0).toBool(), true);
    QVERIFY(!v->isTraining());
    const fs::path dir = toPath(run);
    QVERIFY(fs::exists(dir / "final.onnx"));
    QVERIFY(!fs::exists(dir / "resume.json"));
    // What the view listed and drew is what the run folder holds.
    const std::vector<RunCheckpoint> checkpoints = listRunCheckpoints(dir);
    QVERIFY(checkpoints.size() >= 2);
    QCOMPARE(v->checkpointList()->count(), int(checkpoints.size()));
    for (int i = 0; i < v->checkpointList()->count(); ++i)
      QCOMPARE(v->checkpointList()->item(i)->data(Qt::UserRole).toString(),
               toQString(checkpoints[size_t(i)].file.string()));
    QCOMPARE(v->curves()->rowCount(), int(readLog(dir).size()));
    QCOMPARE(v->progressBar()->value(), v->progressBar()->maximum());
    QCOMPARE(v->progressBar()->maximum(), 512 / 16);
    QVERIFY(v->filterUpdates() >= 1);
    QVERIFY(!v->filtersView()->image().isNull());
    QVERIFY(v->statusLabel()->text().startsWith("Finished"));

    // Double-click the final checkpoint: it becomes the model, as File > Open Model does.
    QListWidget* list = v->checkpointList();
    QListWidgetItem* item = list->item(list->count() - 1);
    list->setCurrentItem(item);
    // (QAbstractItemView takes a double-click only after a press on the same item.)
    const QPoint at = list->visualItemRect(item).center();
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, at);
    QTest::mouseDClick(list->viewport(), Qt::LeftButton, {}, at);
    waitIdle();
    QCOMPARE(m_window->state()->modelSpec(), toQString((dir / "final.onnx").string()));
    QVERIFY(m_window->state()->def());

    // Show Evolution: the evolution view on this run.
    QTest::mouseClick(button(v, "Show Evolution"), Qt::LeftButton);
    QCOMPARE(m_window->currentViewId(), QStringLiteral("evolution"));
    waitIdle();
    QVERIFY(evolution()->run());
    QCOMPARE(evolution()->run()->source, run);
    QCOMPARE(evolution()->slider()->maximum(), int(checkpoints.size()) - 1);
    QVERIFY(evolution()->picture());
    QCOMPARE(evolution()->curves()->rowCount(), int(readLog(dir).size()));
  }

  void cancelLeavesAResumeStateThatResumeFinishes() {
    m_window->showView("train");
    TrainView* v = train();
    const QString run = m_tmp.filePath("run-cancelled");
    v->setArchitecture("alex-small");
    v->setData(m_data);
    v->setSchedule(6, 4, 0.01);  // 768 steps: long enough to cancel in the middle
    v->setOutputDir(run);
    v->start();
    QTRY_VERIFY_WITH_TIMEOUT(v->progressBar()->value() > 0, 120000);
    QTest::mouseClick(button(v, "Cancel"), Qt::LeftButton);
    waitIdle(300000);
    QVERIFY(!v->isTraining());
    const fs::path dir = toPath(run);
    QVERIFY(fs::exists(dir / "resume.json"));
    QVERIFY(!fs::exists(dir / "final.onnx"));
    QVERIFY(v->statusLabel()->text().contains("resume"));
    QPushButton* resume = button(v, "Resume");
    QVERIFY(resume->isEnabled());
    const int stoppedAt = v->progressBar()->value();
    QVERIFY(stoppedAt < v->progressBar()->maximum());
    const int rowsBefore = v->curves()->rowCount();
    const int checkpointsBefore = v->checkpointList()->count();
    // Resume continues from there to the end, showing the run's history too.
    QTest::mouseClick(resume, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(v->progressBar()->value() >= stoppedAt, 120000);
    QTRY_VERIFY_WITH_TIMEOUT(v->curves()->rowCount() >= rowsBefore, 120000);
    QVERIFY(v->checkpointList()->count() >= checkpointsBefore);
    waitIdle(600000);
    QCOMPARE(v->curves()->rowCount(), int(readLog(dir).size()));
    QCOMPARE(v->checkpointList()->count(), int(listRunCheckpoints(dir).size()));
    QVERIFY(fs::exists(dir / "final.onnx"));
    QVERIFY(!fs::exists(dir / "resume.json"));
    QCOMPARE(v->progressBar()->value(), v->progressBar()->maximum());
  }

  void aBadDatasetIsOneLine() {
    TrainView* v = train();
    v->setArchitecture("zf-small");
    v->setData("cifar10:" + m_tmp.filePath("no-such-data"));
    v->setOutputDir(m_tmp.filePath("run-bad"));
    v->start();
    waitIdle();
    QVERIFY(!v->isTraining());
    QCOMPARE(m_errors->messages().size(), 1);
    QVERIFY(!m_errors->messages().first().contains('\n'));
    qInfo("error: %s", qPrintable(m_errors->messages().first()));
    m_errors->clear();
    QVERIFY(button(v, "Start")->isEnabled());
  }

  void closingTheWindowMidRunCancelsAndWaits() {
    auto w = makeWindow();
    auto* v = qobject_cast<TrainView*>(w->view("train"));
    w->showView("train");
    const QString run = m_tmp.filePath("run-closed");
    v->setArchitecture("alex-small");
    v->setData(m_data);
    v->setSchedule(20, 4, 0.01);
    v->setOutputDir(run);
    v->start();
    QTRY_VERIFY_WITH_TIMEOUT(v->progressBar()->value() > 0, 120000);
    w->close();
    w.reset();  // waits for the worker, which writes the resume state
    QVERIFY(fs::exists(toPath(run) / "resume.json"));
  }

  void curvesTicksAreRound() {
    const std::vector<double> t = niceTicks(0, 9370, 6);
    QCOMPARE(t.front(), 0.0);
    QCOMPARE(t[1], 2000.0);
    QCOMPARE(t.back(), 8000.0);
    const std::vector<double> l = niceTicks(0, 2.31, 5);
    QCOMPARE(l[1], 0.5);
    QCOMPARE(l.back(), 2.0);
  }
};

QTEST_MAIN(TrainingViews)
#include "test_training_views.moc"
