// Converters for Gemm and MatMul (-> Dense) and Add (a following constant Add becomes the Dense
// layer's bias; otherwise an Add layer with one or two inputs).
#include <limits>

#include "core/base/error.h"
#include "core/import/onnx/onnx_ops.h"

namespace zfvis::onnx_import {

namespace {

// True when a constant of shape `s` can be a per-unit bias of a layer with `units` outputs:
// units, 1 x units, or a single value.
bool isBiasShape(const Shape& s, int64_t units) {
  if (s.rank() > 2) return false;
  if (s.numel() == 1) return true;
  if (s.rank() == 1) return s[0] == units;
  return s.rank() == 2 && s[0] == 1 && s[1] == units;
}

// The bias vector (units values) for constant `c`, scaled by `scale`.
Tensor biasVector(const Tensor& c, int64_t units, float scale) {
  Tensor bias(Shape{units});
  for (int64_t u = 0; u < units; ++u) bias[u] = scale * c[c.numel() == 1 ? 0 : u];
  return bias;
}

std::string nodeLabel(const NodeView& n) {
  return n.node().name().empty() ? "#" + std::to_string(n.index()) : "'" + n.node().name() + "'";
}

}  // namespace

void convertGemm(NodeView& n) {
  const RuntimeValue& a = n.data(0);
  if (n.intAttr("transA", 0) != 0)
    n.fail("transA=1 is not supported: it would transpose the batch axis of input A");
  if (a.shape.rank() != 1)
    n.fail("input A is N x " + a.shape.str() +
           "; Gemm needs a 2-D input (N x K), e.g. after Flatten or Reshape");
  const int64_t k = a.shape[0];
  Tensor b = n.floatConstant(1);
  if (b.shape().rank() != 2) n.fail("input B has shape " + b.shape().str() + ", expected 2-D");
  const bool transB = n.intAttr("transB", 0) != 0;
  const int64_t bk = transB ? b.shape()[1] : b.shape()[0];
  const int64_t units = transB ? b.shape()[0] : b.shape()[1];
  if (bk != k)
    n.fail("input B has shape " + b.shape().str() + " (transB=" + (transB ? "1" : "0") +
           "), which does not match input A (N x " + std::to_string(k) + ")");
  if (units < 1 || units > std::numeric_limits<int>::max())
    n.fail("input B has shape " + b.shape().str() + ", which gives no output units");
  const float alpha = n.floatAttr("alpha", 1.0f);
  const float beta = n.floatAttr("beta", 1.0f);

  LayerSpec l = n.newLayer(LayerType::Dense);
  l.inputs = {a.layer};
  l.dense.units = static_cast<int>(units);
  l.weights = Tensor(Shape{units, k});
  for (int64_t u = 0; u < units; ++u)
    for (int64_t j = 0; j < k; ++j)
      l.weights[u * k + j] = alpha * (transB ? b[u * k + j] : b[j * units + u]);
  l.dense.hasBias = false;
  if (n.hasInput(2) && beta != 0.0f) {
    Tensor c = n.floatConstant(2);
    if (!isBiasShape(c.shape(), units))
      n.fail("input C has shape " + c.shape().str() + "; zfvis needs a bias of " +
             std::to_string(units) + ", 1 x " + std::to_string(units) +
             " or a single value (a bias that differs per sample cannot be a layer bias)");
    l.bias = biasVector(c, units, beta);
    l.dense.hasBias = true;
  }
  const bool foldable = !l.dense.hasBias;
  const RuntimeValue& v = n.emit(std::move(l));
  if (foldable) n.ctx().markBiasFoldable(v.layer);
}

void convertMatMul(NodeView& n) {
  const RuntimeValue& a = n.data(0);
  if (a.shape.rank() != 1)
    n.fail("input A is N x " + a.shape.str() +
           "; zfvis supports MatMul only as an N x K input times a constant K x M matrix");
  const int64_t k = a.shape[0];
  Tensor b = n.floatConstant(1);
  if (b.shape().rank() != 2 || b.shape()[0] != k)
    n.fail("input B has shape " + b.shape().str() + ", expected " + std::to_string(k) +
           " x M for input A (N x " + std::to_string(k) + ")");
  const int64_t units = b.shape()[1];
  if (units < 1 || units > std::numeric_limits<int>::max())
    n.fail("input B has shape " + b.shape().str() + ", which gives no output units");
  LayerSpec l = n.newLayer(LayerType::Dense);
  l.inputs = {a.layer};
  l.dense.units = static_cast<int>(units);
  l.dense.hasBias = false;
  l.weights = Tensor(Shape{units, k});
  for (int64_t u = 0; u < units; ++u)
    for (int64_t j = 0; j < k; ++j) l.weights[u * k + j] = b[j * units + u];
  const RuntimeValue& v = n.emit(std::move(l));
  n.ctx().markBiasFoldable(v.layer);
}

void convertAdd(NodeView& n) {
  if (n.inputCount() != 2) n.fail("expects 2 inputs, got " + std::to_string(n.inputCount()));
  const bool c0 = n.isConstant(0), c1 = n.isConstant(1);
  if (c0 && c1) n.fail("both inputs are constants (constant folding is not supported)");
  if (!c0 && !c1) {
    const RuntimeValue& a = n.data(0);
    const RuntimeValue& b = n.data(1);
    if (a.shape.rank() != b.shape.rank())
      n.fail("adds N x " + a.shape.str() + " and N x " + b.shape.str() +
             ": two computed inputs must have the same rank (broadcasting across the batch axis "
             "is not supported)");
    LayerSpec l = n.newLayer(LayerType::Add);
    l.inputs = {a.layer, b.layer};
    n.emit(std::move(l));
    return;
  }
  const int di = c0 ? 1 : 0;
  const RuntimeValue& x = n.data(di);
  Tensor c = n.floatConstant(1 - di);
  const size_t rank = x.shape.rank() + 1;  // batch included

  // Opset < 7 broadcasting: with broadcast=1 and an axis, the constant lines up at that axis.
  if (n.opset() < 7 && n.intAttr("broadcast", 0) == 1 && n.hasAttr("axis")) {
    const int axis = normaliseAxis(n, n.intAttr("axis", 0), rank, "axis");
    if (axis + c.shape().rank() > rank)
      n.fail("constant of shape " + c.shape().str() + " does not fit at axis " +
             std::to_string(axis) + " of input N x " + x.shape.str());
    std::vector<int64_t> dims = c.shape().dims();
    dims.resize(rank - axis, 1);
    c.reshape(Shape(dims));
  }

  // A constant added to a Dense layer without bias becomes that layer's bias.
  LayerSpec* dense = n.ctx().layer(x.layer);
  if (dense && dense->type == LayerType::Dense && !dense->dense.hasBias &&
      n.ctx().plan().consumerCount(n.inputName(di)) == 1 &&
      isBiasShape(c.shape(), dense->dense.units) && n.ctx().takeBiasFoldable(dense->name)) {
    dense->bias = biasVector(c, dense->dense.units, 1.0f);
    dense->dense.hasBias = true;
    n.ctx().def().notes.push_back("Add " + nodeLabel(n) + " folded into '" + dense->name +
                                  "' as its bias");
    n.alias(x);
    return;
  }

  if (c.shape().rank() > rank)
    n.fail("constant of shape " + c.shape().str() + " has more dimensions than input N x " +
           x.shape.str());
  if (c.shape().rank() == rank) {
    if (c.shape()[0] != 1)
      n.fail("constant of shape " + c.shape().str() +
             " differs along the batch axis; zfvis needs a constant that is the same for every "
             "sample");
    c.reshape(c.shape().dropFirst());
  }
  LayerSpec l = n.newLayer(LayerType::Add);
  l.inputs = {x.layer};
  l.weights = std::move(c);
  n.emit(std::move(l));
}

}  // namespace zfvis::onnx_import
