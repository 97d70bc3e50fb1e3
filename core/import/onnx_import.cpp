// ONNX importer: parses the ModelProto with libonnx's protobuf classes, checks every tensor's size
// against its data and the file before allocating, analyses the graph (one input, one output,
// no cycles or missing inputs), refuses unsupported operators by name, runs onnx::checker, then
// converts the needed nodes in topological order through the op table (core/import/onnx/).
#include "core/import/onnx_import.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/base/error.h"
#include "core/base/labels.h"
#include "core/import/onnx/onnx_context.h"
#include "core/import/onnx/onnx_graph.h"
#include "core/import/onnx/onnx_ops.h"
#include "core/import/onnx/onnx_tensor.h"
#include "core/import/onnx/onnx_writer.h"

namespace zfvis {

namespace {

using namespace onnx_import;

// Opsets 1 and 2 are accepted too: none of the supported operators changed before opset 3 in a
// way the converters do not handle (legacy attributes are handled per opset).
constexpr int kMinOpset = 1;
constexpr int kMaxOpset = 17;

std::string supportedList() {
  std::string s;
  for (const std::string& op : supportedOnnxOps()) s += (s.empty() ? "" : ", ") + op;
  return s;
}

// First line of a (possibly multi-line, possibly huge) message.
std::string firstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  if (line.size() > 300) line = line.substr(0, 300) + "...";
  return line;
}

// onnx::checker's message on one line: its first line plus the node it names, if any
// ("...\n\n==> Context: Bad node spec for node. Name: r1 OpType: Relu").
std::string checkerMessage(const std::string& s) {
  std::string out = firstLine(s);
  const std::string marker = "Bad node spec for node. ";
  if (size_t at = s.find(marker); at != std::string::npos)
    out += " (" + firstLine(s.substr(at + marker.size())) + ")";
  return out;
}

int defaultOpset(const onnx::ModelProto& model, const std::string& what) {
  int opset = -1;
  for (const auto& imp : model.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx") {
      if (imp.version() < 0 || imp.version() > INT_MAX)
        throw Error(what + ": invalid opset version " + std::to_string(imp.version()));
      opset = static_cast<int>(imp.version());
    }
  if (opset < 0) {
    if (model.ir_version() < 3 && model.opset_import_size() == 0)
      opset = 1;
    else
      throw Error(what + ": the model imports no opset for the default ONNX domain");
  }
  if (opset < kMinOpset || opset > kMaxOpset)
    throw Error(what + ": ONNX opset " + std::to_string(opset) +
                " is not supported (zfvis reads opsets " + std::to_string(kMinOpset) + " to " +
                std::to_string(kMaxOpset) + ")");
  return opset;
}

// Checks every tensor stored in the graph (initializers, Constant values, tensor attributes)
// before anything is decoded.
void checkAllTensors(const onnx::GraphProto& graph, size_t fileSize, const std::string& what) {
  for (const auto& t : graph.initializer())
    checkTensorProto(t, fileSize, what + ": initializer '" + t.name() + "'");
  for (const auto& t : graph.sparse_initializer())
    if (hasExternalData(t.values()) || hasExternalData(t.indices()))
      throw Error(what + ": sparse initializer '" + t.values().name() +
                  "' keeps its data in an external file; zfvis reads only self-contained .onnx "
                  "files");
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    for (const auto& a : node.attribute()) {
      const std::string where =
          what + ": attribute '" + a.name() + "' of node " +
          (node.name().empty() ? "#" + std::to_string(i) : "'" + node.name() + "'");
      if (a.has_t()) checkTensorProto(a.t(), fileSize, where);
      for (const auto& t : a.tensors()) checkTensorProto(t, fileSize, where);
    }
  }
}

// Old Caffe2 exports carry attributes that later opsets dropped (Dropout's is_test after opset 6,
// consumed_inputs after opset 5, BatchNormalization's spatial=1 after opset 8). They do not change
// inference; remove them where the node's schema no longer has them so onnx::checker accepts the
// model. Returns how many were removed.
int stripLegacyAttributes(onnx::GraphProto& graph, int opset) {
  int removed = 0;
  for (auto& node : *graph.mutable_node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx") continue;
    const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(node.op_type(), opset, "");
    if (!schema) continue;
    auto* attrs = node.mutable_attribute();
    for (int k = attrs->size() - 1; k >= 0; --k) {
      const onnx::AttributeProto& a = attrs->Get(k);
      const std::string& name = a.name();
      // spatial=1 is the only meaning BatchNormalization has from opset 9 on; spatial=0 is left
      // in place so the checker refuses it.
      const bool legacy =
          name == "is_test" || name == "consumed_inputs" || (name == "spatial" && a.i() == 1);
      if (legacy && !schema->attributes().count(name)) {
        attrs->DeleteSubrange(k, 1);
        ++removed;
      }
    }
  }
  return removed;
}

// The single graph input: a FLOAT tensor N x (fixed per-sample dims).
void readInput(const onnx::ValueInfoProto& in, const std::string& what, ImportContext& ctx) {
  const std::string where = what + ": graph input '" + in.name() + "'";
  if (!in.type().has_tensor_type()) throw Error(where + " is not a tensor");
  const auto& tt = in.type().tensor_type();
  if (tt.elem_type() != onnx::TensorProto::FLOAT)
    throw Error(where + " has element type " + dataTypeName(tt.elem_type()) +
                "; zfvis needs a FLOAT input");
  if (!tt.has_shape()) throw Error(where + " has no shape; zfvis needs N x C x H x W (or N x ...)");
  const auto& dims = tt.shape().dim();
  if (dims.size() < 2)
    throw Error(where + " has rank " + std::to_string(dims.size()) +
                "; zfvis needs a batch axis plus at least one more");
  int64_t batch = dims[0].has_dim_value() ? dims[0].dim_value() : 0;
  if (batch < 0) throw Error(where + " has a negative batch dimension");
  std::vector<int64_t> perSample;
  int64_t numel = 1;
  for (int i = 1; i < dims.size(); ++i) {
    if (!dims[i].has_dim_value() || dims[i].dim_value() < 1)
      throw Error(where + " has a dynamic or empty dimension " + std::to_string(i) +
                  (dims[i].has_dim_param() ? " ('" + dims[i].dim_param() + "')" : std::string()) +
                  "; zfvis needs a fixed input size (only the batch axis may be dynamic)");
    const int64_t d = dims[i].dim_value();
    if (numel > Tensor::kMaxElements / d)
      throw Error(where + " is larger than zfvis accepts (2^32 elements per sample)");
    numel *= d;
    perSample.push_back(d);
  }
  ctx.setInput(in.name(), Shape(perSample), batch);
}

// The model's own preprocessing, class names and notes (metadata_props; see onnx_writer.h).
void readMetadata(const onnx::ModelProto& model, const std::string& what, NetworkDef& def) {
  for (const auto& p : model.metadata_props()) {
    if (p.key() == kOnnxPreprocessKey) {
      try {
        def.input.preprocess = parsePreprocess(p.value());
      } catch (const UsageError& e) {
        throw Error(what + ": metadata " + p.key() + ": " + e.what());
      }
    } else if (p.key() == kOnnxLabelsKey) {
      // One name per line (what zfvis writes) or a JSON list of strings.
      def.classNames = parseClassNames(p.value(), what + ": metadata " + p.key());
    } else {
      def.metadata[p.key()] = p.value();
    }
  }
  if (def.classNames.empty()) return;
  const int64_t outputs = def.outputShapes().back().numel();
  if (int64_t(def.classNames.size()) != outputs)
    throw Error(what + ": metadata " + kOnnxLabelsKey + " has " +
                std::to_string(def.classNames.size()) + " class names for " +
                std::to_string(outputs) + " outputs");
}

std::string stemOf(const std::string& what) {
  std::string stem = std::filesystem::path(what).stem().string();
  return stem.empty() ? std::string("onnx-model") : stem;
}

}  // namespace

const std::vector<std::string>& supportedOnnxOps() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> v;
    for (const OpEntry& e : opTable()) v.emplace_back(e.opType);
    return v;
  }();
  return ops;
}

namespace {

// Everything after parsing; `fileSize` bounds every tensor the file can hold.
NetworkDef importModel(onnx::ModelProto& model, size_t fileSize, const std::string& what) {
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw Error(what + ": not an ONNX model (it has no graph nodes)");
  const int opset = defaultOpset(model, what);
  onnx::GraphProto& graph = *model.mutable_graph();

  checkAllTensors(graph, fileSize, what);
  const GraphPlan plan = planGraph(graph, what, opset, [&](const onnx::NodeProto& node, int index) {
    if (!findOp(node.domain(), node.op_type()))
      throw Error(what + ": " + describeNode(node, index, opset) +
                  ": unsupported operator; zfvis supports " + supportedList());
  });

  const int stripped = stripLegacyAttributes(graph, opset);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw Error(what + ": rejected by the ONNX checker: " + checkerMessage(e.what()));
  }

  ImportContext ctx(what, opset, fileSize, plan);
  readInput(*plan.input, what, ctx);
  for (const auto& t : graph.initializer()) ctx.addConstant(t.name(), &t);
  for (int index : plan.order) {
    const onnx::NodeProto& node = graph.node(index);
    NodeView view(ctx, node, index);
    findOp(node.domain(), node.op_type())->convert(view);
  }

  const RuntimeValue* out = ctx.runtime(plan.output);
  if (!out)
    throw Error(what + ": the graph output '" + plan.output +
                "' is a constant; zfvis needs it computed from the input");
  NetworkDef& def = ctx.def();
  if (def.layers.empty() || def.layers.back().name != out->layer)
    throw Error(what + ": the graph output '" + plan.output +
                "' is not produced by the last layer; zfvis needs a single output at the end");
  def.name = stemOf(what);
  def.source = what;
  def.untrained = false;
  def.input.preprocess = Preprocess::Caffe;
  std::string producer = model.producer_name();
  if (!model.producer_version().empty()) producer += " " + model.producer_version();
  def.notes.insert(def.notes.begin(),
                   "ONNX opset " + std::to_string(opset) + ", IR version " +
                       std::to_string(model.ir_version()) +
                       (producer.empty() ? std::string() : ", produced by " + firstLine(producer)));
  if (stripped > 0)
    def.notes.push_back(
        "ignored " + std::to_string(stripped) +
        " legacy attribute(s) (is_test, consumed_inputs, spatial) from an old exporter");
  try {
    def.validate();
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  readMetadata(model, what, def);
  return std::move(def);
}

[[noreturn]] void failParse(const std::string& what) {
  throw Error(what + ": not a valid ONNX model (the protobuf data is truncated or corrupt)");
}

}  // namespace

NetworkDef importOnnxBytes(const std::string& bytes, const std::string& what) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw Error(what + ": the file is larger than 2 GB, the protobuf limit for one ONNX model");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) failParse(what);
  return importModel(model, bytes.size(), what);
}

NetworkDef importOnnx(const std::filesystem::path& path) {
  // Parsed straight from the file, so the raw bytes are never held next to the parsed model.
  const std::string what = path.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error("cannot open '" + what + "': " + ec.message());
  if (size > static_cast<uintmax_t>(INT_MAX))
    throw Error(what + ": the file is larger than 2 GB, the protobuf limit for one ONNX model");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + what + "': " + std::strerror(errno));
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in)) failParse(what);
  return importModel(model, static_cast<size_t>(size), what);
}

}  // namespace zfvis
