// File dialogs shared by the window and its views.
#pragma once

#include <functional>

#include <QString>

class QWidget;

namespace zfvis::ui {

/// Opens a non-blocking "save as PNG" dialog titled `title`, starting in the last export folder
/// with `stem`.png; when the user picks a file, remembers its folder and calls `onChosen` with
/// the path (on the GUI thread).
void askPngPath(QWidget* parent, const QString& title, const QString& stem,
                std::function<void(const QString&)> onChosen);

/// Opens a non-blocking folder chooser titled `title`, starting in the last folder of `kind`
/// (Settings::lastFolder); when the user picks one, remembers it under `kind` and calls
/// `onChosen` with it (on the GUI thread).
void askFolder(QWidget* parent, const QString& title, const QString& kind,
               std::function<void(const QString&)> onChosen);

/// Opens a non-blocking chooser of one existing file titled `title` with name filter `filter`,
/// starting in the last folder of `kind` (Settings::lastFolder); when the user picks a file,
/// remembers its folder under `kind` and calls `onChosen` with it (on the GUI thread).
void askOpenFile(QWidget* parent, const QString& title, const QString& kind, const QString& filter,
                 std::function<void(const QString&)> onChosen);

}  // namespace zfvis::ui
