#include "tests/reference/naive_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

namespace zfvis::ref {

namespace {

int64_t outSize(int64_t in, int k, int s, int pb, int pe, int d, bool ceil) {
  int64_t eff = int64_t(d) * (k - 1) + 1;
  double v = double(in + pb + pe - eff) / s;
  int64_t out = (ceil ? int64_t(std::ceil(v)) : int64_t(std::floor(v))) + 1;
  if (ceil && (out - 1) * s >= in + pb) --out;
  return out;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvParams& p) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t O = w.shape()[0], Cg = w.shape()[1], KH = w.shape()[2], KW = w.shape()[3];
  const int64_t OH = outSize(H, int(KH), p.strideH, p.pad.top, p.pad.bottom, p.dilationH, false);
  const int64_t OW = outSize(W, int(KW), p.strideW, p.pad.left, p.pad.right, p.dilationW, false);
  const int64_t Og = O / p.groups;
  if (Cg * p.groups != C) throw std::runtime_error("ref::conv2d: channel mismatch");
  Tensor y(Shape{N, O, OH, OW});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      const int64_t g = o / Og;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = bias.empty() ? 0.0 : bias[o];
          for (int64_t ci = 0; ci < Cg; ++ci)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * p.strideH - p.pad.top + kh * p.dilationH;
                int64_t iw = ow * p.strideW - p.pad.left + kw * p.dilationW;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc +=
                    double(x.at(n, g * Cg + ci, ih, iw)) * w[((o * Cg + ci) * KH + kh) * KW + kw];
              }
          y.at(n, o, oh, ow) = float(acc);
        }
    }
  return y;
}

Tensor relu(const Tensor& x) {
  Tensor y = x;
  for (int64_t i = 0; i < y.numel(); ++i) y[i] = std::max(y[i], 0.0f);
  return y;
}

Tensor lrn(const Tensor& x, const LrnParams& p) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  Tensor y(x.shape());
  const int64_t below = (p.size - 1) / 2, above = p.size - 1 - below;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          double sum = 0;
          for (int64_t k = std::max<int64_t>(0, c - below); k <= std::min(C - 1, c + above); ++k) {
            double v = x.at(n, k, h, w);
            sum += v * v;
          }
          y.at(n, c, h, w) =
              float(x.at(n, c, h, w) / std::pow(p.bias + p.alpha / p.size * sum, double(p.beta)));
        }
  return y;
}

Tensor maxPool(const Tensor& x, const PoolParams& p, std::vector<int32_t>* switches) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t OH = outSize(H, p.kernelH, p.strideH, p.pad.top, p.pad.bottom, 1, p.ceilMode);
  const int64_t OW = outSize(W, p.kernelW, p.strideW, p.pad.left, p.pad.right, 1, p.ceilMode);
  Tensor y(Shape{N, C, OH, OW});
  if (switches) switches->assign(size_t(y.numel()), -1);
  int64_t idx = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow, ++idx) {
          float best = -std::numeric_limits<float>::infinity();
          int32_t where = -1;
          for (int64_t kh = 0; kh < p.kernelH; ++kh)
            for (int64_t kw = 0; kw < p.kernelW; ++kw) {
              int64_t ih = oh * p.strideH - p.pad.top + kh, iw = ow * p.strideW - p.pad.left + kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              float v = x.at(n, c, ih, iw);
              if (v > best || where < 0) {
                best = v;
                where = int32_t(ih * W + iw);
              }
            }
          y[idx] = best;
          if (switches) (*switches)[size_t(idx)] = where;
        }
  return y;
}

Tensor avgPool(const Tensor& x, const PoolParams& p) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t OH = outSize(H, p.kernelH, p.strideH, p.pad.top, p.pad.bottom, 1, p.ceilMode);
  const int64_t OW = outSize(W, p.kernelW, p.strideW, p.pad.left, p.pad.right, 1, p.ceilMode);
  Tensor y(Shape{N, C, OH, OW});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t h0 = oh * p.strideH - p.pad.top, w0 = ow * p.strideW - p.pad.left;
          int64_t h1 = std::min<int64_t>(h0 + p.kernelH, H + p.pad.bottom);
          int64_t w1 = std::min<int64_t>(w0 + p.kernelW, W + p.pad.right);
          int64_t padded = (h1 - h0) * (w1 - w0);
          double sum = 0;
          int64_t count = 0;
          for (int64_t ih = std::max<int64_t>(h0, 0); ih < std::min(h1, H); ++ih)
            for (int64_t iw = std::max<int64_t>(w0, 0); iw < std::min(w1, W); ++iw) {
              sum += x.at(n, c, ih, iw);
              ++count;
            }
          y.at(n, c, oh, ow) = float(sum / double(p.countIncludePad ? padded : count));
        }
  return y;
}

Tensor globalAvgPool(const Tensor& x) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  Tensor y(Shape{N, C, 1, 1});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double s = 0;
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) s += x.at(n, c, h, w);
      y[n * C + c] = float(s / double(H * W));
    }
  return y;
}

Tensor dense(const Tensor& x, const Tensor& w, const Tensor& bias) {
  const int64_t N = x.shape()[0], I = x.numel() / N, O = w.shape()[0];
  if (w.shape()[1] != I) throw std::runtime_error("ref::dense: feature mismatch");
  Tensor y(Shape{N, O});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      double acc = bias.empty() ? 0.0 : bias[o];
      for (int64_t i = 0; i < I; ++i) acc += double(x[n * I + i]) * w[o * I + i];
      y[n * O + o] = float(acc);
    }
  return y;
}

Tensor softmax(const Tensor& x, int axis, bool coerce2d) {
  const auto& d = x.shape().dims();
  int64_t outer = 1, len = 1, inner = 1;
  for (int i = 0; i < int(d.size()); ++i) {
    if (i < axis)
      outer *= d[i];
    else if (i == axis || coerce2d)
      len *= d[i];
    else
      inner *= d[i];
  }
  Tensor y(x.shape());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double mx = -1e300, sum = 0;
      for (int64_t k = 0; k < len; ++k) mx = std::max(mx, double(x[(o * len + k) * inner + in]));
      for (int64_t k = 0; k < len; ++k) sum += std::exp(double(x[(o * len + k) * inner + in]) - mx);
      for (int64_t k = 0; k < len; ++k)
        y[(o * len + k) * inner + in] =
            float(std::exp(double(x[(o * len + k) * inner + in]) - mx) / sum);
    }
  return y;
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  std::vector<int64_t> d = xs[0].shape().dims();
  int64_t total = 0;
  for (const Tensor& t : xs) total += t.shape()[size_t(axis)];
  d[size_t(axis)] = total;
  Tensor y{Shape(d)};
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= d[size_t(i)];
  for (size_t i = size_t(axis) + 1; i < d.size(); ++i) inner *= d[i];
  int64_t offset = 0;
  for (const Tensor& t : xs) {
    int64_t len = t.shape()[size_t(axis)];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < len; ++k)
        for (int64_t i = 0; i < inner; ++i)
          y[(o * total + offset + k) * inner + i] = t[(o * len + k) * inner + i];
    offset += len;
  }
  return y;
}

Tensor batchNorm(const Tensor& x, const Tensor& params, float eps) {
  const int64_t N = x.shape()[0], C = x.shape()[1], inner = x.numel() / (N * C);
  Tensor y(x.shape());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double scale = params[c], shift = params[C + c], mean = params[2 * C + c],
             var = params[3 * C + c];
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = (n * C + c) * inner + i;
        y[k] = float(scale * (x[k] - mean) / std::sqrt(var + eps) + shift);
      }
    }
  return y;
}

Tensor add(const Tensor& a, const Tensor& b) {
  const auto& da = a.shape().dims();
  std::vector<int64_t> db(da.size(), 1);
  for (size_t i = 0; i < b.shape().rank(); ++i) db[da.size() - b.shape().rank() + i] = b.shape()[i];
  std::vector<int64_t> dout(da.size());
  for (size_t i = 0; i < da.size(); ++i) dout[i] = std::max(da[i], db[i]);
  Tensor y{Shape(dout)};
  std::vector<int64_t> idx(dout.size(), 0);
  for (int64_t k = 0; k < y.numel(); ++k) {
    int64_t ia = 0, ib = 0;
    for (size_t i = 0; i < dout.size(); ++i) {
      ia = ia * da[i] + (da[i] == 1 ? 0 : idx[i]);
      ib = ib * db[i] + (db[i] == 1 ? 0 : idx[i]);
    }
    y[k] = a[ia] + b[ib];
    for (size_t i = dout.size(); i-- > 0;) {
      if (++idx[i] < dout[i]) break;
      idx[i] = 0;
    }
  }
  return y;
}

std::vector<Tensor> forward(const NetworkDef& def, const Tensor& input) {
  std::map<std::string, const Tensor*> named;
  named[def.input.name] = &input;
  std::vector<Tensor> out;
  out.reserve(def.layers.size());
  const int64_t N = input.shape()[0];
  for (const LayerSpec& l : def.layers) {
    std::vector<const Tensor*> in;
    for (const std::string& s : l.inputs) in.push_back(named.at(s));
    const Tensor& x = *in[0];
    switch (l.type) {
      case LayerType::Conv:
        out.push_back(conv2d(x, l.weights, l.bias, l.conv));
        break;
      case LayerType::Relu:
        out.push_back(relu(x));
        break;
      case LayerType::LRN:
        out.push_back(lrn(x, l.lrn));
        break;
      case LayerType::MaxPool:
        out.push_back(maxPool(x, l.pool));
        break;
      case LayerType::AveragePool:
        out.push_back(avgPool(x, l.pool));
        break;
      case LayerType::GlobalAveragePool:
        out.push_back(globalAvgPool(x));
        break;
      case LayerType::Dense:
        out.push_back(dense(x, l.weights, l.bias));
        break;
      case LayerType::Dropout:
      case LayerType::Identity:
        out.push_back(x);
        break;
      case LayerType::Flatten:
        out.push_back(x.reshaped(Shape{N, x.numel() / N}));
        break;
      case LayerType::Reshape: {
        std::vector<int64_t> d{N};
        int64_t known = 1, unknown = -1;
        for (int64_t v : l.reshape.shape) {
          if (v == -1)
            unknown = int64_t(d.size());
          else
            known *= v;
          d.push_back(v);
        }
        if (unknown >= 0) d[size_t(unknown)] = x.numel() / N / known;
        out.push_back(x.reshaped(Shape(d)));
        break;
      }
      case LayerType::Concat: {
        std::vector<Tensor> parts;
        for (const Tensor* t : in) parts.push_back(*t);
        out.push_back(concat(parts, l.axis.axis));
        break;
      }
      case LayerType::Softmax:
        out.push_back(softmax(x, l.axis.axis, l.axis.coerce2d));
        break;
      case LayerType::BatchNorm:
        out.push_back(batchNorm(x, l.weights, l.batchNorm.epsilon));
        break;
      case LayerType::Add:
        out.push_back(add(x, in.size() == 2 ? *in[1] : l.weights));
        break;
    }
    named[l.name] = &out.back();
  }
  return out;
}

double relativeMaxError(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    throw std::runtime_error("shape mismatch: " + a.shape().str() + " vs " + b.shape().str());
  double maxDiff = 0, maxRef = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    maxDiff = std::max(maxDiff, double(std::fabs(a[i] - b[i])));
    maxRef = std::max(maxRef, double(std::fabs(b[i])));
  }
  return maxRef > 0 ? maxDiff / maxRef : maxDiff;
}

}  // namespace zfvis::ref
