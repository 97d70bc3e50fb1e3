#include "core/analysis/projector/projector_impl.h"

namespace zfvis {

// Runs the backward pass for a batch of seeds at `target`; returns K x C x H x W.
Tensor Projector::Impl::run(size_t target, const std::vector<Seed>& seeds, ProjectionMode mode,
                            LrnBackward lrn) {
  const std::vector<bool> need = ancestors(target);
  bool clip = false;
  const std::vector<Window> win =
      computeWindows(target, need, seeds.size() == 1 ? &seeds[0] : nullptr, clip);
  const int64_t K = static_cast<int64_t>(seeds.size());
  std::vector<Grad> grad(def.layers.size() + 1);
  auto gslot = [&](int p) -> size_t { return p < 0 ? def.layers.size() : size_t(p); };

  // The seed: zeros except the activation's own value at (c_k, p_k).
  const Shape& ts = shapes[target];
  {
    Tensor seed;
    if (ts.rank() == 3) {
      const Window& w = win[target];
      seed = Tensor(Shape{K, ts[0], w.h, w.w});
      for (int64_t k = 0; k < K; ++k) {
        const Seed& s = seeds[size_t(k)];
        seed.at(k, s.channel, s.y - w.originY(s), s.x - w.originX(s)) = s.value;
      }
    } else {
      seed = Tensor(ts.withBatch(K));
      const int64_t n = ts.numel();
      for (int64_t k = 0; k < K; ++k)
        seed[k * n + seeds[size_t(k)].channel] = seeds[size_t(k)].value;
    }
    grad[target] = fromTensor(std::move(seed));
    if (K == 1) {
      grad[target].c0 = seeds[0].channel;
      grad[target].c1 = seeds[0].channel + 1;
    }
  }

  for (size_t i = target + 1; i-- > 0;) {
    if (!need[i] || !grad[i]) continue;
    const LayerSpec& l = def.layers[i];
    Grad g = std::move(grad[i]);
    grad[i] = Grad();  // free as we go
    const Window& outWin = win[i];
    std::vector<Grad> inGrads;  // one per input, in its natural window
    auto natural = [&](size_t k) {
      return naturalInputWindow(i, outWin, shapeOf(producer(i, k)), clip);
    };
    try {
      switch (l.type) {
        case LayerType::Conv:
          inGrads.push_back(convBackward(i, g, outWin, natural(0)));
          break;
        case LayerType::MaxPool:
          inGrads.push_back(maxPoolBackward(i, g, outWin, natural(0), seeds));
          inGrads.back().c0 = g.c0;
          inGrads.back().c1 = g.c1;
          break;
        case LayerType::AveragePool:
          inGrads.push_back(fromTensor(avgPoolBackward(i, toTensor(g), outWin, natural(0), seeds)));
          break;
        case LayerType::GlobalAveragePool: {
          const Tensor gt = toTensor(g);
          const Shape& in = shapeOf(producer(i, 0));
          Tensor out = Tensor::uninitialized(Shape{K, in[0], in[1], in[2]});
          const int64_t hw = in[1] * in[2];
          for (int64_t k = 0; k < K; ++k)
            for (int64_t c = 0; c < in[0]; ++c) {
              const float v = gt[k * in[0] + c] / float(hw);
              std::fill_n(out.data() + (k * in[0] + c) * hw, hw, v);
            }
          inGrads.push_back(fromTensor(std::move(out)));
          break;
        }
        case LayerType::LRN:
          inGrads.push_back(lrn == LrnBackward::Pass ? g : lrnBackward(i, g, outWin, seeds));
          break;
        case LayerType::Relu:
          inGrads.push_back(reluBackward(i, g, outWin, seeds, mode));
          inGrads.back().c0 = g.c0;
          inGrads.back().c1 = g.c1;
          break;
        case LayerType::Dense: {
          const Shape in = shapeOf(producer(i, 0)).withBatch(K);
          inGrads.push_back(
              reshaped(denseBackward(i, g), memory::dims(in.dims().begin(), in.dims().end())));
          break;
        }
        case LayerType::Flatten:
        case LayerType::Reshape: {
          const Shape in = shapeOf(producer(i, 0)).withBatch(K);
          const memory::dims inDims(in.dims().begin(), in.dims().end());
          Grad r = reshaped(g, inDims);
          // The seed's channel range indexes the output's axis 1; below, the same elements
          // lie in other channels (a flat index is not a channel of the map it came from).
          std::tie(r.c0, r.c1) = reshapedChannels(g.c0, g.c1, g.dims(), inDims);
          inGrads.push_back(std::move(r));
          break;
        }
        case LayerType::Dropout:
        case LayerType::Identity:
        case LayerType::Softmax:  // a class is projected from its score: passed unchanged
          inGrads.push_back(g);
          break;
        case LayerType::BatchNorm: {
          Tensor t = toTensor(g);
          const int64_t C = t.shape()[1], inner = t.numel() / (K * C);
          for (int64_t k = 0; k < K; ++k)
            for (int64_t c = 0; c < C; ++c) {
              const float f = l.weights[c] / std::sqrt(l.weights[3 * C + c] + l.batchNorm.epsilon);
              float* row = t.data() + (k * C + c) * inner;
              for (int64_t e = 0; e < inner; ++e) row[e] *= f;
            }
          inGrads.push_back(fromTensor(std::move(t)));
          break;
        }
        case LayerType::Add:
          for (size_t k = 0; k < l.inputs.size(); ++k) inGrads.push_back(g);
          break;
        case LayerType::Concat: {
          // Split along the axis (plain layout: outer x len x inner blocks).
          const Tensor gt = toTensor(g);
          const auto& d = gt.shape().dims();
          const int axis = l.axis.axis;
          int64_t outer = 1, inner = 1;
          for (int a = 0; a < axis; ++a) outer *= d[size_t(a)];
          for (size_t a = size_t(axis) + 1; a < d.size(); ++a) inner *= d[a];
          int64_t offset = 0;
          for (int p : inputs[i]) {
            std::vector<int64_t> pd = d;
            const Shape& in = shapeOf(p);
            const int64_t len = in[size_t(axis - 1)];
            pd[size_t(axis)] = len;
            Tensor part = Tensor::uninitialized(Shape(pd));
            for (int64_t o = 0; o < outer; ++o)
              std::memcpy(part.data() + o * len * inner,
                          gt.data() + (o * d[size_t(axis)] + offset) * inner,
                          size_t(len * inner) * sizeof(float));
            offset += len;
            inGrads.push_back(fromTensor(std::move(part)));
          }
          break;
        }
      }
    } catch (const dnnl::error& e) {
      throw Error("projection through layer '" + l.name + "' (" + std::string(onnxOpName(l.type)) +
                  ") failed in oneDNN: " + e.what());
    }
    g = Grad();
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const int p = producer(i, k);
      const size_t slot = gslot(p);
      const Shape& in = shapeOf(p);
      const Window nat = natural(k);
      Grad part = std::move(inGrads[k]);
      if (in.rank() == 3) zeroOutside(part, nat, seeds, in[1], in[2]);
      if (!grad[slot]) {
        if (win[slot].spatial && (nat.baseY != win[slot].baseY || nat.baseX != win[slot].baseX ||
                                  nat.h != win[slot].h || nat.w != win[slot].w)) {
          Tensor acc(Shape{K, in[0], win[slot].h, win[slot].w});
          accumulate(acc, toTensor(part), win[slot], nat);
          grad[slot] = fromTensor(std::move(acc));
        } else {
          grad[slot] = std::move(part);
        }
      } else {
        Tensor acc = toTensor(grad[slot]);
        accumulate(acc, toTensor(part), win[slot], nat);
        grad[slot] = fromTensor(std::move(acc));
      }
    }
  }

  // Place each seed's input window into a full-size image.
  const Shape& is = def.input.shape;
  Tensor out(is.withBatch(K));
  const size_t inSlot = def.layers.size();
  if (!grad[inSlot]) return out;
  Grad gp = inLayout(grad[inSlot], detail::plainMd(grad[inSlot].dims()));
  const float* gi = static_cast<const float*>(gp.mem.get_data_handle());
  if (is.rank() != 3) {
    std::memcpy(out.data(), gi, size_t(out.numel()) * sizeof(float));
    return out;
  }
  const Window& w = win[inSlot];
  const int64_t C = is[0], H = is[1], W = is[2];
  for (int64_t k = 0; k < K; ++k) {
    const int oy = w.originY(seeds[size_t(k)]), ox = w.originX(seeds[size_t(k)]);
    const int x0 = std::max(0, -ox), x1 = std::min<int>(w.w, int(W) - ox);
    if (x0 >= x1) continue;
    for (int64_t c = 0; c < C; ++c)
      for (int y = std::max(0, -oy); y < std::min<int>(w.h, int(H) - oy); ++y)
        std::memcpy(&out.at(k, c, oy + y, ox + x0), gi + ((k * C + c) * w.h + y) * w.w + x0,
                    size_t(x1 - x0) * sizeof(float));
  }
  stream.wait();
  return out;
}

}  // namespace zfvis
