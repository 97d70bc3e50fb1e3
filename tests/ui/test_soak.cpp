// A seeded random-event soak of the real MainWindow. ZFVIS_SOAK_EVENTS events (default 1000) are
// drawn from a generator seeded with ZFVIS_SOAK_SEED (random when unset; printed first and in
// every failure, so a run can be replayed): clicks, double-clicks, drags, wheel turns and hovers
// on the views' pictures (feature maps, filters, the top-9 grid), keys (Page Up/Down, arrows) in
// the layer list and in the views, tab changes (clicks on the tabs, Ctrl+1..5), clicks on layer
// rows, the views' and the input panel's options, model switches between small models (nin and
// fixtures), image switches between the samples and a .npy input (refused with a one-line error
// by models of another input shape: the only error allowed), the views' "How to read this"
// toggles, occlusion runs (the target picked from its list of class names), moves of the
// evolution view's checkpoint slider (keys and jumps, superseding its column jobs), training runs
// started in the train view (alex-small or zf-small, one epoch of a small quadrant IDX dataset),
// scans of the sample photos from the units view (with nin only: every other model would scan a
// full batch of its own) and opening that scan database (refused in one line while another model
// is open: the other error allowed), and cancels of running jobs (the status bar's, the occlusion
// view's, the train view's and the units view's Cancel buttons); clicks on the units view's
// mosaic select units, double-clicks on its patches open their images. Pauses of 0-30 ms
// between events let jobs overlap, be superseded and be cancelled at every stage.
//
// It passes when nothing crashes, no other error is reported, the window then settles and shows
// the right pictures for nin on chelsea.png, and the GUI thread never stalls for more than 50 ms
// (printed but not enforced in sanitizer builds).
// A stall (tests/ui/stall_probe.h) is one event handled on the GUI thread (input, timer, paint,
// job result, ...; or one soak event as a whole) taking that long, less the time the GUI thread
// and Qt's paint threads waited for a CPU: how long our code, or Qt working for it, kept the event
// loop from other events, whatever else the machine was doing. probeCountsBusyAndBlockedTimeOnly
// checks the probe itself.
#include <ctime>
#include <deque>
#include <random>

#include <QAbstractItemView>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QGraphicsView>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTabBar>
#include <QTabWidget>
#include <QTableView>
#include <QToolButton>
#include <QWheelEvent>
#include <QtTest>

#include "tests/analysis/training/training_fixture.h"
#include "tests/ui/stall_probe.h"
#include "tests/ui/ui_test_util.h"
#include "tests/ui/view_checks.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/error_reporter.h"
#include "ui/image_view.h"
#include "ui/input_panel.h"
#include "ui/main_window.h"
#include "ui/views/evolution_view.h"
#include "ui/views/graph_view.h"
#include "ui/views/occlusion_view.h"
#include "ui/views/train_view.h"
#include "ui/views/units_view.h"

using namespace zfvis;
using namespace zfvis::ui;
using namespace zfvis::uitest;

namespace {

const QString kSamples = QStringLiteral(ZFVIS_SAMPLES_DIR);
const QString kFixtures = QStringLiteral(ZFVIS_FIXTURES_DIR);
constexpr double kStallBudgetMs = 50;
// Sanitizer builds run our code 2-15x slower: their stalls are printed, not held to the budget.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kHoldToBudget = false;
#else
constexpr bool kHoldToBudget = true;
#endif

// Small models to switch between: a built-in and fixtures of every kind (ONNX and Keras, a
// two-tower net, batch norm, average pooling, a model without convolutions).
const QStringList kModels = {"nin",
                             kFixtures + "/onnx/alexnet_torch.onnx",
                             kFixtures + "/onnx/nin_zoo.onnx",
                             kFixtures + "/onnx/batchnorm.onnx",
                             kFixtures + "/onnx/matmul_add.onnx",
                             kFixtures + "/keras/keras_mixed.h5",
                             kFixtures + "/keras/keras_alexnet2tower.h5"};
// Inputs: the samples, and a 3 x 67 x 67 tensor that only some models take.
const QString kNpyInput = kFixtures + "/onnx/input_3x67x67.npy";

// True for the errors a soak may cause: a .npy input of the wrong shape for the open model, and
// the nin scan database opened while another model is open.
bool expectedError(const QString& message) {
  return (message.startsWith("input '") && message.contains(".npy' has shape")) ||
         message.contains("is a scan of model");
}

class Soak {
 public:
  /// `dataDir`: a quadrant IDX dataset to train on; `runsDir`: where runs are written.
  /// `unitsDb`: the scan database of the samples with nin.
  Soak(MainWindow& w, uint32_t seed, const QString& dataDir, const QString& runsDir,
       const QString& unitsDb)
      : m_w(w), m_rng(seed), m_dataDir(dataDir), m_runsDir(runsDir), m_unitsDb(unitsDb) {}

  // Runs one random event; returns its description.
  QString step() {
    const int kind = pick(110);
    if (kind >= 108) return clickGraphBox();
    if (kind < 16) return clickPicture();
    if (kind < 20) return doubleClickPicture();
    if (kind < 24) return dragPicture();
    if (kind < 28) return wheelPicture();
    if (kind < 34) return hoverPicture();
    if (kind < 48) return key();
    if (kind < 56) return changeTab();
    if (kind < 66) return clickLayerRow();
    if (kind < 74) return changeOption();
    if (kind < 80) return switchModel();
    if (kind < 86) return switchImage();
    if (kind < 88) return runOcclusion();
    if (kind < 92) return moveSlider();
    if (kind < 94) return startTraining();
    if (kind < 100) return cancelJob();
    if (kind < 103) return scanUnits();
    return openUnits();
  }

  // A pause of 0-30 ms running the event loop, now and then until everything has settled.
  void pause() {
    if (pick(40) == 0) {
      settle(m_w, 120000);
      return;
    }
    runEventLoopFor(pick(31));
  }

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(m_rng); }

 private:
  QWidget* currentView() const { return m_w.view(m_w.currentViewId()); }

  QPoint pointIn(const QWidget* w) {
    return {pick(std::max(1, w->width())), pick(std::max(1, w->height()))};
  }

  // A visible picture of the current view (null when it shows none).
  ImageView* picture() {
    QList<ImageView*> shown;
    for (ImageView* v : currentView()->findChildren<ImageView*>())
      if (v->isVisible() && v->width() > 0) shown << v;
    return shown.isEmpty() ? nullptr : shown[pick(int(shown.size()))];
  }

  QString clickPicture() {
    ImageView* v = picture();
    if (!v) return "click: no picture";
    const QPoint p = pointIn(v);
    QTest::mouseClick(v, Qt::LeftButton, {}, p);
    return QString("click %1 at (%2, %3)").arg(m_w.currentViewId()).arg(p.x()).arg(p.y());
  }

  // A click on a layer box of the graph view (or beside it: nothing happens).
  QString clickGraphBox() {
    auto* graph = qobject_cast<GraphView*>(m_w.view("graph"));
    if (m_w.currentViewId() != "graph") m_w.showView("graph");
    if (graph->nodeCount() == 0) return "graph: no boxes yet";
    const int layer = pick(graph->nodeCount());
    QGraphicsView* v = graph->graphicsView();
    v->centerOn(graph->nodeRect(layer).center());
    const QPoint at = pick(4) ? v->mapFromScene(graph->nodeRect(layer).center()) : pointIn(v);
    QTest::mouseClick(v->viewport(), Qt::LeftButton, {}, at);
    return QString("graph click (%1, %2), box %3").arg(at.x()).arg(at.y()).arg(layer);
  }

  QString doubleClickPicture() {
    ImageView* v = picture();
    if (!v) return "double-click: no picture";
    QTest::mouseDClick(v, Qt::LeftButton, {}, pointIn(v));
    return "double-click " + m_w.currentViewId();
  }

  QString dragPicture() {
    ImageView* v = picture();
    if (!v) return "drag: no picture";
    const QPoint a = pointIn(v), b = pointIn(v);
    QTest::mousePress(v, Qt::LeftButton, {}, a);
    QTest::mouseMove(v, (a + b) / 2);
    QTest::mouseMove(v, b);
    QTest::mouseRelease(v, Qt::LeftButton, {}, b);
    return "drag " + m_w.currentViewId();
  }

  QString wheelPicture() {
    ImageView* v = picture();
    if (!v) return "wheel: no picture";
    const QPoint p = pointIn(v);
    const int delta = pick(2) ? 120 : -120;
    QWheelEvent e(QPointF(p), QPointF(v->mapToGlobal(p)), QPoint(), QPoint(0, delta), Qt::NoButton,
                  Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(v, &e);
    return QString("wheel %1 %2").arg(m_w.currentViewId()).arg(delta);
  }

  QString hoverPicture() {
    ImageView* v = picture();
    if (!v) return "hover: no picture";
    QTest::mouseMove(v, pointIn(v));
    return "hover " + m_w.currentViewId();
  }

  QString key() {
    static const Qt::Key keys[] = {Qt::Key_PageUp, Qt::Key_PageDown, Qt::Key_Left,
                                   Qt::Key_Right,  Qt::Key_Up,       Qt::Key_Down};
    const Qt::Key k = keys[pick(6)];
    QWidget* target = m_w.layerTable();
    if (pick(2)) {
      ImageView* v = picture();
      target = v ? static_cast<QWidget*>(v) : currentView();
    }
    target->setFocus();
    QTest::keyClick(target, k);
    return QString("key %1 in %2")
        .arg(QKeySequence(k).toString(), target->metaObject()->className());
  }

  QString changeTab() {
    const int i = pick(int(kViews.size()));
    if (pick(2)) {
      QTest::keyClick(m_w.layerTable(), Qt::Key(Qt::Key_1 + i), Qt::ControlModifier);
      return "Ctrl+" + QString::number(i + 1);
    }
    QTabBar* bar = m_w.findChild<QTabWidget*>()->tabBar();
    QTest::mouseClick(bar, Qt::LeftButton, {}, bar->tabRect(i).center());
    return "tab " + kViews[i];
  }

  QString clickLayerRow() {
    QTableView* t = m_w.layerTable();
    const int rows = t->model()->rowCount();
    if (rows == 0) return "layer row: none";
    const QModelIndex index = t->model()->index(pick(rows), pick(t->model()->columnCount()));
    t->scrollTo(index);
    QTest::mouseClick(t->viewport(), Qt::LeftButton, {}, t->visualRect(index).center());
    return "layer row " + QString::number(index.row());
  }

  // A combo box, check box or spin box of the current view or the input panel.
  QString changeOption() {
    QWidget* area = pick(4) == 0 ? static_cast<QWidget*>(m_w.inputPanel()) : currentView();
    QList<QWidget*> controls;
    for (QWidget* c : area->findChildren<QWidget*>()) {
      if (!c->isVisible() || !c->isEnabled()) continue;
      if (qobject_cast<QComboBox*>(c) || qobject_cast<QCheckBox*>(c)) controls << c;
      // The views' "How to read this" toggles.
      if (qobject_cast<QToolButton*>(c) && c->objectName() == "helpButton") controls << c;
      // The occlusion view's spin boxes are set by runOcclusion (cheap patches only).
      if (qobject_cast<QSpinBox*>(c) && !qobject_cast<OcclusionView*>(area)) controls << c;
    }
    if (controls.isEmpty()) return "option: none";
    QWidget* c = controls[pick(int(controls.size()))];
    if (auto* box = qobject_cast<QCheckBox*>(c)) {
      QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(8, box->height() / 2));
      return QString("check box '%1' -> %2").arg(box->text()).arg(box->isChecked());
    }
    if (auto* help = qobject_cast<QToolButton*>(c)) {
      QTest::mouseClick(help, Qt::LeftButton);
      return QString("help -> %1").arg(help->isChecked());
    }
    if (auto* spin = qobject_cast<QSpinBox*>(c)) {
      spin->setValue(spin->minimum() + pick(std::max(1, spin->maximum() - spin->minimum() + 1)));
      return QString("spin box -> %1").arg(spin->value());
    }
    auto* combo = qobject_cast<QComboBox*>(c);
    // The compare view's model choices: only the open model and the small built-ins (the big
    // ones take seconds to build).
    QList<int> allowed;
    for (int i = 0; i < combo->count(); ++i) {
      const QVariant data = combo->itemData(i);
      const bool modelChoice = data.typeId() == QMetaType::QString;
      if (!modelChoice || data.toString().isEmpty() || data.toString().startsWith("nin"))
        allowed << i;
    }
    if (allowed.isEmpty()) return "combo: no choice";
    const int i = allowed[pick(int(allowed.size()))];
    combo->setCurrentIndex(i);
    emit combo->activated(i);  // what a user's choice sends too
    return QString("combo -> '%1'").arg(combo->itemText(i));
  }

  QString switchModel() {
    const QString model = kModels[pick(int(kModels.size()))];
    if (Controller::isModelFile(model))
      m_w.openFile(model);  // as a drop or a recent file does
    else
      m_w.controller()->openModel(model);  // as the Built-in Models menu does
    return "model " + QFileInfo(model).fileName();
  }

  QString switchImage() {
    QStringList inputs = m_w.samples();
    inputs << kNpyInput;
    const QString image = inputs[pick(int(inputs.size()))];
    m_w.openFile(image);
    return "image " + QFileInfo(image).fileName();
  }

  QString runOcclusion() {
    auto* view = qobject_cast<OcclusionView*>(m_w.view("occlusion"));
    if (m_w.currentViewId() != "occlusion") m_w.showView("occlusion");
    const NetworkDef* def = m_w.state()->def();
    if (def && def->input.shape.rank() == 3) {
      const int side = int(std::min(def->input.shape[1], def->input.shape[2]));
      const int patch = std::max(1, side / (2 + pick(2)));  // 2 x 2 to 3 x 3 placements
      view->setPatch(patch, patch);
    }
    for (QPushButton* b : view->findChildren<QPushButton*>())
      if (b->text() == QObject::tr("Run") && b->isEnabled()) {
        QTest::mouseClick(b, Qt::LeftButton);
        return "occlusion run";
      }
    return "occlusion: Run disabled";
  }

  QString moveSlider() {
    auto* view = qobject_cast<EvolutionView*>(m_w.view("evolution"));
    if (m_w.currentViewId() != "evolution") m_w.showView("evolution");
    QSlider* slider = view->slider();
    if (!slider->isEnabled()) return "slider: disabled";
    if (pick(2)) {
      static const Qt::Key keys[] = {Qt::Key_Left, Qt::Key_Right, Qt::Key_Home, Qt::Key_End};
      const Qt::Key k = keys[pick(4)];
      slider->setFocus();
      QTest::keyClick(slider, k);
      return "slider key " + QKeySequence(k).toString();
    }
    slider->setValue(pick(slider->maximum() + 1));
    return QString("slider -> %1").arg(slider->value());
  }

  QString startTraining() {
    auto* view = qobject_cast<TrainView*>(m_w.view("train"));
    if (m_w.currentViewId() != "train") m_w.showView("train");
    if (view->isTraining()) return "train: running";
    view->setArchitecture(pick(2) ? "alex-small" : "zf-small");
    view->setData("fashion-mnist:" + m_dataDir);
    view->setSchedule(1, 8 << pick(3), 0.01);
    view->setOutputDir(QDir(m_runsDir).filePath(QString("run-%1").arg(++m_runs)));
    for (QPushButton* b : view->findChildren<QPushButton*>())
      if (b->text() == QObject::tr("Start") && b->isEnabled()) {
        QTest::mouseClick(b, Qt::LeftButton);
        return "train start " + QString::fromStdString(view->config().model);
      }
    return "train: Start disabled";
  }

  QString scanUnits() {
    auto* view = qobject_cast<UnitsView*>(m_w.view("units"));
    if (m_w.currentViewId() != "units") m_w.showView("units");
    const NetworkDef* def = m_w.state()->def();
    if (!def || def->name != "nin") return "units scan: not nin";
    view->scanFolder(kSamples, m_unitsDb);
    return "units scan";
  }

  QString openUnits() {
    auto* view = qobject_cast<UnitsView*>(m_w.view("units"));
    if (m_w.currentViewId() != "units") m_w.showView("units");
    // Not while a scan (or a cancelled one winding down) may be creating the file.
    if (view->isScanning() || m_w.jobs()->pool(Lane::Background)->activeThreadCount() > 0)
      return "units open: a scan is running";
    if (!QFileInfo::exists(m_unitsDb)) return "units open: no database yet";
    // Half the time with its model too (it shows once nin is open), else with whatever is open
    // (refused in one line unless that is nin).
    const bool withNin = pick(2) == 0;
    if (withNin) m_w.controller()->openModel("nin");
    view->openDatabase(m_unitsDb);
    return withNin ? "units open with nin" : "units open";
  }

  QString cancelJob() {
    QList<QAbstractButton*> buttons;
    for (QToolButton* b : m_w.findChildren<QToolButton*>())
      if (b->text() == QObject::tr("Cancel") && b->isVisible()) buttons << b;
    for (QPushButton* b : m_w.findChildren<QPushButton*>())
      if (b->text() == QObject::tr("Cancel") && b->isVisible() && b->isEnabled()) buttons << b;
    if (buttons.isEmpty()) return "cancel: nothing running";
    QAbstractButton* b = buttons[pick(int(buttons.size()))];
    QTest::mouseClick(b, Qt::LeftButton);
    return QString("cancel (%1)").arg(b->metaObject()->className());
  }

  MainWindow& m_w;
  std::mt19937 m_rng;
  QString m_dataDir, m_runsDir;
  QString m_unitsDb;  // the scan of the samples with nin
  int m_runs = 0;
};

}  // namespace

class SoakTest : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { uitest::isolateSettings(); }

  void probeCountsBusyAndBlockedTimeOnly() {
    StallProbe probe;
    probe.phase("idle");
    runEventLoopFor(200);
    QVERIFY2(probe.worstIn("idle") < 20, qPrintable(probe.report()));
    // A handler that takes 60 ms of CPU time (however long that is on a busy machine), then one
    // blocked in a 60 ms sleep: both are stalls of at least 60 ms.
    probe.phase("busy");
    QTimer::singleShot(10, [] {
      timespec t0, t;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
      do {
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
      } while ((t.tv_sec - t0.tv_sec) * 1000.0 + (t.tv_nsec - t0.tv_nsec) / 1e6 < 60);
    });
    runEventLoopFor(150);
    QVERIFY2(probe.worstIn("busy") >= 59, qPrintable(probe.report()));
    probe.phase("blocked");
    QTimer::singleShot(10, [] { QThread::msleep(60); });
    runEventLoopFor(150);
    QVERIFY2(probe.worstIn("blocked") >= 59, qPrintable(probe.report()));
  }

  void randomEventsNeverCrashOrStall() {
    const uint32_t seed = qEnvironmentVariableIsSet("ZFVIS_SOAK_SEED")
                              ? uint32_t(qEnvironmentVariableIntValue("ZFVIS_SOAK_SEED"))
                              : std::random_device()();
    const int events = qEnvironmentVariableIsSet("ZFVIS_SOAK_EVENTS")
                           ? qEnvironmentVariableIntValue("ZFVIS_SOAK_EVENTS")
                           : 1000;
    qInfo("seed %u (replay: ZFVIS_SOAK_SEED=%u), %d events", seed, seed, events);
    MainWindow w(kSamples);
    auto errors = std::make_shared<RecordingErrorReporter>();
    w.setErrorReporter(errors);
    w.setPersistLayout(false);
    w.show();
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    w.controller()->openModel("nin");
    w.controller()->openImage(QDir(kSamples).filePath("chelsea.png"));
    QVERIFY(settle(w, 120000));

    // The last events, for the failure message.
    std::deque<QString> recent;
    auto context = [&] {
      QStringList lines;
      for (const QString& e : recent) lines << e;
      return QString("seed %1 (replay: ZFVIS_SOAK_SEED=%1); last events: %2")
          .arg(seed)
          .arg(lines.join(" | "));
    };
    // A small quadrant dataset to train on (256 images: 8 to 32 steps of one epoch).
    QTemporaryDir tmp;
    const std::filesystem::path data = toPath(tmp.filePath("data"));
    std::filesystem::create_directories(data);
    testing::writeQuadrantIdx(data, "train", 256, 5);
    testing::writeQuadrantIdx(data, "t10k", 32, 6);
    // A scan of the samples with nin first, so the units view has a database to open (shown while
    // nin is open, refused in one line otherwise) from the start.
    auto* units = qobject_cast<UnitsView*>(w.view("units"));
    const QString unitsDb = tmp.filePath("nin-samples.sqlite");
    w.showView("units");
    units->scanFolder(kSamples, unitsDb);
    QVERIFY(settle(w, 120000));
    QVERIFY(units->database() && units->database()->complete);
    int mosaics = 0, unitCells = 0;
    connect(units, &UnitsView::mosaicShown, [&] { ++mosaics; });
    connect(units, &UnitsView::unitShown, [&] { ++unitCells; });
    StallProbe probe;
    probe.phase("soak");
    Soak soak(w, seed, tmp.filePath("data"), tmp.filePath("runs"), unitsDb);
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < events; ++i) {
      {
        StallProbe::Scope scope(&probe, QString());
        recent.push_back(QString("#%1 %2").arg(i).arg(soak.step()));
        scope.rename(recent.back());
      }
      probe.label(recent.back());
      if (recent.size() > 12) recent.pop_front();
      soak.pause();
      for (const QString& m : errors->messages())
        QVERIFY2(expectedError(m), qPrintable("unexpected error '" + m + "'; " + context()));
    }
    const qint64 soakMs = clock.elapsed();

    // Then the window must still work: settle, and show nin on chelsea.png correctly.
    probe.phase("final");
    auto* occlusion = qobject_cast<OcclusionView*>(w.view("occlusion"));
    occlusion->cancel();
    qobject_cast<TrainView*>(w.view("train"))->cancel();
    QVERIFY2(settle(w, 300000), qPrintable("did not settle; " + context()));
    errors->clear();
    w.controller()->openModel("nin");
    w.controller()->openImage(QDir(kSamples).filePath("chelsea.png"));
    QVERIFY2(settle(w, 120000), qPrintable("did not settle; " + context()));
    QVERIFY2(errors->messages().isEmpty(), qPrintable(errors->messages().join("; ")));
    for (const QString view : {"activations", "filters", "projection", "compare"}) {
      w.showView(view);
      QVERIFY(settle(w, 120000));
      const QString problem = viewProblem(w, view, w.state()->layer());
      QVERIFY2(problem.isEmpty(), qPrintable(view + ": " + problem + "; " + context()));
    }
    qInfo("%d events in %lld ms (units view: %d mosaics, %d units shown); %s", events, soakMs,
          mosaics, unitCells, qPrintable(probe.report()));
    QVERIFY2(!kHoldToBudget || probe.worst() <= kStallBudgetMs,
             qPrintable(QString("GUI thread stalled: %1; %2").arg(probe.report(), context())));
  }
};

// QTEST_MAIN with an application that times every event for the StallProbe.
int main(int argc, char** argv) {
  TimedApplication app(argc, argv);
  app.setAttribute(Qt::AA_Use96Dpi, true);
  SoakTest test;
  QTEST_SET_MAIN_SOURCE_PATH
  return QTest::qExec(&test, argc, argv);
}

#include "test_soak.moc"
