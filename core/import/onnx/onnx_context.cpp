#include "core/import/onnx/onnx_context.h"

#include "core/base/error.h"
#include "core/import/onnx/onnx_tensor.h"

namespace zfvis::onnx_import {

namespace {

// Product of the dimensions, or -1 when it exceeds Tensor::kMaxElements (or a dim is negative).
int64_t boundedNumel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s.dims()) {
    if (d < 0) return -1;
    if (d != 0 && n > Tensor::kMaxElements / d) return -1;
    n *= d;
  }
  return n;
}

}  // namespace

// ---- ImportContext -------------------------------------------------------------------------

ImportContext::ImportContext(std::string what, int opset, size_t fileSize, const GraphPlan& plan)
    : m_what(std::move(what)), m_opset(opset), m_fileSize(fileSize), m_plan(plan) {}

void ImportContext::setInput(const std::string& name, Shape perSample, int64_t declaredBatch) {
  m_def.input.name = name;
  m_def.input.shape = perSample;
  m_declaredBatch = declaredBatch;
  m_usedNames.insert(name);
  m_layerShapes[name] = perSample;
  m_runtime[name] = RuntimeValue{name, std::move(perSample)};
}

void ImportContext::addConstant(const std::string& name, const onnx::TensorProto* tensor) {
  m_constants[name] = tensor;
}

void ImportContext::addOwnedConstant(const std::string& name, onnx::TensorProto tensor) {
  m_owned.push_back(std::move(tensor));
  m_constants[name] = &m_owned.back();
}

const onnx::TensorProto* ImportContext::constant(const std::string& name) const {
  auto it = m_constants.find(name);
  return it == m_constants.end() ? nullptr : it->second;
}

const RuntimeValue* ImportContext::runtime(const std::string& name) const {
  auto it = m_runtime.find(name);
  return it == m_runtime.end() ? nullptr : &it->second;
}

void ImportContext::setRuntime(const std::string& name, RuntimeValue value) {
  m_runtime[name] = std::move(value);
}

std::string ImportContext::layerName(const onnx::NodeProto& node, int index) {
  std::string base =
      node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name();
  std::string name = base;
  if (m_usedNames.count(name)) name = base + "_" + std::to_string(index);
  for (int k = 2; m_usedNames.count(name); ++k)
    name = base + "_" + std::to_string(index) + "_" + std::to_string(k);
  m_usedNames.insert(name);
  return name;
}

const RuntimeValue& ImportContext::emit(LayerSpec layer, const std::string& output,
                                        const std::string& where) {
  std::vector<Shape> inputs;
  for (const std::string& in : layer.inputs) inputs.push_back(shapeOf(in));
  Shape out;
  try {
    out = inferOutputShape(layer, inputs);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  if (boundedNumel(out) < 0)
    throw Error(where + ": output shape " + out.str() +
                " is larger than zfvis accepts (2^32 elements per sample)");
  m_layerShapes[layer.name] = out;
  m_layerIndex[layer.name] = m_def.layers.size();
  m_def.layers.push_back(std::move(layer));
  m_runtime[output] = RuntimeValue{m_def.layers.back().name, out};
  return m_runtime[output];
}

LayerSpec* ImportContext::layer(const std::string& name) {
  auto it = m_layerIndex.find(name);
  return it == m_layerIndex.end() ? nullptr : &m_def.layers[it->second];
}

const Shape& ImportContext::shapeOf(const std::string& name) const {
  auto it = m_layerShapes.find(name);
  if (it == m_layerShapes.end()) throw Error(m_what + ": internal: no layer '" + name + "'");
  return it->second;
}

// ---- NodeView ------------------------------------------------------------------------------

NodeView::NodeView(ImportContext& ctx, const onnx::NodeProto& node, int index)
    : m_ctx(ctx), m_node(node), m_index(index) {}

std::string NodeView::where() const {
  return m_ctx.what() + ": " + describeNode(m_node, m_index, m_ctx.opset());
}

void NodeView::fail(const std::string& message) const {
  throw Error(where() + ": " + message);
}

int NodeView::inputCount() const {
  int n = m_node.input_size();
  while (n > 0 && m_node.input(n - 1).empty()) --n;
  return n;
}

bool NodeView::hasInput(int i) const {
  return i < m_node.input_size() && !m_node.input(i).empty();
}

const std::string& NodeView::inputName(int i) const {
  if (!hasInput(i)) fail("input " + std::to_string(i) + " is missing");
  return m_node.input(i);
}

bool NodeView::isConstant(int i) const {
  return hasInput(i) && m_ctx.constant(m_node.input(i)) != nullptr;
}

const RuntimeValue& NodeView::data(int i) const {
  const std::string& name = inputName(i);
  if (const RuntimeValue* v = m_ctx.runtime(name)) return *v;
  if (m_ctx.constant(name))
    fail("input " + std::to_string(i) + " '" + name +
         "' is a constant, but zfvis layers need it computed from the network input "
         "(constant folding is not supported)");
  fail("input " + std::to_string(i) + " '" + name + "' is not available");
}

Tensor NodeView::floatConstant(int i) const {
  const std::string& name = inputName(i);
  const onnx::TensorProto* t = m_ctx.constant(name);
  if (!t)
    fail("input " + std::to_string(i) + " '" + name +
         "' must be a constant (an initializer or a Constant node), not a computed value");
  return decodeFloatTensor(*t, where() + ": input '" + name + "'");
}

std::vector<int64_t> NodeView::intConstant(int i) const {
  const std::string& name = inputName(i);
  const onnx::TensorProto* t = m_ctx.constant(name);
  if (!t)
    fail("input " + std::to_string(i) + " '" + name +
         "' must be a constant (an initializer or a Constant node), not a computed value");
  return decodeIntTensor(*t, where() + ": input '" + name + "'");
}

std::vector<int64_t> NodeView::constantDims(int i) const {
  const onnx::TensorProto* t = m_ctx.constant(inputName(i));
  if (!t) fail("input " + std::to_string(i) + " '" + inputName(i) + "' must be a constant");
  return tensorDims(*t);
}

const onnx::AttributeProto* NodeView::attr(const std::string& name) const {
  for (const auto& a : m_node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

bool NodeView::hasAttr(const std::string& name) const {
  return attr(name) != nullptr;
}

int64_t NodeView::intAttr(const std::string& name, int64_t fallback) const {
  const onnx::AttributeProto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INT &&
      !(a->type() == onnx::AttributeProto::UNDEFINED && a->has_i()))
    fail("attribute '" + name + "' must be an integer");
  return a->i();
}

float NodeView::floatAttr(const std::string& name, float fallback) const {
  const onnx::AttributeProto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::FLOAT &&
      !(a->type() == onnx::AttributeProto::UNDEFINED && a->has_f()))
    fail("attribute '" + name + "' must be a float");
  return a->f();
}

std::string NodeView::stringAttr(const std::string& name, const std::string& fallback) const {
  const onnx::AttributeProto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::STRING &&
      !(a->type() == onnx::AttributeProto::UNDEFINED && a->has_s()))
    fail("attribute '" + name + "' must be a string");
  return a->s();
}

std::vector<int64_t> NodeView::intsAttr(const std::string& name) const {
  const onnx::AttributeProto* a = attr(name);
  if (!a) return {};
  if (a->type() != onnx::AttributeProto::INTS && a->type() != onnx::AttributeProto::UNDEFINED)
    fail("attribute '" + name + "' must be a list of integers");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::vector<int> NodeView::windowAttr(const std::string& name, size_t count,
                                      std::vector<int> fallback, int64_t lo) const {
  if (!hasAttr(name)) return fallback;
  std::vector<int64_t> v = intsAttr(name);
  if (v.size() != count) {
    std::string got;
    for (size_t k = 0; k < v.size() && k < 8; ++k) got += (k ? ", " : "") + std::to_string(v[k]);
    fail("attribute '" + name + "' must have " + std::to_string(count) +
         " values for 2-D (N x C x H x W) data, got [" + got + (v.size() > 8 ? ", ..." : "") + "]");
  }
  std::vector<int> out;
  for (int64_t x : v) {
    if (x < lo || x > kMaxWindowAttribute)
      fail("attribute '" + name + "' value " + std::to_string(x) + " is out of range (" +
           std::to_string(lo) + " to " + std::to_string(kMaxWindowAttribute) + ")");
    out.push_back(static_cast<int>(x));
  }
  return out;
}

bool NodeView::outputUsed(int i) const {
  return i < m_node.output_size() && !m_node.output(i).empty() &&
         m_ctx.plan().consumerCount(m_node.output(i)) > 0;
}

void NodeView::requireOnlyFirstOutput() const {
  for (int i = 1; i < m_node.output_size(); ++i)
    if (outputUsed(i))
      fail("output " + std::to_string(i) + " '" + m_node.output(i) +
           "' is used, but zfvis supports only the first output of this operator");
}

LayerSpec NodeView::newLayer(LayerType type) {
  LayerSpec l;
  l.type = type;
  l.name = m_ctx.layerName(m_node, m_index);
  return l;
}

const RuntimeValue& NodeView::emit(LayerSpec layer) {
  if (m_node.output_size() < 1 || m_node.output(0).empty()) fail("has no output");
  return m_ctx.emit(std::move(layer), m_node.output(0), where());
}

void NodeView::alias(const RuntimeValue& value) {
  if (m_node.output_size() < 1 || m_node.output(0).empty()) fail("has no output");
  m_ctx.setRuntime(m_node.output(0), value);
}

}  // namespace zfvis::onnx_import
