#include "tests/reference/opencv_net.h"

#include <map>

#include "core/base/error.h"

namespace zfvis::bench {

namespace {

cv::Mat blob(const Tensor& t) {
  std::vector<int> dims(t.shape().dims().begin(), t.shape().dims().end());
  return cv::Mat(dims, CV_32F, const_cast<float*>(t.data())).clone();
}

}  // namespace

cv::dnn::Net toOpenCvNet(const NetworkDef& def) {
  cv::dnn::Net net;
  std::map<std::string, int> ids{{def.input.name, 0}};
  net.setInputsNames({def.input.name});
  for (const LayerSpec& l : def.layers) {
    cv::dnn::LayerParams p;
    p.name = l.name;
    switch (l.type) {
      case LayerType::Conv:
        p.type = "Convolution";
        p.set("num_output", l.conv.outChannels);
        p.set("kernel_h", l.conv.kernelH);
        p.set("kernel_w", l.conv.kernelW);
        p.set("stride_h", l.conv.strideH);
        p.set("stride_w", l.conv.strideW);
        p.set("pad_t", l.conv.pad.top);
        p.set("pad_l", l.conv.pad.left);
        p.set("pad_b", l.conv.pad.bottom);
        p.set("pad_r", l.conv.pad.right);
        p.set("dilation_h", l.conv.dilationH);
        p.set("dilation_w", l.conv.dilationW);
        p.set("group", l.conv.groups);
        p.set("bias_term", l.conv.hasBias);
        p.blobs.push_back(blob(l.weights));
        if (l.conv.hasBias) p.blobs.push_back(blob(l.bias).reshape(1, 1));
        break;
      case LayerType::Relu:
        p.type = "ReLU";
        break;
      case LayerType::LRN:
        p.type = "LRN";
        p.set("local_size", l.lrn.size);
        p.set("alpha", l.lrn.alpha);
        p.set("beta", l.lrn.beta);
        p.set("bias", l.lrn.bias);
        break;
      case LayerType::MaxPool:
      case LayerType::AveragePool:
        p.type = "Pooling";
        p.set("pool", l.type == LayerType::MaxPool ? "max" : "ave");
        p.set("kernel_h", l.pool.kernelH);
        p.set("kernel_w", l.pool.kernelW);
        p.set("stride_h", l.pool.strideH);
        p.set("stride_w", l.pool.strideW);
        p.set("pad_t", l.pool.pad.top);
        p.set("pad_l", l.pool.pad.left);
        p.set("pad_b", l.pool.pad.bottom);
        p.set("pad_r", l.pool.pad.right);
        p.set("ceil_mode", l.pool.ceilMode);
        p.set("ave_pool_padded_area", l.pool.countIncludePad);
        break;
      case LayerType::GlobalAveragePool:
        p.type = "Pooling";
        p.set("pool", "ave");
        p.set("global_pooling", true);
        break;
      case LayerType::Dense:
        p.type = "InnerProduct";
        p.set("num_output", l.dense.units);
        p.set("bias_term", l.dense.hasBias);
        p.blobs.push_back(blob(l.weights));
        if (l.dense.hasBias) p.blobs.push_back(blob(l.bias).reshape(1, 1));
        break;
      case LayerType::Dropout:
      case LayerType::Identity:
        p.type = "Identity";
        break;
      case LayerType::Flatten:
        p.type = "Flatten";
        break;
      case LayerType::Concat:
        p.type = "Concat";
        p.set("axis", l.axis.axis);
        break;
      case LayerType::Softmax:
        p.type = "Softmax";
        p.set("axis", l.axis.axis);
        break;
      default:
        throw Error("toOpenCvNet: layer '" + l.name + "' (" + std::string(onnxOpName(l.type)) +
                    ") has no OpenCV equivalent here");
    }
    int id = net.addLayer(l.name, p.type, p);
    for (size_t k = 0; k < l.inputs.size(); ++k) net.connect(ids.at(l.inputs[k]), 0, id, int(k));
    ids[l.name] = id;
  }
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

}  // namespace zfvis::bench
