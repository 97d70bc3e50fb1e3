#include "core/model/layer.h"

#include "core/model/op_traits.h"

namespace zfvis {

std::string_view onnxOpName(LayerType type) {
  return opTraits(type).onnxName;
}

std::string_view kerasClassName(LayerType type) {
  return opTraits(type).kerasName;
}

int64_t LayerSpec::paramCount() const {
  return opTraits(type).hasWeights ? weights.numel() + bias.numel() : 0;
}

}  // namespace zfvis
