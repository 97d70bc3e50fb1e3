// zfvis: the Qt desktop GUI. See ui/launch_options.h for the command line.
#include <cstdio>
#include <memory>

#include <QApplication>
#include <QDir>
#include <QThread>

#include "core/engine/engine.h"
#include "ui/error_reporter.h"
#include "ui/launch_options.h"
#include "ui/main_window.h"
#include "ui/screenshot.h"

namespace {

// The sample photos: installed next to bin/ (share/zfvis/images), else the source tree's.
QString samplesDir() {
  const QDir installed(QCoreApplication::applicationDirPath() + "/../share/zfvis/images");
  if (installed.exists()) return installed.canonicalPath();
  return QStringLiteral(ZFVIS_SAMPLES_DIR);
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("zfvis");
  QApplication::setApplicationName("zfvis");
  QApplication::setApplicationVersion(ZFVIS_VERSION);

  zfvis::ui::LaunchOptions options;
  QString error;
  if (!zfvis::ui::parseLaunchOptions(QApplication::arguments(), options, error)) {
    std::fprintf(stderr, "zfvis: %s\n", error.toLocal8Bit().constData());
    return 2;
  }
  zfvis::setEngineThreads(std::max(1, QThread::idealThreadCount()));

  zfvis::ui::MainWindow window(samplesDir());
  const bool screenshot = !options.screenshot.isEmpty();
  if (screenshot) {
    window.setPersistLayout(false);
    window.setErrorReporter(std::make_shared<zfvis::ui::ExitErrorReporter>());
  } else {
    window.restoreLayout();
  }
  window.show();
  window.applyLaunchOptions(options);
  if (screenshot) (new zfvis::ui::ScreenshotTaker(&window, options.screenshot))->start();
  return app.exec();
}
