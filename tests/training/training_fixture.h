// Networks and data of tests/fixtures/training (written by
// tests/fixtures/scripts/make_training_fixtures.py): layer lists as {name, kind, inputs, params}
// with the script's float32 weights.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/network.h"

namespace zfvis::testing {

/// The fixtures folder.
std::filesystem::path trainingFixtures();
/// tests/fixtures/training/index.json.
const nlohmann::json& trainingIndex();
/// Builds case `name`'s network from its spec, with the weights in <name>.<layer>.weight.npy and
/// .bias.npy (or .weight<suffix>.npy for other versions, e.g. ".final").
NetworkDef trainingNetwork(const std::string& name, const nlohmann::json& spec,
                           const std::string& suffix = "");
/// An int32 .npy of the fixtures as a vector.
std::vector<int32_t> fixtureLabels(const std::string& file);

}  // namespace zfvis::testing
