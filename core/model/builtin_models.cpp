#include "core/model/builtin_models.h"

#include <functional>

#include "core/base/error.h"
#include "core/model/net_builder.h"
#include "core/model/small_nets.h"

namespace zfvis {

namespace {

constexpr const char* kReluNote =
    "ReLU follows every convolution and hidden dense layer as in the papers (the seed's Keras "
    "listing omits some; shapes and parameter counts are unchanged).";

// The classifier shared by the AlexNet family: fc6, fc7 (4096, ReLU, dropout), fc8 (1000), softmax.
void alexClassifier(NetBuilder& b) {
  b.dense("fc6", 4096).relu("relu6").dropout("drop6");  // 4096
  b.dense("fc7", 4096).relu("relu7").dropout("drop7");  // 4096
  b.dense("fc8", 1000).softmax("prob");                 // 1000
}

// The seed's single-tower AlexNet trunk on 227 x 227 (Keras valid/same padding).
void seedAlexTrunk(NetBuilder& b) {
  b.conv("conv1", 96, 11, 4).relu("relu1");   // 96 x 55 x 55
  b.maxPool("pool1", 3, 2);                   // 96 x 27 x 27
  b.convSame("conv2", 256, 5).relu("relu2");  // 256 x 27 x 27
  b.maxPool("pool2", 3, 2);                   // 256 x 13 x 13
  b.convSame("conv3", 384, 3).relu("relu3");  // 384 x 13 x 13
  b.convSame("conv4", 384, 3).relu("relu4");  // 384 x 13 x 13
  b.convSame("conv5", 256, 3).relu("relu5");  // 256 x 13 x 13
  b.maxPool("pool5", 3, 2);                   // 256 x 6 x 6
}

NetworkDef alexnet(uint64_t seed) {
  NetBuilder b("alexnet", {3, 227, 227}, seed);
  seedAlexTrunk(b);
  b.flatten("flatten");  // 9216
  alexClassifier(b);
  NetworkDef d = b.build();
  d.notes.push_back(kReluNote);
  return d;
}

NetworkDef alexnet2Tower(uint64_t seed) {
  NetBuilder b("alexnet-2tower", {3, 227, 227}, seed);
  for (const char* t : {"a", "b"}) {
    std::string s(t);
    b.from("input");
    b.conv("conv1" + s, 48, 11, 4).relu("relu1" + s);   // 48 x 55 x 55
    b.maxPool("pool1" + s, 3, 2);                       // 48 x 27 x 27
    b.convSame("conv2" + s, 128, 5).relu("relu2" + s);  // 128 x 27 x 27
    b.maxPool("pool2" + s, 3, 2);                       // 128 x 13 x 13
  }
  b.concat("concat2", {"pool2a", "pool2b"});  // 256 x 13 x 13
  for (const char* t : {"a", "b"}) {
    std::string s(t);
    b.from("concat2");
    b.convSame("conv3" + s, 192, 3).relu("relu3" + s);  // 192 x 13 x 13
    b.convSame("conv4" + s, 192, 3).relu("relu4" + s);  // 192 x 13 x 13
    b.convSame("conv5" + s, 128, 3).relu("relu5" + s);  // 128 x 13 x 13
  }
  b.concat("concat5", {"relu5a", "relu5b"});  // 256 x 13 x 13
  b.flatten("flatten");                       // 43264
  alexClassifier(b);
  NetworkDef d = b.build();
  d.notes.push_back(kReluNote);
  return d;
}

NetworkDef zfnetSeed(uint64_t seed) {
  NetBuilder b("zfnet", {3, 227, 227}, seed);
  b.conv("conv1", 96, 7, 2).relu("relu1");       // 96 x 111 x 111
  b.maxPool("pool1", 3, 2);                      // 96 x 55 x 55
  b.convSame("conv2", 256, 5, 2).relu("relu2");  // 256 x 28 x 28
  b.maxPool("pool2", 3, 2);                      // 256 x 13 x 13
  b.convSame("conv3", 384, 3).relu("relu3");     // 384 x 13 x 13
  b.convSame("conv4", 384, 3).relu("relu4");     // 384 x 13 x 13
  b.convSame("conv5", 256, 3).relu("relu5");     // 256 x 13 x 13
  b.flatten("flatten");                          // 43264
  alexClassifier(b);
  NetworkDef d = b.build();
  d.notes.push_back(kReluNote);
  return d;
}

NetworkDef ninSeed(uint64_t seed) {
  NetBuilder b("nin", {3, 227, 227}, seed);
  seedAlexTrunk(b);        // 256 x 6 x 6
  b.globalAvgPool("gap");  // 256 x 1 x 1
  b.flatten("flatten");    // 256
  b.softmax("prob");       // 256
  NetworkDef d = b.build();
  d.notes.push_back(kReluNote);
  d.notes.push_back(
      "The seed's NIN is the AlexNet trunk with global average pooling in place of "
      "the dense layers: 256 outputs, not the 1000 ImageNet classes.");
  return d;
}

NetworkDef caffeAlexnet(uint64_t seed) {
  NetBuilder b("caffe-alexnet", {3, 227, 227}, seed);
  b.conv("conv1", 96, 11, 4).relu("relu1").lrn("norm1");                   // 96 x 55 x 55
  b.maxPool("pool1", 3, 2);                                                // 96 x 27 x 27
  b.conv("conv2", 256, 5, 1, {2, 2, 2, 2}, 2).relu("relu2").lrn("norm2");  // 256 x 27 x 27
  b.maxPool("pool2", 3, 2);                                                // 256 x 13 x 13
  b.conv("conv3", 384, 3, 1, {1, 1, 1, 1}).relu("relu3");                  // 384 x 13 x 13
  b.conv("conv4", 384, 3, 1, {1, 1, 1, 1}, 2).relu("relu4");               // 384 x 13 x 13
  b.conv("conv5", 256, 3, 1, {1, 1, 1, 1}, 2).relu("relu5");               // 256 x 13 x 13
  b.maxPool("pool5", 3, 2);                                                // 256 x 6 x 6
  b.flatten("flatten");                                                    // 9216
  alexClassifier(b);
  return b.build();
}

NetworkDef zfnetPaper(uint64_t seed) {
  NetBuilder b("zfnet-paper", {3, 224, 224}, seed);
  b.conv("conv1", 96, 7, 2, {1, 1, 1, 1}).relu("relu1");   // 96 x 110 x 110
  b.maxPool("pool1", 3, 2, {1, 1, 1, 1}).lrn("norm1");     // 96 x 55 x 55
  b.conv("conv2", 256, 5, 2).relu("relu2");                // 256 x 26 x 26
  b.maxPool("pool2", 3, 2, {1, 1, 1, 1}).lrn("norm2");     // 256 x 13 x 13
  b.conv("conv3", 384, 3, 1, {1, 1, 1, 1}).relu("relu3");  // 384 x 13 x 13
  b.conv("conv4", 384, 3, 1, {1, 1, 1, 1}).relu("relu4");  // 384 x 13 x 13
  b.conv("conv5", 256, 3, 1, {1, 1, 1, 1}).relu("relu5");  // 256 x 13 x 13
  b.maxPool("pool5", 3, 2);                                // 256 x 6 x 6
  b.flatten("flatten");                                    // 9216
  alexClassifier(b);
  return b.build();
}

NetworkDef ninPaper(uint64_t seed) {
  NetBuilder b("nin-paper", {3, 224, 224}, seed);
  b.conv("conv1", 96, 11, 4).relu("relu0");                       // 96 x 54 x 54
  b.conv("cccp1", 96, 1, 1).relu("relu1");                        // 96 x 54 x 54
  b.conv("cccp2", 96, 1, 1).relu("relu2");                        // 96 x 54 x 54
  b.maxPool("pool0", 3, 2, {}, true);                             // 96 x 27 x 27
  b.conv("conv2", 256, 5, 1, {2, 2, 2, 2}).relu("relu3");         // 256 x 27 x 27
  b.conv("cccp3", 256, 1, 1).relu("relu5");                       // 256 x 27 x 27
  b.conv("cccp4", 256, 1, 1).relu("relu6");                       // 256 x 27 x 27
  b.maxPool("pool2", 3, 2, {}, true);                             // 256 x 13 x 13
  b.conv("conv3", 384, 3, 1, {1, 1, 1, 1}).relu("relu7");         // 384 x 13 x 13
  b.conv("cccp5", 384, 1, 1).relu("relu8");                       // 384 x 13 x 13
  b.conv("cccp6", 384, 1, 1).relu("relu9");                       // 384 x 13 x 13
  b.maxPool("pool3", 3, 2, {}, true).dropout("drop");             // 384 x 6 x 6
  b.conv("conv4-1024", 1024, 3, 1, {1, 1, 1, 1}).relu("relu10");  // 1024 x 6 x 6
  b.conv("cccp7-1024", 1024, 1, 1).relu("relu11");                // 1024 x 6 x 6
  b.conv("cccp8-1024", 1000, 1, 1).relu("relu12");                // 1000 x 6 x 6
  b.globalAvgPool("pool4");                                       // 1000 x 1 x 1
  b.flatten("flatten");                                           // 1000
  b.softmax("prob");                                              // 1000
  return b.build();
}

struct Entry {
  BuiltinModelInfo info;
  std::function<NetworkDef(uint64_t)> make;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> e = {
      {{"alexnet", "the seed's single-tower AlexNet, 227x227, 62.4 M params"}, alexnet},
      {{"alexnet-2tower", "the seed's two-tower AlexNet with Concatenate, 227x227, 200.4 M params"},
       alexnet2Tower},
      {{"zfnet", "the seed's ZFNet (conv1 96@7x7 stride 2), 227x227, 201.8 M params"}, zfnetSeed},
      {{"nin", "the seed's NIN: AlexNet trunk + global average pooling, 227x227, 3.7 M params"},
       ninSeed},
      {{"caffe-alexnet", "BVLC AlexNet: grouped conv2/4/5, LRN, 227x227, 61.0 M params"},
       caffeAlexnet},
      {{"zfnet-paper", "Zeiler & Fergus fig. 3 (224->110->55->26->13->6), LRN, 62.4 M params"},
       zfnetPaper},
      {{"nin-paper",
        "Lin et al. ImageNet NIN: mlpconv blocks, global average pooling, 7.6 M params"},
       ninPaper},
      {{"alex-small", "AlexNet pattern for 28x28 grey (Fashion-MNIST): conv1 32@9x9 stride 2"},
       [](uint64_t seed) {
         return makeSmallNet("alex-small", {1, 28, 28}, 10, seed);
       }},
      {{"zf-small", "ZFNet pattern for 28x28 grey (Fashion-MNIST): conv1 32@5x5 stride 1"},
       [](uint64_t seed) {
         return makeSmallNet("zf-small", {1, 28, 28}, 10, seed);
       }},
  };
  return e;
}

}  // namespace

const std::vector<BuiltinModelInfo>& builtinModels() {
  static const std::vector<BuiltinModelInfo> infos = [] {
    std::vector<BuiltinModelInfo> v;
    for (const Entry& e : entries()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

bool isBuiltinModel(std::string_view name) {
  for (const Entry& e : entries())
    if (e.info.name == name) return true;
  return false;
}

NetworkDef makeBuiltinModel(std::string_view name, uint64_t seed) {
  for (const Entry& e : entries())
    if (e.info.name == name) return e.make(seed);
  std::string names;
  for (const Entry& e : entries()) names += (names.empty() ? "" : ", ") + e.info.name;
  throw Error("unknown model '" + std::string(name) + "' (built-in models: " + names +
              "; or give an .onnx or .h5 file)");
}

}  // namespace zfvis
