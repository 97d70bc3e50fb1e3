#include "ui/launch_options.h"

#include <QCommandLineParser>

namespace zfvis::ui {

const QStringList& viewNames() {
  static const QStringList names = {"activations", "filters",   "projection",
                                    "compare",     "occlusion", "train",
                                    "evolution",   "units",     "graph"};
  return names;
}

bool parseLaunchOptions(const QStringList& arguments, LaunchOptions& out, QString& error) {
  QCommandLineParser p;
  p.setApplicationDescription(
      "zfvis: look inside convolutional networks (activations, filters, deconvnet projections, "
      "occlusion) the way Zeiler & Fergus did.");
  p.addHelpOption();
  p.addVersionOption();
  QCommandLineOption model("model", "Built-in model name, .onnx or Keras .h5 file.", "M");
  QCommandLineOption weights("weights", "Keras .h5 weights applied to a built-in model.", "W");
  QCommandLineOption image("image", "Image file (or .npy network input).", "I");
  QCommandLineOption layer("layer", "Layer name or index to select.", "L");
  QCommandLineOption view("view", "View to show: " + viewNames().join('|') + ".", "V");
  QCommandLineOption shot("screenshot",
                          "Render the window once everything is computed, save it as PNG, exit.",
                          "OUT.png");
  QCommandLineOption scanDb("scan-db", "Scan database (zfvis-cli scan) the Units view opens.",
                            "FILE");
  QCommandLineOption offline(
      "offline",
      "Without --model: when the trained AlexNet is not in the Model Zoo cache, open the shipped "
      "zf-small trained on Fashion-MNIST instead of the start page.");
  p.addOptions({model, weights, image, layer, view, scanDb, shot, offline});
  if (!p.parse(arguments)) {
    error = p.errorText();
    return false;
  }
  if (p.isSet("help")) {
    p.showHelp(0);  // exits
  }
  if (p.isSet("version")) {
    p.showVersion();  // exits
  }
  if (!p.positionalArguments().isEmpty()) {
    error = "unexpected argument '" + p.positionalArguments().first() + "'";
    return false;
  }
  if (p.isSet(model)) {
    out.model = p.value(model);
    out.modelGiven = true;
  }
  out.weights = p.value(weights);
  if (p.isSet(image)) {
    out.image = p.value(image);
    out.imageGiven = true;
  }
  out.layer = p.value(layer);
  if (p.isSet(view)) {
    out.view = p.value(view).toLower();
    if (!viewNames().contains(out.view)) {
      error = "--view expects " + viewNames().join('|') + ", got '" + p.value(view) + "'";
      return false;
    }
  }
  out.scanDb = p.value(scanDb);
  out.screenshot = p.value(shot);
  out.offline = p.isSet(offline);
  return true;
}

}  // namespace zfvis::ui
