#include "core/analysis/predictions.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

namespace zfvis {

std::vector<float> classProbabilities(const float* row, int64_t n, bool endsInSoftmax) {
  std::vector<float> p(row, row + n);
  if (endsInSoftmax || p.empty()) return p;
  const float mx = *std::max_element(p.begin(), p.end());
  double sum = 0;
  for (float& v : p) sum += (v = std::exp(v - mx));
  for (float& v : p) v = static_cast<float>(v / sum);
  return p;
}

std::vector<float> classProbabilities(const NetworkDef& def, const Tensor& output, int64_t sample) {
  if (output.empty() || output.shape().rank() == 0) return {};
  const int64_t n = output.numel() / std::max<int64_t>(1, output.shape()[0]);
  return classProbabilities(output.data() + sample * n, n,
                            !def.layers.empty() && def.layers.back().type == LayerType::Softmax);
}

std::vector<int> topClasses(const std::vector<float>& p, int k) {
  std::vector<int> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  k = std::clamp<int>(k, 0, static_cast<int>(p.size()));
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
    return p[size_t(a)] > p[size_t(b)] || (p[size_t(a)] == p[size_t(b)] && a < b);
  });
  order.resize(size_t(k));
  return order;
}

std::vector<RankedClass> rankedClasses(const std::vector<float>& probabilities, int k,
                                       const std::vector<std::string>& names) {
  std::vector<RankedClass> out;
  for (int c : topClasses(probabilities, k))
    out.push_back({int(out.size()) + 1, c, size_t(c) < names.size() ? names[size_t(c)] : "",
                   probabilities[size_t(c)]});
  return out;
}

std::string predictionLines(const std::vector<RankedClass>& top, bool untrained) {
  std::string text;
  if (untrained) text += "UNTRAINED weights: these predictions are meaningless\n";
  for (const RankedClass& r : top) {
    char line[512];
    std::snprintf(line, sizeof line, "%3d. %7.4f  %4d  %s\n", r.rank, double(r.probability),
                  r.classIndex, r.label.c_str());
    text += line;
  }
  return text;
}

std::string predictionsJson(const NetworkDef& def, const std::string& image, int classes,
                            const std::vector<RankedClass>& top, std::optional<double> forwardMs) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["model"] = def.name;
  j["untrained"] = def.untrained;
  j["image"] = image;
  j["classes"] = classes;
  if (forwardMs) j["forward_ms"] = *forwardMs;
  Json rows = Json::array();
  for (const RankedClass& r : top)
    rows.push_back({{"rank", r.rank},
                    {"class", r.classIndex},
                    {"label", r.label},
                    {"probability", r.probability}});
  j["top"] = rows;
  return j.dump(2);
}

}  // namespace zfvis
