// State shared by the ONNX op converters while a graph is turned into a NetworkDef: which tensors
// are constants, which are computed (and by which layer, with which per-sample shape), and a
// NodeView per node with attribute access and error messages that name the file and the node.
#pragma once

#include <onnx/onnx_pb.h>

#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/import/onnx/onnx_graph.h"
#include "core/model/network.h"

namespace zfvis::onnx_import {

/// A computed tensor: the layer that produces it (or the network input) and its per-sample shape.
struct RuntimeValue {
  std::string layer;  // producer layer name, or the network input name
  Shape shape;        // per-sample shape (batch excluded)
};

/// Largest kernel, stride, dilation or padding accepted from an attribute.
constexpr int64_t kMaxWindowAttribute = 1 << 16;

class ImportContext {
 public:
  ImportContext(std::string what, int opset, size_t fileSize, const GraphPlan& plan);

  /// Name of the file (or byte source) in messages.
  const std::string& what() const { return m_what; }
  /// Default-domain opset of the model.
  int opset() const { return m_opset; }
  /// Size of the model file in bytes (upper bound for any tensor it holds).
  size_t fileSize() const { return m_fileSize; }
  /// The graph structure (order, consumer counts).
  const GraphPlan& plan() const { return m_plan; }
  /// The definition being built.
  NetworkDef& def() { return m_def; }
  /// Batch size declared by the graph input (0 when dynamic).
  int64_t declaredBatch() const { return m_declaredBatch; }

  /// Sets the network input (name, per-sample shape, declared batch size).
  void setInput(const std::string& name, Shape perSample, int64_t declaredBatch);
  /// Registers a constant tensor owned by the model proto (initializer or Constant value).
  void addConstant(const std::string& name, const onnx::TensorProto* tensor);
  /// Registers a constant tensor owned by the context (Constant value_float etc.).
  void addOwnedConstant(const std::string& name, onnx::TensorProto tensor);
  /// The constant called `name`, or null.
  const onnx::TensorProto* constant(const std::string& name) const;
  /// The computed value called `name`, or null.
  const RuntimeValue* runtime(const std::string& name) const;
  /// Maps tensor `name` to a computed value.
  void setRuntime(const std::string& name, RuntimeValue value);

  /// A layer name for node `index`: its name, else "<OpType>_<index>", made unique.
  std::string layerName(const onnx::NodeProto& node, int index);
  /// Appends `layer` (inputs already set), infers and checks its output shape, and maps tensor
  /// `output` to it. `where` prefixes errors. Returns the new value.
  const RuntimeValue& emit(LayerSpec layer, const std::string& output, const std::string& where);
  /// The layer called `name` (null for the network input or an unknown name); the pointer is
  /// valid until the next emit().
  LayerSpec* layer(const std::string& name);
  /// Per-sample output shape of layer (or input) `name`.
  const Shape& shapeOf(const std::string& name) const;
  /// Remembers that layer `name` may still absorb a bias from a following Add (MatMul, Gemm).
  void markBiasFoldable(const std::string& name) { m_biasFoldable.insert(name); }
  /// True (once) when layer `name` may absorb a bias; clears the mark.
  bool takeBiasFoldable(const std::string& name) { return m_biasFoldable.erase(name) > 0; }

 private:
  std::string m_what;
  int m_opset;
  size_t m_fileSize;
  const GraphPlan& m_plan;
  NetworkDef m_def;
  int64_t m_declaredBatch = 0;
  std::unordered_map<std::string, const onnx::TensorProto*> m_constants;
  std::deque<onnx::TensorProto> m_owned;
  std::unordered_map<std::string, RuntimeValue> m_runtime;
  std::unordered_map<std::string, Shape> m_layerShapes;
  std::unordered_map<std::string, size_t> m_layerIndex;  // layer name -> index in m_def.layers
  std::unordered_set<std::string> m_usedNames;
  std::unordered_set<std::string> m_biasFoldable;
};

/// One node being converted: inputs, attributes and errors naming the file and the node.
class NodeView {
 public:
  NodeView(ImportContext& ctx, const onnx::NodeProto& node, int index);

  /// The context.
  ImportContext& ctx() { return m_ctx; }
  /// The node.
  const onnx::NodeProto& node() const { return m_node; }
  /// Its index in the graph's node list.
  int index() const { return m_index; }
  /// Opset of the model's default domain.
  int opset() const { return m_ctx.opset(); }
  /// "model.onnx: node 'conv1' (Conv, opset 9)".
  std::string where() const;
  /// Throws Error "<where>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

  /// Number of inputs, not counting trailing omitted ones.
  int inputCount() const;
  /// True when input i is present (not omitted).
  bool hasInput(int i) const;
  /// Name of input i.
  const std::string& inputName(int i) const;
  /// True when input i is a constant.
  bool isConstant(int i) const;
  /// Input i as a computed value; fails for constants and missing inputs.
  const RuntimeValue& data(int i) const;
  /// Input i as a constant float tensor (shape = ONNX dims); fails for computed values.
  Tensor floatConstant(int i) const;
  /// Input i as constant integers; fails for computed values.
  std::vector<int64_t> intConstant(int i) const;
  /// ONNX dims of constant input i.
  std::vector<int64_t> constantDims(int i) const;

  /// True when the node has attribute `name`.
  bool hasAttr(const std::string& name) const;
  /// Integer attribute (default when absent); fails on a wrong type.
  int64_t intAttr(const std::string& name, int64_t fallback) const;
  /// Float attribute.
  float floatAttr(const std::string& name, float fallback) const;
  /// String attribute.
  std::string stringAttr(const std::string& name, const std::string& fallback) const;
  /// Integer list attribute (empty when absent).
  std::vector<int64_t> intsAttr(const std::string& name) const;
  /// Integer list attribute with exactly `count` values in [lo, hi] (fallback when absent).
  std::vector<int> windowAttr(const std::string& name, size_t count, std::vector<int> fallback,
                              int64_t lo) const;

  /// True when output i exists and something uses it (a node or the graph output).
  bool outputUsed(int i) const;
  /// Fails when any output after the first is used.
  void requireOnlyFirstOutput() const;
  /// A fresh layer of `type` named after this node.
  LayerSpec newLayer(LayerType type);
  /// Appends `layer` as the producer of output 0.
  const RuntimeValue& emit(LayerSpec layer);
  /// Maps output 0 to an existing value (for ops folded into an earlier layer).
  void alias(const RuntimeValue& value);

 private:
  const onnx::AttributeProto* attr(const std::string& name) const;

  ImportContext& m_ctx;
  const onnx::NodeProto& m_node;
  int m_index;
};

}  // namespace zfvis::onnx_import
