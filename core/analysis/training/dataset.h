// Labelled image datasets for training, held in memory as 8-bit images:
//   fashion-mnist[:DIR]  Fashion-MNIST's IDX files (gzipped or not) from Debian's
//                        dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) or DIR
//   cifar10:DIR          CIFAR-10's binary batches (data_batch_1..5.bin, test_batch.bin)
//   folder:DIR           one subfolder per class; DIR/train and DIR/test when both exist, else
//                        every 10th image of each class (in name order) is held out for testing
// Samples become network inputs through core's image input path (resize and crop to the model
// input, then the model's preprocessing preset), so a trained model sees a saved test image
// exactly as it saw its training data. Bad or truncated files throw Error naming the file and the
// byte offset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/model/network.h"

namespace zfvis {

/// Images of one split, all the same size.
struct ImageSet {
  int height = 0, width = 0;    // pixels
  int channels = 1;             // 1 (grey) or 3 (BGR)
  std::vector<uint8_t> pixels;  // size() x height x width x channels
  std::vector<int32_t> labels;  // class of every image
  /// Number of images.
  int64_t size() const { return int64_t(labels.size()); }
  /// Image i as an OpenCV header over `pixels` (grey or BGR, no copy).
  cv::Mat image(int64_t i) const;
};

/// A training and a test split with class names.
struct Dataset {
  std::string spec;                     // as given ("fashion-mnist", "cifar10:/data/c10")
  std::string name;                     // "Fashion-MNIST", "CIFAR-10", the folder's name
  std::vector<std::string> classNames;  // in label order
  ImageSet train, test;
};

/// Where --data fashion-mnist looks (Debian's dataset-fashion-mnist).
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// True when Fashion-MNIST's test images are in `dir` (Debian's dataset-fashion-mnist).
bool hasFashionMnistTestImages(const std::filesystem::path& dir = kFashionMnistDir);
/// Test image `index` of the Fashion-MNIST in `dir` as 8-bit BGR (28 x 28), with its class name
/// in `className` when given. Reads only the test split; throws Error like loadDataset.
cv::Mat fashionMnistTestImage(const std::filesystem::path& dir, int64_t index,
                              std::string* className = nullptr);

/// The per-sample shape a dataset spec gives by nature: 1 x 28 x 28 for Fashion-MNIST,
/// 3 x 32 x 32 for CIFAR-10, none (empty) for folders; throws UsageError on an unknown spec.
Shape naturalInputShape(const std::string& spec);
/// Loads a dataset. Folder images are decoded, resized and cropped to `imageShape` (C x H x W)
/// once, here; the other kinds keep their own size. Throws Error naming the file (and the byte
/// offset for IDX and CIFAR data) on anything it cannot read.
Dataset loadDataset(const std::string& spec, const Shape& imageShape);

/// Writes sample i of `set` into `out` (C x H x W floats) as the network input `input` wants it:
/// resized and cropped to its size, converted to its channel count, preprocessed by its preset.
void sampleToInput(const ImageSet& set, int64_t i, const InputSpec& input, float* out);

}  // namespace zfvis
