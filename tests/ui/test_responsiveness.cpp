// Responsiveness: the GUI thread's longest stall (tests/ui/stall_probe.h) while a model
// opens, every layer is shown, the views switch and channels are clicked; and the time from
// selecting a channel to its projection being shown. Prints the numbers; fails only on stalls far
// above the 50 ms budget (the machine running the tests may be busy).
// ZFVIS_UI_LATENCY_MODEL=caffe-alexnet measures the reference model (slower: not the default).
#include <algorithm>

#include <QEventLoop>
#include <QTimer>
#include <QtTest>

#include "tests/ui/stall_probe.h"
#include "tests/ui/ui_test_util.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/error_reporter.h"
#include "ui/main_window.h"
#include "ui/views/occlusion_view.h"
#include "ui/views/projection_view.h"

using namespace zfvis;
using namespace zfvis::ui;
using zfvis::uitest::StallProbe;

namespace {

/// Runs the event loop until the view shows channel `c` (no polling delay in the measurement).
bool waitForProjection(ProjectionView* view, int c) {
  QEventLoop loop;
  bool shown = false;
  auto connection = QObject::connect(view, &ProjectionView::projectionShown, &loop, [&](int ch) {
    if (ch != c) return;
    shown = true;
    loop.quit();
  });
  QTimer::singleShot(30000, &loop, &QEventLoop::quit);
  loop.exec();
  QObject::disconnect(connection);
  return shown;
}

}  // namespace

class Responsiveness : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { uitest::isolateSettings(); }

  void guiThreadNeverStalls() {
    const QString model = qEnvironmentVariable("ZFVIS_UI_LATENCY_MODEL", "nin");
    MainWindow w(QStringLiteral(ZFVIS_SAMPLES_DIR));
    auto errors = std::make_shared<RecordingErrorReporter>();
    w.setErrorReporter(errors);
    w.setPersistLayout(false);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    StallProbe probe;
    auto idle = [&] { return w.jobs()->waitForIdle(120000); };

    probe.phase("open");
    QElapsedTimer t;
    t.start();
    w.controller()->openModel(model);
    w.controller()->openImage(QDir(ZFVIS_SAMPLES_DIR).filePath("chelsea.png"));
    QVERIFY(idle());
    QVERIFY2(errors->messages().isEmpty(), qPrintable(errors->messages().join("; ")));
    qInfo("%s: model + image + forward + first view in %lld ms", qPrintable(model), t.elapsed());
    AppState* s = w.state();

    probe.phase("layers");
    t.restart();
    for (int i = 0; i < s->layerCount(); ++i) {
      s->setLayer(i);
      QVERIFY(idle());
    }
    qInfo("activations of all %d layers in %lld ms", s->layerCount(), t.elapsed());

    probe.phase("channels");
    for (int c = 0; c < 20; ++c) {
      s->setChannel(c);
      QTest::qWait(10);
    }
    QVERIFY(idle());

    for (const QString view : {"filters", "compare", "activations"}) {
      probe.phase(view);
      w.showView(view);
      QVERIFY(idle());
      for (int i = 0; i < s->layerCount(); i += 3) {
        s->setLayer(i);
        QVERIFY(idle());
      }
    }

    probe.phase("projection");
    s->setLayer(s->def()->indexOf("conv5") >= 0 ? s->def()->indexOf("conv5") : 0);
    w.showView("projection");
    QVERIFY(idle());
    auto* view = qobject_cast<ProjectionView*>(w.view("projection"));
    std::vector<qint64> latencies;
    for (int c = 1; c <= 12; ++c) {
      t.restart();
      s->setChannel(c);  // what a click on a feature map does
      QVERIFY(waitForProjection(view, c));
      latencies.push_back(t.elapsed());
    }
    std::sort(latencies.begin(), latencies.end());
    qInfo("%s %s: channel click -> projection shown: median %lld ms, max %lld ms",
          qPrintable(model), qPrintable(s->layerName(s->layer())), latencies[latencies.size() / 2],
          latencies.back());
    QVERIFY(idle());
    // The same while an occlusion run keeps its own engine thread busy.
    probe.phase("projection during occlusion");
    auto* occlusion = qobject_cast<OcclusionView*>(w.view("occlusion"));
    occlusion->setPatch(20, 4);
    occlusion->run();
    latencies.clear();
    for (int c = 13; c <= 20; ++c) {
      t.restart();
      s->setChannel(c);
      QVERIFY(waitForProjection(view, c));
      latencies.push_back(t.elapsed());
    }
    QVERIFY(occlusion->isRunning());
    occlusion->cancel();
    QVERIFY(idle());
    std::sort(latencies.begin(), latencies.end());
    qInfo("... while an occlusion run is busy: median %lld ms, max %lld ms",
          latencies[latencies.size() / 2], latencies.back());
    qInfo("%s", qPrintable(probe.report()));
    QVERIFY2(probe.worst() < 300, qPrintable(probe.report()));
    QVERIFY2(errors->messages().isEmpty(), qPrintable(errors->messages().join("; ")));
  }
};

// QTEST_MAIN with an application that times every event for the StallProbe.
int main(int argc, char** argv) {
  zfvis::uitest::TimedApplication app(argc, argv);
  app.setAttribute(Qt::AA_Use96Dpi, true);
  Responsiveness test;
  QTEST_SET_MAIN_SOURCE_PATH
  return QTest::qExec(&test, argc, argv);
}

#include "test_responsiveness.moc"
