#include "tests/analysis/training/training_fixture.h"

#include <fstream>
#include <random>
#include <stdexcept>

#include "core/base/npy.h"
#include "core/model/net_builder.h"

namespace zfvis::testing {

std::filesystem::path trainingFixtures() {
  return std::filesystem::path(ZFVIS_FIXTURES_DIR) / "training";
}

const nlohmann::json& trainingIndex() {
  static const nlohmann::json index = [] {
    std::ifstream f(trainingFixtures() / "index.json");
    if (!f) throw std::runtime_error("missing training/index.json");
    return nlohmann::json::parse(f);
  }();
  return index;
}

namespace {

std::string bigEndian(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

}  // namespace

void writeQuadrantIdx(const std::filesystem::path& dir, const std::string& prefix, uint32_t n,
                      uint32_t seed) {
  std::mt19937 rng(seed);
  std::string images =
      std::string("\0\0\x08\x03", 4) + bigEndian(n) + bigEndian(28) + bigEndian(28);
  std::string labels = std::string("\0\0\x08\x01", 4) + bigEndian(n);
  for (uint32_t i = 0; i < n; ++i) {
    const int label = int(rng() % 4);
    labels += char(label);
    const int y0 = 2 + 14 * (label / 2) + int(rng() % 3);
    const int x0 = 2 + 14 * (label % 2) + int(rng() % 3);
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        const bool in = y >= y0 && y < y0 + 10 && x >= x0 && x < x0 + 10;
        images += char((in ? 150 : 0) + int(rng() % 100));
      }
  }
  std::ofstream(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary) << images;
  std::ofstream(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary) << labels;
}

std::vector<int32_t> fixtureLabels(const std::string& file) {
  return readNpyInt32(trainingFixtures() / file).values;
}

NetworkDef trainingNetwork(const std::string& name, const nlohmann::json& spec,
                           const std::string& suffix) {
  const auto& in = spec["input"];
  NetBuilder b(name, Shape{in[0].get<int64_t>(), in[1].get<int64_t>(), in[2].get<int64_t>()});
  auto npy = [&](const std::string& layer, const std::string& what) {
    return readNpy(trainingFixtures() / (name + "." + layer + "." + what + suffix + ".npy"));
  };
  for (const auto& l : spec["layers"]) {
    LayerSpec s;
    s.name = l["name"];
    const std::string kind = l["kind"];
    for (const auto& i : l["inputs"]) s.inputs.push_back(i);
    const auto& p = l["params"];
    if (kind == "conv") {
      s.type = LayerType::Conv;
      s.conv.outChannels = p["out"];
      s.conv.kernelH = p["kernel"][0];
      s.conv.kernelW = p["kernel"][1];
      s.conv.strideH = p["stride"][0];
      s.conv.strideW = p["stride"][1];
      s.conv.pad = {p["pad"][0], p["pad"][1], p["pad"][2], p["pad"][3]};
      s.conv.dilationH = s.conv.dilationW = p["dilation"];
      s.conv.groups = p["groups"];
      s.conv.hasBias = p["bias"];
    } else if (kind == "dense") {
      s.type = LayerType::Dense;
      s.dense.units = p["units"];
      s.dense.hasBias = p["bias"];
    } else if (kind == "relu") {
      s.type = LayerType::Relu;
    } else if (kind == "lrn") {
      s.type = LayerType::LRN;
      s.lrn = {p["size"], p["alpha"], p["beta"], p["k"]};
    } else if (kind == "maxpool" || kind == "avgpool") {
      s.type = kind == "maxpool" ? LayerType::MaxPool : LayerType::AveragePool;
      const int pad = p["pad"];
      s.pool.kernelH = s.pool.kernelW = p["kernel"];
      s.pool.strideH = s.pool.strideW = p["stride"];
      s.pool.pad = {pad, pad, pad, pad};
      s.pool.ceilMode = p.value("ceil", false);
      s.pool.countIncludePad = p.value("include_pad", false);
    } else if (kind == "gap") {
      s.type = LayerType::GlobalAveragePool;
    } else if (kind == "flatten") {
      s.type = LayerType::Flatten;
    } else if (kind == "reshape") {
      s.type = LayerType::Reshape;
      s.reshape.shape = p["shape"].get<std::vector<int64_t>>();
    } else if (kind == "identity") {
      s.type = LayerType::Identity;
    } else if (kind == "dropout") {
      s.type = LayerType::Dropout;
    } else if (kind == "concat") {
      s.type = LayerType::Concat;
      s.axis.axis = p["axis"];
    } else if (kind == "softmax") {
      s.type = LayerType::Softmax;
    } else {
      throw std::runtime_error("unknown kind " + kind);
    }
    if (s.type == LayerType::Conv || s.type == LayerType::Dense) {
      s.weights = npy(s.name, "weight");
      if (p["bias"]) s.bias = npy(s.name, "bias");
    }
    b.add(std::move(s));
  }
  return b.build();
}

}  // namespace zfvis::testing
