// libFuzzer target for the Keras model_config reader alone (JSON -> NetworkDef without weights):
// reaches the layer builders far more often than mutating whole HDF5 files does, because a
// variable-length model_config must keep its exact length to be read at all. zfvis::Error is the
// expected outcome for bad input. Seeds: the model_config attributes of tests/fixtures/keras/*.h5,
// e.g. extracted with
//   /usr/bin/python3 -c "import h5py,sys; [open(f'{f}.json','wb').write(
//       h5py.File(f).attrs['model_config'].encode()) for f in sys.argv[1:]]" *.h5
#include <cstdint>
#include <string>

#include "core/base/error.h"
#include "core/import/keras/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  try {
    zfvis::keras::ModelConfig mc = zfvis::keras::buildModelConfig(json, "fuzz");
    // Every weight target must point at a Conv / Dense layer with a consistent kernel shape.
    for (const auto& t : mc.weights) {
      const zfvis::LayerSpec& l = mc.def.layers.at(t.layer);
      if (l.type != zfvis::LayerType::Conv && l.type != zfvis::LayerType::Dense) __builtin_trap();
      if (!t.featureOrder.empty() &&
          static_cast<int64_t>(t.featureOrder.size()) != t.kerasKernel[0])
        __builtin_trap();
    }
  } catch (const zfvis::Error&) {
  }
  return 0;
}
