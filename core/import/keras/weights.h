// Reading Keras layer weights (HDF5 groups with `weight_names`) into zfvis layers: kernels
// HWIO -> OIHW, dense kernels transposed with their rows put in our C-order feature order.
// Internal to core.
#pragma once

#include <string>
#include <vector>

#include "core/import/keras/hdf5_file.h"
#include "core/import/keras/model_config.h"
#include "core/model/network.h"

namespace zfvis::keras {

/// The converted weights of one layer, ready to be moved into its LayerSpec.
struct LayerWeights {
  Tensor weights;  // Conv: O x I/groups x kH x kW; Dense: units x in (C-order features)
  Tensor bias;     // O or units; empty without bias
};

/// Names listed in `layer_names` of a weights group (the root of a save_weights file, or
/// /model_weights of a full model) whose `weight_names` is not empty, in file order.
std::vector<std::string> layersWithWeights(const Hdf5File& file, hid_t weightsRoot);

/// Reads the Keras layer group `kerasName` under `weightsRoot` for `target`, checking the number
/// of arrays and their shapes before reading. `expectedBy` names who expects the shapes in
/// messages ("its config", "built-in layer 'conv2'").
LayerWeights readLayerWeights(const Hdf5File& file, hid_t weightsRoot, const std::string& kerasName,
                              const WeightTarget& target, const std::string& expectedBy);

/// Keras feature index of each of our (C-order) input features of def.layers[dense], for a
/// Keras model that flattens H x W x C: follows Flatten / ReLU / Dropout / Identity / Concat
/// back from the Dense layer. Empty when the orders agree. `shapes` = def.outputShapes().
std::vector<int64_t> kerasFeatureOrder(const NetworkDef& def, const std::vector<Shape>& shapes,
                                       size_t dense);

/// Indices of def's layers in the order Keras' `model.layers` would list them for the same graph
/// (keras.engine.functional._map_graph_network: decreasing depth = longest path to the output,
/// ties broken by a depth-first walk from the output). A chain keeps its order; two towers
/// interleave (conv1a, conv1b, conv2a, conv2b, ...) as in a Keras Functional model's weight file.
std::vector<size_t> kerasLayerOrder(const NetworkDef& def);

/// "5x5x48x256".
std::string dimsText(const Shape& s);

}  // namespace zfvis::keras
