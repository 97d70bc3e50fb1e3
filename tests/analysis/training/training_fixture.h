// Networks and data of tests/fixtures/training (written by
// tests/fixtures/scripts/make_training_fixtures.py): layer lists as {name, kind, inputs, params}
// with the script's float32 weights.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/network.h"

namespace zfvis::testing {

/// The fixtures folder.
std::filesystem::path trainingFixtures();
/// tests/fixtures/training/index.json.
const nlohmann::json& trainingIndex();
/// Builds case `name`'s network from its spec, with the weights in <name>.<layer>.weight.npy and
/// .bias.npy (or .weight<suffix>.npy for other versions, e.g. ".final").
NetworkDef trainingNetwork(const std::string& name, const nlohmann::json& spec,
                           const std::string& suffix = "");
/// Writes `dir`/<prefix>-images-idx3-ubyte and -labels-idx1-ubyte: `n` 28 x 28 images of noise
/// with a bright 10 x 10 square in quadrant `label` (0..3), a Fashion-MNIST-format dataset that
/// any of the small networks learns in a few dozen steps.
void writeQuadrantIdx(const std::filesystem::path& dir, const std::string& prefix, uint32_t n,
                      uint32_t seed);
/// An int32 .npy of the fixtures as a vector.
std::vector<int32_t> fixtureLabels(const std::string& file);

}  // namespace zfvis::testing
