// ONNX conformance: a table-driven suite over ONNX's backend tests as shipped by Debian's
// libonnx-testdata (data/node/<case>/model.onnx + test_data_set_*/{input,output}_*.pb), after
// OpenCV's modules/dnn/test/test_onnx_conformance.cpp.
//
// For every case:
//  - deny-listed (tests/import/onnx/conformance_denylist.txt, "case  # reason") -> skipped, reason
//  shown;
//  - any operator zfvis does not support -> skipped automatically;
//  - otherwise: graph inputs after the first are frozen into initializers with that data set's
//    values (zfvis networks have one runtime input; the node tests feed weights, shapes and
//    ratios as inputs), the model goes through importOnnxBytes and the oneDNN engine, and the
//    output is compared with output_0.pb. An import or engine Error counts as a failure.
// Tolerances (relative to s = max(1, max |expected|)), from the case's float32 arithmetic
// (tests/reference/tolerance.h): largest absolute error (L-infinity) <= t * s with t the
// network's rounding bound (outputTolerance: sqrt(sum length) u per summing layer with lambda = 4
// for the tail), and mean absolute error (L1) <= t * s / 4 (the typical error, without the tail).
// The last line printed is "ONNX conformance: N passed, N failed, N skipped (...)".
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/base/error.h"
#include "core/import/onnx_import.h"
#include "tests/import/onnx/onnx_test_util.h"
#include "tests/reference/tolerance.h"

namespace zfvis::test {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string suite;  // "node", "pytorch-converted", ...
  std::string name;   // directory name, e.g. "test_conv_with_strides_padding"
  fs::path dir;
};

// Shown in gtest messages instead of the raw bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.suite << "/" << c.name;
}

struct Counts {
  int passed = 0, failed = 0, unsupported = 0, denied = 0;
};
Counts& counts() {
  static Counts c;
  return c;
}

const std::map<std::string, std::string>& denyList() {
  static const std::map<std::string, std::string> list = [] {
    std::map<std::string, std::string> m;
    std::ifstream f(ZFVIS_ONNX_DENYLIST);
    std::string line;
    while (std::getline(f, line)) {
      const size_t hash = line.find('#');
      std::string name = line.substr(0, hash);
      name.erase(std::remove_if(name.begin(), name.end(), ::isspace), name.end());
      if (name.empty()) continue;
      std::string reason = hash == std::string::npos ? "" : line.substr(hash + 1);
      reason.erase(0, reason.find_first_not_of(' '));
      m[name] = reason;
    }
    return m;
  }();
  return list;
}

std::vector<Case> discover(const std::string& suite) {
  std::vector<Case> cases;
  const fs::path root = fs::path(ZFVIS_ONNX_TESTDATA_DIR) / suite;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return cases;
  for (const auto& entry : fs::directory_iterator(root, ec))
    if (fs::exists(entry.path() / "model.onnx"))
      cases.push_back({suite, entry.path().filename().string(), entry.path()});
  std::sort(cases.begin(), cases.end(),
            [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

std::string readAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class SummaryPrinter : public testing::Environment {
 public:
  void TearDown() override {
    const Counts& c = counts();
    std::printf(
        "ONNX conformance: %d passed, %d failed, %d skipped (%d with unsupported "
        "operators, %d deny-listed)\n",
        c.passed, c.failed, c.unsupported + c.denied, c.unsupported, c.denied);
  }
};
const auto* const kSummary = testing::AddGlobalTestEnvironment(new SummaryPrinter);

class OnnxConformance : public testing::TestWithParam<Case> {
 protected:
  void TearDown() override {
    if (IsSkipped()) return;
    (HasFailure() ? counts().failed : counts().passed)++;
  }
};

TEST_P(OnnxConformance, MatchesReferenceOutputs) {
  const Case& c = GetParam();
  if (auto it = denyList().find(c.name); it != denyList().end()) {
    ++counts().denied;
    GTEST_SKIP() << "deny-listed: " << it->second;
  }
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(readAll(c.dir / "model.onnx"))) << "cannot parse the model";
  const auto& supported = supportedOnnxOps();
  for (const auto& node : model.graph().node()) {
    const bool known =
        (node.domain().empty() || node.domain() == "ai.onnx") &&
        std::find(supported.begin(), supported.end(), node.op_type()) != supported.end();
    if (!known) {
      ++counts().unsupported;
      GTEST_SKIP() << "unsupported operator " << node.op_type();
    }
  }
  std::set<std::string> initializers;
  for (const auto& t : model.graph().initializer()) initializers.insert(t.name());
  std::vector<std::string> inputs;
  for (const auto& in : model.graph().input())
    if (!initializers.count(in.name())) inputs.push_back(in.name());
  ASSERT_FALSE(inputs.empty()) << "the case has no runtime input";

  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(c.dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  ASSERT_FALSE(sets.empty()) << "the case has no test data";

  for (const fs::path& set : sets) {
    SCOPED_TRACE(set.filename().string());
    // Freeze every input but the first into an initializer holding this data set's value.
    onnx::ModelProto frozen = model;
    for (size_t k = 1; k < inputs.size(); ++k) {
      onnx::TensorProto t = readTensorPb(set / ("input_" + std::to_string(k) + ".pb"));
      t.set_name(inputs[k]);
      *frozen.mutable_graph()->add_initializer() = t;
    }
    NetworkDef def;
    try {
      def = importOnnxBytes(frozen.SerializeAsString(), c.name + "/model.onnx");
    } catch (const Error& e) {
      FAIL() << "import failed: " << e.what();
    }
    Tensor input, expected;
    try {
      input = fromTensorProto(readTensorPb(set / "input_0.pb"));
      expected = fromTensorProto(readTensorPb(set / "output_0.pb"));
    } catch (const std::exception& e) {
      FAIL() << "cannot read the test data: " << e.what();
    }
    Tensor actual;
    try {
      actual = runEngine(def, input);
    } catch (const Error& e) {
      FAIL() << "the engine failed: " << e.what();
    }
    ASSERT_EQ(actual.shape(), expected.shape())
        << "output shape " << actual.shape().str() << ", expected " << expected.shape().str();
    double l1 = 0, linf = 0;
    for (int64_t i = 0; i < actual.numel(); ++i) {
      const double d = std::abs(double(actual[i]) - double(expected[i]));
      l1 += d;
      linf = std::max(linf, d);
    }
    l1 /= std::max<int64_t>(1, actual.numel());
    const double scale = std::max(1.0, double(expected.maxAbs()));
    const double tolerance = ref::outputTolerance(def, input);
    EXPECT_LE(l1, tolerance / 4 * scale) << "mean absolute error (L1)";
    EXPECT_LE(linf, tolerance * scale) << "largest absolute error (L-infinity)";
  }
}

std::string caseName(const testing::TestParamInfo<Case>& info) {
  std::string s = info.param.name;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OnnxConformance);
INSTANTIATE_TEST_SUITE_P(Node, OnnxConformance, testing::ValuesIn(discover("node")), caseName);
INSTANTIATE_TEST_SUITE_P(PytorchConverted, OnnxConformance,
                         testing::ValuesIn(discover("pytorch-converted")), caseName);
INSTANTIATE_TEST_SUITE_P(PytorchOperator, OnnxConformance,
                         testing::ValuesIn(discover("pytorch-operator")), caseName);
INSTANTIATE_TEST_SUITE_P(Simple, OnnxConformance, testing::ValuesIn(discover("simple")), caseName);

}  // namespace
}  // namespace zfvis::test
