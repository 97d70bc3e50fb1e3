#include "core/analysis/projector/projector_impl.h"

namespace zfvis {

// Padding that turns the geometric input window of `out` into `inWin` (zero unless clipped):
// top, left, bottom, right.
std::array<memory::dim, 4> Projector::Impl::padsFor(size_t i, const Window& out,
                                                    const Window& inWin) const {
  const Window g = geometricInputWindow(i, out, shapeOf(producer(i, 0)));
  if (!g.spatial) return {0, 0, 0, 0};
  return {inWin.baseY - g.baseY, inWin.baseX - g.baseX, g.baseY + g.h - inWin.baseY - inWin.h,
          g.baseX + g.w - inWin.baseX - inWin.w};
}

// The transposed convolution of layer i. When the signal lives in the output channels of one
// group (a single seed: one channel), only those channels and their weights take part: the
// same primitive on the group's slice, placed into a zeroed full-channel result.
Grad Projector::Impl::convBackward(size_t i, Grad g, const Window& outWin, const Window& inWin) {
  const LayerSpec& l = def.layers[i];
  const ConvParams& p = l.conv;
  const memory::dims dstDims = g.dims();
  const int64_t K = dstDims[0];
  const Shape& in = shapeOf(producer(i, 0));
  const int64_t OC = p.outChannels, IC = in[0], G = p.groups, OCg = OC / G, ICg = IC / G;
  // A range that does not fit the layer would address weights outside its tensor.
  if (g.c1 >= 0 && (g.c0 < 0 || g.c0 >= g.c1 || g.c1 > OC))
    throw Error("projector: internal error: the signal's channels [" + std::to_string(g.c0) + ", " +
                std::to_string(g.c1) + ") do not fit layer '" + l.name + "' (" +
                std::to_string(OC) + " channels)");
  const int64_t c0 = g.c1 < 0 ? 0 : g.c0, c1 = g.c1 < 0 ? OC : g.c1;
  const bool sliced = (c0 > 0 || c1 < OC) && c1 > c0 && c0 / OCg == (c1 - 1) / OCg;
  const int64_t group = sliced ? c0 / OCg : 0;
  // The problem the primitive solves: the whole layer, or one group's channels [c0, c1).
  const int64_t oc = sliced ? c1 - c0 : OC, ic = sliced ? ICg : IC, groups = sliced ? 1 : G;
  memory::dims srcDims{K, ic, inWin.h, inWin.w}, outDims{K, oc, dstDims[2], dstDims[3]};
  const auto pads = padsFor(i, outWin, inWin);
  std::string key = "conv/" + std::to_string(i) + "/" + std::to_string(K) + "/" +
                    std::to_string(oc) + "/" + std::to_string(dstDims[2]) + "x" +
                    std::to_string(dstDims[3]) + "/" + std::to_string(inWin.h) + "x" +
                    std::to_string(inWin.w);
  for (memory::dim v : pads) key += "," + std::to_string(v);
  std::unique_lock lock(cache->mutex);
  auto it = cache->conv.find(key);
  if (it == cache->conv.end()) {
    memory::dims wDims = groups > 1
                             ? memory::dims{groups, oc / groups, ic / groups, p.kernelH, p.kernelW}
                             : memory::dims{oc, ic, p.kernelH, p.kernelW};
    // Few input channels (a first layer): channel-blocked layouts pad 3 channels to 16, and
    // oneDNN's GEMM-based kernel on plain layouts is about 3x faster here (1.1 vs 3.4 ms for
    // AlexNet's conv1 window on one thread).
    const Tag layout = ic < 8 ? Tag::nchw : Tag::any;
    memory::desc srcAny(srcDims, DType::f32, layout), dstAny(outDims, DType::f32, layout),
        wAny(wDims, DType::f32, Tag::any);
    memory::dims strides{p.strideH, p.strideW}, dil{p.dilationH - 1, p.dilationW - 1};
    memory::dims padL{pads[0], pads[1]}, padR{pads[2], pads[3]};
    dnnl::convolution_forward::primitive_desc hint(
        {prop_kind::forward_training, algorithm::convolution_direct, srcAny, wAny, dstAny, strides,
         dil, padL, padR},
        engine);
    dnnl::convolution_backward_data::primitive_desc pd(
        {algorithm::convolution_direct, srcAny, wAny, dstAny, strides, dil, padL, padR},
        detail::scratchpadAttr(), engine, hint);
    it = cache->conv.emplace(key, ConvBackward{pd, dnnl::convolution_backward_data(pd), {}}).first;
  }
  ConvBackward cb = it->second;
  // Reordered weights (of the channels taking part), shared by every window geometry that
  // picks the same layout. Plain weights are G x OCg x ICg x kh x kw: output channels
  // [c0, c1) of one group are contiguous.
  memory& w =
      cache->weights["w/" + std::to_string(i) + "/" + std::to_string(sliced ? c0 : 0) + "-" +
                     std::to_string(sliced ? c1 : OC) + "/" + mdKey(cb.pd.weights_desc())];
  if (!w) {
    const memory::desc wMd = cb.pd.weights_desc();
    memory plainW(
        detail::plainMd(wMd.dims()), engine,
        const_cast<float*>(l.weights.data()) + (sliced ? c0 * ICg * p.kernelH * p.kernelW : 0));
    w = plainW;
    if (wMd != plainW.get_desc()) {
      w = memory(wMd, engine);
      detail::reorderNow(stream, plainW, w);
    }
  }
  cb.weights = w;
  lock.unlock();
  Grad diffDst;
  if (sliced) {
    diffDst = alloc(cb.pd.diff_dst_desc());
    reorder(channelSlice(g, c0, c1), diffDst.mem);
  } else {
    diffDst = inLayout(g, cb.pd.diff_dst_desc());
  }
  Grad diffSrc = alloc(cb.pd.diff_src_desc());
  exec(cb.prim, {{DNNL_ARG_DIFF_DST, diffDst.mem},
                 {DNNL_ARG_WEIGHTS, cb.weights},
                 {DNNL_ARG_DIFF_SRC, diffSrc.mem}});
  if (!sliced || G == 1) return diffSrc;
  // Place the group's input channels into a zeroed full-channel gradient.
  const memory::dims full{K, IC, inWin.h, inWin.w};
  memory::desc fullMd = sameFamily(diffSrc.md(), full);
  if (fullMd.is_zero()) fullMd = detail::plainMd(full);
  Grad out = alloc(fullMd, true);
  out.c0 = group * ICg;
  out.c1 = (group + 1) * ICg;
  reorder(diffSrc.mem, channelSlice(out, out.c0, out.c1));
  return out;
}

Grad Projector::Impl::maxPoolBackward(size_t i, Grad g, const Window& outWin, const Window& inWin,
                                      const std::vector<Seed>& seeds) {
  const LayerSpec& l = def.layers[i];
  const PoolParams& p = l.pool;
  const memory::dims d = g.dims();
  const int64_t K = d[0], C = d[1], h = d[2], w = d[3];
  // Pool in the layout the gradient arrives in (plain when it is none of the usual ones).
  memory::desc srcMd = sameFamily(g.md(), {K, C, inWin.h, inWin.w});
  if (srcMd.is_zero()) {
    g = inLayout(g, detail::plainMd(d));
    srcMd = detail::plainMd({K, C, inWin.h, inWin.w});
  }
  const memory::desc dstMd = g.md();
  memory::dims strides{p.strideH, p.strideW}, kernel{p.kernelH, p.kernelW};
  const auto pads = padsFor(i, outWin, inWin);
  memory::dims padL{pads[0], pads[1]}, padR{pads[2], pads[3]};
  std::string key = "pool/" + std::to_string(i) + "/" + mdKey(dstMd) + "/" + mdKey(srcMd);
  for (memory::dim v : pads) key += "," + std::to_string(v);
  std::unique_lock lock(cache->mutex);
  auto it = cache->pool.find(key);
  if (it == cache->pool.end()) {
    dnnl::pooling_forward::primitive_desc hint({prop_kind::forward_training, algorithm::pooling_max,
                                                srcMd, dstMd, strides, kernel, padL, padR},
                                               engine);
    dnnl::pooling_backward::primitive_desc pd(
        {algorithm::pooling_max, srcMd, dstMd, strides, kernel, padL, padR},
        detail::scratchpadAttr(), engine, hint);
    it = cache->pool.emplace(key, PoolBackward{pd, dnnl::pooling_backward(pd)}).first;
  }
  PoolBackward pb = it->second;
  lock.unlock();
  const memory::desc wsMd = pb.pd.workspace_desc();
  if (wsMd.dims() != memory::dims{K, C, h, w})
    throw Error("layer '" + l.name + "': unexpected max-pool workspace layout");
  // The forward workspace holds, per output, the switch as an offset inside its pooling
  // window (the same encoding the backward primitive reads; the window starts are the same
  // in the cropped geometry). Copy each seed's window of it; outside the map stays 0.
  const Shape& out = shapes[i];
  Grad ws = alloc(wsMd, !windowsInside(outWin, seeds, out[1], out[2]));
  const memory* switches = acts.poolWorkspace(i);
  if (!switches) throw Error("layer '" + l.name + "': the forward run kept no switches");
  copyWindows(*switches, outWin, seeds, ws.mem);
  Grad diffSrc = alloc(pb.pd.diff_src_desc());
  exec(
      pb.prim,
      {{DNNL_ARG_DIFF_DST, g.mem}, {DNNL_ARG_WORKSPACE, ws.mem}, {DNNL_ARG_DIFF_SRC, diffSrc.mem}});
  return diffSrc;
}

// Average pooling spreads each output's signal evenly over its window (its gradient).
Tensor Projector::Impl::avgPoolBackward(size_t i, const Tensor& g, const Window& outWin,
                                        const Window& inWin, const std::vector<Seed>& seeds) {
  const LayerSpec& l = def.layers[i];
  const PoolParams& p = l.pool;
  const Shape& in = shapeOf(producer(i, 0));
  const int64_t H = in[1], W = in[2];
  const int64_t K = g.shape()[0], C = g.shape()[1], h = g.shape()[2], w = g.shape()[3];
  Tensor out(Shape{K, C, inWin.h, inWin.w});
  for (int64_t k = 0; k < K; ++k) {
    const int oy0 = outWin.originY(seeds[size_t(k)]), ox0 = outWin.originX(seeds[size_t(k)]);
    const int iy0 = inWin.originY(seeds[size_t(k)]), ix0 = inWin.originX(seeds[size_t(k)]);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const int64_t hs = (oy0 + y) * p.strideH - p.pad.top,
                      ws = (ox0 + x) * p.strideW - p.pad.left;
        const int64_t he = std::min<int64_t>(hs + p.kernelH, H + p.pad.bottom);
        const int64_t we = std::min<int64_t>(ws + p.kernelW, W + p.pad.right);
        const int64_t y0 = std::max<int64_t>(hs, 0), y1 = std::min(he, H);
        const int64_t x0 = std::max<int64_t>(ws, 0), x1 = std::min(we, W);
        if (y0 >= y1 || x0 >= x1) continue;
        const double div =
            p.countIncludePad ? double((he - hs) * (we - ws)) : double((y1 - y0) * (x1 - x0));
        for (int64_t c = 0; c < C; ++c) {
          const float v = float(g.at(k, c, y, x) / div);
          if (v == 0.0f) continue;
          for (int64_t yy = y0; yy < y1; ++yy)
            for (int64_t xx = x0; xx < x1; ++xx) out.at(k, c, yy - iy0, xx - ix0) += v;
        }
      }
  }
  return out;
}

Grad Projector::Impl::lrnBackward(size_t i, Grad g, const Window& win,
                                  const std::vector<Seed>& seeds) {
  const LayerSpec& l = def.layers[i];
  const int p = producer(i, 0);
  // oneDNN's fast LRN kernels want channel-blocked layouts; the plain one is a slow reference.
  const memory::dims dims = g.dims();
  const int64_t C = dims[1];
  const memory::desc b16(dims, DType::f32, Tag::nChw16c), b8(dims, DType::f32, Tag::nChw8c);
  memory::desc md = g.md();
  if (md != b16 && md != b8) md = C % 16 == 0 ? b16 : C % 8 == 0 ? b8 : detail::plainMd(dims);
  g = inLayout(g, md);
  std::string key = "lrn/" + std::to_string(i) + "/" + mdKey(md);
  std::unique_lock lock(cache->mutex);
  auto it = cache->lrn.find(key);
  if (it == cache->lrn.end()) {
    dnnl::lrn_forward::primitive_desc fwd(
        {prop_kind::forward_training, algorithm::lrn_across_channels, md, l.lrn.size, l.lrn.alpha,
         l.lrn.beta, l.lrn.bias},
        detail::scratchpadAttr(), engine);
    dnnl::lrn_backward::primitive_desc bwd(
        {algorithm::lrn_across_channels, md, md, l.lrn.size, l.lrn.alpha, l.lrn.beta, l.lrn.bias},
        detail::scratchpadAttr(), engine, fwd);
    it =
        cache->lrn.emplace(key, LrnPrims{fwd, dnnl::lrn_forward(fwd), bwd, dnnl::lrn_backward(bwd)})
            .first;
  }
  LrnPrims lb = it->second;
  lock.unlock();
  // The LRN's input, window by window, straight into the gradient's layout.
  const Shape& in = shapeOf(p);
  Grad src = alloc(md, !windowsInside(win, seeds, in[1], in[2]));
  copyWindows(forwardView(p), win, seeds, src.mem);
  Grad diffSrc = alloc(lb.pd.diff_src_desc());
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DIFF_DST, g.mem}, {DNNL_ARG_DIFF_SRC, diffSrc.mem}};
  Grad ws, dst;
  if (lb.pd.workspace_desc().get_size() > 0) {
    dst = alloc(lb.fwdPd.dst_desc());
    ws = alloc(lb.fwdPd.workspace_desc());
    exec(lb.fwd, {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DST, dst.mem}, {DNNL_ARG_WORKSPACE, ws.mem}});
    args[DNNL_ARG_WORKSPACE] = ws.mem;
  }
  exec(lb.prim, args);
  return diffSrc;
}

Grad Projector::Impl::reluBackward(size_t i, Grad g, const Window& win,
                                   const std::vector<Seed>& seeds, ProjectionMode mode) {
  const bool spatial = shapes[i].rank() == 3;
  if (!spatial) g = inLayout(g, detail::plainMd(g.dims()));
  const memory::desc md = g.md();
  if (mode != ProjectionMode::Saliency) {
    // relu(g): the deconvnet rectifies the signal itself (guided does too, then masks).
    dnnl::primitive relu = miscPrimitive("relu/" + mdKey(md), [&] {
      return dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
          {prop_kind::forward_inference, algorithm::eltwise_relu, md, 0.0f, 0.0f},
          detail::scratchpadAttr(), engine));
    });
    Grad r = alloc(md);
    exec(relu, {{DNNL_ARG_SRC, g.mem}, {DNNL_ARG_DST, r.mem}});
    g = std::move(r);
  }
  if (mode == ProjectionMode::Deconvnet) return g;
  // g * [x > 0] with the forward ReLU output of this sample (x > 0 exactly where it is > 0).
  Grad dst;
  if (spatial) {
    const Shape& s = shapes[i];
    dst = alloc(md, !windowsInside(win, seeds, s[1], s[2]));
    copyWindows(forwardView(int(i)), win, seeds, dst.mem);
  } else {
    const Tensor& y = acts.output(i);
    const int64_t K = g.dims()[0], n = shapes[i].numel();
    dst = alloc(md);
    for (int64_t k = 0; k < K; ++k)
      std::memcpy(static_cast<float*>(dst.hold.get()) + k * n, y.data() + int64_t(sample) * n,
                  size_t(n) * sizeof(float));
  }
  dnnl::primitive mask = miscPrimitive("relu_bwd/" + mdKey(md), [&] {
    dnnl::eltwise_forward::primitive_desc hint(
        {prop_kind::forward_training, algorithm::eltwise_relu_use_dst_for_bwd, md, 0.0f, 0.0f},
        engine);
    return dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(
        {algorithm::eltwise_relu_use_dst_for_bwd, md, md, 0.0f, 0.0f}, detail::scratchpadAttr(),
        engine, hint));
  });
  Grad result = alloc(md);
  exec(mask,
       {{DNNL_ARG_DST, dst.mem}, {DNNL_ARG_DIFF_DST, g.mem}, {DNNL_ARG_DIFF_SRC, result.mem}});
  return result;
}

Grad Projector::Impl::denseBackward(size_t i, Grad g) {
  const LayerSpec& l = def.layers[i];
  const int64_t K = g.dims()[0], O = l.dense.units, I = l.weights.shape()[1];
  memory::desc srcMd = detail::plainMd({K, I}), dstMd = detail::plainMd({K, O});
  memory::desc wPlain = detail::plainMd({O, I});
  g = inLayout(g, detail::plainMd(g.dims()));
  std::string key = "dense/" + std::to_string(i) + "/" + std::to_string(K);
  std::unique_lock lock(cache->mutex);
  auto it = cache->dense.find(key);
  if (it == cache->dense.end()) {
    dnnl::inner_product_forward::primitive_desc hint(
        {prop_kind::forward_training, srcMd, wPlain, dstMd}, engine);
    dnnl::inner_product_backward_data::primitive_desc pd({srcMd, wPlain, dstMd},
                                                         detail::scratchpadAttr(), engine, hint);
    memory w(wPlain, engine, const_cast<float*>(l.weights.data()));
    it = cache->dense.emplace(key, DenseBackward{w, pd, dnnl::inner_product_backward_data(pd)})
             .first;
  }
  DenseBackward db = it->second;
  lock.unlock();
  memory diffDst(dstMd, engine, g.mem.get_data_handle());
  Grad diffSrc = alloc(db.pd.diff_src_desc());
  exec(db.prim, {{DNNL_ARG_DIFF_DST, diffDst},
                 {DNNL_ARG_WEIGHTS, db.weights},
                 {DNNL_ARG_DIFF_SRC, diffSrc.mem}});
  return diffSrc;
}

}  // namespace zfvis
