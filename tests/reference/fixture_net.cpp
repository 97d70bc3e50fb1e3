#include "tests/reference/fixture_net.h"

#include <fstream>
#include <stdexcept>

#include "core/base/npy.h"
#include "core/model/net_builder.h"

namespace zfvis::testing {

nlohmann::json readFixtureIndex(const std::filesystem::path& dir) {
  std::ifstream f(dir / "index.json");
  if (!f) throw std::runtime_error("missing " + (dir / "index.json").string());
  return nlohmann::json::parse(f);
}

NetworkDef fixtureNetwork(const std::filesystem::path& dir, const std::string& model,
                          const nlohmann::json& spec) {
  const auto& in = spec["input"];
  NetBuilder b(model, Shape{in[0].get<int64_t>(), in[1].get<int64_t>(), in[2].get<int64_t>()});
  for (const auto& l : spec["layers"]) {
    const std::string name = l[0], kind = l[1];
    const auto& p = l[2];
    if (kind == "conv") {
      const int pad = p[3];
      b.conv(name, p[0], p[1], p[2], Padding{pad, pad, pad, pad}, p[4]);
    } else if (kind == "relu") {
      b.relu(name);
    } else if (kind == "lrn") {
      b.lrn(name, p[0], p[1], p[2], p[3]);
    } else if (kind == "maxpool") {
      const int pad = p[2];
      b.maxPool(name, p[0], p[1], Padding{pad, pad, pad, pad}, p[3]);
    } else if (kind == "avgpool") {
      b.avgPool(name, p[0], p[1]);
    } else if (kind == "gap") {
      b.globalAvgPool(name);
    } else if (kind == "flatten") {
      b.flatten(name);
    } else if (kind == "dense") {
      b.dense(name, p[0]);
    } else if (kind == "dropout") {
      b.dropout(name);
    } else if (kind == "softmax") {
      b.softmax(name);
    } else {
      throw std::runtime_error("fixture layer '" + name + "': unknown kind " + kind);
    }
  }
  NetworkDef def = b.build();
  for (LayerSpec& l : def.layers) {
    if (l.type != LayerType::Conv && l.type != LayerType::Dense) continue;
    Tensor w = readNpy(dir / (model + "." + l.name + ".weight.npy"));
    if (w.shape() != l.weights.shape())
      throw std::runtime_error("fixture layer '" + l.name + "': weights " + w.shape().str() +
                               ", expected " + l.weights.shape().str());
    l.weights = std::move(w);
    l.bias = readNpy(dir / (model + "." + l.name + ".bias.npy"));
  }
  return def;
}

}  // namespace zfvis::testing
