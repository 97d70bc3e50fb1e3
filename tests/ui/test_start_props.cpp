// The start page, what zfvis opens without --model, the layer properties panel and the graph
// view, in the real MainWindow: the start page in place of the tabs (fetch buttons sized from
// the manifest, built-ins marked untrained or trained, recent models, drops); the trained AlexNet
// opening from a pre-populated zoo cache; --offline and a failed download opening the trained
// zf-small; a fetch from a local HTTP server, and its Cancel; the properties of caffe-alexnet's
// conv1 and conv2 with weight statistics checked against a naive loop; the graph's boxes and
// edges of a branching fixture, a click on a box selecting the layer, the highlight following
// the selection.
#include <QDir>
#include <QGraphicsView>
#include <QListWidget>
#include <QMimeData>
#include <QProgressDialog>
#include <QPushButton>
#include <QStatusBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/analysis/training/dataset.h"
#include "core/base/sha256.h"
#include "core/engine/engine.h"
#include "core/import/start_model.h"
#include "core/model/small_nets.h"
#include "core/zoo/zoo_manifest.h"
#include "tests/ui/ui_test_util.h"
#include "tests/zoo/local_http_server.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/error_reporter.h"
#include "ui/jobs.h"
#include "ui/main_window.h"
#include "ui/properties_panel.h"
#include "ui/settings.h"
#include "ui/start_page.h"
#include "ui/views/graph_view.h"

using namespace zfvis;
using namespace zfvis::ui;
using namespace zfvis::uitest;

namespace {

const QString kSamples = QStringLiteral(ZFVIS_SAMPLES_DIR);
const QString kFixtures = QStringLiteral(ZFVIS_FIXTURES_DIR);
const QString kFixtureModel = kFixtures + "/onnx/alexnet_zoo.onnx";

std::string fileBytes(const QString& path) {
  std::ifstream in(path.toStdString(), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A manifest whose trained AlexNet is the small fixture model at a/alexnet_zoo.onnx.
std::shared_ptr<const ZooManifest> fixtureManifest() {
  const std::string bytes = fileBytes(kFixtureModel);
  // (No raw string literal: moc does not parse them.)
  const std::string json =
      "{\"about\": \"test\", \"base_url\": \"http://127.0.0.1:9/\", "
      "\"preprocessing_note\": \"\", \"models\": [{\"id\": \"bvlc-alexnet\", "
      "\"title\": \"AlexNet fixture\", \"path\": \"a/alexnet_zoo.onnx\", \"size\": " +
      std::to_string(bytes.size()) + ", \"sha256\": \"" + sha256Hex(bytes) +
      "\", \"license\": \"BSD-3-Clause\"}]}";
  return std::make_shared<const ZooManifest>(parseZooManifest(json, "fixture manifest"));
}

}  // namespace

class StartPropsTest : public QObject {
  Q_OBJECT

  std::unique_ptr<QTemporaryDir> m_cacheHome;
  std::unique_ptr<MainWindow> m_w;
  std::shared_ptr<RecordingErrorReporter> m_errors;

  // A fresh window over an empty zoo cache.
  MainWindow& window() {
    m_w = std::make_unique<MainWindow>(kSamples);
    m_errors = std::make_shared<RecordingErrorReporter>();
    m_w->setErrorReporter(m_errors);
    m_w->show();
    return *m_w;
  }
  QString cacheDir() const { return m_cacheHome->path() + "/zfvis/models"; }
  bool settle(int ms = 120000) { return m_w->jobs()->waitForIdle(ms); }

 private slots:
  void initTestCase() { isolateSettings(); }

  void init() {
    m_cacheHome = std::make_unique<QTemporaryDir>();
    qputenv("XDG_CACHE_HOME", m_cacheHome->path().toUtf8());
    qunsetenv("ZFVIS_ZOO_BASE_URL");
  }
  void cleanup() {
    m_w.reset();
    qunsetenv("ZFVIS_ZOO_BASE_URL");
  }

  void startPageWithoutModel() {
    Settings::addRecentModel("nin");
    MainWindow& w = window();
    StartPage* page = w.startPage();
    QVERIFY(page->isVisible());  // before any model, too
    w.applyLaunchOptions(LaunchOptions());
    QVERIFY(settle());
    QVERIFY(m_errors->messages().isEmpty());
    QVERIFY(!w.state()->def());
    QVERIFY(page->isVisible());
    QVERIFY(!w.findChild<QTabWidget*>()->isVisible());
    QCOMPARE(w.startMessage(), QString("AlexNet weights are not cached"));
    QCOMPARE(w.statusBar()->currentMessage(), w.startMessage());
    QVERIFY(page->message().contains("243.9 MB"));
    // The photo is ready for whichever model is picked.
    QCOMPARE(QFileInfo(w.state()->source().path).fileName(), QString("chelsea.png"));
    QVERIFY(page->fetchButton("bvlc-alexnet"));
    QCOMPARE(page->fetchButton("bvlc-alexnet")->text(),
             QString("Fetch the trained AlexNet (243.9 MB)"));
    QVERIFY(page->fetchButton("zfnet512")->text().contains("349.0 MB"));
    // Built-ins say whether they are trained.
    QStringList items;
    for (int i = 0; i < page->builtins()->count(); ++i) items << page->builtins()->item(i)->text();
    QVERIFY(items.contains("caffe-alexnet — untrained"));
    if (shippedRunDir("zf-small")) QVERIFY(items.contains("zf-small — trained on Fashion-MNIST"));
    // Views that need no model replace the page; the others leave it.
    w.showView("filters");
    QVERIFY(page->isVisible());
    QTest::keyClick(&w, Qt::Key_7, Qt::ControlModifier);  // View > Evolution
    QCOMPARE(w.currentViewId(), QString("evolution"));
    QVERIFY(!page->isVisible());
    QVERIFY(w.findChild<QTabWidget*>()->isVisible());
    // Recent models come from the settings; activating one opens it and the page gives way.
    QCOMPARE(page->recent()->item(0)->text(), QString("nin"));
    emit page->recent()->itemActivated(page->recent()->item(0));
    QVERIFY(settle());
    QVERIFY(w.state()->def());
    QCOMPARE(QString::fromStdString(w.state()->def()->name), QString("nin"));
    QVERIFY(w.state()->forward());
    QVERIFY(w.findChild<QTabWidget*>()->isVisible());
  }

  void builtinAndDropOpenFromThePage() {
    MainWindow& w = window();
    StartPage* page = w.startPage();
    QListWidgetItem* zf = nullptr;
    for (int i = 0; i < page->builtins()->count(); ++i)
      if (page->builtins()->item(i)->data(Qt::UserRole).toString() == "zf-small")
        zf = page->builtins()->item(i);
    QVERIFY(zf);
    emit page->builtins()->itemActivated(zf);
    QVERIFY(settle());
    QCOMPARE(QString::fromStdString(w.state()->def()->name), QString("zf-small"));

    // A model file and an image dropped on the start page open.
    MainWindow& v = window();
    auto drop = [&](const QString& path) {
      QMimeData mime;
      mime.setUrls({QUrl::fromLocalFile(path)});
      const QPoint at = v.startPage()->rect().center();
      QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
      QApplication::sendEvent(v.startPage(), &enter);
      QVERIFY(enter.isAccepted());
      QDropEvent dropEvent(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
      QApplication::sendEvent(v.startPage(), &dropEvent);
      QVERIFY(dropEvent.isAccepted());
    };
    drop(kFixtures + "/onnx/twotower_torch.onnx");
    QVERIFY(settle());
    QVERIFY(v.state()->def());
    QVERIFY(v.state()->modelSpec().endsWith("twotower_torch.onnx"));
    drop(QDir(kSamples).filePath("coffee.png"));
    QVERIFY(settle());
    QCOMPARE(QFileInfo(v.state()->source().path).fileName(), QString("coffee.png"));
    QVERIFY(m_errors->messages().isEmpty());
  }

  void offlineOpensTheTrainedSmallNet() {
    if (!shippedRunDir("zf-small")) QSKIP("the shipped zf-small run is not present");
    MainWindow& w = window();
    LaunchOptions o;
    QString error;
    QVERIFY(parseLaunchOptions({"zfvis", "--offline"}, o, error));
    QVERIFY(o.offline);
    QVERIFY(!o.modelGiven);
    w.applyLaunchOptions(o);
    QVERIFY(settle());
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
    QCOMPARE(QString::fromStdString(w.state()->def()->name), QString("zf-small"));
    QVERIFY(!w.state()->def()->untrained);
    QCOMPARE(w.startMessage(),
             QString("AlexNet weights are not cached; opened the trained zf-small (offline)"));
    QCOMPARE(w.statusBar()->currentMessage(), w.startMessage());
    QVERIFY(!w.startPage()->isVisible());
    if (hasFashionMnistTestImages())
      QCOMPARE(w.state()->source().name, QString("Fashion-MNIST test image 0 (Ankle boot)"));
    else
      QCOMPARE(QFileInfo(w.state()->source().path).fileName(), QString("chelsea.png"));
    QVERIFY(w.state()->forward());
  }

  void cachedAlexnetOpensAtStart() {
    QDir().mkpath(cacheDir());
    QVERIFY(QFile::copy(kFixtureModel, cacheDir() + "/alexnet_zoo.onnx"));
    MainWindow& w = window();
    w.setZooManifest(fixtureManifest());
    QVERIFY(w.startPage()->fetchButton("bvlc-alexnet")->text().contains("downloaded"));
    QVERIFY(!w.startPage()->fetchButton("zfnet512")->isVisible());
    LaunchOptions o;
    o.offline = true;  // the cache wins even offline
    w.applyLaunchOptions(o);
    QVERIFY(settle());
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
    QVERIFY(w.state()->def());
    QCOMPARE(QFileInfo(w.state()->modelSpec()).canonicalFilePath(),
             QFileInfo(cacheDir() + "/alexnet_zoo.onnx").canonicalFilePath());
    QCOMPARE(w.startMessage(), QString("opened the trained AlexNet from the Model Zoo cache"));
    QCOMPARE(QFileInfo(w.state()->source().path).fileName(), QString("chelsea.png"));
    QVERIFY(!w.startPage()->isVisible());
  }

  void fetchFromTheStartPage() {
    test::LocalHttpServer server;
    server.addFile("/a/alexnet_zoo.onnx", fileBytes(kFixtureModel));
    qputenv("ZFVIS_ZOO_BASE_URL", QByteArray::fromStdString(server.baseUrl()));
    MainWindow& w = window();
    w.setZooManifest(fixtureManifest());
    w.applyLaunchOptions(LaunchOptions());
    QVERIFY(settle());
    QVERIFY(w.startPage()->isVisible());
    QPushButton* fetch = w.startPage()->fetchButton("bvlc-alexnet");
    QVERIFY(fetch->text().startsWith("Fetch the trained AlexNet"));
    QTest::mouseClick(fetch, Qt::LeftButton);
    QVERIFY(w.findChild<QProgressDialog*>());  // the zoo fetch's progress dialog, with Cancel
    QVERIFY(settle());
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
    QVERIFY(QFileInfo::exists(cacheDir() + "/alexnet_zoo.onnx"));
    QVERIFY(w.state()->def());
    QVERIFY(w.state()->modelSpec().endsWith("alexnet_zoo.onnx"));
    QVERIFY(!w.startPage()->isVisible());
    QVERIFY(w.state()->forward());  // with the chelsea sample
  }

  void cancelledFetchStaysOnTheStartPage() {
    test::LocalHttpServer server;
    server.addFile("/a/alexnet_zoo.onnx", fileBytes(kFixtureModel));
    // One byte every 400 ms: still running when Cancel is pressed.
    qputenv("ZFVIS_ZOO_BASE_URL", QByteArray::fromStdString(server.baseUrl() + "trickle/"));
    MainWindow& w = window();
    w.setZooManifest(fixtureManifest());
    QTest::mouseClick(w.startPage()->fetchButton("bvlc-alexnet"), Qt::LeftButton);
    QProgressDialog* progress = w.findChild<QProgressDialog*>();
    QVERIFY(progress);
    QTest::qWait(300);
    QVERIFY(w.jobs()->isBusy("fetch"));
    QPushButton* cancel = progress->findChild<QPushButton*>();
    QVERIFY(cancel);
    QCOMPARE(cancel->text(), QString("Cancel"));
    QTest::mouseClick(cancel, Qt::LeftButton);
    QVERIFY(settle(30000));
    QVERIFY(!w.jobs()->isBusy("fetch"));
    QVERIFY(m_errors->messages().isEmpty());
    QVERIFY(!w.state()->def());
    QVERIFY(w.startPage()->isVisible());
  }

  void failedFetchOpensTheOfflineModel() {
    if (!shippedRunDir("zf-small")) QSKIP("the shipped zf-small run is not present");
    qputenv("ZFVIS_ZOO_BASE_URL", "http://127.0.0.1:9/");  // nothing listens there
    MainWindow& w = window();
    w.setZooManifest(fixtureManifest());
    QTest::mouseClick(w.startPage()->fetchButton("bvlc-alexnet"), Qt::LeftButton);
    QVERIFY(settle(60000));
    QCOMPARE(m_errors->messages().size(), 1);
    QVERIFY(m_errors->messages()[0].contains("fetch"));
    QVERIFY(w.state()->def());
    QCOMPARE(QString::fromStdString(w.state()->def()->name), QString("zf-small"));
    QCOMPARE(w.startMessage(),
             QString("the bvlc-alexnet download failed; opened the trained zf-small (offline)"));
  }

  void propertiesOfCaffeAlexnet() {
    MainWindow& w = window();
    w.controller()->openModel("caffe-alexnet", {}, "conv1");
    QVERIFY(settle(300000));
    PropertiesPanel* p = w.propertiesPanel();
    QVERIFY(p->isVisible());
    QCOMPARE(p->shownLayer(), w.state()->def()->indexOf("conv1"));
    QVERIFY(p->statsReady());
    QCOMPARE(p->value("Operator"), QString("Conv"));
    QCOMPARE(p->value("Kernel"), QString("11 x 11"));
    QCOMPARE(p->value("Stride"), QString("4 x 4"));
    QCOMPARE(p->value("Out channels"), QString("96"));
    QCOMPARE(p->value("Groups"), QString("1"));
    QCOMPARE(p->value("Dilation"), QString("1 x 1"));
    QCOMPARE(p->value("Padding"), QString("0"));
    QCOMPARE(p->value("Input"), QString("input 3 x 227 x 227"));
    QCOMPARE(p->value("Output"), QString("96 x 55 x 55"));
    QCOMPARE(p->value("Parameters"), QString("34,944"));
    QCOMPARE(p->value("Receptive field"), QString("11 x 11 px"));
    QCOMPARE(p->value("Jump"), QString("4 x 4 px"));
    // Statistics against a naive loop over conv1's weights.
    const Tensor& wt = w.state()->def()->layers[size_t(p->shownLayer())].weights;
    double mn = wt.data()[0], mx = wt.data()[0], sum = 0;
    for (int64_t i = 0; i < wt.numel(); ++i) {
      mn = std::min(mn, double(wt.data()[i]));
      mx = std::max(mx, double(wt.data()[i]));
      sum += wt.data()[i];
    }
    const double mean = sum / double(wt.numel());
    double var = 0;
    for (int64_t i = 0; i < wt.numel(); ++i) var += std::pow(wt.data()[i] - mean, 2);
    auto close = [](const QString& shown, double want) {
      bool ok = false;
      const double v = shown.toDouble(&ok);
      return ok && std::abs(v - want) <= 1e-3 * std::max(1e-3, std::abs(want));
    };
    QVERIFY2(close(p->value("Min"), mn), qPrintable(p->value("Min")));
    QVERIFY2(close(p->value("Max"), mx), qPrintable(p->value("Max")));
    QVERIFY2(close(p->value("Std"), std::sqrt(var / double(wt.numel()))),
             qPrintable(p->value("Std")));
    QVERIFY2(std::abs(p->value("Mean").toDouble() - mean) < 1e-4, qPrintable(p->value("Mean")));
    QCOMPARE(p->value("Values"), QString("34,848"));
    QVERIFY(p->value("Near zero").contains("%"));

    // conv2: grouped; a pooling layer: ceil mode, no weights.
    w.state()->setLayer(w.state()->def()->indexOf("conv2"));
    QCOMPARE(p->value("Groups"), QString("2"));
    QCOMPARE(p->value("Kernel"), QString("5 x 5"));
    QCOMPARE(p->value("Padding"), QString("2"));
    QVERIFY(settle());
    QVERIFY(p->statsReady());
    QVERIFY(!p->value("Std").isEmpty());
    // fc6's 37.7 M weights, cancelled as the status bar's Cancel does: said so.
    w.state()->setLayer(w.state()->def()->indexOf("fc6"));
    QCOMPARE(p->value("Units"), QString("4096"));
    QVERIFY(!p->statsReady());
    w.jobs()->cancel(PropertiesPanel::kJob);
    QVERIFY(p->statsReady());
    QCOMPARE(p->value("Values"), QString("not computed (cancelled)"));
    QVERIFY(settle());
    w.state()->setLayer(w.state()->def()->indexOf("pool1"));
    QCOMPARE(p->value("Operator"), QString("MaxPool"));
    QCOMPARE(p->value("Ceil mode"), QString("no"));
    QCOMPARE(p->value("Weights"), QString("none"));
    QCOMPARE(p->value("Receptive field"), QString("19 x 19 px"));
    QCOMPARE(p->value("Jump"), QString("8 x 8 px"));
    QVERIFY(m_errors->messages().isEmpty());
  }

  void graphOfABranchingNet() {
    MainWindow& w = window();
    w.controller()->openModel(kFixtures + "/onnx/twotower_torch.onnx");
    QVERIFY(settle());
    w.showView("graph");
    auto* g = qobject_cast<GraphView*>(w.view("graph"));
    QVERIFY(g);
    QTRY_VERIFY(g->nodeCount() > 0);
    const NetworkDef& def = *w.state()->def();
    int inputs = 0;
    for (const LayerSpec& l : def.layers) inputs += int(l.inputs.size());
    QCOMPARE(g->nodeCount(), int(def.layers.size()));
    QCOMPARE(g->edgeCount(), inputs);
    QCOMPARE(g->highlighted(), w.state()->layer());
    // Two boxes side by side somewhere (the towers).
    bool sideBySide = false;
    for (int i = 0; i < g->nodeCount() && !sideBySide; ++i)
      for (int j = i + 1; j < g->nodeCount(); ++j)
        if (g->nodeRect(i).top() == g->nodeRect(j).top()) sideBySide = true;
    QVERIFY(sideBySide);
    // A click on the last layer's box selects it everywhere.
    const int last = g->nodeCount() - 1;
    QGraphicsView* view = g->graphicsView();
    view->centerOn(g->nodeRect(last).center());
    const QPoint at = view->mapFromScene(g->nodeRect(last).center());
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
    QCOMPARE(w.state()->layer(), last);
    QCOMPARE(g->highlighted(), last);
    QCOMPARE(w.propertiesPanel()->shownLayer(), last);
    // The highlight follows selections made elsewhere and scrolls into view.
    w.state()->setLayer(0);
    QCOMPARE(g->highlighted(), 0);
    QVERIFY(view->mapToScene(view->viewport()->rect()).boundingRect().intersects(g->nodeRect(0)));
    // Export: the drawing.
    auto e = g->exportView();
    QVERIFY(e);
    QVERIFY(e->image.cols > 100 && e->image.rows > 100);
    // A linear net: one box per layer in one column.
    w.controller()->openModel("zf-small");
    QVERIFY(settle());
    QTRY_COMPARE(g->nodeCount(), w.state()->layerCount());
    QCOMPARE(g->edgeCount(), w.state()->layerCount());
    QVERIFY(m_errors->messages().isEmpty());
  }
};

QTEST_MAIN(StartPropsTest)
#include "test_start_props.moc"
