// The three dataset formats behind loadDataset (dataset.h): IDX (Fashion-MNIST), CIFAR-10 binary
// batches and class folders. Internal to core/analysis/training.
#pragma once

#include <filesystem>

#include "core/analysis/training/dataset.h"

namespace zfvis::datasets {

/// Fashion-MNIST's four IDX files (each gzipped or not) in `dir`.
Dataset loadFashionMnist(const std::filesystem::path& dir);
/// CIFAR-10's data_batch_*.bin and test_batch.bin in `dir` (class names from batches.meta.txt).
Dataset loadCifar10(const std::filesystem::path& dir);
/// A folder of class folders; images decoded and resized to `imageShape` (C x H x W).
Dataset loadImageFolder(const std::filesystem::path& dir, const Shape& imageShape);

}  // namespace zfvis::datasets
