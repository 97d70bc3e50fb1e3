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

}  // namespace zfvis::ui
