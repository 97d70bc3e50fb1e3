// Shared helpers for the Keras importer tests: fixture paths, running a network, temp folders.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/base/npy.h"
#include "core/engine/engine.h"
#include "core/model/network.h"
#include "tests/reference/naive_ops.h"

namespace zfvis::kerastest {

namespace fs = std::filesystem;

/// tests/fixtures/keras/<name>.
inline std::string fixture(const std::string& name) {
  return std::string(ZFVIS_FIXTURES_DIR) + "/keras/" + name;
}

/// The final output and the values its final softmax normalises (the output of the last
/// layer's input), each flattened to 1 x n.
struct RunResult {
  Tensor output;  // 1 x classes
  Tensor logits;  // 1 x classes
};

/// Runs `def` on `input` (C x H x W) with the oneDNN engine.
inline RunResult runNet(const NetworkDef& def, const Tensor& input) {
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  auto acts = session.run(input);
  const LayerSpec& last = def.layers.back();
  EXPECT_EQ(last.type, LayerType::Softmax) << def.name;
  int logits = def.indexOf(last.inputs.at(0));
  EXPECT_GE(logits, 0) << def.name;
  RunResult r;
  r.output = acts->finalOutput().reshaped(Shape{1, acts->finalOutput().numel()});
  const Tensor& l = acts->output(static_cast<size_t>(logits));
  r.logits = l.reshaped(Shape{1, l.numel()});
  return r;
}

/// Expects `def` on fixture input `inputNpy` to give `<stem>_expected.npy` and
/// `<stem>_logits.npy` within 1e-4 of their largest magnitude.
inline void expectMatchesReference(const NetworkDef& def, const std::string& inputNpy,
                                   const std::string& stem) {
  Tensor input = readNpy(fixture(inputNpy));
  RunResult r = runNet(def, input);
  Tensor expected = readNpy(fixture(stem + "_expected.npy"));
  Tensor logits = readNpy(fixture(stem + "_logits.npy"));
  ASSERT_EQ(r.output.shape(), expected.shape()) << stem;
  EXPECT_LT(ref::relativeMaxError(r.output, expected), 1e-4) << stem << " output";
  EXPECT_LT(ref::relativeMaxError(r.logits, logits), 1e-4) << stem << " logits";
}

/// A fresh folder under the system temp folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = fs::temp_directory_path() /
            ("zfvis-keras-" + std::string(info->test_suite_name()) + "-" + info->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }
  /// A path inside the folder.
  std::string path(const std::string& name) const { return (m_dir / name).string(); }

 private:
  fs::path m_dir;
};

/// Writes `bytes` to `path`.
inline void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Reads a whole file.
inline std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace zfvis::kerastest
