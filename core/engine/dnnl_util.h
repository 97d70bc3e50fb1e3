// oneDNN helpers for code that builds and runs primitives of its own (the engine, the deconvnet,
// occlusion, training): user scratchpads, reorders, plain layouts.
#pragma once

#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/base/shape.h"

namespace zfvis::detail {

/// Attributes every cached primitive is created with: a user-provided scratchpad. Debian's
/// oneDNN is built without DNNL_ENABLE_CONCURRENT_EXEC, so with the default library-managed
/// scratchpad a primitive may only run on the thread that created it; with a user scratchpad
/// it can run on any thread (one run at a time per scratchpad).
dnnl::primitive_attr scratchpadAttr(dnnl::primitive_attr attr = {});
/// The scratchpad a primitive needs (empty when none).
dnnl::memory::desc scratchpadOf(const dnnl::primitive& p);
/// Executes `p` with `args` plus a freshly allocated scratchpad when it needs one.
void executeWithScratchpad(const dnnl::primitive& p, dnnl::stream& stream,
                           std::unordered_map<int, dnnl::memory> args);
/// Copies `src` into `dst` (any layouts) with a reorder primitive, on the calling thread.
void reorderNow(dnnl::stream& stream, const dnnl::memory& src, const dnnl::memory& dst);

/// A plain (row-major) f32 memory descriptor for `dims`.
dnnl::memory::desc plainMd(const dnnl::memory::dims& dims,
                           dnnl::memory::data_type type = dnnl::memory::data_type::f32);
/// True when `md` is the plain row-major layout of its dims.
bool isPlain(const dnnl::memory::desc& md);
/// Batched dims of a per-sample shape.
dnnl::memory::dims batchDims(const Shape& perSample, int batch);

}  // namespace zfvis::detail
