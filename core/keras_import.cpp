// Placeholder until the Keras importer lands (work in progress in this session).
#include "core/keras_import.h"

#include "core/error.h"

namespace zfvis {

NetworkDef importKeras(const std::filesystem::path& path) {
  throw Error("cannot open '" + path.string() + "': Keras import is not available yet");
}
void applyKerasWeights(NetworkDef&, const std::filesystem::path& path) {
  throw Error("cannot open '" + path.string() + "': Keras import is not available yet");
}

}  // namespace zfvis
