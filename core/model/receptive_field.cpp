#include "core/model/receptive_field.h"

#include <algorithm>

#include "core/base/error.h"
#include "core/model/op_traits.h"

namespace zfvis {

cv::Rect ReceptiveField::box(int y, int x, cv::Size inputSize) const {
  if (global) return {0, 0, inputSize.width, inputSize.height};
  cv::Rect r(offsetX + x * jumpX, offsetY + y * jumpY, sizeX, sizeY);
  return r & cv::Rect(0, 0, inputSize.width, inputSize.height);
}

std::vector<ReceptiveField> receptiveFields(const NetworkDef& def) {
  const std::vector<std::vector<int>> producers = def.inputIndices();
  std::vector<ReceptiveField> out;
  out.reserve(def.layers.size());
  auto fieldOf = [&out](int p) { return p == kNetworkInput ? ReceptiveField{} : out[size_t(p)]; };
  for (size_t i = 0; i < def.layers.size(); ++i) {
    const LayerSpec& l = def.layers[i];
    const std::vector<int>& from = producers[i];
    if (from.empty()) throw Error("layer '" + l.name + "' has no input");
    // Merge the inputs' fields: the union of what they see (concat, add).
    ReceptiveField in = fieldOf(from[0]);
    for (size_t k = 1; k < from.size(); ++k) {
      const ReceptiveField o = fieldOf(from[k]);
      if (o.global || o.jumpY != in.jumpY || o.jumpX != in.jumpX) {
        in.global = in.global || o.global || o.jumpY != in.jumpY || o.jumpX != in.jumpX;
        continue;
      }
      int y0 = std::min(in.offsetY, o.offsetY), x0 = std::min(in.offsetX, o.offsetX);
      int y1 = std::max(in.offsetY + in.sizeY, o.offsetY + o.sizeY);
      int x1 = std::max(in.offsetX + in.sizeX, o.offsetX + o.sizeX);
      in.offsetY = y0;
      in.offsetX = x0;
      in.sizeY = y1 - y0;
      in.sizeX = x1 - x0;
    }
    ReceptiveField f = in;
    if (const auto w = windowGeometry(l)) {
      f.offsetY = in.offsetY - w->y.padBefore * in.jumpY;
      f.offsetX = in.offsetX - w->x.padBefore * in.jumpX;
      f.sizeY = in.sizeY + (w->y.extent() - 1) * in.jumpY;
      f.sizeX = in.sizeX + (w->x.extent() - 1) * in.jumpX;
      f.jumpY = in.jumpY * w->y.stride;
      f.jumpX = in.jumpX * w->x.stride;
    } else if (opTraits(l.type).spatial == SpatialKind::Global) {
      f.global = true;
    }
    out.push_back(f);
  }
  return out;
}

}  // namespace zfvis
