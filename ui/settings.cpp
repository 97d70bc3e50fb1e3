#include "ui/settings.h"

#include <mutex>

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QSettings>
#include <QThreadPool>

namespace zfvis::ui {

namespace {

// Values written but maybe not on disk yet (the latest per key), and one writer at a time.
// (std::mutex: ThreadSanitizer sees it, not QMutex's futex inside the uninstrumented Qt.)
struct Pending {
  std::mutex mutex;
  QHash<QString, QVariant> values;
  std::mutex writer;
};

// Never destroyed: the writer thread's last use of it is ordered before exit only by the wait in
// its pool's destructor (a Qt futex ThreadSanitizer cannot see); an object that is never
// destroyed needs no such ordering.
Pending& pending() {
  static Pending* p = new Pending;
  return *p;
}

// The thread that writes: not the global pool, whose threads Qt's raster engine uses to paint
// (a paint waiting behind an fsync would stall the GUI thread). Owned by the application, which
// waits for it when it is destroyed.
QThreadPool* writerPool() {
  static QThreadPool* pool = [] {
    auto* p = new QThreadPool(QCoreApplication::instance());
    p->setMaxThreadCount(1);
    return p;
  }();
  return pool;
}

// Writes the pending values in one QSettings sync. Holding `writer` while taking the snapshot
// keeps the disk in write order: a later flush always sees the newer values.
void writePending() {
  Pending& p = pending();
  std::lock_guard writer(p.writer);
  QHash<QString, QVariant> batch;
  {
    // Emptiness is read under the lock: `batch` shares its data with p.values, which the GUI
    // thread may write in place once this copy is gone (QHash's unshared check is a relaxed
    // load, so only the lock orders that write after this read; ThreadSanitizer saw the race).
    std::lock_guard lock(p.mutex);
    if (p.values.isEmpty()) return;
    batch = p.values;
  }
  {
    QSettings settings;
    for (auto it = batch.cbegin(); it != batch.cend(); ++it)
      settings.setValue(it.key(), it.value());
  }  // syncs here
  std::lock_guard lock(p.mutex);
  for (auto it = batch.cbegin(); it != batch.cend(); ++it)
    if (p.values.value(it.key()) == it.value()) p.values.remove(it.key());
}

}  // namespace

QVariant Settings::read(const QString& key, const QVariant& fallback) {
  {
    Pending& p = pending();
    std::lock_guard lock(p.mutex);
    auto it = p.values.constFind(key);
    if (it != p.values.cend()) return *it;
  }
  return QSettings().value(key, fallback);
}

void Settings::write(const QString& key, const QVariant& value) {
  {
    Pending& p = pending();
    std::lock_guard lock(p.mutex);
    p.values.insert(key, value);
  }
  writerPool()->start(writePending);
}

void Settings::flush() {
  writePending();
}

QStringList Settings::pushFront(QStringList list, const QString& entry) {
  list.removeAll(entry);
  list.prepend(entry);
  while (list.size() > kMaxRecent) list.removeLast();
  return list;
}

QStringList Settings::recentModels() {
  return read("recent/models").toStringList();
}

void Settings::addRecentModel(const QString& entry) {
  write("recent/models", pushFront(recentModels(), entry));
}

QStringList Settings::recentImages() {
  return read("recent/images").toStringList();
}

void Settings::addRecentImage(const QString& path) {
  write("recent/images", pushFront(recentImages(), path));
}

QString Settings::lastFolder(const QString& kind) {
  return read("folders/" + kind, QDir::homePath()).toString();
}

void Settings::setLastFolder(const QString& kind, const QString& fileName) {
  write("folders/" + kind, QFileInfo(fileName).absolutePath());
}

QByteArray Settings::windowGeometry() {
  return read("window/geometry").toByteArray();
}

QByteArray Settings::windowState() {
  return read("window/state").toByteArray();
}

void Settings::setWindowLayout(const QByteArray& geometry, const QByteArray& state) {
  write("window/geometry", geometry);
  write("window/state", state);
}

QVariant Settings::viewOption(const QString& key, const QVariant& fallback) {
  return read("view/" + key, fallback);
}

void Settings::setViewOption(const QString& key, const QVariant& value) {
  write("view/" + key, value);
}

}  // namespace zfvis::ui
