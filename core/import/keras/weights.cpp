#include "core/import/keras/weights.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "core/base/error.h"

namespace zfvis::keras {

namespace {

// Last component of a weight path ("conv2d/kernel:0" -> "kernel:0").
std::string leaf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool startsWith(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// Position of every (c, y, x) of a C x H x W tensor in Keras' H, W, C flattening.
std::vector<int64_t> hwcOrder(const Shape& s) {
  const int64_t c = s[0], h = s[1], w = s[2];
  std::vector<int64_t> order(static_cast<size_t>(s.numel()));
  size_t i = 0;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) order[i++] = (y * w + x) * c + ch;
  return order;
}

}  // namespace

std::string dimsText(const Shape& s) {
  if (s.rank() == 0) return "scalar";
  std::string out;
  for (size_t i = 0; i < s.rank(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

std::vector<std::string> layersWithWeights(const Hdf5File& file, hid_t weightsRoot) {
  auto names = file.stringListAttribute(weightsRoot, "layer_names");
  if (!names) throw Error(file.what() + ": no layer_names attribute (not a Keras weights file)");
  std::vector<std::string> out;
  for (const std::string& name : *names) {
    if (!file.exists(weightsRoot, name))
      throw Error(file.what() + ": layer '" + name + "' is listed in layer_names but has no group");
    Handle g = file.openGroup(weightsRoot, name);
    auto weightNames = file.stringListAttribute(g.get(), "weight_names");
    if (!weightNames)
      throw Error(file.what() + ": layer '" + name + "' has no weight_names attribute");
    if (!weightNames->empty()) out.push_back(name);
  }
  return out;
}

LayerWeights readLayerWeights(const Hdf5File& file, hid_t weightsRoot, const std::string& kerasName,
                              const WeightTarget& t, const std::string& expectedBy) {
  const std::string where = file.what() + ": layer '" + kerasName + "'";
  if (!file.exists(weightsRoot, kerasName)) throw Error(where + " has no weights group");
  Handle group = file.openGroup(weightsRoot, kerasName);
  auto names = file.stringListAttribute(group.get(), "weight_names");
  if (!names) throw Error(where + " has no weight_names attribute");
  const size_t expected = t.hasBias ? 2 : 1;
  if (names->size() != expected)
    throw Error(where + " has " + std::to_string(names->size()) + " weight arrays, " + expectedBy +
                " expects " + std::to_string(expected) +
                (t.hasBias ? " (kernel, bias)" : " (kernel)"));
  // Keras writes the kernel first, then the bias; trust the names when they say otherwise.
  std::string kernelPath = (*names)[0];
  std::string biasPath = expected == 2 ? (*names)[1] : std::string();
  if (expected == 2 && startsWith(leaf(kernelPath), "bias") && startsWith(leaf(biasPath), "kernel"))
    std::swap(kernelPath, biasPath);

  const bool conv = t.kerasKernel.rank() == 4;
  const std::string layout = conv ? " (HWIO)" : " (inputs x units)";
  Handle kernelSet = file.openDataset(group.get(), kernelPath);
  Shape kernelShape(file.datasetDims(kernelSet.get(), kernelPath));
  if (kernelShape != t.kerasKernel)
    throw Error(where + " kernel has shape " + dimsText(kernelShape) + layout + ", " + expectedBy +
                " expects " + dimsText(t.kerasKernel));
  Handle biasSet;
  const Shape biasExpected{t.kerasKernel[t.kerasKernel.rank() - 1]};
  if (expected == 2) {
    biasSet = file.openDataset(group.get(), biasPath);
    Shape biasShape(file.datasetDims(biasSet.get(), biasPath));
    if (biasShape != biasExpected)
      throw Error(where + " bias has shape " + dimsText(biasShape) + ", " + expectedBy +
                  " expects " + dimsText(biasExpected));
  }

  Tensor k = file.readFloats(kernelSet.get(), kernelPath);
  LayerWeights out;
  if (conv) {
    const int64_t kh = t.kerasKernel[0], kw = t.kerasKernel[1], ci = t.kerasKernel[2],
                  co = t.kerasKernel[3];
    out.weights = Tensor(Shape{co, ci, kh, kw});
    const float* src = k.data();
    float* dst = out.weights.data();
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x)
        for (int64_t i = 0; i < ci; ++i)
          for (int64_t o = 0; o < co; ++o) dst[((o * ci + i) * kh + y) * kw + x] = *src++;
  } else {
    const int64_t in = t.kerasKernel[0], units = t.kerasKernel[1];
    if (!t.featureOrder.empty() && static_cast<int64_t>(t.featureOrder.size()) != in)
      throw Error(where + ": internal error: feature order has the wrong size");
    out.weights = Tensor(Shape{units, in});
    const float* src = k.data();
    float* dst = out.weights.data();
    for (int64_t j = 0; j < in; ++j) {
      const int64_t row = t.featureOrder.empty() ? j : t.featureOrder[static_cast<size_t>(j)];
      if (row < 0 || row >= in) throw Error(where + ": internal error: bad feature order");
      for (int64_t u = 0; u < units; ++u) dst[u * in + j] = src[row * units + u];
    }
  }
  if (expected == 2) {
    out.bias = file.readFloats(biasSet.get(), biasPath);
    out.bias.reshape(biasExpected);
  }
  return out;
}

std::vector<size_t> kerasLayerOrder(const NetworkDef& def) {
  const size_t n = def.layers.size();
  if (n == 0) return {};
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index.emplace(def.layers[i].name, i);
  // Longest path to the output (the last layer); layers are in topological order.
  std::vector<int64_t> depth(n, 0);
  for (size_t i = n; i-- > 0;)
    for (const std::string& in : def.layers[i].inputs)
      if (auto it = index.find(in); it != index.end() && it->second < i)
        depth[it->second] = std::max(depth[it->second], depth[i] + 1);
  // Pre-order index of a depth-first walk from the output through the inputs in order.
  constexpr size_t kUnseen = size_t(-1);
  std::vector<size_t> visit(n, kUnseen);
  std::vector<size_t> stack = {n - 1};
  size_t counter = 0;
  while (!stack.empty()) {
    size_t i = stack.back();
    stack.pop_back();
    if (visit[i] != kUnseen) continue;
    visit[i] = counter++;
    const auto& inputs = def.layers[i].inputs;
    for (auto in = inputs.rbegin(); in != inputs.rend(); ++in)
      if (auto it = index.find(*in); it != index.end() && visit[it->second] == kUnseen)
        stack.push_back(it->second);
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (depth[a] != depth[b]) return depth[a] > depth[b];
    return visit[a] < visit[b];  // unreachable layers (kUnseen) last, in definition order
  });
  return order;
}

std::vector<int64_t> kerasFeatureOrder(const NetworkDef& def, const std::vector<Shape>& shapes,
                                       size_t dense) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < def.layers.size(); ++i) index.emplace(def.layers[i].name, i);
  auto shapeOf = [&](const std::string& name) -> const Shape& {
    auto it = index.find(name);
    return it == index.end() ? def.input.shape : shapes[it->second];
  };
  // Order of the features of tensor `name` (empty = C order), walking back through layers that
  // keep the element order.
  std::function<std::vector<int64_t>(std::string, int)> orderOf = [&](std::string name, int depth) {
    for (; depth < 10000; ++depth) {
      const Shape& s = shapeOf(name);
      if (s.rank() == 3 && s[1] * s[2] > 1) return hwcOrder(s);
      auto it = index.find(name);
      if (it == index.end()) return std::vector<int64_t>{};
      const LayerSpec& l = def.layers[it->second];
      switch (l.type) {
        case LayerType::Relu:
        case LayerType::Dropout:
        case LayerType::Identity:
        case LayerType::Flatten:
        case LayerType::Softmax:
          name = l.inputs.at(0);
          continue;
        case LayerType::Concat: {
          if (l.axis.axis != 1) return std::vector<int64_t>{};
          std::vector<int64_t> order;
          bool identity = true;
          int64_t offset = 0;
          for (const std::string& in : l.inputs) {
            std::vector<int64_t> part = orderOf(in, depth + 1);
            const int64_t n = shapeOf(in).numel();
            for (int64_t i = 0; i < n; ++i) {
              int64_t k = offset + (part.empty() ? i : part[static_cast<size_t>(i)]);
              identity = identity && k == static_cast<int64_t>(order.size());
              order.push_back(k);
            }
            offset += n;
          }
          return identity ? std::vector<int64_t>{} : order;
        }
        default:
          return std::vector<int64_t>{};
      }
    }
    return std::vector<int64_t>{};
  };
  const LayerSpec& d = def.layers.at(dense);
  if (d.inputs.size() != 1) return {};
  std::vector<int64_t> order = orderOf(d.inputs[0], 0);
  for (size_t i = 0; i < order.size(); ++i)
    if (order[i] != static_cast<int64_t>(i)) return order;
  return {};
}

}  // namespace zfvis::keras
