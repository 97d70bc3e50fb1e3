#include "core/analysis/training/dataset.h"

#include <cstring>

#include "core/analysis/training/dataset_readers.h"
#include "core/base/error.h"
#include "core/model/image_input.h"

namespace zfvis {

namespace {

struct Spec {
  std::string kind;  // fashion-mnist, cifar10, folder
  std::string dir;   // may be empty for fashion-mnist
};

Spec parseSpec(const std::string& spec) {
  const size_t colon = spec.find(':');
  Spec s{spec.substr(0, colon), colon == std::string::npos ? "" : spec.substr(colon + 1)};
  if (s.kind == "fashion-mnist") {
    if (s.dir.empty()) s.dir = kFashionMnistDir;
    return s;
  }
  if ((s.kind == "cifar10" || s.kind == "folder") && !s.dir.empty()) return s;
  throw UsageError("unknown dataset '" + spec +
                   "' (expected fashion-mnist, fashion-mnist:DIR, cifar10:DIR or folder:DIR)");
}

}  // namespace

cv::Mat ImageSet::image(int64_t i) const {
  const size_t bytes = size_t(height) * size_t(width) * size_t(channels);
  return cv::Mat(height, width, CV_8UC(channels),
                 const_cast<uint8_t*>(pixels.data() + size_t(i) * bytes));
}

Shape naturalInputShape(const std::string& spec) {
  const Spec s = parseSpec(spec);
  if (s.kind == "fashion-mnist") return {1, 28, 28};
  if (s.kind == "cifar10") return {3, 32, 32};
  return {};
}

Dataset loadDataset(const std::string& spec, const Shape& imageShape) {
  const Spec s = parseSpec(spec);
  Dataset d;
  if (s.kind == "fashion-mnist") {
    d = datasets::loadFashionMnist(s.dir);
  } else if (s.kind == "cifar10") {
    d = datasets::loadCifar10(s.dir);
  } else {
    if (imageShape.rank() != 3 || (imageShape[0] != 1 && imageShape[0] != 3))
      throw Error("folder datasets need a model with a 1- or 3-channel image input, not " +
                  imageShape.str());
    d = datasets::loadImageFolder(s.dir, imageShape);
  }
  d.spec = spec;
  return d;
}

void sampleToInput(const ImageSet& set, int64_t i, const InputSpec& input, float* out) {
  const Shape& s = input.shape;
  const int h = int(s[1]), w = int(s[2]);
  cv::Mat img = set.image(i);
  if (img.rows != h || img.cols != w) img = resizeAndCrop(img, h, w);
  const Tensor t = imageToTensor(img, int(s[0]), input.preprocess);
  std::memcpy(out, t.data(), size_t(t.numel()) * sizeof(float));
}

}  // namespace zfvis
