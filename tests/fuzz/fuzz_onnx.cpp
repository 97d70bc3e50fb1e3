// libFuzzer target for the ONNX importer: every input goes through importOnnxBytes and, when it
// imports, NetworkDef::validate(). zfvis::Error is the expected outcome for bad input; anything
// else (a crash, another exception type, a sanitizer report, an allocation over libFuzzer's
// -rss_limit_mb / -malloc_limit_mb) is a bug.
//
//   build: CC=clang CXX=clang++ cmake -B build-fuzz -G Ninja -DZFVIS_FUZZ=ON -DZFVIS_BUILD_GUI=OFF
//          ninja -C build-fuzz fuzz_onnx
//   run:   mkdir -p CORPUS && cp tests/fixtures/onnx/*.onnx CORPUS/
//          build-fuzz/tests/fuzz/fuzz_onnx -dict=tests/fuzz/onnx.dict -max_total_time=600 CORPUS
#include <cstdint>
#include <string>

#include "core/base/error.h"
#include "core/import/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    zfvis::NetworkDef def =
        zfvis::importOnnxBytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz.onnx");
    def.validate();
  } catch (const zfvis::Error&) {
  }
  return 0;
}
