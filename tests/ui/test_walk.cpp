// The walk that found issue 11's crash, on every built-in model and every fixture model: in the
// real MainWindow, each view in turn (Ctrl+1 .. Ctrl+9) from the first layer to the last (Page
// Down), waiting at every step until the window is settled and checking that the view shows that
// layer: the activations and the projection (and its top-9 grid) of the layer and the selected
// channel, the filters feeding it (none for layers no convolution feeds), the comparison (none for
// a model without convolutions) and an occlusion map (run once per model, with a patch and stride
// half the input's side), the train view idle and the evolution view's column of the shipped
// zf-small run at its first checkpoint (these two do not depend on the model or the layer); for
// models that take images and have convolutions the units view of a scan of the sample photos made
// from the window (Scan Folder), its mosaic and the first unit's cells; the graph view with one box
// per layer and the layer highlighted; each view's "How to read this" panel is opened and closed
// once. No
// error may be reported, in a dialog or in place of a picture. ctest runs each built-in as an
// entry of its own (ui.walk.NAME) and the fixtures as ui.walk.fixtures.
#include <QDir>
#include <QElapsedTimer>
#include <QTableView>
#include <QTextBrowser>
#include <QToolButton>
#include <QtTest>

#include "core/analysis/scan/scan.h"
#include "core/model/builtin_models.h"
#include "tests/ui/ui_test_util.h"
#include "tests/ui/view_checks.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/error_reporter.h"
#include "ui/main_window.h"
#include "ui/views/activations_view.h"
#include "ui/views/compare_view.h"
#include "ui/views/evolution_view.h"
#include "ui/views/filters_view.h"
#include "ui/views/occlusion_view.h"
#include "ui/views/projection_view.h"
#include "ui/views/units_view.h"

using namespace zfvis;
using namespace zfvis::ui;
using namespace zfvis::uitest;

namespace {

const QString kSamples = QStringLiteral(ZFVIS_SAMPLES_DIR);
const QString kFixtures = QStringLiteral(ZFVIS_FIXTURES_DIR);

}  // namespace

class Walk : public QObject {
  Q_OBJECT

  // Opens `model` and chelsea.png, then walks every view x every layer.
  void walk(const QString& model) {
    MainWindow w(kSamples);
    auto errors = std::make_shared<RecordingErrorReporter>();
    w.setErrorReporter(errors);
    w.setPersistLayout(false);
    w.show();
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QElapsedTimer clock;
    clock.start();
    w.controller()->openModel(model);
    w.controller()->openImage(QDir(kSamples).filePath("chelsea.png"));
    QVERIFY(settle(w, 300000));
    QVERIFY2(errors->messages().isEmpty(), qPrintable(errors->messages().join("; ")));
    AppState* s = w.state();
    QVERIFY(s->forward());
    const qint64 opened = clock.elapsed();
    const int layers = s->layerCount();
    QTableView* table = w.layerTable();  // keys go where a user's would: the focused layer list
    table->setFocus();
    int steps = 0;
    bool scanned = false;
    QTemporaryDir scanDir;
    for (int v = 0; v < kViews.size(); ++v) {
      QTest::keyClick(table, Qt::Key(Qt::Key_1 + v), Qt::ControlModifier);
      QCOMPARE(w.currentViewId(), kViews[v]);
      table->selectRow(0);
      QCOMPARE(s->layer(), 0);
      if (kViews[v] == "occlusion") {
        // One run per model, cheap: a patch half the input's side, as stride too (3 x 3 or
        // fewer placements).
        const Shape& in = s->def()->input.shape;
        const int side = int(std::min(in[1], in[2]));
        auto* occlusion = qobject_cast<OcclusionView*>(w.view("occlusion"));
        occlusion->setPatch(std::max(1, side / 2), std::max(1, side / 2));
        QVERIFY(settle(w, 300000));
        occlusion->run();
      }
      if (kViews[v] == "units") {
        // A scan of the four sample photos with this model, from the window.
        const NetworkDef& def = *s->def();
        const int64_t c = def.input.shape.rank() == 3 ? def.input.shape[0] : 0;
        if ((c == 1 || c == 3) && !defaultScanLayers(def).empty()) {
          auto* units = qobject_cast<UnitsView*>(w.view("units"));
          units->scanFolder(kSamples, scanDir.filePath("samples.sqlite"));
          QVERIFY(settle(w, 300000));
          QVERIFY2(errors->messages().isEmpty(), qPrintable(errors->messages().join("; ")));
          QVERIFY(units->database() && units->database()->complete);
          QVERIFY(units->mosaic() && units->detail());
          scanned = true;
        }
      }
      // Its "How to read this" panel opens with text and closes again; the keys stay with the
      // layer list.
      if (ViewBase* view = w.view(kViews[v]); view && view->helpButton()) {
        QTest::mouseClick(view->helpButton(), Qt::LeftButton);
        QVERIFY2(view->helpPanel()->isVisible() && !view->helpPanel()->toPlainText().isEmpty(),
                 qPrintable(kViews[v]));
        QTest::mouseClick(view->helpButton(), Qt::LeftButton);
        QVERIFY(!view->helpPanel()->isVisible());
        table->setFocus();
      }
      if (kViews[v] == "evolution") {
        // The slider to the initialisation: a second column besides the trained one.
        QVERIFY(settle(w, 300000));
        qobject_cast<EvolutionView*>(w.view("evolution"))->setCheckpoint(0);
      }
      for (int layer = 0; layer < layers; ++layer) {
        if (layer > 0) {
          QTest::keyClick(table, Qt::Key_PageDown);
          QCOMPARE(s->layer(), layer);
        }
        const QString where = QString("%1, %2 view, layer %3 '%4'")
                                  .arg(model, kViews[v])
                                  .arg(layer)
                                  .arg(s->layerName(layer));
        QVERIFY2(settle(w, 300000), qPrintable(where + ": did not settle"));
        QVERIFY2(errors->messages().isEmpty(),
                 qPrintable(where + ": " + errors->messages().join("; ")));
        const QString problem = viewProblem(w, kViews[v], layer);
        QVERIFY2(problem.isEmpty(), qPrintable(where + ": " + problem));
        ++steps;
      }
    }
    QCOMPARE(steps, layers * int(kViews.size()));
    qInfo("%s: %d layers x %d views = %d steps checked (units %s); open %lld ms, walk %lld ms",
          qPrintable(model), layers, int(kViews.size()), steps,
          scanned ? "scanned" : "not scannable", opened, clock.elapsed() - opened);
  }

 private slots:
  void initTestCase() { uitest::isolateSettings(); }

  void walkBuiltin_data() {
    QTest::addColumn<QString>("model");
    for (const BuiltinModelInfo& m : builtinModels())
      QTest::newRow(m.name.c_str()) << QString::fromStdString(m.name);
  }
  void walkBuiltin() {
    QFETCH(QString, model);
    walk(model);
  }

  void walkFixture_data() {
    QTest::addColumn<QString>("model");
    for (const char* f : {"onnx/alexnet_torch.onnx", "onnx/alexnet_zoo.onnx", "onnx/batchnorm.onnx",
                          "onnx/matmul_add.onnx", "onnx/matmul_add_labels.onnx",
                          "onnx/nin_torch.onnx", "onnx/nin_zoo.onnx", "onnx/twotower_torch.onnx",
                          "onnx/zfnet_torch.onnx", "onnx/zfnet_zoo.onnx", "keras/keras_alexnet.h5",
                          "keras/keras_alexnet2tower.h5", "keras/keras_cf.h5",
                          "keras/keras_mixed.h5", "keras/keras_nin.h5", "keras/keras_zfnet.h5"})
      QTest::newRow(f) << QDir(kFixtures).filePath(f);
  }
  void walkFixture() {
    QFETCH(QString, model);
    walk(model);
  }

  // ctest runs walkBuiltin once per model (tests/ui/CMakeLists.txt): a new built-in must be
  // added there too, or it would never be walked.
  void everyBuiltinHasACtestEntry() {
    QStringList names;
    for (const BuiltinModelInfo& m : builtinModels()) names << QString::fromStdString(m.name);
    QCOMPARE(names.join(','), QStringLiteral(ZFVIS_WALK_BUILTINS));
  }
};

QTEST_MAIN(Walk)
#include "test_walk.moc"
