// The central views against core: the filters view shows a layer's weights and their RMS, the
// compare view core's statistics of two banks, the projection view exactly what core's Projector
// returns, the occlusion view can be cancelled; each view exports its data.
#include <cmath>

#include <QLabel>
#include <QSignalSpy>
#include <QTableView>
#include <QtConcurrent/QtConcurrentRun>
#include <QtTest>

#include "core/analysis/compare/filter_bank.h"
#include "core/analysis/projector/projector.h"
#include "core/base/npy.h"
#include "core/render/filter_grid.h"
#include "core/render/png.h"
#include "tests/ui/ui_test_util.h"
#include "ui/app_state.h"
#include "ui/controller.h"
#include "ui/convert.h"
#include "ui/error_reporter.h"
#include "ui/image_view.h"
#include "ui/input_panel.h"
#include "ui/main_window.h"
#include "ui/thread_handover.h"
#include "ui/views/activations_view.h"
#include "ui/views/compare_view.h"
#include "ui/views/filters_view.h"
#include "ui/views/occlusion_view.h"
#include "ui/views/projection_view.h"

using namespace zfvis;
using namespace zfvis::ui;

namespace {
const QString kSamples = QStringLiteral(ZFVIS_SAMPLES_DIR);

bool sameTensor(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.numel(), b.data());
}

}  // namespace

class Views : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<MainWindow> m_window;
  std::shared_ptr<RecordingErrorReporter> m_errors;
  QTemporaryDir m_tmp;

  AppState* state() const { return m_window->state(); }
  void waitIdle() { QVERIFY(m_window->jobs()->waitForIdle(60000)); }
  void selectLayer(const char* name) { state()->setLayer(state()->def()->indexOf(name)); }
  // Runs `f` on the engine lane and waits up to 30 s for it; true once it has finished. Core
  // shares its backward primitives between the projectors of a net, and oneDNN primitives must
  // run on the thread that created them (see ui/jobs.h, Lane). Not waitForFinished(): it may run
  // the task on this thread instead.
  template <typename F>
  bool runOnEngineLane(F f) {
    QFuture<void> done;
    {
      HandOver handOver;  // (ui/thread_handover.h: what `f` reads, and what it writes back)
      done = QtConcurrent::run(m_window->jobs()->pool(Lane::Engine), [&f] {
        handOverFence();
        f();
        handOverFence();
      });
    }
    QElapsedTimer waited;
    waited.start();
    while (!done.isFinished() && waited.elapsed() < 30000) QTest::qWait(5);
    handOverFence();
    return done.isFinished();
  }

 private slots:
  void initTestCase() {
    uitest::isolateSettings();
    m_window = std::make_unique<MainWindow>(kSamples);
    m_errors = std::make_shared<RecordingErrorReporter>();
    m_window->setErrorReporter(m_errors);
    m_window->setPersistLayout(false);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->controller()->openModel("nin");
    m_window->controller()->openImage(QDir(kSamples).filePath("chelsea.png"));
    waitIdle();
    QVERIFY(state()->forward());
  }

  void cleanupTestCase() { m_window.reset(); }

  void init() { m_errors->clear(); }
  void cleanup() {
    QVERIFY2(m_errors->messages().isEmpty(), qPrintable(m_errors->messages().join("; ")));
  }

  void filterLayerFollowsTheChain() {
    const NetworkDef& def = *state()->def();
    const int conv1 = def.indexOf("conv1"), conv2 = def.indexOf("conv2");
    QCOMPARE(filterLayerFor(def, conv1), conv1);
    QCOMPARE(filterLayerFor(def, def.indexOf("relu1")), conv1);
    QCOMPARE(filterLayerFor(def, def.indexOf("pool1")), conv1);
    QCOMPARE(filterLayerFor(def, conv2), conv2);
    const NetworkDef tiny = uitest::tinyDef();
    QCOMPARE(filterLayerFor(tiny, tiny.indexOf("flatten")), tiny.indexOf("conv2"));
    QCOMPARE(filterLayerFor(tiny, tiny.indexOf("fc")), tiny.indexOf("conv2"));
  }

  void filtersViewShowsTheLayersWeights() {
    selectLayer("relu1");  // shows conv1, which feeds it
    m_window->showView("filters");
    waitIdle();
    auto* view = qobject_cast<FiltersView*>(m_window->view("filters"));
    QVERIFY(view);
    auto pic = view->picture();
    QVERIFY(pic);
    const LayerSpec& conv1 = state()->def()->layers[size_t(state()->def()->indexOf("conv1"))];
    QCOMPARE(pic->layer, state()->def()->indexOf("conv1"));
    QVERIFY(sameTensor(pic->bank.weights, conv1.weights));
    QCOMPARE(pic->channels, FilterChannels::Rgb);  // a first layer on a colour image
    QCOMPARE(pic->image, toQImage(renderFilterGrid(conv1.weights, pic->options)));
    QCOMPARE(view->imageView()->image(), pic->image);
    // Hovering filter 7 reports its RMS, worked out here from the weights.
    const int f = 7;
    const cv::Rect cell = pic->layout.cellRect(f);
    const QPoint center(cell.x + cell.width / 2, cell.y + cell.height / 2);
    const int64_t per = conv1.weights.numel() / conv1.weights.shape()[0];
    double sum = 0;
    for (int64_t i = 0; i < per; ++i)
      sum += double(conv1.weights[f * per + i]) * conv1.weights[f * per + i];
    const double rms = std::sqrt(sum / double(per));
    const QString tip = view->describePixel(center);
    QVERIFY2(tip.startsWith("filter 7"), qPrintable(tip));
    QVERIFY2(tip.contains(QString("RMS %1").arg(rms, 0, 'g', 4)),
             qPrintable(tip + " vs " + QString::number(rms)));
    // Clicking the tile selects channel 7 of relu1.
    QTest::mouseClick(
        view->imageView(), Qt::LeftButton, {},
        view->imageView()->imageToWidget(QPointF(center) + QPointF(0.5, 0.5)).toPoint());
    QCOMPARE(state()->channel(), f);
    // Export: the grid as PNG and the weights as .npy.
    const QString png = m_tmp.filePath("filters.png");
    m_window->exportViewTo(png);
    waitIdle();
    QCOMPARE(pngTextValue(readPngText(toPath(png)), "zfvis:layer"), std::string("conv1"));
    QVERIFY(sameTensor(readNpy(toPath(m_tmp.filePath("filters.npy"))), conv1.weights));
  }

  void filtersViewSaysWhenThereAreNoFilters() {
    // The tiny net's first layer is a convolution; a net without one has nothing to show.
    NetBuilder b("pool-only", {3, 8, 8});
    b.maxPool("pool", 2, 2).flatten("flat").dense("fc", 4);
    auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(b.build()));
    const auto previous = state()->net();
    state()->setModel(net, "pool-only", "");
    m_window->showView("filters");
    waitIdle();
    auto* view = qobject_cast<FiltersView*>(m_window->view("filters"));
    QVERIFY(!view->picture());
    QVERIFY(view->imageView()->message().contains("no convolution"));
    QVERIFY(!view->exportView());
    state()->setModel(previous, "nin", "");
    m_window->controller()->runForward();
    waitIdle();
  }

  void compareViewUsesCoresStatistics() {
    // B: a .npy filter bank written here.
    Tensor bank(Shape{16, 3, 5, 5});
    for (int64_t i = 0; i < bank.numel(); ++i) bank[i] = float(std::sin(0.37 * double(i)));
    const QString npy = m_tmp.filePath("bank.npy");
    writeNpy(toPath(npy), bank);
    auto* view = qobject_cast<CompareView*>(m_window->view("compare"));
    QVERIFY(view);
    QCOMPARE(view->side(0), QString());  // the open model
    view->setSide(1, npy);
    m_window->showView("compare");
    waitIdle();
    auto pic = view->picture();
    QVERIFY(pic);
    QCOMPARE(int(pic->banks.size()), 2);
    const LayerSpec& conv1 = state()->def()->layers[size_t(state()->def()->indexOf("conv1"))];
    QVERIFY(sameTensor(pic->banks[0]->weights, conv1.weights));
    QVERIFY(sameTensor(pic->banks[1]->weights, bank));
    QCOMPARE(pic->stats[1].filters, 16);
    // Per-filter RMS of B, by hand.
    for (int f = 0; f < 16; ++f) {
      double s = 0;
      for (int i = 0; i < 75; ++i) s += double(bank[f * 75 + i]) * bank[f * 75 + i];
      // Both in double from the same floats (75-term sums: about 75 * 1.1e-16 apart at most).
      QVERIFY(std::abs(pic->stats[1].perFilter[size_t(f)].rms - std::sqrt(s / 75)) < 1e-12);
    }
    QVERIFY(!pic->image.isNull());
    const QString png = m_tmp.filePath("compare.png");
    m_window->exportViewTo(png);
    waitIdle();
    QVERIFY(sameTensor(readNpy(toPath(m_tmp.filePath("compare-b.npy"))), bank));
    QVERIFY(QFileInfo::exists(m_tmp.filePath("compare-a.npy")));
    QFile json(m_tmp.filePath("compare-stats.json"));
    QVERIFY(json.open(QIODevice::ReadOnly));
    QVERIFY(json.readAll().contains("\"definitions\""));
  }

  void projectionEqualsCoresProjector() {
    selectLayer("conv2");
    state()->setChannel(3);
    auto* view = qobject_cast<ProjectionView*>(m_window->view("projection"));
    QVERIFY(view);
    for (ProjectionMode mode :
         {ProjectionMode::Deconvnet, ProjectionMode::Guided, ProjectionMode::Saliency}) {
      view->setMode(mode);
      m_window->showView("projection");
      waitIdle();
      auto pic = view->picture();
      QVERIFY(pic);
      // What core returns for the same request, from a projector of our own (on the engine
      // thread, as the view's).
      ProjectionRequest r;
      r.layer = size_t(state()->layer());
      r.channel = 3;
      r.mode = mode;
      Projection expected;
      std::vector<int> channels;
      QVERIFY(runOnEngineLane([&] {
        Projector projector(state()->activations());
        expected = projector.project(r);
        channels = projector.topChannels(r.layer, ProjectionView::kTopCount);
      }));
      QCOMPARE(pic->projection.channel, 3);
      QCOMPARE(pic->projection.layer, r.layer);
      QCOMPARE(pic->projection.position, expected.position);
      QCOMPARE(pic->projection.field, expected.field);
      QVERIFY(sameTensor(pic->projection.image, expected.image));
      QVERIFY(!pic->view.isNull());
      // The top grid holds the layer's strongest channels, strongest first.
      auto top = view->top();
      QVERIFY(top);
      QCOMPARE(int(top->projections.size()), int(channels.size()));
      for (size_t i = 0; i < channels.size(); ++i)
        QCOMPARE(top->projections[i].channel, channels[i]);
    }
    view->setMode(ProjectionMode::Deconvnet);
    waitIdle();
    QCOMPARE(view->picture()->projection.mode, ProjectionMode::Deconvnet);
    const QString png = m_tmp.filePath("projection.png");
    m_window->exportViewTo(png);
    waitIdle();
    const PngText text = readPngText(toPath(png));
    QCOMPARE(pngTextValue(text, "zfvis:mode"), std::string("deconvnet"));
    QCOMPARE(pngTextValue(text, "zfvis:channel"), std::string("3"));
    QVERIFY(sameTensor(readNpy(toPath(m_tmp.filePath("projection.npy"))),
                       view->picture()->projection.image));
    QCOMPARE(readNpy(toPath(m_tmp.filePath("projection-top.npy"))).shape()[0],
             int64_t(ProjectionView::kTopCount));
  }

  void projectionFollowsChannelClicks() {
    m_window->showView("projection");
    waitIdle();
    auto* view = qobject_cast<ProjectionView*>(m_window->view("projection"));
    QSignalSpy shown(view, &ProjectionView::projectionShown);
    QElapsedTimer timer;
    timer.start();
    state()->setChannel(11);
    QVERIFY(shown.wait(20000));
    QCOMPARE(shown.last().at(0).toInt(), 11);
    QCOMPARE(view->picture()->projection.channel, 11);
    qInfo("nin %s: channel selected -> projection shown in %lld ms",
          qPrintable(state()->layerName(state()->layer())), timer.elapsed());
    waitIdle();
  }

  // A click on a feature map selects that channel and, with "Snap to maximum" off, the clicked
  // position: the projection view shows core's projection from that position, its header says
  // where, and the input panel outlines that unit's receptive field. With snapping on (the
  // default) the same click projects from the channel's maximum.
  void activationClickProjectsFromTheClickedPosition() {
    selectLayer("conv2");  // 256 x 27 x 27
    m_window->showView("activations");
    waitIdle();
    auto* acts = qobject_cast<ActivationsView*>(m_window->view("activations"));
    auto* proj = qobject_cast<ProjectionView*>(m_window->view("projection"));
    QVERIFY(acts->snapToMaximum());
    auto pic = acts->picture();
    QVERIFY(pic && pic->layer == state()->layer());
    const int channel = 5;
    const cv::Point at(7, 11);  // (x, y)
    // The centre of element (y 11, x 7) of map 5: the cell's rectangle cut into 27 x 27 blocks.
    const cv::Rect cell = pic->layout.cellRect(channel);
    QCOMPARE(cell.width % 27, 0);
    const int bw = cell.width / 27, bh = cell.height / 27;
    const QPointF pixel(cell.x + at.x * bw + bw / 2.0, cell.y + at.y * bh + bh / 2.0);
    // At 1:1 every block is whole pixels on screen (a fitted, shrunk grid rounds clicks); the
    // block's centre is floored to the widget pixel holding it (rounding 0.5 up would leave a
    // one-pixel block).
    acts->imageView()->actualSize();
    auto click = [&] {
      const QPointF w = acts->imageView()->imageToWidget(pixel);
      QTest::mouseClick(acts->imageView(), Qt::LeftButton, {},
                        QPoint(int(std::floor(w.x())), int(std::floor(w.y()))));
    };
    auto project = [&](std::optional<cv::Point> position) -> Projection {
      ProjectionRequest r;
      r.layer = size_t(state()->layer());
      r.channel = channel;
      r.position = position;
      Projection p;
      runOnEngineLane([&] {
        Projector projector(state()->activations());
        p = projector.project(r);
      });
      return p;
    };
    auto headerHas = [&](const QString& text) {
      for (QLabel* l : proj->findChildren<QLabel*>())
        if (l->text().contains(text)) return true;
      return false;
    };

    acts->setSnapToMaximum(false);
    click();
    QCOMPARE(state()->channel(), channel);
    QVERIFY(state()->position());
    QCOMPARE(*state()->position(), at);
    m_window->showView("projection");
    waitIdle();
    const Projection there = project(at);
    QVERIFY(proj->picture());
    QCOMPARE(proj->picture()->projection.channel, channel);
    QCOMPARE(proj->picture()->projection.position, at);
    QCOMPARE(proj->picture()->projection.field, there.field);
    QVERIFY(sameTensor(proj->picture()->projection.image, there.image));
    QVERIFY2(headerHas("#5 at (y 11, x 7) (chosen)"), "the header names the position, y first");
    QCOMPARE(m_window->inputPanel()->fieldShown(),
             QRect(there.field.x, there.field.y, there.field.width, there.field.height));

    m_window->showView("activations");
    waitIdle();
    acts->setSnapToMaximum(true);
    click();
    QCOMPARE(state()->channel(), channel);
    QVERIFY(!state()->position());
    m_window->showView("projection");
    waitIdle();
    const Projection maximum = project(std::nullopt);
    QVERIFY(maximum.position != at);  // the two clicks must differ for this test to mean much
    QCOMPARE(proj->picture()->projection.position, maximum.position);
    QVERIFY(sameTensor(proj->picture()->projection.image, maximum.image));
    QVERIFY(headerHas("(maximum)"));
    QCOMPARE(m_window->inputPanel()->fieldShown(),
             QRect(maximum.field.x, maximum.field.y, maximum.field.width, maximum.field.height));
    // Another channel or layer forgets a chosen position.
    acts->setSnapToMaximum(false);
    m_window->showView("activations");
    waitIdle();
    click();
    QVERIFY(state()->position());
    state()->setChannel(6);
    QVERIFY(!state()->position());
    acts->setSnapToMaximum(true);
    waitIdle();
  }

  void exportAllWritesTheReport() {
    const QString dir = m_tmp.filePath("report");
    m_window->exportAllTo(dir);
    waitIdle();
    QVERIFY(QFileInfo::exists(dir + "/index.html"));
    QFile manifest(dir + "/manifest.json");
    QVERIFY(manifest.open(QIODevice::ReadOnly));
    const QByteArray json = manifest.readAll();
    QVERIFY(json.contains("\"activations\""));
    // The input it wrote is the input of the forward run on screen.
    QVERIFY(sameTensor(
        readNpy(toPath(dir + "/input.npy")).reshaped(state()->activations()->input().shape()),
        state()->activations()->input()));
    // A second export into the same folder replaces the earlier report.
    m_window->exportAllTo(dir);
    waitIdle();
    QVERIFY(QFileInfo::exists(dir + "/index.html"));
  }

  void exportAllCanBeCancelled() {
    const QString dir = m_tmp.filePath("cancelled-report");
    QSignalSpy progress(m_window->jobs(), &JobTracker::jobProgress);
    m_window->exportAllTo(dir);
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0, 30000);
    m_window->jobs()->cancel("export-all");
    waitIdle();
    QVERIFY2(!QFileInfo::exists(dir), "a cancelled export left its folder behind");
  }

  void occlusionCanBeCancelled() {
    auto* view = qobject_cast<OcclusionView*>(m_window->view("occlusion"));
    QVERIFY(view);
    m_window->showView("occlusion");
    view->setPatch(8, 1);  // 220 x 220 placements: far longer than the test waits
    QSignalSpy cancelled(m_window->jobs(), &JobTracker::jobCancelled);
    QSignalSpy progress(m_window->jobs(), &JobTracker::jobProgress);
    view->run();
    QVERIFY(view->isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0, 20000);
    QElapsedTimer timer;
    timer.start();
    view->cancel();
    waitIdle();
    QVERIFY(!view->isRunning());
    QVERIFY(!view->picture());
    QCOMPARE(cancelled.count(), 1);
    qInfo("occlusion: cancel -> worker stopped in %lld ms", timer.elapsed());
    QVERIFY(timer.elapsed() < 10000);
  }

  void occlusionRunsAndExports() {
    auto* view = qobject_cast<OcclusionView*>(m_window->view("occlusion"));
    view->setPatch(60, 40);  // 5 x 5 placements on 227
    view->run();
    waitIdle();
    auto pic = view->picture();
    QVERIFY(pic);
    QCOMPARE(pic->result.rows, 5);
    QCOMPARE(pic->result.cols, 5);
    const QString png = m_tmp.filePath("occlusion.png");
    m_window->exportViewTo(png);
    waitIdle();
    QVERIFY(sameTensor(readNpy(toPath(m_tmp.filePath("occlusion.npy"))), pic->result.probability));
    const NpyInt32 labels = readNpyInt32(toPath(m_tmp.filePath("occlusion-labels.npy")));
    QCOMPARE(labels.values, pic->result.topClass);
  }
};

QTEST_MAIN(Views)
#include "test_views.moc"
