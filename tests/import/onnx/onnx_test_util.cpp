#include "tests/import/onnx/onnx_test_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "core/base/error.h"
#include "core/engine/engine.h"

namespace zfvis::test {

namespace fs = std::filesystem;

OnnxModelBuilder::OnnxModelBuilder(int opset, int irVersion) {
  m_model.set_ir_version(irVersion);
  m_model.set_producer_name("zfvis-tests");
  auto* imp = m_model.add_opset_import();
  imp->set_domain("");
  imp->set_version(opset);
  m_model.mutable_graph()->set_name("test-graph");
}

OnnxModelBuilder& OnnxModelBuilder::input(const std::string& name,
                                          const std::vector<int64_t>& dims) {
  auto* in = m_model.mutable_graph()->add_input();
  in->set_name(name);
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) {
    auto* dim = shape->add_dim();
    if (d < 0)
      dim->set_dim_param("N");
    else
      dim->set_dim_value(d);
  }
  return *this;
}

OnnxModelBuilder& OnnxModelBuilder::output(const std::string& name) {
  auto* out = m_model.mutable_graph()->add_output();
  out->set_name(name);
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  out->mutable_type()->mutable_tensor_type()->mutable_shape();  // the checker wants a shape
  return *this;
}

OnnxModelBuilder& OnnxModelBuilder::initializer(const std::string& name, const Tensor& value) {
  *m_model.mutable_graph()->add_initializer() = toTensorProto(value, name);
  return *this;
}

OnnxModelBuilder& OnnxModelBuilder::initializerInts(const std::string& name,
                                                    const std::vector<int64_t>& values,
                                                    std::vector<int64_t> dims) {
  auto* t = m_model.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  if (dims.empty()) dims = {static_cast<int64_t>(values.size())};
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t v : values) t->add_int64_data(v);
  return *this;
}

onnx::NodeProto& OnnxModelBuilder::node(const std::string& opType,
                                        const std::vector<std::string>& inputs,
                                        const std::vector<std::string>& outputs,
                                        const std::string& name) {
  auto* n = m_model.mutable_graph()->add_node();
  n->set_op_type(opType);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return *n;
}

std::string OnnxModelBuilder::bytes() const {
  return m_model.SerializeAsString();
}

void setAttr(onnx::NodeProto& node, const std::string& name, int64_t value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void setAttr(onnx::NodeProto& node, const std::string& name, float value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void setAttr(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void setAttr(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

onnx::TensorProto toTensorProto(const Tensor& value, const std::string& name) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : value.shape().dims()) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(value.data()),
                             static_cast<size_t>(value.numel()) * sizeof(float)));
  return t;
}

Tensor fromTensorProto(const onnx::TensorProto& t) {
  if (t.data_type() != onnx::TensorProto::FLOAT)
    throw std::runtime_error("tensor '" + t.name() + "' is not FLOAT");
  Tensor out(Shape(std::vector<int64_t>(t.dims().begin(), t.dims().end())));
  const size_t bytes = static_cast<size_t>(out.numel()) * sizeof(float);
  if (!t.raw_data().empty()) {
    if (t.raw_data().size() != bytes) throw std::runtime_error("raw_data size mismatch");
    std::memcpy(out.data(), t.raw_data().data(), bytes);
  } else {
    if (t.float_data_size() != out.numel()) throw std::runtime_error("float_data size mismatch");
    std::copy(t.float_data().begin(), t.float_data().end(), out.data());
  }
  return out;
}

onnx::TensorProto readTensorPb(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  onnx::TensorProto t;
  if (!f || !t.ParseFromString(ss.str()))
    throw std::runtime_error("cannot read TensorProto " + path.string());
  return t;
}

Tensor randomTensor(const Shape& shape, uint32_t seed, float lo, float hi) {
  Tensor t(shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = dist(gen);
  return t;
}

Tensor runEngine(const NetworkDef& def, const Tensor& input) {
  auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
  Session session(net);
  RunOptions ro;
  ro.keepAll = false;
  return session.run(input, ro)->finalOutput();
}

double relativeError(const Tensor& actual, const Tensor& expected) {
  if (actual.shape() != expected.shape())
    throw std::runtime_error("shape " + actual.shape().str() + " differs from expected " +
                             expected.shape().str());
  double worst = 0;
  for (int64_t i = 0; i < actual.numel(); ++i)
    worst = std::max(worst, std::abs(double(actual[i]) - double(expected[i])));
  return worst / std::max(1.0, double(expected.maxAbs()));
}

namespace {

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

CommandResult runCommand(const std::string& program, const std::vector<std::string>& args) {
  static int counter = 0;
  const fs::path dir = fs::path(testing::TempDir()) / "zfvis-onnx-cmd";
  fs::create_directories(dir);
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const fs::path out = dir / ("out-" + tag), err = dir / ("err-" + tag);
  std::string cmd = shellQuote(program);
  for (const auto& a : args) cmd += " " + shellQuote(a);
  cmd += " >" + shellQuote(out.string()) + " 2>" + shellQuote(err.string());
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  fs::remove(out);
  fs::remove(err);
  return r;
}

fs::path freshTempDir(const std::string& name) {
  const fs::path dir =
      fs::path(testing::TempDir()) / ("zfvis-onnx-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace zfvis::test
