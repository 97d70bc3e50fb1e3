#include "core/analysis/projector/layout.h"

#include <cstring>
#include <string>

namespace zfvis::projection {

memory::dims dimsOf(const Tensor& t) {
  return memory::dims(t.shape().dims().begin(), t.shape().dims().end());
}

std::pair<int64_t, int64_t> reshapedChannels(int64_t c0, int64_t c1, const memory::dims& from,
                                             const memory::dims& to) {
  if (c1 < 0) return {0, -1};
  auto inner = [](const memory::dims& d) {
    int64_t n = 1;
    for (size_t a = 2; a < d.size(); ++a) n *= d[a];
    return n;
  };
  const int64_t per = inner(to);
  return {c0 * inner(from) / per, (c1 * inner(from) + per - 1) / per};
}

std::string mdKey(const memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  std::string k = std::to_string(int(d.data_type)) + ":" + std::to_string(int(d.format_kind));
  for (int i = 0; i < d.ndims; ++i) k += "," + std::to_string(d.dims[i]);
  if (d.format_kind == dnnl_blocked) {
    const dnnl_blocking_desc_t& b = d.format_desc.blocking;
    k += "/";
    for (int i = 0; i < d.ndims; ++i) k += std::to_string(b.strides[i]) + ",";
    for (int i = 0; i < b.inner_nblks; ++i)
      k += "b" + std::to_string(b.inner_idxs[i]) + "x" + std::to_string(b.inner_blks[i]);
    k += "@" + std::to_string(d.offset0);
  }
  return k;
}

memory::desc sameFamily(const memory::desc& md, const memory::dims& dims) {
  if (md.dims().size() == 4 && md.data_type() == DType::f32)
    for (Tag t : {Tag::nchw, Tag::nChw16c, Tag::nChw8c, Tag::nhwc})
      if (memory::desc(md.dims(), DType::f32, t) == md) return memory::desc(dims, DType::f32, t);
  return {};
}

}  // namespace zfvis::projection
