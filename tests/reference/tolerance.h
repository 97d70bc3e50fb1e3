// Test tolerances derived from float32 arithmetic, never tuned to one machine. oneDNN picks other
// kernels on other CPUs (SSE4.1, AVX2, AVX-512: ONEDNN_MAX_CPU_ISA caps it), and they add in other
// orders, with or without fused multiply-adds; a comparison holds on every CPU when its tolerance
// follows from the length of the sums involved, float32's unit roundoff and the magnitudes.
#pragma once

#include <cstdint>

#include "core/base/tensor.h"
#include "core/model/network.h"

namespace zfvis::ref {

/// float32's unit roundoff u = 2^-24: the largest relative error of one correctly rounded
/// operation.
inline constexpr double kUnitRoundoff = 0x1p-24;

/// Higham's gamma_n = n u / (1 - n u): a float32 sum of n products, in any order and with or
/// without fused multiply-adds, is within gamma_n * sum |terms| of the exact sum.
double gammaN(int64_t n);

/// Relative tolerance for one float32 sum of n terms against an exact (double) one: 4 (sqrt(n) + 1)
/// u (the random-walk bound of chainTolerance below for a single layer).
double sumTolerance(int64_t n);

/// Number of terms in the longest float32 sum one output element of `layer` needs (Conv: one
/// group's C x kH x kW plus the bias; Dense: its inputs plus the bias; pooling: the window; LRN
/// and Softmax: their windows plus kTranscendentalTerms for pow / exp; 1 for element-wise layers;
/// 0 for layers that only move values).
int64_t sumLength(const LayerSpec& layer, const std::vector<Shape>& inputShapes);

/// A transcendental function (oneDNN's polynomial exp / log / pow) counted as a sum of this many
/// terms: those kernels are accurate to a few ulps, about what a 16-term sum's random-walk
/// rounding error (4 u) amounts to.
inline constexpr int64_t kTranscendentalTerms = 16;

/// Relative tolerance, as a fraction of a layer's largest |value|, for comparing two float32
/// evaluations of `def` up to layer `last` that differ only in summation order (another ISA, batch
/// size, kernel, or a double-precision reference). A sum of n terms rounds with an error that is
/// random in sign and grows like sqrt(n) u times its terms (Higham & Mary, SIAM J. Sci. Comput.
/// 41(5), 2019); the layers on the way add their errors; lambda = 4 covers the tail of that
/// distribution and the terms' sum exceeding the layer's largest value by a small factor. The
/// bound is sum over layers <= last of 4 * sqrt(n_l) * u, plus 4 u for the final rounding.
double chainTolerance(const NetworkDef& def, size_t last);
/// chainTolerance up to the network's last layer.
double chainTolerance(const NetworkDef& def);

/// Relative tolerance, as a fraction of the largest |value| of `def`'s final output on `input`:
/// chainTolerance, except after a final Softmax, whose probabilities move by up to 2 p max|dz|
/// for logit errors dz (see softmaxTolerance): there the logits' bound times twice their largest
/// magnitude (from the naive reference forward pass on `input`, batched or one C x H x W sample),
/// plus the softmax's own rounding.
double outputTolerance(const NetworkDef& def, const Tensor& input);

/// Number of terms in the longest float32 sum one input element of `layer` receives when a
/// gradient is propagated back through it (Conv: O / groups output channels times the kernel
/// positions that overlap it, about ceil(k / stride) per axis; Dense: its units; pooling: the
/// overlapping windows; LRN: twice its window plus pow; 0 where values only move).
int64_t backwardSumLength(const LayerSpec& layer);

/// Relative tolerance, as a fraction of the projection's largest |value|, for comparing two
/// float32 back-projections from `layer` to the input: the forward chain's bound (the seed value
/// and the ReLU and LRN inputs) plus the same random-walk bound over the backward sums.
double projectionTolerance(const NetworkDef& def, size_t layer);

/// Lower bound on the cosine between a result and its reference `want` when every element is
/// within `tau` times want's largest |value| M: 1 - cos <= N (tau M)^2 / (2 |want|^2).
double cosineFloor(const Tensor& want, double tau);

/// Tolerance for one softmax output p given the largest absolute error of its logits: since
/// dp_i = p_i (dz_i - sum_j p_j dz_j), |dp_i| <= 2 p_i max|dz|, plus the softmax's own rounding
/// (its `classes`-term normalising sum and one exp), plus 1e-30 absolute: probabilities that small
/// are exp() of logits far below the largest, where exp implementations flush early (OpenCV's
/// returns 0 for e^-84).
double softmaxTolerance(double p, double maxLogitError, int64_t classes);

}  // namespace zfvis::ref
