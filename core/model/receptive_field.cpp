#include "core/model/receptive_field.h"

#include <algorithm>
#include <unordered_map>

#include "core/model/op_traits.h"

namespace zfvis {

cv::Rect ReceptiveField::box(int y, int x, cv::Size inputSize) const {
  if (global) return {0, 0, inputSize.width, inputSize.height};
  cv::Rect r(offsetX + x * jumpX, offsetY + y * jumpY, sizeX, sizeY);
  return r & cv::Rect(0, 0, inputSize.width, inputSize.height);
}

std::vector<ReceptiveField> receptiveFields(const NetworkDef& def) {
  std::unordered_map<std::string, ReceptiveField> byName;
  byName[def.input.name] = ReceptiveField{};
  std::vector<ReceptiveField> out;
  out.reserve(def.layers.size());
  for (const LayerSpec& l : def.layers) {
    // Merge the inputs' fields: the union of what they see (concat, add).
    ReceptiveField in = byName.at(l.inputs.at(0));
    for (size_t k = 1; k < l.inputs.size(); ++k) {
      const ReceptiveField& o = byName.at(l.inputs[k]);
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
    byName[l.name] = f;
    out.push_back(f);
  }
  return out;
}

}  // namespace zfvis
