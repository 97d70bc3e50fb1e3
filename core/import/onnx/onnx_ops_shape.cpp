// Converters for the element-wise and shape operators: Relu, Dropout, Identity, Flatten, Reshape,
// Softmax, Concat and Constant. zfvis keeps the batch axis (axis 0) apart from everything else,
// so any op that would mix it with other axes is refused with the reason.
#include <limits>

#include "core/base/error.h"
#include "core/import/onnx/onnx_ops.h"

namespace zfvis::onnx_import {

namespace {

std::string listText(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size() && i < 16; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() > 16 ? ", ...]" : "]");
}

// A layer of `type` reading input 0 only.
void unary(NodeView& n, LayerType type) {
  n.requireOnlyFirstOutput();
  const RuntimeValue& x = n.data(0);
  LayerSpec l = n.newLayer(type);
  l.inputs = {x.layer};
  n.emit(std::move(l));
}

}  // namespace

void convertRelu(NodeView& n) {
  unary(n, LayerType::Relu);
}

void convertIdentity(NodeView& n) {
  // PyTorch's exporter puts Identity nodes on initializers that several nodes share (or that it
  // deduplicated): the output is the same constant under another name.
  if (n.isConstant(0)) {
    n.requireOnlyFirstOutput();
    n.ctx().addConstant(n.node().output(0), n.ctx().constant(n.inputName(0)));
    return;
  }
  unary(n, LayerType::Identity);
}

void convertDropout(NodeView& n) {
  // Opset < 7: is_test / ratio attributes; 7-11: ratio; >= 12: ratio and training_mode inputs.
  // Inference treats every form as the identity, unless training mode is switched on explicitly.
  if (n.opset() >= 12 && n.hasInput(2)) {
    if (!n.isConstant(2))
      n.fail("input 'training_mode' must be a constant (zfvis runs inference only)");
    std::vector<int64_t> mode = n.intConstant(2);
    if (mode.size() != 1) n.fail("input 'training_mode' must be a single boolean");
    if (mode[0] != 0) n.fail("training_mode=true is not supported (zfvis runs inference only)");
  }
  unary(n, LayerType::Dropout);
}

void convertFlatten(NodeView& n) {
  const RuntimeValue& x = n.data(0);
  const int64_t rank = static_cast<int64_t>(x.shape.rank()) + 1;
  int64_t axis = n.intAttr("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank)
    n.fail("attribute 'axis' = " + std::to_string(n.intAttr("axis", 1)) +
           " is out of range for a " + std::to_string(rank) + "-D input");
  if (axis != 1)
    n.fail("axis " + std::to_string(axis) +
           " would merge the batch axis with other axes (input N x " + x.shape.str() +
           "); zfvis keeps the batch axis, so only axis 1 is supported");
  LayerSpec l = n.newLayer(LayerType::Flatten);
  l.inputs = {x.layer};
  l.axis.axis = 1;
  n.emit(std::move(l));
}

void convertReshape(NodeView& n) {
  const RuntimeValue& x = n.data(0);
  std::vector<int64_t> target;
  if (n.opset() < 5) {
    if (!n.hasAttr("shape")) n.fail("attribute 'shape' is required");
    target = n.intsAttr("shape");
  } else {
    if (!n.hasInput(1)) n.fail("input 'shape' is required");
    if (n.constantDims(1).size() != 1) n.fail("input 'shape' must be a 1-D tensor");
    target = n.intConstant(1);
  }
  const bool allowZero = n.opset() >= 14 && n.intAttr("allowzero", 0) != 0;
  const std::string text = listText(target);
  const int64_t batch = n.ctx().declaredBatch();
  if (target.size() < 2)
    n.fail("target shape " + text +
           " leaves no per-sample dimensions; zfvis keeps the batch axis and at least one more");
  const int64_t first = target[0];
  if (!((first == 0 && !allowZero) || first == -1 || (batch > 0 && first == batch)))
    n.fail("target shape " + text +
           " changes the batch axis: its first entry must be 0, -1 or the batch size " +
           (batch > 0 ? std::to_string(batch) : std::string("N")) +
           " (zfvis reshapes each sample and keeps the batch axis)");

  const int64_t numel = x.shape.numel();
  std::vector<int64_t> dims(target.begin() + 1, target.end());
  int unknown = -1;
  int64_t known = 1;
  for (size_t j = 0; j < dims.size(); ++j) {
    if (dims[j] == 0 && !allowZero) {
      if (j >= x.shape.rank())
        n.fail("target shape " + text + " copies (0) input axis " + std::to_string(j + 1) +
               ", which input N x " + x.shape.str() + " does not have");
      dims[j] = x.shape[j];
    }
    if (dims[j] == -1) {
      if (unknown >= 0 || first == -1) n.fail("target shape " + text + " has more than one -1");
      unknown = static_cast<int>(j);
      continue;
    }
    if (dims[j] < 0) n.fail("target shape " + text + " has a negative entry");
    if (dims[j] == 0) n.fail("target shape " + text + " would make an empty tensor");
    if (known > Tensor::kMaxElements / dims[j])
      n.fail("target shape " + text + " is larger than input N x " + x.shape.str());
    known *= dims[j];
  }
  if (unknown >= 0) {
    if (numel % known != 0)
      n.fail("cannot reshape N x " + x.shape.str() + " to " + text + " (sizes do not divide)");
    dims[unknown] = numel / known;
    known = numel;
  }
  if (known != numel)
    n.fail("cannot reshape N x " + x.shape.str() + " to " + text + ": a sample has " +
           std::to_string(numel) + " values, the target " + std::to_string(known) +
           (first == -1 ? " (a -1 first entry would change the batch size)" : ""));
  LayerSpec l = n.newLayer(LayerType::Reshape);
  l.inputs = {x.layer};
  l.reshape.shape = dims;
  n.emit(std::move(l));
}

void convertSoftmax(NodeView& n) {
  const RuntimeValue& x = n.data(0);
  const size_t rank = x.shape.rank() + 1;
  // Opset < 13: the input is coerced to 2-D at `axis` (default 1); >= 13: one axis (default -1).
  const bool coerce = n.opset() < 13;
  const int axis = normaliseAxis(n, n.intAttr("axis", coerce ? 1 : -1), rank, "axis");
  if (axis == 0)
    n.fail("axis 0 normalises across the batch axis (input N x " + x.shape.str() +
           "); zfvis computes every sample on its own");
  LayerSpec l = n.newLayer(LayerType::Softmax);
  l.inputs = {x.layer};
  l.axis.axis = axis;
  l.axis.coerce2d = coerce;
  n.emit(std::move(l));
}

void convertConcat(NodeView& n) {
  const int count = n.inputCount();
  if (count < 1) n.fail("has no inputs");
  std::vector<const RuntimeValue*> xs;
  for (int i = 0; i < count; ++i) {
    if (n.isConstant(i))
      n.fail("input " + std::to_string(i) + " '" + n.inputName(i) +
             "' is a constant; zfvis concatenates only computed values");
    xs.push_back(&n.data(i));
  }
  const size_t rank = xs[0]->shape.rank() + 1;
  for (const RuntimeValue* x : xs)
    if (x->shape.rank() + 1 != rank)
      n.fail("inputs have different ranks (N x " + xs[0]->shape.str() + " and N x " +
             x->shape.str() + ")");
  if (n.opset() >= 4 && !n.hasAttr("axis")) n.fail("attribute 'axis' is required");
  const int axis = normaliseAxis(n, n.intAttr("axis", 1), rank, "axis");
  if (axis == 0) n.fail("concatenation along the batch axis is not supported");
  LayerSpec l = n.newLayer(LayerType::Concat);
  for (const RuntimeValue* x : xs) l.inputs.push_back(x->layer);
  l.axis.axis = axis;
  n.emit(std::move(l));
}

void convertConstant(NodeView& n) {
  const onnx::NodeProto& node = n.node();
  if (node.output_size() != 1 || node.output(0).empty()) n.fail("must have exactly one output");
  if (node.attribute_size() != 1)
    n.fail("must have exactly one value attribute, got " + std::to_string(node.attribute_size()));
  const onnx::AttributeProto& a = node.attribute(0);
  const std::string& out = node.output(0);
  onnx::TensorProto t;
  if (a.name() == "value") {
    if (!a.has_t()) n.fail("attribute 'value' must be a tensor");
    n.ctx().addConstant(out, &a.t());  // checked with every other tensor before conversion
    return;
  } else if (a.name() == "value_float") {
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_float_data(a.f());
  } else if (a.name() == "value_floats") {
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(a.floats_size());
    *t.mutable_float_data() = a.floats();
  } else if (a.name() == "value_int") {
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_int64_data(a.i());
  } else if (a.name() == "value_ints") {
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(a.ints_size());
    *t.mutable_int64_data() = a.ints();
  } else {
    n.fail("attribute '" + a.name() +
           "' is not supported (zfvis reads value, value_float(s) and value_int(s))");
  }
  n.ctx().addOwnedConstant(out, std::move(t));
}

}  // namespace zfvis::onnx_import
