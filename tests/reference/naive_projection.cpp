#include "tests/reference/naive_projection.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

#include "tests/reference/naive_ops.h"

namespace zfvis::ref {

namespace {

// A batch-1 signal in double precision, shaped like a layer output without the batch: C x H x W
// (or C for vectors; H = W = 1 then).
struct Signal {
  int64_t C = 0, H = 1, W = 1;
  std::vector<double> v;
  Signal() = default;
  Signal(int64_t c, int64_t h, int64_t w) : C(c), H(h), W(w), v(size_t(c * h * w), 0.0) {}
  explicit operator bool() const { return !v.empty(); }
  double& at(int64_t c, int64_t y, int64_t x) { return v[size_t((c * H + y) * W + x)]; }
};

// A forward tensor (batch 1) with the same addressing.
struct Values {
  const Tensor& t;
  int64_t C, H, W;
  explicit Values(const Tensor& tensor) : t(tensor) {
    const Shape& s = t.shape();
    C = s.rank() >= 2 ? s[1] : 1;
    H = s.rank() == 4 ? s[2] : 1;
    W = s.rank() == 4 ? s[3] : 1;
  }
  double at(int64_t c, int64_t y, int64_t x) const { return t[(c * H + y) * W + x]; }
};

Signal zerosLike(const Tensor& t) {
  const Values v(t);
  return Signal(v.C, v.H, v.W);
}

// The transposed convolution: every output's signal goes back through the weights it was made
// with, to the inputs it read. (Loops run over the box of each output channel's nonzero values,
// output columns innermost, only to keep whole built-in networks quick.)
Signal convBackward(const LayerSpec& l, const Signal& g, const Tensor& in) {
  const ConvParams& p = l.conv;
  Signal dx = zerosLike(in);
  const int64_t O = l.weights.shape()[0], Cg = l.weights.shape()[1];
  const int64_t KH = l.weights.shape()[2], KW = l.weights.shape()[3], Og = O / p.groups;
  for (int64_t o = 0; o < O; ++o) {
    const double* go = g.v.data() + o * g.H * g.W;
    int64_t y0 = g.H, y1 = 0, x0 = g.W, x1 = 0;  // box of the nonzero outputs
    for (int64_t oy = 0; oy < g.H; ++oy)
      for (int64_t ox = 0; ox < g.W; ++ox)
        if (go[oy * g.W + ox] != 0) {
          y0 = std::min(y0, oy), y1 = std::max(y1, oy + 1);
          x0 = std::min(x0, ox), x1 = std::max(x1, ox + 1);
        }
    for (int64_t ci = 0; ci < Cg; ++ci) {
      double* d = dx.v.data() + (o / Og * Cg + ci) * dx.H * dx.W;
      for (int64_t ky = 0; ky < KH; ++ky)
        for (int64_t kx = 0; kx < KW; ++kx) {
          const double w = l.weights[((o * Cg + ci) * KH + ky) * KW + kx];
          for (int64_t oy = y0; oy < y1; ++oy) {
            const int64_t iy = oy * p.strideH - p.pad.top + ky * p.dilationH;
            if (iy < 0 || iy >= dx.H) continue;
            for (int64_t ox = x0; ox < x1; ++ox) {
              const int64_t ix = ox * p.strideW - p.pad.left + kx * p.dilationW;
              if (ix >= 0 && ix < dx.W) d[iy * dx.W + ix] += w * go[oy * g.W + ox];
            }
          }
        }
    }
  }
  return dx;
}

// ReLU by the table: deconvnet relu(g), guided relu(g) * [x > 0], saliency g * [x > 0]
// (x > 0 exactly where the ReLU's output y is).
Signal reluBackward(Signal g, const Tensor& y, ProjectionMode mode) {
  for (size_t i = 0; i < g.v.size(); ++i) {
    const bool open = y[int64_t(i)] > 0;
    if (mode == ProjectionMode::Deconvnet) g.v[i] = std::max(g.v[i], 0.0);
    if (mode == ProjectionMode::Guided) g.v[i] = open ? std::max(g.v[i], 0.0) : 0.0;
    if (mode == ProjectionMode::Saliency) g.v[i] = open ? g.v[i] : 0.0;
  }
  return g;
}

// The gradient of ONNX LRN: y_c = x_c d_c^-b with d_c = k + a/n sum_{j in win(c)} x_j^2, so
// dx_j = g_j d_j^-b - (2 a b / n) x_j sum_{c: j in win(c)} g_c x_c d_c^(-b-1).
Signal lrnBackward(const LrnParams& p, const Signal& g, const Tensor& in) {
  const Values x(in);
  const int64_t below = (p.size - 1) / 2, above = p.size - 1 - below;
  Signal dx = zerosLike(in);
  std::vector<double> d(size_t(x.C));
  for (int64_t yy = 0; yy < x.H; ++yy)
    for (int64_t xx = 0; xx < x.W; ++xx) {
      for (int64_t c = 0; c < x.C; ++c) {
        double sum = 0;
        for (int64_t j = std::max<int64_t>(0, c - below); j <= std::min(x.C - 1, c + above); ++j)
          sum += x.at(j, yy, xx) * x.at(j, yy, xx);
        d[size_t(c)] = p.bias + double(p.alpha) / p.size * sum;
      }
      for (int64_t j = 0; j < x.C; ++j) {
        double cross = 0;
        for (int64_t c = std::max<int64_t>(0, j - above); c <= std::min(x.C - 1, j + below); ++c)
          cross += g.v[size_t((c * x.H + yy) * x.W + xx)] * x.at(c, yy, xx) *
                   std::pow(d[size_t(c)], -double(p.beta) - 1);
        dx.at(j, yy, xx) =
            g.v[size_t((j * x.H + yy) * x.W + xx)] * std::pow(d[size_t(j)], -double(p.beta)) -
            2.0 * p.alpha * p.beta / p.size * x.at(j, yy, xx) * cross;
      }
    }
  return dx;
}

// Unpooling: each output's signal goes to the input it took (the switch, found here by a naive
// max pool of the forward input).
Signal maxPoolBackward(const PoolParams& p, const Signal& g, const Tensor& in) {
  std::vector<int32_t> switches;
  maxPool(in, p, &switches);
  Signal dx = zerosLike(in);
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t i = 0; i < g.H * g.W; ++i) {
      const int64_t k = c * g.H * g.W + i;
      if (switches[size_t(k)] >= 0)
        dx.v[size_t(c * dx.H * dx.W + switches[size_t(k)])] += g.v[size_t(k)];
    }
  return dx;
}

// Average pooling spreads each output's signal evenly over the inputs it averaged (divisor as in
// ref::avgPool).
Signal avgPoolBackward(const PoolParams& p, const Signal& g, const Tensor& in) {
  Signal dx = zerosLike(in);
  const int64_t H = dx.H, W = dx.W;
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t oy = 0; oy < g.H; ++oy)
      for (int64_t ox = 0; ox < g.W; ++ox) {
        const int64_t h0 = oy * p.strideH - p.pad.top, w0 = ox * p.strideW - p.pad.left;
        const int64_t h1 = std::min<int64_t>(h0 + p.kernelH, H + p.pad.bottom);
        const int64_t w1 = std::min<int64_t>(w0 + p.kernelW, W + p.pad.right);
        const int64_t y0 = std::max<int64_t>(h0, 0), y1 = std::min(h1, H);
        const int64_t x0 = std::max<int64_t>(w0, 0), x1 = std::min(w1, W);
        const double count =
            p.countIncludePad ? double((h1 - h0) * (w1 - w0)) : double((y1 - y0) * (x1 - x0));
        const double s = g.v[size_t((c * g.H + oy) * g.W + ox)] / count;
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) dx.at(c, iy, ix) += s;
      }
  return dx;
}

// A signal of the same element count, read as the shape of `like` (Flatten, Reshape: both keep
// C order).
Signal reshapedLike(Signal g, const Tensor& like) {
  Signal out = zerosLike(like);
  if (out.v.size() != g.v.size()) throw std::runtime_error("ref::project: reshape size mismatch");
  out.v = std::move(g.v);
  return out;
}

}  // namespace

Tensor project(const NetworkDef& def, const Tensor& input, const std::vector<Tensor>& outputs,
               size_t layer, int channel, int y, int x, ProjectionMode mode, LrnBackward lrn) {
  if (layer >= def.layers.size() || outputs.size() != def.layers.size())
    throw std::runtime_error("ref::project: bad layer or outputs");
  std::map<std::string, int> index;
  for (size_t i = 0; i < def.layers.size(); ++i) index[def.layers[i].name] = int(i);
  auto producer = [&](const std::string& name) {
    return name == def.input.name ? -1 : index.at(name);
  };
  auto valuesOf = [&](int p) -> const Tensor& { return p < 0 ? input : outputs[size_t(p)]; };
  // grad[i]: the signal at layer i's output; grad.back(): at the network input.
  std::vector<Signal> grad(def.layers.size() + 1);
  auto slot = [&](int p) -> Signal& { return p < 0 ? grad.back() : grad[size_t(p)]; };
  auto send = [&](int p, Signal s) {
    Signal& to = slot(p);
    if (!to) {
      to = std::move(s);
      return;
    }
    for (size_t i = 0; i < to.v.size(); ++i) to.v[i] += s.v[i];
  };

  Signal seed = zerosLike(outputs[layer]);
  seed.at(channel, y, x) = Values(outputs[layer]).at(channel, y, x);
  grad[layer] = std::move(seed);

  for (size_t i = layer + 1; i-- > 0;) {
    if (!grad[i]) continue;
    const Signal g = std::move(grad[i]);
    grad[i] = Signal();
    const LayerSpec& l = def.layers[i];
    const int p0 = producer(l.inputs[0]);
    const Tensor& in = valuesOf(p0);
    switch (l.type) {
      case LayerType::Conv:
        send(p0, convBackward(l, g, in));
        break;
      case LayerType::Relu:
        send(p0, reluBackward(g, outputs[i], mode));
        break;
      case LayerType::LRN:
        send(p0, lrn == LrnBackward::Pass ? g : lrnBackward(l.lrn, g, in));
        break;
      case LayerType::MaxPool:
        send(p0, maxPoolBackward(l.pool, g, in));
        break;
      case LayerType::AveragePool:
        send(p0, avgPoolBackward(l.pool, g, in));
        break;
      case LayerType::GlobalAveragePool: {
        Signal dx = zerosLike(in);
        for (int64_t c = 0; c < dx.C; ++c)
          for (int64_t k = 0; k < dx.H * dx.W; ++k)
            dx.v[size_t(c * dx.H * dx.W + k)] = g.v[size_t(c)] / double(dx.H * dx.W);
        send(p0, std::move(dx));
        break;
      }
      case LayerType::Dense: {
        // dx_j = sum_o g_o W[o, j] (the input is flattened in C order).
        Signal dx = zerosLike(in);
        const int64_t I = int64_t(dx.v.size()), O = int64_t(g.v.size());
        for (int64_t o = 0; o < O; ++o) {
          if (g.v[size_t(o)] == 0) continue;
          for (int64_t j = 0; j < I; ++j) dx.v[size_t(j)] += g.v[size_t(o)] * l.weights[o * I + j];
        }
        send(p0, std::move(dx));
        break;
      }
      case LayerType::Flatten:
      case LayerType::Reshape:
        send(p0, reshapedLike(g, in));
        break;
      case LayerType::Dropout:
      case LayerType::Identity:
      case LayerType::Softmax:  // a class is projected from its score: passed unchanged
        send(p0, g);
        break;
      case LayerType::BatchNorm: {
        Signal dx = g;
        const int64_t C = dx.C, inner = int64_t(dx.v.size()) / C;
        for (int64_t c = 0; c < C; ++c)
          for (int64_t k = 0; k < inner; ++k)
            dx.v[size_t(c * inner + k)] *=
                l.weights[c] / std::sqrt(double(l.weights[3 * C + c]) + l.batchNorm.epsilon);
        send(p0, std::move(dx));
        break;
      }
      case LayerType::Add:
        // Both operands get the signal (same shapes only; a constant operand gets nothing).
        for (const std::string& name : l.inputs) {
          if (valuesOf(producer(name)).shape() != outputs[i].shape())
            throw std::runtime_error("ref::project: broadcasting Add is not implemented");
          send(producer(name), g);
        }
        break;
      case LayerType::Concat: {
        // Split along the axis: outer x len x inner blocks, C order.
        const std::vector<int64_t> d = outputs[i].shape().dims();
        const int axis = l.axis.axis;
        int64_t outer = 1, inner = 1;
        for (int a = 0; a < axis; ++a) outer *= d[size_t(a)];
        for (size_t a = size_t(axis) + 1; a < d.size(); ++a) inner *= d[a];
        int64_t offset = 0;
        for (const std::string& name : l.inputs) {
          const int p = producer(name);
          const int64_t len = valuesOf(p).shape()[size_t(axis)];
          Signal part = zerosLike(valuesOf(p));
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t k = 0; k < len * inner; ++k)
              part.v[size_t(o * len * inner + k)] =
                  g.v[size_t((o * d[size_t(axis)] + offset) * inner + k)];
          offset += len;
          send(p, std::move(part));
        }
        break;
      }
    }
  }

  Tensor out(input.shape());
  const Signal& g = grad.back();
  for (size_t i = 0; i < g.v.size(); ++i) out[int64_t(i)] = float(g.v[i]);
  return out;
}

}  // namespace zfvis::ref
