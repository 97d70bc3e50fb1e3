// Persistent GUI settings (QSettings): recent files, last folders, window layout, view options.
// Writes go to disk on a thread of their own, never on the GUI thread: QSettings rewrites and
// fsyncs its file on every write (8-24 ms each measured on a busy disk, and one option change
// writes up to four). Reads see a written value at once.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVariant>

namespace zfvis::ui {

class Settings {
 public:
  /// How many recent files each list keeps.
  static constexpr int kMaxRecent = 10;

  /// Recent models, most recent first ("spec" or "spec|weights").
  static QStringList recentModels();
  /// Puts a model at the front of the recent list.
  static void addRecentModel(const QString& entry);
  /// Recent images, most recent first.
  static QStringList recentImages();
  /// Puts an image at the front of the recent list.
  static void addRecentImage(const QString& path);

  /// The folder a file dialog of `kind` ("model", "image", "export") opened last.
  static QString lastFolder(const QString& kind);
  /// Remembers the folder of `fileName` for dialogs of `kind`.
  static void setLastFolder(const QString& kind, const QString& fileName);

  /// Saved window geometry and dock/toolbar state.
  static QByteArray windowGeometry();
  static QByteArray windowState();
  static void setWindowLayout(const QByteArray& geometry, const QByteArray& state);

  /// A view option ("activations/colormap", ...).
  static QVariant viewOption(const QString& key, const QVariant& fallback = {});
  /// Stores a view option.
  static void setViewOption(const QString& key, const QVariant& value);

  /// Waits until every write so far is on disk (tests; the application waits too on exit).
  static void flush();

 private:
  static QVariant read(const QString& key, const QVariant& fallback = {});
  static void write(const QString& key, const QVariant& value);
  static QStringList pushFront(QStringList list, const QString& entry);
};

}  // namespace zfvis::ui
