// FilterBank: the weights of one convolution layer (O x I x kH x kW) with what is known about
// them (model, layer, stride, colour order), taken from a network or read from a .npy file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "core/base/tensor.h"
#include "core/model/network.h"

namespace zfvis {

/// Order of the three colour input channels of a first-layer filter bank.
enum class ChannelOrder {
  Bgr,  // channel 0 is blue (Caffe-trained weights)
  Rgb,  // channel 0 is red (Torchvision, Keras)
};

/// "bgr", "rgb".
std::string_view channelOrderName(ChannelOrder order);
/// Parses "bgr" / "rgb"; throws UsageError otherwise.
ChannelOrder parseChannelOrder(std::string_view name);
/// The colour order a preprocessing preset feeds the first layer: Caffe -> BGR, otherwise RGB.
ChannelOrder channelOrderOf(Preprocess preprocess);

struct FilterBank {
  Tensor weights;                                 // O x I x kH x kW, float32
  std::string model;                              // model name, or the .npy file's stem
  std::string source;                             // "built-in", the model file, or the .npy path
  std::string layer;                              // the Conv layer's name ("" for a .npy bank)
  int strideH = 0, strideW = 0;                   // 0: unknown
  ChannelOrder channelOrder = ChannelOrder::Bgr;  // meaningful when colourInput
  bool colourInput = false;                       // I == 3 and the layer reads the image itself
  bool untrained = false;                         // built-in He-normal weights

  /// Number of filters (O).
  int filters() const { return static_cast<int>(weights.shape()[0]); }
  /// Input channels per filter (I).
  int inputChannels() const { return static_cast<int>(weights.shape()[1]); }
  /// Kernel height.
  int kernelH() const { return static_cast<int>(weights.shape()[2]); }
  /// Kernel width.
  int kernelW() const { return static_cast<int>(weights.shape()[3]); }
};

/// Checks that `weights` is a usable filter bank: rank 4, no zero dimension, all values finite;
/// throws Error starting with `what` (the file or layer) otherwise.
void checkFilterBank(const Tensor& weights, const std::string& what);

/// The filters of layer `layer` of `def`; throws Error naming the layer when it is not a Conv.
FilterBank convFilterBank(const NetworkDef& def, size_t layer);
/// Index of the first Conv layer of `def`; throws Error naming the model when there is none.
size_t firstConvLayer(const NetworkDef& def);
/// Reads an O x I x kH x kW float32 .npy filter bank. `stride` 0 means unknown; colour order
/// applies when I == 3. Throws Error naming the file and the shape found.
FilterBank readFilterBankNpy(const std::filesystem::path& path, int stride = 0,
                             ChannelOrder order = ChannelOrder::Bgr);

}  // namespace zfvis
