// Networks described by the fixture scripts (tests/fixtures/scripts/make_deconv_fixtures.py,
// tests/fixtures/scripts/make_occlusion_fixtures.py): an index.json layer list plus .npy weights.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model/network.h"

namespace zfvis::testing {

/// Reads `dir`/index.json.
nlohmann::json readFixtureIndex(const std::filesystem::path& dir);

/// Builds the network `spec` describes ({"input": [C, H, W], "layers": [[name, kind, params],
/// ...]} with kinds conv, relu, lrn, maxpool, avgpool, gap, flatten, dense, dropout, softmax) and
/// loads the script's weights `dir`/<model>.<layer>.weight.npy and .bias.npy; throws on a
/// mismatch.
NetworkDef fixtureNetwork(const std::filesystem::path& dir, const std::string& model,
                          const nlohmann::json& spec);

}  // namespace zfvis::testing
