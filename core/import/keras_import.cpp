// Keras HDF5 import: full-model files (model_config + model_weights) and save_weights files.
#include "core/import/keras_import.h"

#include "core/base/error.h"
#include "core/import/keras/hdf5_file.h"
#include "core/import/keras/model_config.h"
#include "core/import/keras/weights.h"

namespace zfvis {

namespace {

constexpr size_t kMaxConfigBytes = size_t(64) << 20;

std::string quoted(const std::filesystem::path& path) {
  return "'" + path.string() + "'";
}

// Error messages stay on one line even when names read from a file hold control characters.
template <typename F>
auto oneLineErrors(F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    std::string m = e.what();
    for (char& c : m)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    throw Error(m);
  }
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < 8; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 8) s += ", ...";
  return s;
}

NetworkDef importKerasFile(const std::filesystem::path& path) {
  keras::Hdf5File f(path, "Keras model " + quoted(path));
  auto config = f.stringAttribute(f.root(), "model_config", kMaxConfigBytes);
  if (!config) {
    if (f.hasAttribute(f.root(), "layer_names"))
      throw Error(f.what() +
                  ": has no model_config attribute: it holds weights only "
                  "(model.save_weights); apply it to a built-in architecture with "
                  "--model <built-in> --weights " +
                  path.string());
    throw Error(f.what() + ": has no model_config attribute (not a Keras model.save() file)");
  }
  keras::ModelConfig mc = keras::buildModelConfig(*config, f.what());
  if (!f.exists(f.root(), "model_weights"))
    throw Error(f.what() + ": has no model_weights group (saved without weights?)");
  keras::Handle weights = f.openGroup(f.root(), "model_weights");
  for (const keras::WeightTarget& t : mc.weights) {
    keras::LayerWeights w = keras::readLayerWeights(f, weights.get(), t.kerasName, t, "its config");
    mc.def.layers[t.layer].weights = std::move(w.weights);
    mc.def.layers[t.layer].bias = std::move(w.bias);
  }
  NetworkDef def = std::move(mc.def);
  def.name = path.stem().string();
  def.source = path.string();
  def.untrained = false;
  try {
    def.validate();
  } catch (const Error& e) {
    throw Error(f.what() + ": " + e.what());
  }
  return def;
}

void applyKerasWeightsFile(NetworkDef& def, const std::filesystem::path& path) {
  keras::Hdf5File f(path, "weights " + quoted(path));
  keras::Handle modelWeights;
  hid_t root = f.root();
  if (!f.hasAttribute(root, "layer_names") && f.exists(root, "model_weights")) {
    modelWeights = f.openGroup(root, "model_weights");  // a full model file
    root = modelWeights.get();
  }
  std::vector<std::string> fileLayers = keras::layersWithWeights(f, root);

  const std::vector<Shape> shapes = def.outputShapes();
  std::vector<size_t> ours;
  std::vector<std::string> ourNames;
  // Keras matches layers with weights in `model.layers` order: the same order for our graph.
  for (size_t i : keras::kerasLayerOrder(def))
    if (def.layers[i].type == LayerType::Conv || def.layers[i].type == LayerType::Dense) {
      ours.push_back(i);
      ourNames.push_back(def.layers[i].name);
    }
  const bool builtin = def.source == "built-in";
  const std::string modelName = (builtin ? "built-in model '" : "model '") + def.name + "'";
  if (fileLayers.size() != ours.size())
    throw Error(f.what() + ": has " + std::to_string(fileLayers.size()) + " layers with weights (" +
                joinNames(fileLayers) + "), " + modelName + " has " + std::to_string(ours.size()) +
                " (" + joinNames(ourNames) + ")");

  // Read and check everything before changing `def`.
  std::vector<keras::LayerWeights> staged;
  for (size_t k = 0; k < ours.size(); ++k) {
    const LayerSpec& l = def.layers[ours[k]];
    keras::WeightTarget t;
    t.kerasName = fileLayers[k];
    t.layer = ours[k];
    const Shape& w = l.weights.shape();
    if (l.type == LayerType::Conv) {
      if (w.rank() != 4)
        throw Error(modelName + ": layer '" + l.name + "' has no convolution weights");
      t.kerasKernel = Shape{w[2], w[3], w[1], w[0]};
      t.hasBias = l.conv.hasBias;
    } else {
      if (w.rank() != 2) throw Error(modelName + ": layer '" + l.name + "' has no dense weights");
      t.kerasKernel = Shape{w[1], w[0]};
      t.hasBias = l.dense.hasBias;
      t.featureOrder = keras::kerasFeatureOrder(def, shapes, ours[k]);
    }
    const std::string expectedBy = (builtin ? "built-in layer '" : "layer '") + l.name + "'";
    staged.push_back(keras::readLayerWeights(f, root, t.kerasName, t, expectedBy));
  }
  for (size_t k = 0; k < ours.size(); ++k) {
    def.layers[ours[k]].weights = std::move(staged[k].weights);
    def.layers[ours[k]].bias = std::move(staged[k].bias);
  }
  def.untrained = false;
}

}  // namespace

NetworkDef importKeras(const std::filesystem::path& path) {
  return oneLineErrors([&] { return importKerasFile(path); });
}

void applyKerasWeights(NetworkDef& def, const std::filesystem::path& path) {
  oneLineErrors([&] { applyKerasWeightsFile(def, path); });
}

}  // namespace zfvis
