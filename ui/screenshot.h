// Screenshot mode (zfvis --screenshot OUT.png): waits until every job has finished and no view
// waits to start one, grabs the window (QWidget::grab), writes the PNG and quits with 0; any
// error is printed as one line and quits with 1.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>

#include "ui/error_reporter.h"

namespace zfvis::ui {

class MainWindow;

/// Prints errors as "zfvis: <message>" on stderr and quits the application with exit code 1.
class ExitErrorReporter final : public ErrorReporter {
 public:
  void showError(const QString& title, const QString& message) override;
};

class ScreenshotTaker : public QObject {
  Q_OBJECT
 public:
  /// Will grab `window` into `path`; gives up after `timeoutMs`.
  ScreenshotTaker(MainWindow* window, const QString& path, int timeoutMs = 600000);
  /// Starts watching; the application quits when done.
  void start();

 private:
  void poll();

  MainWindow* m_window;
  QString m_path;
  int m_timeoutMs;
  QTimer m_timer;
  QElapsedTimer m_elapsed;
  int m_settledPolls = 0;
};

}  // namespace zfvis::ui
