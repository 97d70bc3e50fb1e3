// Structure of an ONNX graph as the importer needs it: the single runtime input, the single
// output, the nodes that output depends on (in a stable topological order) and how often each
// tensor is consumed. Detects missing inputs, tensors produced twice and cycles.
#pragma once

#include <onnx/onnx_pb.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace zfvis::onnx_import {

struct GraphPlan {
  const onnx::ValueInfoProto* input = nullptr;     // the graph input that is not an initializer
  std::string output;                              // name of the single graph output
  std::vector<int> order;                          // needed node indices, topologically sorted
  std::unordered_set<std::string> initializers;    // names of (dense) initializers
  std::unordered_map<std::string, int> consumers;  // tensor -> uses by needed nodes (+1 if output)

  /// How many times `tensor` is used by the nodes in `order` (or as the graph output).
  int consumerCount(const std::string& tensor) const {
    auto it = consumers.find(tensor);
    return it == consumers.end() ? 0 : it->second;
  }
};

/// "node 'name' (OpType, opset N)", or "node #index (OpType, opset N)" when it has no name.
std::string describeNode(const onnx::NodeProto& node, int index, int opset);

/// Analyses `graph`; `checkOp` is called for every needed node (in file order) before inputs are
/// resolved, so an unsupported operator is reported before anything else about it. Throws Error
/// starting with `what` on a graph zfvis cannot represent.
GraphPlan planGraph(const onnx::GraphProto& graph, const std::string& what, int opset,
                    const std::function<void(const onnx::NodeProto&, int)>& checkOp);

}  // namespace zfvis::onnx_import
