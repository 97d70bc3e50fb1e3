// Where errors go: a non-blocking message box in the application, a recorder in the tests, stderr
// plus exit code 1 in screenshot mode. Errors are one line ("cannot open model 'x.onnx': ...").
#pragma once

#include <QPointer>
#include <QString>
#include <QStringList>

class QMessageBox;
class QWidget;

namespace zfvis::ui {

class ErrorReporter {
 public:
  virtual ~ErrorReporter() = default;
  /// Shows one error; must not block the event loop.
  virtual void showError(const QString& title, const QString& message) = 0;
};

/// A window-modal message box opened with open() (never exec()); a new error replaces an open one.
class DialogErrorReporter final : public ErrorReporter {
 public:
  /// Dialogs are parented to `parent`.
  explicit DialogErrorReporter(QWidget* parent) : m_parent(parent) {}
  void showError(const QString& title, const QString& message) override;

 private:
  QWidget* m_parent;
  QPointer<QMessageBox> m_box;
};

/// Keeps the messages (tests).
class RecordingErrorReporter final : public ErrorReporter {
 public:
  void showError(const QString& title, const QString& message) override { m_messages << message; }
  /// Every message shown so far.
  const QStringList& messages() const { return m_messages; }
  /// Forgets them.
  void clear() { m_messages.clear(); }

 private:
  QStringList m_messages;
};

}  // namespace zfvis::ui
