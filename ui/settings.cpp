#include "ui/settings.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>

namespace zfvis::ui {

QStringList Settings::pushFront(QStringList list, const QString& entry) {
  list.removeAll(entry);
  list.prepend(entry);
  while (list.size() > kMaxRecent) list.removeLast();
  return list;
}

QStringList Settings::recentModels() {
  return QSettings().value("recent/models").toStringList();
}

void Settings::addRecentModel(const QString& entry) {
  QSettings().setValue("recent/models", pushFront(recentModels(), entry));
}

QStringList Settings::recentImages() {
  return QSettings().value("recent/images").toStringList();
}

void Settings::addRecentImage(const QString& path) {
  QSettings().setValue("recent/images", pushFront(recentImages(), path));
}

QString Settings::lastFolder(const QString& kind) {
  return QSettings().value("folders/" + kind, QDir::homePath()).toString();
}

void Settings::setLastFolder(const QString& kind, const QString& fileName) {
  QSettings().setValue("folders/" + kind, QFileInfo(fileName).absolutePath());
}

QByteArray Settings::windowGeometry() {
  return QSettings().value("window/geometry").toByteArray();
}

QByteArray Settings::windowState() {
  return QSettings().value("window/state").toByteArray();
}

void Settings::setWindowLayout(const QByteArray& geometry, const QByteArray& state) {
  QSettings s;
  s.setValue("window/geometry", geometry);
  s.setValue("window/state", state);
}

QVariant Settings::viewOption(const QString& key, const QVariant& fallback) {
  return QSettings().value("view/" + key, fallback);
}

void Settings::setViewOption(const QString& key, const QVariant& value) {
  QSettings().setValue("view/" + key, value);
}

}  // namespace zfvis::ui
