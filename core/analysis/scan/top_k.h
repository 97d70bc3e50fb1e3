// A unit's top-K images: at most K (value, image, position) entries, strongest first, one per
// image, ties to the smaller image index (the earlier image in scan order). Kept by the scan for
// every unit and used again to merge shards.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace zfvis::scan_detail {

/// One image's response of a unit.
struct TopEntry {
  float value = 0;    // the response
  int64_t image = 0;  // index in the whole collection
  int y = 0, x = 0;   // position in the layer's output
};

/// True when `a` ranks before `b`: larger value, then the earlier image.
inline bool ranksBefore(const TopEntry& a, const TopEntry& b) {
  return a.value > b.value || (a.value == b.value && a.image < b.image);
}

class TopK {
 public:
  explicit TopK(int k) : m_k(size_t(k)) { m_entries.reserve(m_k + 1); }
  /// Adds `e` (an image not offered before) when it ranks among the best K; true if it did.
  bool offer(const TopEntry& e) {
    if (m_entries.size() == m_k && !ranksBefore(e, m_entries.back())) return false;
    m_entries.insert(std::upper_bound(m_entries.begin(), m_entries.end(), e, ranksBefore), e);
    if (m_entries.size() > m_k) m_entries.pop_back();
    return true;
  }
  /// Strongest first.
  const std::vector<TopEntry>& entries() const { return m_entries; }

 private:
  size_t m_k;
  std::vector<TopEntry> m_entries;
};

}  // namespace zfvis::scan_detail
