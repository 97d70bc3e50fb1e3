#include "core/import/onnx/onnx_writer.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cstring>

#include "core/base/atomic_file.h"
#include "core/base/error.h"

namespace zfvis {

namespace {

constexpr int kOpset = 13;

class GraphWriter {
 public:
  GraphWriter(const NetworkDef& def, onnx::GraphProto& graph) : m_def(def), m_graph(graph) {}

  void write() {
    m_shapes = m_def.outputShapes();
    auto* in = m_graph.add_input();
    in->set_name(m_def.input.name);
    setTensorType(*in, m_def.input.shape);
    for (size_t i = 0; i < m_def.layers.size(); ++i) writeLayer(i);
    auto* out = m_graph.add_output();
    out->set_name(m_def.layers.back().name);
    setTensorType(*out, m_shapes.back());
  }

 private:
  // A FLOAT tensor of shape N x per-sample, N symbolic.
  static void setTensorType(onnx::ValueInfoProto& v, const Shape& perSample) {
    auto* tt = v.mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = tt->mutable_shape();
    shape->add_dim()->set_dim_param("N");
    for (int64_t d : perSample.dims()) shape->add_dim()->set_dim_value(d);
  }

  std::string addFloats(const std::string& name, const Tensor& t) {
    auto* init = m_graph.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : t.shape().dims()) init->add_dims(d);
    // Raw little-endian float32: bit for bit what the network holds.
    init->set_raw_data(
        std::string(reinterpret_cast<const char*>(t.data()), size_t(t.numel()) * sizeof(float)));
    return name;
  }

  std::string addInts(const std::string& name, const std::vector<int64_t>& values) {
    auto* init = m_graph.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::INT64);
    init->add_dims(int64_t(values.size()));
    for (int64_t v : values) init->add_int64_data(v);
    return name;
  }

  onnx::NodeProto& node(const LayerSpec& l, const char* op, std::vector<std::string> inputs,
                        const std::string& output) {
    onnx::NodeProto& n = *m_graph.add_node();
    n.set_name(output);
    n.set_op_type(op);
    for (const std::string& s : inputs) n.add_input(s);
    n.add_output(output);
    return n;
  }

  static void ints(onnx::NodeProto& n, const char* name, std::vector<int64_t> values) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void integer(onnx::NodeProto& n, const char* name, int64_t value) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void real(onnx::NodeProto& n, const char* name, float value) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }
  static std::vector<int64_t> pads(const Padding& p) { return {p.top, p.left, p.bottom, p.right}; }

  const Shape& inputShape(const LayerSpec& l, size_t k = 0) const {
    const std::string& name = l.inputs[k];
    if (name == m_def.input.name) return m_def.input.shape;
    return m_shapes[size_t(m_def.indexOf(name))];
  }

  [[noreturn]] void fail(const LayerSpec& l, const std::string& what) const {
    throw Error("cannot write layer '" + l.name + "' (" + std::string(onnxOpName(l.type)) +
                ") to ONNX: " + what);
  }

  void writeLayer(size_t i) {
    const LayerSpec& l = m_def.layers[i];
    const std::string& out = l.name;
    switch (l.type) {
      case LayerType::Conv: {
        const ConvParams& p = l.conv;
        std::vector<std::string> in{l.inputs[0], addFloats(l.name + ".weight", l.weights)};
        if (p.hasBias) in.push_back(addFloats(l.name + ".bias", l.bias));
        auto& n = node(l, "Conv", in, out);
        ints(n, "kernel_shape", {p.kernelH, p.kernelW});
        ints(n, "strides", {p.strideH, p.strideW});
        ints(n, "pads", pads(p.pad));
        ints(n, "dilations", {p.dilationH, p.dilationW});
        integer(n, "group", p.groups);
        return;
      }
      case LayerType::Dense: {
        std::string a = l.inputs[0];
        if (inputShape(l).rank() != 1) {  // Gemm needs N x K; Dense flattens implicitly
          a = l.name + "/flatten";
          integer(node(l, "Flatten", {l.inputs[0]}, a), "axis", 1);
        }
        std::vector<std::string> in{a, addFloats(l.name + ".weight", l.weights)};
        if (l.dense.hasBias) in.push_back(addFloats(l.name + ".bias", l.bias));
        integer(node(l, "Gemm", in, out), "transB", 1);
        return;
      }
      case LayerType::Relu:
        node(l, "Relu", {l.inputs[0]}, out);
        return;
      case LayerType::LRN: {
        auto& n = node(l, "LRN", {l.inputs[0]}, out);
        integer(n, "size", l.lrn.size);
        real(n, "alpha", l.lrn.alpha);
        real(n, "beta", l.lrn.beta);
        real(n, "bias", l.lrn.bias);
        return;
      }
      case LayerType::MaxPool:
      case LayerType::AveragePool: {
        const PoolParams& p = l.pool;
        const bool max = l.type == LayerType::MaxPool;
        auto& n = node(l, max ? "MaxPool" : "AveragePool", {l.inputs[0]}, out);
        ints(n, "kernel_shape", {p.kernelH, p.kernelW});
        ints(n, "strides", {p.strideH, p.strideW});
        ints(n, "pads", pads(p.pad));
        integer(n, "ceil_mode", p.ceilMode ? 1 : 0);
        if (!max) integer(n, "count_include_pad", p.countIncludePad ? 1 : 0);
        return;
      }
      case LayerType::GlobalAveragePool:
        node(l, "GlobalAveragePool", {l.inputs[0]}, out);
        return;
      case LayerType::Dropout:
        node(l, "Dropout", {l.inputs[0]}, out);
        return;
      case LayerType::Identity:
        node(l, "Identity", {l.inputs[0]}, out);
        return;
      case LayerType::Flatten:
        integer(node(l, "Flatten", {l.inputs[0]}, out), "axis", 1);
        return;
      case LayerType::Reshape: {
        std::vector<int64_t> shape{0};  // 0: keep the batch axis
        for (int64_t d : m_shapes[i].dims()) shape.push_back(d);
        node(l, "Reshape", {l.inputs[0], addInts(l.name + ".shape", shape)}, out);
        return;
      }
      case LayerType::Concat:
        integer(node(l, "Concat", l.inputs, out), "axis", l.axis.axis);
        return;
      case LayerType::Softmax:
        if (l.axis.coerce2d && inputShape(l).rank() > size_t(l.axis.axis))
          fail(l,
               "its opset < 13 meaning (softmax over the flattened trailing axes) has no "
               "opset 13 form for input " +
                   inputShape(l).str());
        integer(node(l, "Softmax", {l.inputs[0]}, out), "axis", l.axis.axis);
        return;
      case LayerType::BatchNorm: {
        const int64_t c = m_shapes[i][0];
        const float* w = l.weights.data();
        auto row = [&](int r) { return Tensor::fromData(Shape{c}, w + r * c); };
        auto& n = node(l, "BatchNormalization",
                       {l.inputs[0], addFloats(l.name + ".scale", row(0)),
                        addFloats(l.name + ".shift", row(1)), addFloats(l.name + ".mean", row(2)),
                        addFloats(l.name + ".var", row(3))},
                       out);
        real(n, "epsilon", l.batchNorm.epsilon);
        return;
      }
      case LayerType::Add:
        if (l.inputs.size() == 2)
          node(l, "Add", {l.inputs[0], l.inputs[1]}, out);
        else
          node(l, "Add", {l.inputs[0], addFloats(l.name + ".constant", l.weights)}, out);
        return;
    }
    fail(l, "unknown layer type");
  }

  const NetworkDef& m_def;
  onnx::GraphProto& m_graph;
  std::vector<Shape> m_shapes;
};

void addMetadata(onnx::ModelProto& model, const std::string& key, const std::string& value) {
  auto* p = model.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}

}  // namespace

std::string onnxModelBytes(const NetworkDef& def) {
  def.validate();
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("zfvis");
  model.set_producer_version(ZFVIS_VERSION);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name(def.name);
  GraphWriter(def, graph).write();

  addMetadata(model, kOnnxPreprocessKey, std::string(preprocessName(def.input.preprocess)));
  if (!def.classNames.empty()) {
    std::string labels;
    for (const std::string& n : def.classNames) {
      if (n.find('\n') != std::string::npos)
        throw Error("class name '" + n + "' contains a line break");
      labels += n + "\n";
    }
    addMetadata(model, kOnnxLabelsKey, labels);
  }
  for (const auto& [key, value] : def.metadata)
    if (key != kOnnxPreprocessKey && key != kOnnxLabelsKey) addMetadata(model, key, value);

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw Error("network '" + def.name + "': the ONNX checker refuses the written model: " +
                what.substr(0, what.find('\n')));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw Error("network '" + def.name + "': cannot serialise the ONNX model (over 2 GB?)");
  return bytes;
}

void writeOnnx(const std::filesystem::path& path, const NetworkDef& def) {
  writeFileAtomic(path, onnxModelBytes(def));
}

}  // namespace zfvis
