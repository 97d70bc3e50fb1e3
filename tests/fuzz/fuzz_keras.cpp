// libFuzzer target for the Keras HDF5 importer: every input is written to a temporary .h5 file
// and opened with importKeras (full model) and applyKerasWeights (onto a small fixed
// architecture shaped like tests/fixtures/keras/keras_alexnet_weights.h5). zfvis::Error is the
// expected outcome for bad input; anything else (a crash, another exception type, a sanitizer
// report, an allocation over libFuzzer's limit) is a bug.
//
//   build: CC=clang CXX=clang++ cmake -B build-fuzz -G Ninja -DZFVIS_FUZZ=ON -DZFVIS_BUILD_GUI=OFF
//          ninja -C build-fuzz fuzz_keras
//   run:   build-fuzz/tests/fuzz/fuzz_keras -max_total_time=600 CORPUS tests/fixtures/keras
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/base/error.h"
#include "core/import/keras_import.h"
#include "core/model/net_builder.h"

namespace {

// The file each input is written to (one per process, removed at exit; never destroyed, so the
// exit handler can still use it).
const std::string& tempPath() {
  static const std::string* path = [] {
    auto* p = new std::string((std::filesystem::temp_directory_path() /
                               ("zfvis-fuzz-keras-" + std::to_string(getpid()) + ".h5"))
                                  .string());
    std::atexit([] { std::remove(tempPath().c_str()); });
    return p;
  }();
  return *path;
}

// The small AlexNet of the fixtures (8 layers with weights, Flatten before the first Dense).
const zfvis::NetworkDef& smallAlexnet() {
  static const zfvis::NetworkDef def = [] {
    zfvis::NetBuilder b("fuzz-alexnet", {3, 67, 99});
    b.conv("conv1", 8, 11, 4).maxPool("pool1", 3, 2);
    b.convSame("conv2", 12, 5).relu("relu2").maxPool("pool2", 3, 2);
    b.convSame("conv3", 16, 3).relu("relu3");
    b.convSame("conv4", 16, 3).relu("relu4");
    b.convSame("conv5", 12, 3).relu("relu5").maxPool("pool5", 3, 2);
    b.flatten("flatten").dense("fc6", 32).dropout("drop6").dense("fc7", 32).dropout("drop7");
    b.dense("fc8", 10).softmax("prob");
    return b.build();
  }();
  return def;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = tempPath();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    zfvis::NetworkDef def = zfvis::importKeras(path);
    def.validate();
  } catch (const zfvis::Error&) {
  }
  try {
    zfvis::NetworkDef def = smallAlexnet();
    zfvis::applyKerasWeights(def, path);
    def.validate();
  } catch (const zfvis::Error&) {
  }
  return 0;
}
