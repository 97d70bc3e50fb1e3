#include "core/model/network.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <unordered_map>

#include "core/base/error.h"

namespace zfvis {

namespace {

[[noreturn]] void fail(const LayerSpec& layer, const std::string& what) {
  throw Error("layer '" + layer.name + "' (" + std::string(onnxOpName(layer.type)) + "): " + what);
}

std::string shapeList(const std::vector<Shape>& shapes) {
  std::string s;
  for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shapes[i].str();
  return s;
}

void requireRank(const LayerSpec& layer, const Shape& in, size_t rank) {
  if (in.rank() != rank)
    fail(layer,
         "expects a " + std::to_string(rank) + "-D input per sample (C x H x W), got " + in.str());
}

void checkWindow(const LayerSpec& layer, int kh, int kw, int sh, int sw, const Padding& p) {
  if (kh < 1 || kw < 1) fail(layer, "kernel size must be positive");
  if (sh < 1 || sw < 1) fail(layer, "stride must be positive");
  if (p.top < 0 || p.left < 0 || p.bottom < 0 || p.right < 0)
    fail(layer, "padding must not be negative");
}

// Broadcasts b against a (numpy rules, aligned at the right); returns the result or throws.
Shape broadcastShapes(const LayerSpec& layer, const Shape& a, const Shape& b) {
  size_t r = std::max(a.rank(), b.rank());
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.rank() ? 1 : a[i - (r - a.rank())];
    int64_t db = i < r - b.rank() ? 1 : b[i - (r - b.rank())];
    if (da != db && da != 1 && db != 1)
      fail(layer, "cannot broadcast shapes " + a.str() + " and " + b.str());
    out[i] = std::max(da, db);
  }
  return Shape(out);
}

}  // namespace

std::string_view preprocessName(Preprocess p) {
  switch (p) {
    case Preprocess::Caffe:
      return "caffe";
    case Preprocess::Torchvision:
      return "torchvision";
    case Preprocess::Raw:
      return "raw";
  }
  return "?";
}

Preprocess parsePreprocess(std::string_view name) {
  if (name == "caffe") return Preprocess::Caffe;
  if (name == "torchvision") return Preprocess::Torchvision;
  if (name == "raw") return Preprocess::Raw;
  throw UsageError("unknown preprocessing preset '" + std::string(name) +
                   "' (expected caffe, torchvision or raw)");
}

int64_t windowOutputSize(int64_t in, int kernel, int stride, int padBegin, int padEnd, int dilation,
                         bool ceilMode) {
  int64_t effective = int64_t(dilation) * (kernel - 1) + 1;
  int64_t span = in + padBegin + padEnd - effective;
  if (span < 0) return 0;
  int64_t out = ceilMode ? (span + stride - 1) / stride + 1 : span / stride + 1;
  // With ceil rounding the last window must start inside the input or its left padding.
  if (ceilMode && (out - 1) * stride >= in + padBegin) --out;
  return out;
}

Shape inferOutputShape(const LayerSpec& layer, const std::vector<Shape>& in) {
  auto expectInputs = [&](size_t lo, size_t hi) {
    if (in.size() < lo || in.size() > hi)
      fail(layer,
           "expects " +
               (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
               " inputs, got " + std::to_string(in.size()));
  };
  switch (layer.type) {
    case LayerType::Conv: {
      expectInputs(1, 1);
      requireRank(layer, in[0], 3);
      const ConvParams& p = layer.conv;
      checkWindow(layer, p.kernelH, p.kernelW, p.strideH, p.strideW, p.pad);
      if (p.groups < 1) fail(layer, "groups must be positive");
      if (p.dilationH < 1 || p.dilationW < 1) fail(layer, "dilation must be positive");
      if (p.outChannels < 1) fail(layer, "output channels must be positive");
      int64_t c = in[0][0];
      if (c % p.groups || p.outChannels % p.groups)
        fail(layer, "input channels " + std::to_string(c) + " and output channels " +
                        std::to_string(p.outChannels) + " must be divisible by groups " +
                        std::to_string(p.groups));
      Shape w{p.outChannels, c / p.groups, p.kernelH, p.kernelW};
      if (layer.weights.shape() != w)
        fail(layer, "weights have shape " + layer.weights.shape().str() + ", expected " + w.str() +
                        " for input " + in[0].str());
      if (p.hasBias ? layer.bias.shape() != Shape{p.outChannels} : !layer.bias.empty())
        fail(layer, "bias has shape " + layer.bias.shape().str() + ", expected " +
                        (p.hasBias ? std::to_string(p.outChannels) : std::string("none")));
      int64_t oh = windowOutputSize(in[0][1], p.kernelH, p.strideH, p.pad.top, p.pad.bottom,
                                    p.dilationH, false);
      int64_t ow = windowOutputSize(in[0][2], p.kernelW, p.strideW, p.pad.left, p.pad.right,
                                    p.dilationW, false);
      if (oh < 1 || ow < 1)
        fail(layer, "kernel " + std::to_string(p.kernelH) + " x " + std::to_string(p.kernelW) +
                        " does not fit input " + in[0].str());
      return {p.outChannels, oh, ow};
    }
    case LayerType::MaxPool:
    case LayerType::AveragePool: {
      expectInputs(1, 1);
      requireRank(layer, in[0], 3);
      const PoolParams& p = layer.pool;
      checkWindow(layer, p.kernelH, p.kernelW, p.strideH, p.strideW, p.pad);
      if (p.pad.top >= p.kernelH || p.pad.bottom >= p.kernelH || p.pad.left >= p.kernelW ||
          p.pad.right >= p.kernelW)
        fail(layer, "padding must be smaller than the kernel");
      int64_t oh =
          windowOutputSize(in[0][1], p.kernelH, p.strideH, p.pad.top, p.pad.bottom, 1, p.ceilMode);
      int64_t ow =
          windowOutputSize(in[0][2], p.kernelW, p.strideW, p.pad.left, p.pad.right, 1, p.ceilMode);
      if (oh < 1 || ow < 1)
        fail(layer, "window " + std::to_string(p.kernelH) + " x " + std::to_string(p.kernelW) +
                        " does not fit input " + in[0].str());
      return {in[0][0], oh, ow};
    }
    case LayerType::GlobalAveragePool:
      expectInputs(1, 1);
      requireRank(layer, in[0], 3);
      return {in[0][0], 1, 1};
    case LayerType::LRN:
      expectInputs(1, 1);
      requireRank(layer, in[0], 3);
      if (layer.lrn.size < 1) fail(layer, "size must be positive");
      if (!(layer.lrn.bias > 0.0f)) fail(layer, "bias must be positive");
      return in[0];
    case LayerType::Relu:
    case LayerType::Dropout:
    case LayerType::Identity:
      expectInputs(1, 1);
      return in[0];
    case LayerType::BatchNorm: {
      expectInputs(1, 1);
      if (in[0].rank() < 1) fail(layer, "expects an input with a channel axis");
      Shape w{4, in[0][0]};
      if (layer.weights.shape() != w)
        fail(layer, "parameters have shape " + layer.weights.shape().str() + ", expected " +
                        w.str() + " for input " + in[0].str());
      if (!(layer.batchNorm.epsilon >= 0.0f)) fail(layer, "epsilon must not be negative");
      return in[0];
    }
    case LayerType::Dense: {
      expectInputs(1, 1);
      int64_t features = in[0].numel();
      if (layer.dense.units < 1) fail(layer, "units must be positive");
      Shape w{layer.dense.units, features};
      if (layer.weights.shape() != w)
        fail(layer, "weights have shape " + layer.weights.shape().str() + ", expected " + w.str() +
                        " for input " + in[0].str());
      if (layer.dense.hasBias ? layer.bias.shape() != Shape{layer.dense.units}
                              : !layer.bias.empty())
        fail(layer, "bias has shape " + layer.bias.shape().str() + ", expected " +
                        std::to_string(layer.dense.units));
      return {layer.dense.units};
    }
    case LayerType::Flatten:
      expectInputs(1, 1);
      if (layer.axis.axis != 1) fail(layer, "only axis 1 is supported (keeps the batch axis)");
      return {in[0].numel()};
    case LayerType::Reshape: {
      expectInputs(1, 1);
      std::vector<int64_t> dims = layer.reshape.shape;
      int64_t known = 1;
      int unknown = -1;
      for (size_t i = 0; i < dims.size(); ++i) {
        if (dims[i] == -1) {
          if (unknown >= 0) fail(layer, "target shape has more than one -1");
          unknown = static_cast<int>(i);
        } else if (dims[i] < 0) {
          fail(layer, "target shape has a negative dimension");
        } else {
          known *= dims[i];
        }
      }
      if (unknown >= 0) {
        if (known == 0 || in[0].numel() % known)
          fail(layer, "cannot reshape " + in[0].str() + " to " + Shape(dims).str());
        dims[unknown] = in[0].numel() / known;
      }
      Shape out(dims);
      if (out.numel() != in[0].numel())
        fail(layer, "cannot reshape " + in[0].str() + " to " + out.str());
      return out;
    }
    case LayerType::Concat: {
      if (in.empty()) fail(layer, "expects at least one input");
      int axis = layer.axis.axis - 1;
      if (axis < 0 || axis >= static_cast<int>(in[0].rank()))
        fail(layer, "axis " + std::to_string(layer.axis.axis) + " is out of range for inputs " +
                        shapeList(in));
      Shape out = in[0];
      for (size_t i = 1; i < in.size(); ++i) {
        if (in[i].rank() != out.rank())
          fail(layer, "inputs have different ranks: " + shapeList(in));
        for (size_t d = 0; d < out.rank(); ++d)
          if (static_cast<int>(d) != axis && in[i][d] != out[d])
            fail(layer, "inputs differ outside axis " + std::to_string(layer.axis.axis) + ": " +
                            shapeList(in));
        out[axis] += in[i][axis];
      }
      return out;
    }
    case LayerType::Softmax:
      expectInputs(1, 1);
      if (layer.axis.axis < 1 || layer.axis.axis > static_cast<int>(in[0].rank()))
        fail(layer, "axis " + std::to_string(layer.axis.axis) + " is out of range for input " +
                        in[0].str() + " (the batch axis 0 cannot be normalised)");
      return in[0];
    case LayerType::Add: {
      expectInputs(1, 2);
      if (in.size() == 2) return broadcastShapes(layer, in[0], in[1]);
      if (layer.weights.empty()) fail(layer, "has one input and no constant operand");
      Shape out = broadcastShapes(layer, in[0], layer.weights.shape());
      if (out != in[0])
        fail(layer, "constant of shape " + layer.weights.shape().str() +
                        " would change the input shape " + in[0].str());
      return out;
    }
  }
  fail(layer, "unknown layer type");
}

std::vector<std::vector<int>> NetworkDef::inputIndices() const {
  std::unordered_map<std::string_view, int> index;
  std::vector<std::vector<int>> out(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& layer = layers[i];
    if (layer.name.empty()) throw Error("layer " + std::to_string(i) + " has no name");
    if (layer.name == input.name || index.count(layer.name))
      throw Error("layer name '" + layer.name + "' is used twice");
    for (const std::string& src : layer.inputs) {
      if (src == input.name) {
        out[i].push_back(kNetworkInput);
      } else if (auto it = index.find(src); it != index.end()) {
        out[i].push_back(it->second);
      } else {
        fail(layer, "input '" + src + "' is not the network input or an earlier layer");
      }
    }
    index.emplace(layer.name, static_cast<int>(i));
  }
  return out;
}

std::vector<Shape> NetworkDef::outputShapes() const {
  if (input.shape.rank() == 0) throw Error("network '" + name + "': the input has no shape");
  for (int64_t d : input.shape.dims())
    if (d < 1)
      throw Error("network '" + name + "': input '" + input.name + "' has shape " +
                  input.shape.str() + " (all dimensions must be positive)");
  const std::vector<std::vector<int>> producers = inputIndices();
  std::vector<Shape> shapes;
  shapes.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    std::vector<Shape> in;
    for (int p : producers[i]) in.push_back(p == kNetworkInput ? input.shape : shapes[size_t(p)]);
    shapes.push_back(inferOutputShape(layers[i], in));
  }
  return shapes;
}

void NetworkDef::validate() const {
  if (layers.empty()) throw Error("network '" + name + "' has no layers");
  outputShapes();
}

int64_t NetworkDef::paramCount() const {
  int64_t n = 0;
  for (const LayerSpec& l : layers) n += l.paramCount();
  return n;
}

int NetworkDef::indexOf(std::string_view n) const {
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == n) return static_cast<int>(i);
  return -1;
}

size_t NetworkDef::resolveLayer(std::string_view s) const {
  int i = indexOf(s);
  if (i >= 0) return static_cast<size_t>(i);
  size_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) {
    if (value < layers.size()) return value;
    throw Error("model '" + name + "': layer index " + std::string(s) + " is out of range (0.." +
                std::to_string(layers.size() - 1) + ")");
  }
  std::string known;
  for (size_t k = 0; k < layers.size() && k < 12; ++k) known += (k ? ", " : "") + layers[k].name;
  if (layers.size() > 12) known += ", ...";
  throw Error("model '" + name + "': no layer named '" + std::string(s) + "' (layers: " + known +
              "; see `zfvis-cli layers`)");
}

std::vector<size_t> NetworkDef::consumers(size_t i) const {
  std::vector<size_t> out;
  for (size_t k = i + 1; k < layers.size(); ++k)
    for (const std::string& src : layers[k].inputs)
      if (src == layers[i].name) {
        out.push_back(k);
        break;
      }
  return out;
}

NetworkDef subNetwork(const NetworkDef& def, size_t first, size_t stop, const Shape& inputShape,
                      const std::string& what) {
  if (first >= stop || stop > def.layers.size())
    throw Error("model '" + def.name + "': layers [" + std::to_string(first) + ", " +
                std::to_string(stop) + ") are not a range of its " +
                std::to_string(def.layers.size()) + " layers");
  NetworkDef sub;
  sub.name = def.name + " (" + what + ")";
  sub.source = def.source;
  sub.untrained = def.untrained;
  sub.input.name = "subnetwork_input";
  for (size_t k = first; k < stop; ++k)
    while (def.layers[k].name == sub.input.name) sub.input.name += "_";
  sub.input.shape = inputShape;
  sub.input.preprocess = def.input.preprocess;
  const std::string& feeder = first == 0 ? def.input.name : def.layers[first - 1].name;
  std::set<std::string_view> inside;
  for (size_t k = first; k < stop; ++k) {
    LayerSpec l = def.layers[k];
    for (std::string& in : l.inputs) {
      if (in == feeder)
        in = sub.input.name;
      else if (!inside.count(in))
        fail(l, "input '" + in + "' lies outside the layers " + def.layers[first].name + ".." +
                    def.layers[stop - 1].name + " that " + what + " runs");
    }
    inside.insert(def.layers[k].name);
    sub.layers.push_back(std::move(l));
  }
  return sub;
}

}  // namespace zfvis
