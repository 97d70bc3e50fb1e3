// The main window end to end on the offscreen platform: open a model and an image, the layer list
// and views fill, clicks and keys select channels and layers, a bad file shows an error and keeps
// the previous model, a superseded result is dropped, Export View writes PNG + .npy.
#include <cmath>

#include <QAbstractItemModelTester>
#include <QClipboard>
#include <QLabel>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QTableView>
#include <QTableWidget>
#include <QtTest>

#include "core/base/labels.h"
#include "core/base/npy.h"
#include "core/render/activation_grid.h"
#include "core/render/png.h"
#include "core/zoo/zoo_manifest.h"
#include "tests/reference/tolerance.h"
#include "tests/ui/ui_test_util.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/convert.h"
#include "ui/error_reporter.h"
#include "ui/image_view.h"
#include "ui/input_panel.h"
#include "ui/launch_options.h"
#include "ui/layer_table_model.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"
#include "ui/predictions_model.h"
#include "ui/predictions_panel.h"
#include "ui/settings.h"
#include "ui/summary_table_model.h"
#include "ui/views/activations_view.h"
#include "ui/zoo_dialog.h"

using namespace zfvis;
using namespace zfvis::ui;

namespace {

const QString kSamples = QStringLiteral(ZFVIS_SAMPLES_DIR);

QString sample(const char* name) {
  return QDir(kSamples).filePath(name);
}

/// Softmax of a row, written out here independently of the UI's code.
std::vector<double> softmax(const float* row, int n) {
  double mx = row[0];
  for (int i = 1; i < n; ++i) mx = std::max<double>(mx, row[i]);
  std::vector<double> p(static_cast<size_t>(n), 0.0);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += (p[size_t(i)] = std::exp(double(row[i]) - mx));
  for (double& v : p) v /= sum;
  return p;
}

}  // namespace

class MainWindowTest : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<MainWindow> m_window;
  std::shared_ptr<RecordingErrorReporter> m_errors;
  std::vector<std::unique_ptr<QAbstractItemModelTester>> m_testers;
  QTemporaryDir m_tmp;

  ActivationsView* activations() const {
    return qobject_cast<ActivationsView*>(m_window->view("activations"));
  }

 private slots:
  void initTestCase() {
    uitest::isolateSettings();
    QVERIFY(m_tmp.isValid());
    m_window = std::make_unique<MainWindow>(kSamples);
    m_errors = std::make_shared<RecordingErrorReporter>();
    m_window->setErrorReporter(m_errors);
    m_window->setPersistLayout(false);
    // Every Qt model of the window runs under the model tester for the whole test.
    for (QAbstractItemModel* m : std::initializer_list<QAbstractItemModel*>{
             m_window->layerModel(), m_window->modelPanel()->summaryModel(),
             m_window->predictionsPanel()->model()})
      m_testers.push_back(std::make_unique<QAbstractItemModelTester>(
          m, QAbstractItemModelTester::FailureReportingMode::QtTest));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
  }

  void cleanupTestCase() {
    m_testers.clear();
    m_window.reset();
  }

  void samplesAreListed() {
    const QStringList s = m_window->samples();
    QCOMPARE(s.size(), 4);
    QVERIFY(s.first().endsWith("astronaut.png"));
  }

  void openModelAndImageFillsTheViews() {
    m_window->controller()->openModel("nin");
    m_window->controller()->openImage(sample("chelsea.png"));
    ZFVIS_WAIT_IDLE(m_window->jobs(), 60000);
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
    AppState* state = m_window->state();
    QVERIFY(state->def());
    QCOMPARE(QString::fromStdString(state->def()->name), QString("nin"));
    QCOMPARE(m_window->layerModel()->rowCount(), int(state->def()->layers.size()));
    QVERIFY(state->forward());
    QCOMPARE(state->forward()->inputView.cols, 227);
    QCOMPARE(state->source().name, QString("chelsea.png"));
    // The default layer is the first convolution; the channel holds its largest activation.
    QCOMPARE(state->layerName(state->layer()), QString("conv1"));
    QCOMPARE(m_window->layerTable()->currentIndex().row(), state->layer());
    const Tensor& conv1 = state->activations()->output(size_t(state->layer()));
    int64_t best = 0;
    for (int64_t i = 1; i < conv1.numel(); ++i)
      if (conv1[i] > conv1[best]) best = i;
    QCOMPARE(state->channel(), int(best / (conv1.shape()[2] * conv1.shape()[3])));

    // The activations view shows core's grid of that layer (rendered at some integer scale).
    auto pic = activations()->picture();
    QVERIFY(pic);
    QCOMPARE(pic->layer, state->layer());
    const cv::Mat expected = renderActivationGrid(conv1, pic->options);
    QCOMPARE(pic->image.width(), expected.cols);
    QCOMPARE(pic->image.height(), expected.rows);
    QCOMPARE(pic->image, toQImage(expected));
    QCOMPARE(activations()->imageView()->image(), pic->image);

    // Predictions: the top-5 of the final output, softmax applied unless the net ends in one.
    const Tensor& out = state->activations()->finalOutput();
    const int classes = int(out.numel());
    std::vector<double> p(out.data(), out.data() + classes);
    if (state->def()->layers.back().type != LayerType::Softmax) p = softmax(out.data(), classes);
    const int top = int(std::max_element(p.begin(), p.end()) - p.begin());
    PredictionsModel* pm = m_window->predictionsPanel()->model();
    QCOMPARE(pm->rowCount(), 5);
    QCOMPARE(pm->predictions()[0].classIndex, top);
    // The panel's softmax runs in float32: z - max rounds by up to u |z - max| <= 2 u max|z|, an
    // error of the logits that the softmax passes on (tests/reference/tolerance.h).
    const double maxLogit = out.maxAbs();
    QVERIFY(std::abs(pm->predictions()[0].probability - p[size_t(top)]) <=
            ref::softmaxTolerance(p[size_t(top)], 2 * ref::kUnitRoundoff * maxLogit, classes));
    QCOMPARE(pm->predictions()[0].label, QString::fromStdString(classDisplayName(top, classes)));
    // The model panel says untrained; the input panel shows the network's view.
    QVERIFY(m_window->modelPanel()->banner()->isVisible());
    QCOMPARE(m_window->inputPanel()->imageView()->image().size(), QSize(227, 227));
  }

  void hoverDescribesTheMapAndClickSelectsIt() {
    AppState* state = m_window->state();
    auto pic = activations()->picture();
    QVERIFY(pic);
    const int channel = 5;
    const cv::Rect cell = pic->layout.cellRect(channel);
    const QPoint center(cell.x + cell.width / 2, cell.y + cell.height / 2);
    QCOMPARE(activations()->channelAt(center), channel);
    // The tooltip names the channel and its maximum (found here by a plain scan).
    const Tensor& t = state->activations()->output(size_t(pic->layer));
    const int64_t plane = t.shape()[2] * t.shape()[3];
    float mx = t[channel * plane];
    for (int64_t k = 0; k < plane; ++k) mx = std::max(mx, t[channel * plane + k]);
    const QString tip = activations()->describePixel(center);
    QVERIFY2(tip.startsWith("channel 5\n"), qPrintable(tip));
    QVERIFY2(tip.contains(QString("max %1").arg(double(mx), 0, 'g', 5)), qPrintable(tip));
    // A real mouse click on that cell selects the channel.
    ImageView* view = activations()->imageView();
    const QPoint widgetPos = view->imageToWidget(QPointF(center) + QPointF(0.5, 0.5)).toPoint();
    QTest::mouseClick(view, Qt::LeftButton, {}, widgetPos);
    QCOMPARE(state->channel(), channel);
    // Outside every cell: nothing.
    QCOMPARE(activations()->channelAt({0, 0}), -1);
  }

  void keysMoveBetweenLayersAndChannels() {
    AppState* state = m_window->state();
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    m_window->layerTable()->setFocus();
    const int layer = state->layer();
    const int channel = state->channel();
    QTest::keyClick(m_window->layerTable(), Qt::Key_Right);
    QCOMPARE(state->channel(), channel + 1);
    QTest::keyClick(m_window->layerTable(), Qt::Key_Left);
    QCOMPARE(state->channel(), channel);
    QTest::keyClick(m_window->layerTable(), Qt::Key_PageDown);
    QCOMPARE(state->layer(), layer + 1);
    QCOMPARE(m_window->layerTable()->currentIndex().row(), layer + 1);
    QTest::keyClick(m_window->layerTable(), Qt::Key_PageUp);
    QCOMPARE(state->layer(), layer);
    // Selecting a row in the layer list selects the layer, and the view follows.
    m_window->layerTable()->selectRow(2);
    QCOMPARE(state->layer(), 2);
    ZFVIS_WAIT_IDLE(m_window->jobs(), 10000);
    QTRY_COMPARE(activations()->picture()->layer, 2);
    m_window->layerTable()->selectRow(layer);
    ZFVIS_WAIT_IDLE(m_window->jobs(), 10000);
    QTRY_COMPARE(activations()->picture()->layer, layer);
  }

  void badModelFileShowsErrorAndKeepsTheModel() {
    AppState* state = m_window->state();
    const auto net = state->net();
    const QString bad = m_tmp.filePath("broken.onnx");
    {
      QFile f(bad);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("this is not a protobuf at all");
    }
    m_errors->clear();
    m_window->controller()->openModel(bad);
    ZFVIS_WAIT_IDLE(m_window->jobs(), 10000);
    QCOMPARE(m_errors->messages().size(), 1);
    QVERIFY2(m_errors->messages()[0].contains("broken.onnx"), qPrintable(m_errors->messages()[0]));
    QVERIFY(!m_errors->messages()[0].contains('\n'));
    QCOMPARE(state->net(), net);
    QCOMPARE(m_window->layerModel()->rowCount(), int(net->def().layers.size()));
    QVERIFY(state->forward());

    m_errors->clear();
    m_window->controller()->openModel(m_tmp.filePath("missing.onnx"));
    m_window->controller()->openImage(m_tmp.filePath("missing.png"));
    ZFVIS_WAIT_IDLE(m_window->jobs(), 10000);
    QCOMPARE(m_errors->messages().size(), 2);
    QCOMPARE(state->net(), net);
    QCOMPARE(state->source().name, QString("chelsea.png"));
    m_errors->clear();
  }

  void supersededResultIsDropped() {
    QSignalSpy dropped(m_window->jobs(), &JobTracker::resultDropped);
    m_window->controller()->openImage(sample("astronaut.png"));
    m_window->controller()->openImage(sample("coffee.png"));
    ZFVIS_WAIT_IDLE(m_window->jobs(), 20000);
    QCOMPARE(m_window->state()->source().name, QString("coffee.png"));
    bool imageDropped = false;
    for (const auto& args : dropped) imageDropped |= args.at(0).toString() == kImageJob;
    QVERIFY(imageDropped);
    QVERIFY(m_window->state()->forward());
    QCOMPARE(m_window->state()->forward()->generation, m_window->state()->inputGeneration());
    // A forward result computed for an older input is refused by the state.
    auto old = std::make_shared<ForwardResult>(*m_window->state()->forward());
    old->generation -= 1;
    QVERIFY(!m_window->state()->setForward(old));
  }

  void exportViewWritesPngAndNpy() {
    m_window->showView("activations");
    ZFVIS_WAIT_IDLE(m_window->jobs(), 10000);
    const QString png = m_tmp.filePath("conv1.png");
    m_window->exportViewTo(png);
    ZFVIS_WAIT_IDLE(m_window->jobs(), 10000);
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
    QVERIFY(QFileInfo::exists(png));
    const QImage written(png);
    QCOMPARE(written.size(), activations()->picture()->image.size());
    const PngText text = readPngText(toPath(png));
    auto value = [&](const std::string& key) { return pngTextValue(text, key); };
    QCOMPARE(value("zfvis:view"), std::string("activations"));
    QCOMPARE(value("zfvis:model"), std::string("nin"));
    QCOMPARE(value("zfvis:untrained"), std::string("true"));
    QCOMPARE(value("zfvis:layer"), std::string("conv1"));
    const Tensor npy = readNpy(toPath(m_tmp.filePath("conv1.npy")));
    const Tensor& expected =
        m_window->state()->activations()->output(size_t(m_window->state()->layer()));
    QCOMPARE(npy.shape(), expected.shape());
    QVERIFY(std::equal(npy.data(), npy.data() + npy.numel(), expected.data()));
  }

  void injectedNetworkAndPastedImage() {
    // A NetBuilder network installed directly, fed an in-memory image (like a paste).
    AppState* state = m_window->state();
    state->setModel(uitest::tinyNet(), "tiny", "");
    cv::Mat image(40, 50, CV_8UC3);
    cv::randu(image, 0, 255);
    m_window->controller()->setImage(image, "pasted image");
    ZFVIS_WAIT_IDLE(m_window->jobs(), 10000);
    QCOMPARE(m_window->layerModel()->rowCount(), 8);
    QVERIFY(state->forward());
    QCOMPARE(state->forward()->inputView.cols, 32);
    QCOMPARE(m_window->predictionsPanel()->model()->rowCount(), 5);
    QCOMPARE(m_window->predictionsPanel()->model()->predictions()[0].label.left(6),
             QString("class "));
    QVERIFY(!m_window->modelPanel()->banner()->isVisible() || state->def()->untrained);
    // The dense layers draw as heat strips.
    state->setLayer(6);
    m_window->showView("activations");
    ZFVIS_WAIT_IDLE(m_window->jobs(), 10000);
    QTRY_VERIFY(activations()->picture() && activations()->picture()->layer == 6);
    QCOMPARE(activations()->picture()->layout.count, 10);
  }

  void openFileAndPasteOpenByKind() {
    // A dropped (or otherwise opened) image file becomes the input. Qt discards synthetic drop
    // events that its drag manager did not start, so this goes through openFile, which the drop
    // handler calls for every local file.
    m_window->openFile(sample("rocket.jpg"));
    ZFVIS_WAIT_IDLE(m_window->jobs(), 20000);
    QCOMPARE(m_window->state()->source().name, QString("rocket.jpg"));
    // A pasted image too.
    QImage pasted(64, 48, QImage::Format_RGB32);
    pasted.fill(QColor(10, 200, 30));
    QApplication::clipboard()->setImage(pasted);
    m_window->pasteFromClipboard();
    ZFVIS_WAIT_IDLE(m_window->jobs(), 20000);
    QCOMPARE(m_window->state()->source().name, QString("pasted image"));
    const cv::Mat& bgr = m_window->state()->source().image;
    QCOMPARE(bgr.cols, 64);
    QCOMPARE(bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 200, 10));
    // Something that is neither a model nor an image is refused with a message.
    m_window->openFile(m_tmp.filePath("notes.txt"));
    QCOMPARE(m_errors->messages().size(), 1);
    QVERIFY(m_errors->messages()[0].contains("notes.txt"));
    m_errors->clear();
  }

  void recentFilesArePersisted() {
    MainWindow other(kSamples);
    other.setErrorReporter(std::make_shared<RecordingErrorReporter>());
    other.controller()->openImage(sample("coffee.png"));
    ZFVIS_WAIT_IDLE(other.jobs(), 20000);
    QCOMPARE(Settings::recentImages().value(0), sample("coffee.png"));
    other.controller()->openModel("nin");
    ZFVIS_WAIT_IDLE(other.jobs(), 20000);
    QCOMPARE(Settings::recentModels().value(0), QString("nin"));
    // Read back at once, and on disk once flushed (written by a pool thread).
    Settings::setViewOption("test/answer", 42);
    QCOMPARE(Settings::viewOption("test/answer").toInt(), 42);
    Settings::flush();
    QCOMPARE(QSettings().value("view/test/answer").toInt(), 42);
    QCOMPARE(QSettings().value("recent/models").toStringList().value(0), QString("nin"));
  }

  void zooDialogListsTheManifestAndFetchFailuresAreReported() {
    ZooDialog dialog;
    QCOMPARE(dialog.table()->rowCount(), int(embeddedZooManifest().models.size()));
    QCOMPARE(dialog.table()->item(0, 0)->text(),
             QString::fromStdString(embeddedZooManifest().models[0].id));
    QSignalSpy requested(&dialog, &ZooDialog::fetchRequested);
    dialog.table()->selectRow(0);
    QCOMPARE(dialog.selectedId(), QString::fromStdString(embeddedZooManifest().models[0].id));
    // A fetch from a server that is not there: one error, the open model stays.
    qputenv("XDG_CACHE_HOME", m_tmp.filePath("cache").toUtf8());
    qputenv("ZFVIS_ZOO_BASE_URL", "http://127.0.0.1:9/");
    const auto net = m_window->state()->net();
    m_window->fetchZooModel(dialog.selectedId());
    ZFVIS_WAIT_IDLE(m_window->jobs(), 60000);
    QCOMPARE(m_errors->messages().size(), 1);
    QVERIFY2(m_errors->messages()[0].contains("fetch"), qPrintable(m_errors->messages()[0]));
    QCOMPARE(m_window->state()->net(), net);
    m_errors->clear();
    m_window->fetchZooModel("no-such-model");
    QCOMPARE(m_errors->messages().size(), 1);
    m_errors->clear();
    qunsetenv("ZFVIS_ZOO_BASE_URL");
  }

  void opensOnnxAndKerasFilesAndNpyInputs() {
    const QString fixtures = QStringLiteral(ZFVIS_FIXTURES_DIR);
    AppState* state = m_window->state();
    // An ONNX file (exported from PyTorch) fed a .npy tensor as is.
    m_window->controller()->openModel(fixtures + "/onnx/alexnet_torch.onnx");
    m_window->controller()->openImage(fixtures + "/onnx/input_3x67x67.npy");
    ZFVIS_WAIT_IDLE(m_window->jobs(), 30000);
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
    QCOMPARE(QString::fromStdString(state->def()->name), QString("alexnet_torch"));
    QVERIFY(!m_window->modelPanel()->banner()->isVisible());
    QVERIFY(state->forward());
    const Tensor input = readNpy(toPath(fixtures + "/onnx/input_3x67x67.npy"));
    QVERIFY(std::equal(input.data(), input.data() + input.numel(),
                       state->activations()->input().data()));
    // Its output is PyTorch's (the fixture the ONNX tests use), whatever the UI did on the way.
    const Tensor expected = readNpy(toPath(fixtures + "/onnx/alexnet_torch.expected.npy"));
    const Tensor& out = state->activations()->finalOutput();
    QCOMPARE(out.numel(), expected.numel());
    // PyTorch computed in double: the network's rounding bound (tests/reference/tolerance.h).
    const double bound = ref::outputTolerance(*state->def(), input) * expected.maxAbs();
    for (int64_t i = 0; i < out.numel(); ++i) QVERIFY(std::abs(out[i] - expected[i]) <= bound);
    QCOMPARE(m_window->inputPanel()->imageView()->image().size(),
             QSize(int(state->def()->input.shape[2]), int(state->def()->input.shape[1])));

    // A Keras file with another input size (its fixture belongs to the Keras tests, so its
    // shape is read, not assumed): the 67 x 67 tensor does not fit and says so; the model is
    // open, and an image (resized to the net's input) runs.
    m_window->controller()->openModel(fixtures + "/keras/keras_alexnet.h5");
    ZFVIS_WAIT_IDLE(m_window->jobs(), 30000);
    QCOMPARE(QString::fromStdString(state->def()->name), QString("keras_alexnet"));
    const Shape kerasInput = state->def()->input.shape;
    QVERIFY(kerasInput != (Shape{3, 67, 67}));
    QCOMPARE(m_errors->messages().size(), 1);
    QVERIFY2(m_errors->messages()[0].contains("input_3x67x67.npy"),
             qPrintable(m_errors->messages()[0]));
    QVERIFY(!state->forward());
    m_errors->clear();
    m_window->controller()->openImage(sample("chelsea.png"));
    ZFVIS_WAIT_IDLE(m_window->jobs(), 30000);
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
    QVERIFY(state->forward());
    QCOMPARE(int64_t(state->forward()->inputView.rows), kerasInput[1]);
    QCOMPARE(int64_t(state->forward()->inputView.cols), kerasInput[2]);
  }

  void launchOptionsParse() {
    LaunchOptions o;
    QString error;
    QVERIFY(parseLaunchOptions({"zfvis"}, o, error));
    QVERIFY(o.model.isEmpty());  // the start model (trained AlexNet, or the start page)
    QVERIFY(!o.modelGiven);
    QVERIFY(!o.offline);
    QCOMPARE(o.view, QString("activations"));
    QVERIFY(!o.imageGiven);
    LaunchOptions off;
    QVERIFY(parseLaunchOptions({"zfvis", "--offline", "--view", "graph"}, off, error));
    QVERIFY(off.offline);
    QCOMPARE(off.view, QString("graph"));
    LaunchOptions p;
    QVERIFY(parseLaunchOptions({"zfvis", "--model", "nin", "--image", "a.png", "--layer", "conv2",
                                "--view", "filters", "--screenshot", "/tmp/x.png"},
                               p, error));
    QCOMPARE(p.model, QString("nin"));
    QCOMPARE(p.image, QString("a.png"));
    QCOMPARE(p.layer, QString("conv2"));
    QCOMPARE(p.view, QString("filters"));
    QCOMPARE(p.screenshot, QString("/tmp/x.png"));
    LaunchOptions q;
    QVERIFY(!parseLaunchOptions({"zfvis", "--view", "nonsense"}, q, error));
    QVERIFY(error.contains("--view"));
    QVERIFY(!parseLaunchOptions({"zfvis", "--bogus"}, q, error));
    QVERIFY(!parseLaunchOptions({"zfvis", "stray"}, q, error));
  }
};

QTEST_MAIN(MainWindowTest)
#include "test_main_window.moc"
