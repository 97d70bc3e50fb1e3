// The built-in architectures (deterministic He-normal weights, always labelled "untrained").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/network.h"

namespace zfvis {

struct BuiltinModelInfo {
  std::string name;         // "caffe-alexnet"
  std::string description;  // one line
};

/// The built-in models in display order.
const std::vector<BuiltinModelInfo>& builtinModels();
/// True when `name` is a built-in model.
bool isBuiltinModel(std::string_view name);
/// Builds a built-in model with He-normal weights from `seed`; throws Error listing the names.
NetworkDef makeBuiltinModel(std::string_view name, uint64_t seed = 0);

}  // namespace zfvis
