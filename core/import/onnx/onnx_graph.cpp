#include "core/import/onnx/onnx_graph.h"

#include <functional>
#include <queue>

#include "core/base/error.h"

namespace zfvis::onnx_import {

std::string describeNode(const onnx::NodeProto& node, int index, int opset) {
  std::string id = node.name().empty() ? "#" + std::to_string(index) : "'" + node.name() + "'";
  std::string op = node.op_type();
  if (!node.domain().empty() && node.domain() != "ai.onnx") op = node.domain() + "." + op;
  return "node " + id + " (" + op + ", opset " + std::to_string(opset) + ")";
}

GraphPlan planGraph(const onnx::GraphProto& graph, const std::string& what, int opset,
                    const std::function<void(const onnx::NodeProto&, int)>& checkOp) {
  GraphPlan plan;
  const int nodeCount = graph.node_size();
  auto nodeText = [&](int i) { return describeNode(graph.node(i), i, opset); };

  for (const auto& t : graph.initializer()) plan.initializers.insert(t.name());
  std::unordered_set<std::string> sparse;
  for (const auto& t : graph.sparse_initializer()) sparse.insert(t.values().name());

  // The single runtime input (old IR versions list every initializer as an input too).
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& in : graph.input())
    if (!plan.initializers.count(in.name()) && !sparse.count(in.name())) inputs.push_back(&in);
  if (inputs.empty())
    throw Error(what +
                ": the graph has no input (every graph input is an initializer); zfvis "
                "needs exactly one image input");
  if (inputs.size() > 1) {
    std::string names;
    for (size_t i = 0; i < inputs.size() && i < 8; ++i)
      names += (i ? ", '" : "'") + inputs[i]->name() + "'";
    if (inputs.size() > 8) names += ", ...";
    throw Error(what + ": the graph has " + std::to_string(inputs.size()) + " inputs (" + names +
                "); zfvis supports networks with exactly one input");
  }
  plan.input = inputs[0];
  const std::string& inputName = plan.input->name();
  if (inputName.empty()) throw Error(what + ": the graph input has no name");

  if (graph.output_size() != 1) {
    std::string names;
    for (int i = 0; i < graph.output_size() && i < 8; ++i)
      names += (i ? ", '" : "'") + graph.output(i).name() + "'";
    throw Error(what + ": the graph has " + std::to_string(graph.output_size()) + " outputs" +
                (names.empty() ? std::string() : " (" + names + ")") +
                "; zfvis supports networks with exactly one output");
  }
  plan.output = graph.output(0).name();

  // Producer of every tensor.
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < nodeCount; ++i) {
    for (const std::string& out : graph.node(i).output()) {
      if (out.empty()) continue;
      if (out == inputName || plan.initializers.count(out))
        throw Error(what + ": " + nodeText(i) + " writes '" + out +
                    "', which is already a graph input or initializer");
      auto [it, fresh] = producer.emplace(out, i);
      if (!fresh)
        throw Error(what + ": tensor '" + out + "' is produced twice (by " + nodeText(it->second) +
                    " and " + nodeText(i) + ")");
    }
  }
  if (plan.output == inputName)
    throw Error(what + ": the graph output '" + plan.output +
                "' is the graph input itself; there are no layers");
  if (plan.initializers.count(plan.output))
    throw Error(what + ": the graph output '" + plan.output + "' is a constant initializer");
  if (!producer.count(plan.output))
    throw Error(what + ": the graph output '" + plan.output + "' is not produced by any node");

  // Nodes the output depends on.
  std::vector<char> needed(static_cast<size_t>(nodeCount), 0);
  std::vector<int> stack{producer.at(plan.output)};
  needed[stack.back()] = 1;
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    for (const std::string& in : graph.node(i).input()) {
      auto it = producer.find(in);
      if (it != producer.end() && !needed[it->second]) {
        needed[it->second] = 1;
        stack.push_back(it->second);
      }
    }
  }
  for (int i = 0; i < nodeCount; ++i)
    if (needed[i]) checkOp(graph.node(i), i);

  // Every input must exist; count uses and dependencies.
  std::vector<int> pending(static_cast<size_t>(nodeCount), 0);
  std::vector<std::vector<int>> dependents(static_cast<size_t>(nodeCount));
  int neededCount = 0;
  for (int i = 0; i < nodeCount; ++i) {
    if (!needed[i]) continue;
    ++neededCount;
    for (const std::string& in : graph.node(i).input()) {
      if (in.empty()) continue;  // omitted optional input
      ++plan.consumers[in];
      if (auto it = producer.find(in); it != producer.end()) {
        ++pending[i];
        dependents[it->second].push_back(i);
      } else if (sparse.count(in)) {
        throw Error(what + ": " + nodeText(i) + " reads sparse initializer '" + in +
                    "'; zfvis supports only dense initializers");
      } else if (in != inputName && !plan.initializers.count(in)) {
        throw Error(what + ": " + nodeText(i) + " reads '" + in +
                    "', which is not produced by any node, initializer or graph input");
      }
    }
  }
  ++plan.consumers[plan.output];

  // Kahn's algorithm, lowest file index first, so the order follows the file where it can.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < nodeCount; ++i)
    if (needed[i] && pending[i] == 0) ready.push(i);
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    plan.order.push_back(i);
    for (int d : dependents[i])
      if (--pending[d] == 0) ready.push(d);
  }
  if (static_cast<int>(plan.order.size()) != neededCount) {
    // Every node left over waits for another left-over node; walk those waits back until a node
    // repeats: that node lies on a cycle.
    int start = 0;
    while (!(needed[start] && pending[start] > 0)) ++start;
    std::vector<char> seen(static_cast<size_t>(nodeCount), 0);
    int i = start;
    while (!seen[i]) {
      seen[i] = 1;
      for (const std::string& in : graph.node(i).input()) {
        auto it = producer.find(in);
        if (it != producer.end() && pending[it->second] > 0) {
          i = it->second;
          break;
        }
      }
    }
    throw Error(what + ": the graph has a cycle through " + nodeText(i) +
                " (its input depends on its own output)");
  }
  return plan;
}

}  // namespace zfvis::onnx_import
