#include "ui/screenshot.h"

#include <cstdio>

#include <QCoreApplication>
#include <QPixmap>

#include "core/render/png.h"
#include "ui/app_state.h"
#include "ui/convert.h"
#include "ui/main_window.h"

namespace zfvis::ui {

void ExitErrorReporter::showError(const QString&, const QString& message) {
  std::fprintf(stderr, "zfvis: %s\n", message.toLocal8Bit().constData());
  std::fflush(stderr);
  QCoreApplication::exit(1);
}

ScreenshotTaker::ScreenshotTaker(MainWindow* window, const QString& path, int timeoutMs)
    : QObject(window), m_window(window), m_path(path), m_timeoutMs(timeoutMs) {
  m_timer.setInterval(50);
  connect(&m_timer, &QTimer::timeout, this, &ScreenshotTaker::poll);
}

void ScreenshotTaker::start() {
  m_elapsed.start();
  m_timer.start();
}

void ScreenshotTaker::poll() {
  if (m_elapsed.elapsed() > m_timeoutMs) {
    m_timer.stop();
    m_window->errorReporter()->showError({}, "screenshot: timed out waiting for the views");
    return;
  }
  // Settled for three polls in a row (150 ms): nothing queued behind a zero timer either.
  m_settledPolls = m_window->isSettled() && m_window->isVisible() ? m_settledPolls + 1 : 0;
  if (m_settledPolls < 3) return;
  m_timer.stop();
  const QImage shot = m_window->grab().toImage();
  try {
    writePng(toPath(m_path), toBgrMat(shot),
             {{"Software", "zfvis " ZFVIS_VERSION},
              {"zfvis:view", m_window->currentViewId().toStdString()}});
  } catch (const std::exception& e) {
    m_window->errorReporter()->showError({}, oneLine(e.what()));
    return;
  }
  QCoreApplication::exit(0);
}

}  // namespace zfvis::ui
