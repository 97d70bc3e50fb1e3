#include "core/import/keras/model_config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <queue>
#include <set>
#include <unordered_map>

#include "core/base/error.h"

namespace zfvis::keras {

namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxDim = int64_t(1) << 20;       // spatial size or channel count
constexpr int64_t kMaxUnits = int64_t(1) << 24;     // dense units
constexpr int kMaxWindow = 1 << 12;                 // kernel, stride, dilation
constexpr int64_t kMaxFeatures = int64_t(1) << 24;  // a Flatten / vector Concatenate output
constexpr size_t kMaxLayers = 20000;
constexpr int kMaxJsonDepth = 32;

constexpr const char* kSupportedClasses =
    "InputLayer, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Dense, Dropout, "
    "Flatten, Concatenate, Activation, ReLU, Softmax";
constexpr const char* kSupportedActivations = "relu, softmax, linear";

// A Keras tensor (the output of a Keras layer) as zfvis holds it.
struct KTensor {
  std::string producer;        // our layer (or input) name
  Shape shape;                 // our per-sample shape: C x H x W, features, or C x 1 x 1 (GAP)
  bool spatial = false;        // Keras sees an image tensor (else a feature vector)
  bool channelsFirst = false;  // spatial only: Keras layout C,H,W (else H,W,C)
  std::vector<int64_t> order;  // vector only: Keras feature index of each of our features
                               // (C order); empty = the same order
};

// One entry of the config's layer list.
struct KLayer {
  size_t index = 0;                 // position in the config
  std::string name;                 // Keras layer name
  std::string cls;                  // class_name
  const Json* config = nullptr;     // its "config" object
  std::vector<std::string> inputs;  // producers (Keras layer names)
};

std::string jsonText(const Json& j) {
  std::string s = j.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

bool isModelClass(const std::string& c) {
  return c == "Sequential" || c == "Functional" || c == "Model";
}

std::string canonicalClass(const std::string& c) {
  if (c == "Convolution2D") return "Conv2D";
  if (c == "MaxPool2D") return "MaxPooling2D";
  if (c == "AvgPool2D") return "AveragePooling2D";
  if (c == "GlobalAvgPool2D") return "GlobalAveragePooling2D";
  return c;
}

class Builder {
 public:
  explicit Builder(std::string what) : m_what(std::move(what)) {}

  ModelConfig build(const Json& root) {
    if (!root.is_object() || !root.contains("class_name") || !root["class_name"].is_string() ||
        !root.contains("config"))
      fail(
          "model_config is not a Keras model description (expected {\"class_name\": "
          "\"Sequential\" or \"Functional\", \"config\": ...})");
    const std::string cls = root["class_name"].get<std::string>();
    const Json& config = root["config"];
    if (cls == "Sequential") {
      buildSequential(config);
    } else if (cls == "Functional" || cls == "Model") {
      buildFunctional(config);
    } else {
      fail("model class '" + cls + "' is not supported (expected Sequential or Functional)");
    }
    if (m_out.layers.empty()) fail("the model has no layers");
    m_out.notes.push_back(
        std::string("Imported from Keras (") +
        (m_channelsFirst ? "channels_first" : "channels_last") +
        "): convolution kernels converted from HWIO to OIHW" +
        (m_channelsFirst ? "" : ", dense rows after Flatten reordered from H,W,C to C,H,W") +
        "; Keras activations are separate layers named <layer>_relu / <layer>_softmax.");
    return {std::move(m_out), std::move(m_weights)};
  }

 private:
  // ---- errors and parameters ----------------------------------------------------------------

  [[noreturn]] void fail(const std::string& why) const { throw Error(m_what + ": " + why); }
  [[noreturn]] void fail(const KLayer& l, const std::string& why) const {
    throw Error(m_what + ": layer '" + l.name + "' (" + l.cls + "): " + why);
  }

  const Json* param(const KLayer& l, const char* key) const {
    if (!l.config->contains(key)) return nullptr;
    const Json& v = (*l.config)[key];
    return v.is_null() ? nullptr : &v;
  }

  int64_t intValue(const KLayer& l, const char* key, const Json& v, int64_t lo, int64_t hi) const {
    if (!v.is_number_integer())
      fail(l, std::string(key) + " must be an integer, got " + jsonText(v));
    int64_t x = v.get<int64_t>();
    if (x < lo || x > hi)
      fail(l, std::string(key) + " = " + std::to_string(x) + " is out of range (" +
                  std::to_string(lo) + ".." + std::to_string(hi) + ")");
    return x;
  }

  int64_t intParam(const KLayer& l, const char* key, int64_t def, int64_t lo, int64_t hi) const {
    const Json* v = param(l, key);
    return v ? intValue(l, key, *v, lo, hi) : def;
  }

  // An int or a pair of ints ([rows, cols]).
  std::pair<int, int> pairParam(const KLayer& l, const char* key, std::pair<int, int> def, int lo,
                                int hi) const {
    const Json* v = param(l, key);
    if (!v) return def;
    if (v->is_number_integer()) {
      int x = static_cast<int>(intValue(l, key, *v, lo, hi));
      return {x, x};
    }
    if (!v->is_array() || v->size() != 2)
      fail(l, std::string(key) + " must be two integers, got " + jsonText(*v));
    return {static_cast<int>(intValue(l, key, (*v)[0], lo, hi)),
            static_cast<int>(intValue(l, key, (*v)[1], lo, hi))};
  }

  std::string stringParam(const KLayer& l, const char* key, const std::string& def) const {
    const Json* v = param(l, key);
    if (!v) return def;
    if (!v->is_string()) fail(l, std::string(key) + " must be a string, got " + jsonText(*v));
    return v->get<std::string>();
  }

  bool boolParam(const KLayer& l, const char* key, bool def) const {
    const Json* v = param(l, key);
    if (!v) return def;
    if (!v->is_boolean()) fail(l, std::string(key) + " must be true or false");
    return v->get<bool>();
  }

  bool channelsFirstParam(const KLayer& l) const {
    std::string df = stringParam(l, "data_format", "channels_last");
    if (df != "channels_last" && df != "channels_first")
      fail(l, "data_format '" + df + "' is not supported (channels_last or channels_first)");
    return df == "channels_first";
  }

  // "valid" or "same".
  bool samePadding(const KLayer& l) const {
    std::string p = stringParam(l, "padding", "valid");
    if (p != "valid" && p != "same")
      fail(l, "padding '" + p + "' is not supported (valid or same)");
    return p == "same";
  }

  // ---- tensors and layers ---------------------------------------------------------------------

  const KTensor& tensor(const KLayer& l, const std::string& name) const {
    auto it = m_tensors.find(name);
    if (it == m_tensors.end()) fail(l, "its input '" + name + "' is not defined before it");
    return it->second;
  }

  const KTensor& singleInput(const KLayer& l) const {
    if (l.inputs.size() != 1) fail(l, "expects one input, got " + std::to_string(l.inputs.size()));
    return tensor(l, l.inputs[0]);
  }

  const KTensor& spatialInput(const KLayer& l) const {
    const KTensor& in = singleInput(l);
    if (!in.spatial)
      fail(l, "expects an image input (H x W x C), got a feature vector of " +
                  std::to_string(in.shape.numel()));
    if (channelsFirstParam(l) != in.channelsFirst)
      fail(l, std::string("data_format ") +
                  (in.channelsFirst ? "channels_last" : "channels_first") + " on a " +
                  (in.channelsFirst ? "channels_first" : "channels_last") +
                  " tensor is not supported (mixed data formats)");
    return in;
  }

  std::string uniqueName(const std::string& base) {
    std::string name = base;
    for (int i = 1; m_names.count(name); ++i) name = base + "_" + std::to_string(i);
    m_names.insert(name);
    return name;
  }

  // Appends `spec` reading `inputs`; `shape` is given for Conv/Dense (no weights yet), else
  // inferred. Returns the new layer's output shape.
  Shape emit(LayerSpec spec, const std::vector<const KTensor*>& inputs,
             const Shape* shape = nullptr) {
    if (m_out.layers.size() >= 4 * kMaxLayers) fail("the model has too many layers");
    spec.name = uniqueName(spec.name);
    std::vector<Shape> in;
    for (const KTensor* t : inputs) {
      spec.inputs.push_back(t->producer);
      in.push_back(t->shape);
    }
    Shape out;
    if (shape) {
      out = *shape;
    } else {
      try {
        out = inferOutputShape(spec, in);
      } catch (const Error& e) {
        fail(e.what());
      }
    }
    m_out.layers.push_back(std::move(spec));
    return out;
  }

  // Follows a layer with its Keras `activation` as a separate layer; updates `t`.
  void applyActivation(const KLayer& l, const std::string& act, KTensor& t) {
    if (act == "linear") return;
    LayerSpec s;
    if (act == "relu") {
      s.type = LayerType::Relu;
      s.name = l.name + "_relu";
    } else if (act == "softmax") {
      s.type = LayerType::Softmax;
      s.name = l.name + "_softmax";
      s.axis.axis = ourAxis(l, t, -1);
    } else {
      fail(l,
           "activation '" + act + "' is not supported (supported: " + kSupportedActivations + ")");
    }
    t.shape = emit(s, {&t});
    t.producer = m_out.layers.back().name;
  }

  std::string activationParam(const KLayer& l) const {
    const Json* v = param(l, "activation");
    if (!v) return "linear";
    if (v->is_string()) return v->get<std::string>();
    if (v->is_object() && v->contains("config") && (*v)["config"].is_string())
      return (*v)["config"].get<std::string>();  // Keras 3 may wrap the name
    fail(l, "activation " + jsonText(*v) +
                " is not supported (supported: " + kSupportedActivations + ")");
  }

  // Maps a Keras axis of the batched tensor to ours.
  int ourAxis(const KLayer& l, const KTensor& t, int64_t kerasAxis) const {
    if (!t.spatial) {
      if (kerasAxis == -1 || kerasAxis == 1) return 1;
      fail(l, "axis " + std::to_string(kerasAxis) + " is out of range for a feature vector");
    }
    int64_t a = kerasAxis < 0 ? kerasAxis + 4 : kerasAxis;
    if (a < 1 || a > 3)
      fail(l, "axis " + std::to_string(kerasAxis) +
                  " is not supported (the batch axis or out of "
                  "range)");
    if (t.channelsFirst) return static_cast<int>(a);
    static constexpr int kFromChannelsLast[4] = {0, 2, 3, 1};  // H -> 2, W -> 3, C -> 1
    return kFromChannelsLast[a];
  }

  // ---- model structure ------------------------------------------------------------------------

  KLayer parseLayer(const Json& j, size_t index) const {
    KLayer l;
    l.index = index;
    if (!j.is_object() || !j.contains("class_name") || !j["class_name"].is_string())
      fail("layer " + std::to_string(index) + " has no class_name");
    l.cls = canonicalClass(j["class_name"].get<std::string>());
    static const Json kEmpty = Json::object();
    l.config = j.contains("config") && j["config"].is_object() ? &j["config"] : &kEmpty;
    if (j.contains("name") && j["name"].is_string())
      l.name = j["name"].get<std::string>();
    else if (l.config->contains("name") && (*l.config)["name"].is_string())
      l.name = (*l.config)["name"].get<std::string>();
    if (l.name.empty()) fail("layer " + std::to_string(index) + " (" + l.cls + ") has no name");
    if (l.name.size() > 1024) fail("layer " + std::to_string(index) + " has an absurd name");
    return l;
  }

  // Decides the image layout from the first spatial layer's data_format.
  void detectDataFormat(const std::vector<KLayer>& layers) {
    for (const KLayer& l : layers)
      if (l.cls == "Conv2D" || l.cls == "MaxPooling2D" || l.cls == "AveragePooling2D" ||
          l.cls == "GlobalAveragePooling2D") {
        m_channelsFirst = channelsFirstParam(l);
        return;
      }
  }

  void setInput(const KLayer& l, const Json& shape, const std::string& inputName) {
    if (m_haveInput) fail(l, "a second input is not supported (models have one input)");
    if (!shape.is_array() || (shape.size() != 4 && shape.size() != 2))
      fail(l, "input shape " + jsonText(shape) +
                  " is not supported (expected (H, W, C) images or (features))");
    std::vector<int64_t> d;
    for (size_t i = 1; i < shape.size(); ++i) {
      if (shape[i].is_null())
        fail(l, "input shape " + jsonText(shape) +
                    " has an unknown dimension (zfvis needs a fixed input size)");
      d.push_back(intValue(l, "input dimension", shape[i], 1, kMaxDim));
    }
    KTensor t;
    t.producer = inputName;
    if (d.size() == 3) {
      t.spatial = true;
      t.channelsFirst = m_channelsFirst;
      t.shape = m_channelsFirst ? Shape{d[0], d[1], d[2]} : Shape{d[2], d[0], d[1]};
    } else {
      t.shape = Shape{d[0]};
    }
    if (t.shape.numel() > (int64_t(1) << 31))
      fail(l, "input shape " + jsonText(shape) + " is too large");
    m_out.input.name = inputName;
    m_out.input.shape = t.shape;
    m_names.insert(inputName);
    m_haveInput = true;
    m_tensors[l.name] = t;
  }

  const Json* batchShape(const KLayer& l) const {
    for (const char* key : {"batch_input_shape", "batch_shape"})
      if (const Json* v = param(l, key)) return v;
    return nullptr;
  }

  void buildSequential(const Json& config) {
    const Json* list = nullptr;
    if (config.is_array())
      list = &config;  // Keras <= 2.2.2
    else if (config.is_object() && config.contains("layers") && config["layers"].is_array())
      list = &config["layers"];
    if (!list) fail("Sequential model_config has no layer list");
    if (list->size() > kMaxLayers) fail("the model has too many layers");
    std::vector<KLayer> layers;
    for (size_t i = 0; i < list->size(); ++i) layers.push_back(parseLayer((*list)[i], i));
    detectDataFormat(layers);
    std::string previous;
    for (KLayer& l : layers) {
      if (l.cls == "InputLayer") {
        if (!previous.empty()) fail(l, "an InputLayer must come first in a Sequential model");
        const Json* s = batchShape(l);
        if (!s) fail(l, "has no batch_input_shape");
        setInput(l, *s, l.name);
        previous = l.name;
        continue;
      }
      if (previous.empty()) {
        const Json* s = batchShape(l);
        if (!s)
          fail(l,
               "the first layer of a Sequential model has no batch_input_shape (the model "
               "was saved before it was built?)");
        KLayer input = l;
        input.name = l.name + "_input";
        setInput(input, *s, input.name);
        previous = input.name;
      }
      l.inputs = {previous};
      addLayer(l);
      previous = l.name;
    }
    if (!m_haveInput) fail("the model has no input");
  }

  // Collects [layer, node, tensor] references from a Keras 2 node list or a Keras 3 node object.
  void nodeInputs(const KLayer& l, const Json& node, std::vector<std::string>& out,
                  int depth) const {
    if (depth > kMaxJsonDepth) fail(l, "inbound_nodes are nested too deeply");
    auto addRef = [&](const Json& ref) {
      if (!ref.is_array() || ref.size() < 3 || !ref[0].is_string())
        fail(l, "has an unreadable inbound node " + jsonText(ref));
      if (!ref[1].is_number_integer() || !ref[2].is_number_integer() || ref[1].get<int64_t>() ||
          ref[2].get<int64_t>())
        fail(l,
             "uses output " + jsonText(ref) + " of a shared or multi-output layer (not supported)");
      out.push_back(ref[0].get<std::string>());
    };
    if (node.is_array()) {
      if (!node.empty() && node[0].is_string()) {
        addRef(node);
        return;
      }
      for (const Json& e : node) nodeInputs(l, e, out, depth + 1);
    } else if (node.is_object()) {
      if (node.contains("config") && node["config"].is_object() &&
          node["config"].contains("keras_history")) {
        addRef(node["config"]["keras_history"]);
        return;
      }
      if (node.contains("args")) nodeInputs(l, node["args"], out, depth + 1);
    }
  }

  // The single [name, 0, 0] entry of input_layers / output_layers.
  std::string endpoint(const Json& config, const char* key) const {
    if (!config.contains(key)) fail(std::string("Functional model_config has no ") + key);
    const Json* e = &config[key];
    if (e->is_array() && e->size() == 1 && (*e)[0].is_array()) e = &(*e)[0];
    if (!e->is_array() || e->empty() || !(*e)[0].is_string())
      fail(std::string(key) + " " + jsonText(config[key]) +
           " is not supported (models have exactly one input and one output)");
    return (*e)[0].get<std::string>();
  }

  void buildFunctional(const Json& config) {
    if (!config.is_object() || !config.contains("layers") || !config["layers"].is_array())
      fail("Functional model_config has no layer list");
    const Json& list = config["layers"];
    if (list.size() > kMaxLayers) fail("the model has too many layers");
    std::vector<KLayer> layers;
    std::unordered_map<std::string, size_t> byName;
    for (size_t i = 0; i < list.size(); ++i) {
      KLayer l = parseLayer(list[i], i);
      if (list[i].contains("inbound_nodes")) {
        const Json& nodes = list[i]["inbound_nodes"];
        if (!nodes.is_array()) fail(l, "inbound_nodes is not a list");
        if (nodes.size() > 1) fail(l, "is called more than once (shared layers are not supported)");
        if (nodes.size() == 1) nodeInputs(l, nodes[0], l.inputs, 0);
      }
      if (!byName.emplace(l.name, i).second) fail("layer name '" + l.name + "' is used twice");
      layers.push_back(std::move(l));
    }
    detectDataFormat(layers);
    const std::string inputName = endpoint(config, "input_layers");
    const std::string outputName = endpoint(config, "output_layers");
    for (const std::string& n : {inputName, outputName})
      if (!byName.count(n)) fail("model input/output '" + n + "' is not one of its layers");

    // Layers the output depends on.
    std::vector<bool> needed(layers.size(), false);
    std::vector<size_t> stack = {byName[outputName]};
    needed[stack[0]] = true;
    while (!stack.empty()) {
      const KLayer& l = layers[stack.back()];
      stack.pop_back();
      for (const std::string& in : l.inputs) {
        auto it = byName.find(in);
        if (it == byName.end()) fail(l, "its input '" + in + "' is not a layer of the model");
        if (!needed[it->second]) {
          needed[it->second] = true;
          stack.push_back(it->second);
        }
      }
    }
    // Kahn's algorithm, config order first among ready layers.
    std::vector<int> pending(layers.size(), 0);
    std::vector<std::vector<size_t>> users(layers.size());
    for (const KLayer& l : layers) {
      if (!needed[l.index]) continue;
      for (const std::string& in : l.inputs) {
        ++pending[l.index];
        users[byName[in]].push_back(l.index);
      }
    }
    std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
    for (const KLayer& l : layers)
      if (needed[l.index] && pending[l.index] == 0) ready.push(l.index);
    size_t done = 0, total = static_cast<size_t>(std::count(needed.begin(), needed.end(), true));
    while (!ready.empty()) {
      const KLayer& l = layers[ready.top()];
      ready.pop();
      ++done;
      if (l.cls == "InputLayer") {
        if (l.name != inputName) fail(l, "a second input is not supported");
        const Json* s = batchShape(l);
        if (!s) fail(l, "has no batch_input_shape");
        setInput(l, *s, l.name);
      } else {
        if (l.inputs.empty()) fail(l, "has no inputs (not connected to the model input)");
        addLayer(l);
      }
      for (size_t u : users[l.index])
        if (--pending[u] == 0) ready.push(u);
    }
    if (done != total) fail("the layer graph has a cycle");
    if (!m_haveInput) fail("the model's input '" + inputName + "' is not used by its output");
  }

  // ---- layers ---------------------------------------------------------------------------------

  void addLayer(const KLayer& l) {
    const std::string& c = l.cls;
    if (c == "Conv2D") return addConv(l);
    if (c == "MaxPooling2D" || c == "AveragePooling2D") return addPool(l);
    if (c == "GlobalAveragePooling2D") return addGlobalPool(l);
    if (c == "Dense") return addDense(l);
    if (c == "Dropout") return addSimple(l, LayerType::Dropout);
    if (c == "Flatten") return addFlatten(l);
    if (c == "Concatenate") return addConcat(l);
    if (c == "Activation") return addActivation(l);
    if (c == "ReLU") return addRelu(l);
    if (c == "Softmax") return addSoftmax(l);
    if (c == "InputLayer") fail(l, "a second input is not supported (models have one input)");
    if (isModelClass(c)) fail(l, "nested models are not supported (flatten the model first)");
    fail(l, "class '" + c + "' is not supported (supported: " + kSupportedClasses + ")");
  }

  // Keras "same": out = ceil(in / stride), the odd extra pixel goes to the bottom/right.
  static std::pair<int, int> samePads(int64_t in, int kernel, int stride, int dilation) {
    int64_t effective = int64_t(dilation) * (kernel - 1) + 1;
    int64_t out = (in + stride - 1) / stride;
    int64_t total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
    return {static_cast<int>(total / 2), static_cast<int>(total - total / 2)};
  }

  void addConv(const KLayer& l) {
    KTensor t = spatialInput(l);
    const int64_t filters = intParam(l, "filters", -1, 1, kMaxDim);
    if (filters < 0) fail(l, "has no filters");
    auto [kh, kw] = pairParam(l, "kernel_size", {0, 0}, 1, kMaxWindow);
    if (kh == 0) fail(l, "has no kernel_size");
    auto [sh, sw] = pairParam(l, "strides", {1, 1}, 1, kMaxWindow);
    auto [dh, dw] = pairParam(l, "dilation_rate", {1, 1}, 1, kMaxWindow);
    const int64_t groups = intParam(l, "groups", 1, 1, kMaxDim);
    const bool same = samePadding(l);
    const bool bias = boolParam(l, "use_bias", true);
    const std::string act = activationParam(l);
    const int64_t c = t.shape[0], h = t.shape[1], w = t.shape[2];
    if (c % groups || filters % groups)
      fail(l, "input channels " + std::to_string(c) + " and filters " + std::to_string(filters) +
                  " must be divisible by groups " + std::to_string(groups));
    if ((sh > 1 || sw > 1) && (dh > 1 || dw > 1))
      fail(l, "strides > 1 together with dilation_rate > 1 is not supported by Keras");
    LayerSpec s;
    s.name = l.name;
    s.type = LayerType::Conv;
    ConvParams& p = s.conv;
    p.outChannels = static_cast<int>(filters);
    p.kernelH = kh;
    p.kernelW = kw;
    p.strideH = sh;
    p.strideW = sw;
    p.dilationH = dh;
    p.dilationW = dw;
    p.groups = static_cast<int>(groups);
    p.hasBias = bias;
    if (same) {
      auto [top, bottom] = samePads(h, kh, sh, dh);
      auto [left, right] = samePads(w, kw, sw, dw);
      p.pad = Padding{top, left, bottom, right};
    }
    int64_t oh = windowOutputSize(h, kh, sh, p.pad.top, p.pad.bottom, dh, false);
    int64_t ow = windowOutputSize(w, kw, sw, p.pad.left, p.pad.right, dw, false);
    if (oh < 1 || ow < 1)
      fail(l, "kernel " + std::to_string(kh) + " x " + std::to_string(kw) +
                  " does not fit its input " + t.shape.str());
    Shape out{filters, oh, ow};
    emit(s, {&t}, &out);
    m_weights.push_back(
        {l.name, m_out.layers.size() - 1, Shape{kh, kw, c / groups, filters}, bias, {}});
    t.producer = m_out.layers.back().name;
    t.shape = out;
    applyActivation(l, act, t);
    m_tensors[l.name] = t;
  }

  void addPool(const KLayer& l) {
    KTensor t = spatialInput(l);
    auto [kh, kw] = pairParam(l, "pool_size", {2, 2}, 1, kMaxWindow);
    auto [sh, sw] = pairParam(l, "strides", {kh, kw}, 1, kMaxWindow);
    LayerSpec s;
    s.name = l.name;
    s.type = l.cls == "MaxPooling2D" ? LayerType::MaxPool : LayerType::AveragePool;
    PoolParams& p = s.pool;
    p.kernelH = kh;
    p.kernelW = kw;
    p.strideH = sh;
    p.strideW = sw;
    p.countIncludePad = false;  // Keras / TensorFlow average only over real pixels
    if (samePadding(l)) {
      auto [top, bottom] = samePads(t.shape[1], kh, sh, 1);
      auto [left, right] = samePads(t.shape[2], kw, sw, 1);
      p.pad = Padding{top, left, bottom, right};
    }
    t.shape = emit(s, {&t});
    t.producer = m_out.layers.back().name;
    m_tensors[l.name] = t;
  }

  void addGlobalPool(const KLayer& l) {
    KTensor t = spatialInput(l);
    LayerSpec s;
    s.name = l.name;
    s.type = LayerType::GlobalAveragePool;
    t.shape = emit(s, {&t});  // C x 1 x 1
    t.producer = m_out.layers.back().name;
    if (!boolParam(l, "keepdims", false)) {
      t.spatial = false;  // Keras: a feature vector of C (our C x 1 x 1 has the same order)
      t.order.clear();
    }
    m_tensors[l.name] = t;
  }

  void addDense(const KLayer& l) {
    KTensor t = singleInput(l);
    if (t.spatial)
      fail(l, "is applied to an image tensor " + t.shape.str() +
                  " (Keras applies it per pixel; zfvis supports Dense after Flatten or global "
                  "pooling)");
    const int64_t units = intParam(l, "units", -1, 1, kMaxUnits);
    if (units < 0) fail(l, "has no units");
    const bool bias = boolParam(l, "use_bias", true);
    const std::string act = activationParam(l);
    LayerSpec s;
    s.name = l.name;
    s.type = LayerType::Dense;
    s.dense.units = static_cast<int>(units);
    s.dense.hasBias = bias;
    Shape out{units};
    emit(s, {&t}, &out);
    m_weights.push_back(
        {l.name, m_out.layers.size() - 1, Shape{t.shape.numel(), units}, bias, t.order});
    t.producer = m_out.layers.back().name;
    t.shape = out;
    t.order.clear();
    applyActivation(l, act, t);
    m_tensors[l.name] = t;
  }

  void addSimple(const KLayer& l, LayerType type) {
    KTensor t = singleInput(l);
    LayerSpec s;
    s.name = l.name;
    s.type = type;
    t.shape = emit(s, {&t});
    t.producer = m_out.layers.back().name;
    m_tensors[l.name] = t;
  }

  void addFlatten(const KLayer& l) {
    KTensor t = singleInput(l);
    if (t.shape.numel() > kMaxFeatures)
      fail(l, "flattens " + t.shape.str() + " into " + std::to_string(t.shape.numel()) +
                  " features (at most " + std::to_string(kMaxFeatures) + " supported)");
    if (t.spatial) {
      // Keras flattens in its own axis order; Flatten(data_format="channels_first") first moves
      // axis 1 to the end. keras[i] = our axis (0 = C, 1 = H, 2 = W) of Keras axis i.
      std::vector<int> keras =
          t.channelsFirst ? std::vector<int>{0, 1, 2} : std::vector<int>{1, 2, 0};
      if (channelsFirstParam(l)) keras = {keras[1], keras[2], keras[0]};
      const int64_t dims[3] = {t.shape[0], t.shape[1], t.shape[2]};
      std::vector<int64_t> order(static_cast<size_t>(t.shape.numel()));
      bool identity = true;
      int64_t i = 0;
      for (int64_t c = 0; c < dims[0]; ++c)
        for (int64_t y = 0; y < dims[1]; ++y)
          for (int64_t x = 0; x < dims[2]; ++x, ++i) {
            const int64_t pos[3] = {c, y, x};
            int64_t k = 0;
            for (int a : keras) k = k * dims[a] + pos[a];
            order[static_cast<size_t>(i)] = k;
            identity = identity && k == i;
          }
      t.order = identity ? std::vector<int64_t>{} : std::move(order);
      t.spatial = false;
    }
    LayerSpec s;
    s.name = l.name;
    s.type = LayerType::Flatten;
    t.shape = emit(s, {&t});
    t.producer = m_out.layers.back().name;
    m_tensors[l.name] = t;
  }

  void addConcat(const KLayer& l) {
    if (l.inputs.empty()) fail(l, "has no inputs");
    std::vector<KTensor> ins;
    for (const std::string& n : l.inputs) ins.push_back(tensor(l, n));
    const int64_t axis = intParam(l, "axis", -1, -4, 3);
    KTensor out = ins[0];
    out.order.clear();
    LayerSpec s;
    s.name = l.name;
    s.type = LayerType::Concat;
    if (ins[0].spatial) {
      for (const KTensor& t : ins)
        if (!t.spatial || t.channelsFirst != ins[0].channelsFirst)
          fail(l, "mixes image tensors and feature vectors (or data formats)");
      s.axis.axis = ourAxis(l, ins[0], axis);
    } else {
      for (const KTensor& t : ins)
        if (t.spatial) fail(l, "mixes image tensors and feature vectors");
      s.axis.axis = ourAxis(l, ins[0], axis);
      // Feature vectors may be 1-D or C x 1 x 1 (after global pooling): make them all 1-D.
      bool mixed = std::any_of(ins.begin(), ins.end(), [&](const KTensor& t) {
        return t.shape.rank() != ins[0].shape.rank();
      });
      int64_t offset = 0;
      bool identity = true;
      std::vector<int64_t> order;
      for (const KTensor& t : ins) {
        offset += t.shape.numel();
        if (offset > kMaxFeatures)
          fail(l, "joins more than " + std::to_string(kMaxFeatures) + " features (not supported)");
      }
      offset = 0;
      for (KTensor& t : ins) {
        if (mixed && t.shape.rank() != 1) {
          LayerSpec f;
          f.name = t.producer + "_flatten";
          f.type = LayerType::Flatten;
          t.shape = emit(f, {&t});
          t.producer = m_out.layers.back().name;
        }
        for (int64_t i = 0; i < t.shape.numel(); ++i) {
          int64_t k = offset + (t.order.empty() ? i : t.order[static_cast<size_t>(i)]);
          identity = identity && k == static_cast<int64_t>(order.size());
          order.push_back(k);
        }
        offset += t.shape.numel();
      }
      if (!identity) out.order = std::move(order);
    }
    std::vector<const KTensor*> ptrs;
    for (const KTensor& t : ins) ptrs.push_back(&t);
    out.shape = emit(s, ptrs);
    out.producer = m_out.layers.back().name;
    m_tensors[l.name] = out;
  }

  void addActivation(const KLayer& l) {
    const std::string act = stringParam(l, "activation", "");
    KTensor t = singleInput(l);
    LayerSpec s;
    s.name = l.name;
    if (act == "relu") {
      s.type = LayerType::Relu;
    } else if (act == "softmax") {
      s.type = LayerType::Softmax;
      s.axis.axis = ourAxis(l, t, -1);
    } else if (act == "linear") {
      s.type = LayerType::Identity;
    } else {
      fail(l,
           "activation '" + act + "' is not supported (supported: " + kSupportedActivations + ")");
    }
    t.shape = emit(s, {&t});
    t.producer = m_out.layers.back().name;
    m_tensors[l.name] = t;
  }

  void addRelu(const KLayer& l) {
    auto isZero = [&](const char* key) {
      const Json* v = param(l, key);
      return !v || (v->is_number() && v->get<double>() == 0.0);
    };
    if (param(l, "max_value") || !isZero("negative_slope") || !isZero("threshold"))
      fail(l, "only the plain ReLU is supported (no max_value, negative_slope or threshold)");
    addSimple(l, LayerType::Relu);
  }

  void addSoftmax(const KLayer& l) {
    KTensor t = singleInput(l);
    int64_t axis = -1;
    if (const Json* v = param(l, "axis")) {
      const Json& a = v->is_array() && v->size() == 1 ? (*v)[0] : *v;
      axis = intValue(l, "axis", a, -4, 3);
    }
    LayerSpec s;
    s.name = l.name;
    s.type = LayerType::Softmax;
    s.axis.axis = ourAxis(l, t, axis);
    t.shape = emit(s, {&t});
    t.producer = m_out.layers.back().name;
    m_tensors[l.name] = t;
  }

  std::string m_what;
  bool m_channelsFirst = false;
  bool m_haveInput = false;
  NetworkDef m_out;
  std::vector<WeightTarget> m_weights;
  std::unordered_map<std::string, KTensor> m_tensors;
  std::set<std::string> m_names;
};

}  // namespace

std::string supportedKerasClasses() {
  return kSupportedClasses;
}

ModelConfig buildModelConfig(const std::string& json, const std::string& what) {
  Json root = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) throw Error(what + ": model_config is not valid JSON");
  try {
    return Builder(what).build(root);
  } catch (const Json::exception& e) {
    throw Error(what + ": model_config is malformed (" + e.what() + ")");
  }
}

}  // namespace zfvis::keras
