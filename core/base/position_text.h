// How zfvis writes a position for people: "(y 5, x 3)", row first, in every message, caption and
// view, matching the CLI's --position Y,X and the JSON fields y and x.
#pragma once

#include <cstdint>
#include <string>

namespace zfvis {

/// "(y 5, x 3)".
inline std::string positionText(int64_t y, int64_t x) {
  return "(y " + std::to_string(y) + ", x " + std::to_string(x) + ")";
}

/// A rectangle of `height` x `width` pixels at its top-left corner: "11×11 at (y 0, x 4)".
inline std::string regionText(int64_t y, int64_t x, int64_t height, int64_t width) {
  return std::to_string(height) + "×" + std::to_string(width) + " at " + positionText(y, x);
}

}  // namespace zfvis
