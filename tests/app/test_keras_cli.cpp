// zfvis-cli with Keras files: predict on a full-model .h5 matches the NumPy reference, layers
// lists the imported layers, and --weights that do not fit exit 1 with one line.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/base/npy.h"
#include "core/import/keras_import.h"
#include "tests/import/keras/keras_test_util.h"
#include "tests/reference/cli_runner.h"
#include "tests/reference/naive_ops.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

using kerastest::fixture;
using kerastest::TempDir;

using testing::CliResult;
using testing::runCli;

struct Case {
  const char* model;
  const char* input;
};

TEST(KerasCli, PredictMatchesReferenceForEveryFixture) {
  TempDir dir;
  for (Case c :
       {Case{"keras_alexnet", "input_67x99.npy"}, Case{"keras_alexnet2tower", "input_67x99.npy"},
        Case{"keras_zfnet", "input_63x79.npy"}, Case{"keras_nin", "input_67x99.npy"},
        Case{"keras_mixed", "input_32x40.npy"}, Case{"keras_cf", "input_20x24.npy"}}) {
    const std::string out = dir.path(std::string(c.model) + ".npy");
    CliResult r = runCli("predict --model " + fixture(std::string(c.model) + ".h5") + " --image " +
                         fixture(c.input) + " --npy " + out);
    ASSERT_EQ(r.code, 0) << c.model << ": " << r.err;
    Tensor got = readNpy(out);
    Tensor expected = readNpy(fixture(std::string(c.model) + "_expected.npy"));
    ASSERT_EQ(got.shape(), expected.shape()) << c.model;
    // Keras computed in float32 in its own order: the network's rounding bound (tolerance.h).
    const double tolerance = ref::outputTolerance(
        importKeras(fixture(std::string(c.model) + ".h5")), readNpy(fixture(c.input)));
    EXPECT_LE(ref::relativeMaxError(got, expected), tolerance) << c.model;
  }
}

TEST(KerasCli, LayersJsonListsImportedLayers) {
  CliResult r = runCli("layers --model " + fixture("keras_zfnet.h5") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_GE(j.size(), 3u);
  EXPECT_EQ(j[0]["name"], "conv2d");
  EXPECT_EQ(j[0]["type"], "Conv");
  EXPECT_EQ(j[0]["output_shape"], nlohmann::json({8, 29, 37}));
  EXPECT_EQ(j.back()["name"], "dense_2_softmax");
  EXPECT_EQ(j.back()["type"], "Softmax");
}

TEST(KerasCli, WeightsThatDoNotFitExitOneWithOneLine) {
  CliResult r = runCli("summary --model alexnet --weights " + fixture("keras_alexnet_weights.h5"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.errLines(), 1u) << r.err;
  EXPECT_NE(r.err.find(fixture("keras_alexnet_weights.h5")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("layer 'conv2d' kernel has shape 11x11x3x8 (HWIO), built-in layer "
                       "'conv1' expects 11x11x3x96"),
            std::string::npos)
      << r.err;
}

TEST(KerasCli, BadFilesExitOneWithOneLine) {
  TempDir dir;
  kerastest::writeBytes(dir.path("bad.h5"), "not an hdf5 file at all");
  // A truncated file gets past the signature check: HDF5 itself fails and must print nothing.
  const std::string full = kerastest::readBytes(fixture("keras_alexnet.h5"));
  kerastest::writeBytes(dir.path("cut.h5"), full.substr(0, full.size() / 2));
  for (const std::string& model :
       {dir.path("bad.h5"), dir.path("cut.h5"), fixture("keras_alexnet_weights.h5"),
        fixture("keras_absurd_dims.h5"), fixture("keras_unsupported_layer.h5")}) {
    CliResult r = runCli("summary --model " + model);
    EXPECT_EQ(r.code, 1) << model;
    EXPECT_EQ(r.errLines(), 1u) << r.err;
    EXPECT_NE(r.err.find(model), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace zfvis
