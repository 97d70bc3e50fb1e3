// oneDNN memory layouts as the deconvnet sees them: blocked addressing, gradients in any layout,
// a pool of aligned buffers, and layout keys.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/base/error.h"
#include "core/base/tensor.h"

namespace zfvis::projection {

using dnnl::memory;
using DType = dnnl::memory::data_type;
using Tag = dnnl::memory::format_tag;

memory::dims dimsOf(const Tensor& t);

// Addressing of a 4-D memory whose layout is plain strides plus at most one block of channels
// (nchw, nhwc, nChw8c, nChw16c, ...): element (n, c, y, x) lives at
// off0 + n s0 + (c / B) s1 + y s2 + x s3 + c % B. Lets window copies and zeroing run as plain
// row copies on the layouts the primitives chose, without a reorder primitive per window.
struct Blocked {
  bool ok = false;
  int64_t off0 = 0, s[4] = {0, 0, 0, 0}, blocks = 0, paddedC = 0;
  int64_t B = 1;
  size_t bytes = 0;  // element size
  explicit Blocked(const memory::desc& md) {
    const dnnl_memory_desc_t& d = md.data;
    if (d.ndims != 4 || d.format_kind != dnnl_blocked) return;
    const dnnl_blocking_desc_t& b = d.format_desc.blocking;
    if (b.inner_nblks > 1 || (b.inner_nblks == 1 && b.inner_idxs[0] != 1)) return;
    B = b.inner_nblks == 1 ? b.inner_blks[0] : 1;
    for (int i = 0; i < 4; ++i) s[i] = b.strides[i];
    off0 = d.offset0;
    paddedC = d.padded_dims[1];
    blocks = (paddedC + B - 1) / B;
    bytes = dnnl_data_type_size(d.data_type);
    ok = bytes > 0;
  }
  int64_t at(int64_t n, int64_t cb, int64_t y, int64_t x) const {
    return off0 + n * s[0] + cb * s[1] + y * s[2] + x * s[3];
  }
  bool compatible(const Blocked& o) const {
    return ok && o.ok && B == o.B && bytes == o.bytes && paddedC == o.paddedC;
  }
};

// A gradient: a oneDNN memory in whatever layout the primitive that produced it chose, and what
// keeps its buffer alive (a pooled buffer or a Tensor).
struct Grad {
  memory mem;
  std::shared_ptr<void> hold;
  // Channels [c0, c1) hold every nonzero value (c1 < 0: any channel may): a single seed
  // starts as one channel, and a grouped convolution then needs only that group's weights.
  int64_t c0 = 0, c1 = -1;
  explicit operator bool() const { return bool(mem); }
  memory::desc md() const { return mem.get_desc(); }
  memory::dims dims() const { return mem.get_desc().dims(); }
};

// Reusable 64-byte aligned buffers, so a projection does not page-fault fresh allocations in.
// Keeps at most kCap bytes of free buffers; thread-safe.
class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  ~BufferPool() {
    for (auto& [size, p] : m_free) std::free(p);
  }
  std::shared_ptr<void> get(size_t bytes) {
    bytes = std::max<size_t>(64, (bytes + 63) / 64 * 64);
    void* p = nullptr;
    {
      std::lock_guard lock(m_mutex);
      auto it = m_free.find(bytes);
      if (it != m_free.end()) {
        p = it->second;
        m_free.erase(it);
        m_freeBytes -= bytes;
      }
    }
    if (!p) p = std::aligned_alloc(64, bytes);
    if (!p) throw Error("projector: out of memory (" + std::to_string(bytes) + " bytes)");
    std::weak_ptr<BufferPool> self = weak_from_this();
    return std::shared_ptr<void>(p, [self, bytes](void* q) {
      if (auto pool = self.lock()) {
        pool->put(q, bytes);
      } else {
        std::free(q);
      }
    });
  }

 private:
  static constexpr size_t kCap = size_t(64) << 20;
  void put(void* p, size_t bytes) {
    {
      std::lock_guard lock(m_mutex);
      if (m_freeBytes + bytes <= kCap) {
        m_free.emplace(bytes, p);
        m_freeBytes += bytes;
        return;
      }
    }
    std::free(p);
  }
  std::mutex m_mutex;
  std::multimap<size_t, void*> m_free;
  size_t m_freeBytes = 0;
};

// The channels (axis 1) of dims `to` that hold the elements of channels [c0, c1) of dims `from`:
// the same elements in C order, as Flatten and Reshape keep them (c1 < 0, any channel, stays).
// Seed 5000 of caffe-alexnet's flatten (9216 = 256 x 6 x 6) is channel 5000 / 36 = 138 of pool5.
std::pair<int64_t, int64_t> reshapedChannels(int64_t c0, int64_t c1, const memory::dims& from,
                                             const memory::dims& to);

// A key for a memory layout (dims, type, blocking).
std::string mdKey(const memory::desc& md);

// The layout family (nchw, nChw8c, nChw16c, nhwc) of a 4-D f32 `md`, applied to `dims`; empty
// when `md` is none of them.
memory::desc sameFamily(const memory::desc& md, const memory::dims& dims);

}  // namespace zfvis::projection
