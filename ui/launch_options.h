// The GUI's command line: zfvis [--model M] [--weights W] [--image I] [--layer L]
// [--view activations|filters|projection|compare|occlusion|train|evolution|units|graph]
// [--scan-db FILE] [--offline] [--screenshot OUT.png]. Without --model the trained AlexNet opens
// from the Model Zoo cache, else the start page offers it (--offline: the shipped trained
// zf-small opens instead).
#pragma once

#include <QString>
#include <QStringList>

namespace zfvis::ui {

struct LaunchOptions {
  QString model;  // built-in name or model file; empty: the start model (core/import/start_model.h)
  QString weights;                               // Keras weights for a built-in
  QString image;                                 // image file; empty: the chelsea sample
  QString layer;                                 // layer name or index; empty: default
  QString view = QStringLiteral("activations");  // the tab shown first
  QString scanDb;                                // scan database the units view opens
  QString screenshot;                            // save a grab of the window here and exit
  bool modelGiven = false;                       // --model was on the command line
  bool imageGiven = false;                       // --image was on the command line
  bool offline = false;  // --offline: without --model, open the best model needing no download
};

/// The views --view accepts, in tab order.
const QStringList& viewNames();

/// Parses the arguments (argv[0] first). On a usage error returns false with a one-line
/// message in `error`; --help and --version print and exit.
bool parseLaunchOptions(const QStringList& arguments, LaunchOptions& out, QString& error);

}  // namespace zfvis::ui
