// Helpers for the ONNX tests: building small ONNX models in C++ with libonnx's protobuf classes,
// reading TensorProto (.pb) files, running a NetworkDef through the engine and running zfvis-cli.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/base/tensor.h"
#include "core/model/network.h"

namespace zfvis::test {

/// Builds an ONNX ModelProto node by node (like onnx.helper in Python).
class OnnxModelBuilder {
 public:
  /// A model importing the default domain at `opset`, with IR version `irVersion`.
  explicit OnnxModelBuilder(int opset = 13, int irVersion = 7);

  /// Adds a FLOAT graph input; a dimension of -1 becomes the symbolic batch "N".
  OnnxModelBuilder& input(const std::string& name, const std::vector<int64_t>& dims);
  /// Adds a FLOAT graph output (with an empty shape: dimensions unknown).
  OnnxModelBuilder& output(const std::string& name);
  /// Adds a FLOAT initializer stored as raw_data.
  OnnxModelBuilder& initializer(const std::string& name, const Tensor& value);
  /// Adds an INT64 initializer with the given dims (default: 1-D).
  OnnxModelBuilder& initializerInts(const std::string& name, const std::vector<int64_t>& values,
                                    std::vector<int64_t> dims = {});
  /// Adds a node; returns it so attributes can be added.
  onnx::NodeProto& node(const std::string& opType, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "");
  /// The model being built.
  onnx::ModelProto& model() { return m_model; }
  /// The serialised model.
  std::string bytes() const;

 private:
  onnx::ModelProto m_model;
};

/// Attribute helpers.
void setAttr(onnx::NodeProto& node, const std::string& name, int64_t value);
void setAttr(onnx::NodeProto& node, const std::string& name, float value);
void setAttr(onnx::NodeProto& node, const std::string& name, const std::string& value);
void setAttr(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values);

/// A FLOAT TensorProto (raw_data) holding `value`.
onnx::TensorProto toTensorProto(const Tensor& value, const std::string& name);
/// Decodes a FLOAT TensorProto (raw_data or float_data) with its dims; throws on other types.
Tensor fromTensorProto(const onnx::TensorProto& t);
/// Reads a serialised TensorProto file (the backend tests' input_*.pb / output_*.pb).
onnx::TensorProto readTensorPb(const std::filesystem::path& path);

/// Uniform random values in [lo, hi) from a fixed seed.
Tensor randomTensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f);
/// Runs `def` on `input` (N x ...) with the oneDNN engine; returns the last layer's output.
Tensor runEngine(const NetworkDef& def, const Tensor& input);
/// Largest |a - b| divided by max(1, largest |b|); throws when the shapes differ.
double relativeError(const Tensor& actual, const Tensor& expected);

/// Result of running a command line.
struct CommandResult {
  int exitCode = -1;  // the process's exit status
  std::string out;    // its stdout
  std::string err;    // its stderr
};
/// Runs `program` with `args` (each shell-quoted); captures stdout and stderr.
CommandResult runCommand(const std::string& program, const std::vector<std::string>& args);

/// A fresh empty directory under the test temp dir.
std::filesystem::path freshTempDir(const std::string& name);

}  // namespace zfvis::test
