#include "core/model/small_nets.h"

#include "core/base/error.h"
#include "core/base/resource_dir.h"
#include "core/model/net_builder.h"

namespace zfvis {

bool isSmallNet(std::string_view name) {
  return name == "alex-small" || name == "zf-small";
}

NetworkDef makeSmallNet(std::string_view name, const Shape& input, int classes, uint64_t seed) {
  if (!isSmallNet(name)) throw Error("unknown small network '" + std::string(name) + "'");
  if (input.rank() != 3 || input[1] < 24 || input[2] < 24)
    throw Error(std::string(name) + " needs a C x H x W input of at least 24 x 24, not " +
                input.str());
  if (classes < 2) throw Error(std::string(name) + " needs at least 2 classes");
  NetBuilder b(std::string(name), input, seed);
  // Shapes for 1 x 28 x 28 (zf-small | alex-small).
  if (name == "zf-small")
    b.conv("conv1", 32, 5, 1, {2, 2, 2, 2});  // 32 x 28 x 28
  else
    b.conv("conv1", 32, 9, 2, {4, 4, 4, 4});  // 32 x 14 x 14
  b.relu("relu1");
  b.maxPool("pool1", 3, 2, {1, 1, 1, 1});  // 32 x 14 x 14 | 32 x 7 x 7
  b.lrn("norm1", 5, 1e-4f, 0.75f, 2.0f);
  b.conv("conv2", 48, 3, 1, {1, 1, 1, 1}).relu("relu2");  // 48 x 14 x 14 | 48 x 7 x 7
  b.maxPool("pool2", 3, 2, {1, 1, 1, 1});                 // 48 x 7 x 7 | 48 x 4 x 4
  b.lrn("norm2", 5, 1e-4f, 0.75f, 2.0f);
  b.conv("conv3", 48, 3, 1, {1, 1, 1, 1}).relu("relu3");  // 48 x 7 x 7 | 48 x 4 x 4
  b.conv("conv4", 48, 3, 1, {1, 1, 1, 1}).relu("relu4");  // 48 x 7 x 7 | 48 x 4 x 4
  b.conv("conv5", 32, 3, 1, {1, 1, 1, 1}).relu("relu5");  // 32 x 7 x 7 | 32 x 4 x 4
  b.maxPool("pool5", 3, 2);                               // 32 x 3 x 3 | 32 x 1 x 1
  b.flatten("flatten");                                   // 288 | 32
  b.dense("fc6", 128).relu("relu6").dropout("drop6");     // 128
  b.dense("fc7", 128).relu("relu7").dropout("drop7");     // 128
  b.dense("fc8", classes);                                // classes
  NetworkDef def = b.build();
  def.input.preprocess = Preprocess::Raw;
  if (classes == 10 && input == Shape{1, 28, 28}) def.classNames = fashionMnistClassNames();
  return def;
}

std::optional<std::filesystem::path> shippedRunDir(std::string_view name) {
  if (!isSmallNet(name)) return std::nullopt;
  auto final = findResource(std::filesystem::path("models") / std::string(name) / "final.onnx");
  if (!final) return std::nullopt;
  return final->parent_path();
}

const std::vector<std::string>& fashionMnistClassNames() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

}  // namespace zfvis
