// The "How to read this" texts of the central views, in one place: what each view shows, with
// the figure of Zeiler & Fergus (2013) it repeats, and how to read its pictures.
#pragma once

#include <QString>
#include <QStringList>

namespace zfvis::ui {

/// The help of the view with this id ("activations", "projection", ...) as rich text; empty for
/// a view without one.
QString helpText(const QString& viewId);
/// The ids of the views that have a help text.
QStringList helpTopics();

}  // namespace zfvis::ui
