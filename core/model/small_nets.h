// alex-small and zf-small: AlexNet-pattern networks for small images (Fashion-MNIST's 28x28 grey,
// CIFAR-10's 32x32 colour) that differ only in their first layer, for Zeiler & Fergus' fig. 6
// experiment: alex-small starts with AlexNet's large kernel and stride (9x9, stride 2),
// zf-small with ZFNet's smaller ones (5x5, stride 1). The rest is shared: max-pool, LRN, five
// convolutions, two dropout-regularised dense layers and the class scores (no final Softmax:
// training folds it into the loss, prediction applies it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/network.h"

namespace zfvis {

/// True for "alex-small" and "zf-small".
bool isSmallNet(std::string_view name);
/// Builds `name` for per-sample input `input` (C x H x W, at least 24 x 24) and `classes` outputs
/// with He-normal weights from `seed` (untrained; preprocessing: the raw preset, 0..1).
NetworkDef makeSmallNet(std::string_view name, const Shape& input, int classes, uint64_t seed = 0);
/// The shipped training run of a built-in (resources/models/NAME: final.onnx, a few checkpoints
/// and the log, made by `zfvis-cli train`; see core/base/resource_dir.h for where it is looked
/// for), when it is present. `--model zf-small` opens its final.onnx.
std::optional<std::filesystem::path> shippedRunDir(std::string_view name);
/// Fashion-MNIST's ten class names in label order ("T-shirt/top", ..., "Ankle boot").
const std::vector<std::string>& fashionMnistClassNames();

}  // namespace zfvis
