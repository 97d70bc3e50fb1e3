#include "ui/file_dialogs.h"

#include <QDir>
#include <QFileDialog>

#include "ui/settings.h"

namespace zfvis::ui {

void askPngPath(QWidget* parent, const QString& title, const QString& stem,
                std::function<void(const QString&)> onChosen) {
  auto* dialog =
      new QFileDialog(parent, title, QDir(Settings::lastFolder("export")).filePath(stem + ".png"),
                      QObject::tr("PNG image (*.png)"));
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setAcceptMode(QFileDialog::AcceptSave);
  dialog->setDefaultSuffix("png");
  QObject::connect(dialog, &QFileDialog::fileSelected, parent,
                   [onChosen = std::move(onChosen)](const QString& file) {
                     Settings::setLastFolder("export", file);
                     onChosen(file);
                   });
  dialog->open();
}

void askFolder(QWidget* parent, const QString& title, const QString& kind,
               std::function<void(const QString&)> onChosen) {
  auto* dialog = new QFileDialog(parent, title, Settings::lastFolder(kind));
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setFileMode(QFileDialog::Directory);
  dialog->setOption(QFileDialog::ShowDirsOnly);
  QObject::connect(dialog, &QFileDialog::fileSelected, parent,
                   [kind, onChosen = std::move(onChosen)](const QString& dir) {
                     Settings::setLastFolder(kind, dir);
                     onChosen(dir);
                   });
  dialog->open();
}

void askOpenFile(QWidget* parent, const QString& title, const QString& kind, const QString& filter,
                 std::function<void(const QString&)> onChosen) {
  auto* dialog = new QFileDialog(parent, title, Settings::lastFolder(kind), filter);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setFileMode(QFileDialog::ExistingFile);
  QObject::connect(dialog, &QFileDialog::fileSelected, parent,
                   [kind, onChosen = std::move(onChosen)](const QString& file) {
                     Settings::setLastFolder(kind, file);
                     onChosen(file);
                   });
  dialog->open();
}

}  // namespace zfvis::ui
