// Bad Keras files never crash: truncated files, random bytes, files without model_config,
// declared sizes the file does not hold, links out of the file, non-float data. Plus the exact
// weight layout conversion on a file crafted with the HDF5 C API (float64 and big-endian data,
// layer_names split into chunks as Keras does for long lists, variable-length names).
#include <gtest/gtest.h>
#include <hdf5.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"
#include "core/import/keras_import.h"
#include "core/model/net_builder.h"
#include "tests/import/keras/keras_test_util.h"

namespace zfvis {
namespace {

using kerastest::fixture;
using kerastest::readBytes;
using kerastest::TempDir;
using kerastest::writeBytes;

std::string importError(const std::string& path) {
  try {
    importKeras(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string applyError(NetworkDef def, const std::string& path) {
  try {
    applyKerasWeights(def, path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(KerasErrors, MissingFile) {
  EXPECT_EQ(importError("/nonexistent/m.h5"), "Keras model '/nonexistent/m.h5': no such file");
}

TEST(KerasErrors, RandomBytesAreNotHdf5) {
  TempDir dir;
  std::mt19937 rng(7);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  writeBytes(dir.path("random.h5"), bytes);
  EXPECT_EQ(importError(dir.path("random.h5")),
            "Keras model '" + dir.path("random.h5") +
                "': not an HDF5 file (no HDF5 signature; expected a Keras .h5 file)");
  // The signature followed by garbage: the superblock does not check out.
  writeBytes(dir.path("garbage.h5"), std::string("\x89HDF\r\n\x1a\n", 8) + bytes);
  std::string m = importError(dir.path("garbage.h5"));
  EXPECT_TRUE(contains(m, "Keras model '" + dir.path("garbage.h5") + "'")) << m;
  EXPECT_TRUE(contains(m, "(damaged file?)")) << m;
  // A real superblock followed by garbage reaches libhdf5, which must fail cleanly.
  const std::string real = readBytes(fixture("keras_cf.h5"));
  writeBytes(dir.path("tail.h5"), real.substr(0, 96) + bytes + real.substr(96 + bytes.size()));
  m = importError(dir.path("tail.h5"));
  EXPECT_TRUE(contains(m, "Keras model '" + dir.path("tail.h5") + "'")) << m;
}

TEST(KerasErrors, TruncatedFilesFailCleanly) {
  TempDir dir;
  const std::string full = readBytes(fixture("keras_alexnet.h5"));
  ASSERT_GT(full.size(), 10000u);
  for (size_t len : {size_t(8), size_t(100), size_t(2048), full.size() / 10, full.size() / 2,
                     full.size() * 9 / 10, full.size() - 1}) {
    const std::string path = dir.path("cut" + std::to_string(len) + ".h5");
    writeBytes(path, full.substr(0, len));
    std::string m = importError(path);
    EXPECT_TRUE(contains(m, "Keras model '" + path + "'")) << len << ": " << m;
    NetworkDef def = NetBuilder("tiny", {1, 4, 4}).flatten("f").softmax("p").build();
    m = applyError(def, path);
    EXPECT_TRUE(contains(m, "weights '" + path + "'")) << len << ": " << m;
  }
}

TEST(KerasErrors, WeightsOnlyFileHasNoModelConfig) {
  std::string m = importError(fixture("keras_alexnet_weights.h5"));
  EXPECT_EQ(m, "Keras model '" + fixture("keras_alexnet_weights.h5") +
                   "': has no model_config attribute: it holds weights only (model.save_weights); "
                   "apply it to a built-in architecture with --model <built-in> --weights " +
                   fixture("keras_alexnet_weights.h5"));
}

TEST(KerasErrors, AbsurdDeclaredDimsAreRefusedBeforeAllocating) {
  std::string m = importError(fixture("keras_absurd_dims.h5"));
  EXPECT_TRUE(contains(m, "layer 'dense'") || contains(m, "dense/kernel:0")) << m;
  EXPECT_TRUE(contains(m, "65536 x 65536")) << m;
  EXPECT_TRUE(contains(m, "the file stores only")) << m;
}

TEST(KerasErrors, UnsupportedLayerInFile) {
  std::string m = importError(fixture("keras_unsupported_layer.h5"));
  EXPECT_EQ(m, "Keras model '" + fixture("keras_unsupported_layer.h5") +
                   "': layer 'batch_normalization' (BatchNormalization): class "
                   "'BatchNormalization' is not supported (supported: InputLayer, Conv2D, "
                   "MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Dense, Dropout, "
                   "Flatten, Concatenate, Activation, ReLU, Softmax)");
}

TEST(KerasErrors, Keras3ZipArchiveIsRecognised) {
  TempDir dir;
  writeBytes(dir.path("model.keras"), std::string("PK\x03\x04", 4) + std::string(100, 'x'));
  std::string m = importError(dir.path("model.keras"));
  EXPECT_TRUE(contains(m, "is a Keras 3 .keras archive (zip), not HDF5")) << m;
}

TEST(KerasErrors, DirectoryIsNotAFile) {
  TempDir dir;
  EXPECT_EQ(importError(dir.path("")), "Keras model '" + dir.path("") + "': not a regular file");
}

// ---- files crafted with the HDF5 C API ---------------------------------------------------------

class H5Writer {
 public:
  explicit H5Writer(const std::string& path)
      : m_file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) {
    EXPECT_GE(m_file, 0) << path;
  }
  ~H5Writer() { H5Fclose(m_file); }
  hid_t root() const { return m_file; }

  // Creates (with parents) the group at `path`; the caller closes it.
  hid_t group(const std::string& path) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(m_file, path.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    EXPECT_GE(g, 0) << path;
    return g;
  }

  // A 1-D string attribute, fixed-length (as numpy bytes arrays) or variable-length.
  void strings(hid_t obj, const std::string& name, const std::vector<std::string>& values,
               bool variable) {
    hsize_t n = values.size();
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t type = H5Tcopy(H5T_C_S1);
    std::vector<const char*> ptrs;
    std::string fixed;
    size_t width = 1;
    for (const std::string& v : values) width = std::max(width, v.size());
    if (variable) {
      H5Tset_size(type, H5T_VARIABLE);
      for (const std::string& v : values) ptrs.push_back(v.c_str());
    } else {
      H5Tset_size(type, width);
      H5Tset_strpad(type, H5T_STR_NULLPAD);
      for (const std::string& v : values) fixed += v + std::string(width - v.size(), '\0');
    }
    hid_t attr = H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attr, type, variable ? static_cast<const void*>(ptrs.data()) : fixed.data());
    H5Aclose(attr);
    H5Tclose(type);
    H5Sclose(space);
  }

  // A dataset at `path` under `parent` (parents created) of `fileType`, written from `data`.
  void dataset(hid_t parent, const std::string& path, std::vector<hsize_t> dims, hid_t fileType,
               hid_t memType, const void* data) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t d = H5Dcreate2(parent, path.c_str(), fileType, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(d, 0) << path;
    H5Dwrite(d, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(d);
    H5Sclose(space);
    H5Pclose(lcpl);
  }

 private:
  hid_t m_file;
};

// conv (2 filters, 3x3, on 1 x 4 x 4) -> 2 x 2 x 2, flatten (8), dense (3), softmax.
NetworkDef tinyNet() {
  NetBuilder b("tiny", {1, 4, 4});
  b.conv("conv", 2, 3, 1).flatten("flatten").dense("fc", 3).softmax("prob");
  return b.build();
}

// Writes a save_weights file for tinyNet: Keras kernel values encode their own indices.
void writeTinyWeights(const std::string& path, hid_t kernelType = H5T_IEEE_F64LE,
                      bool withConvBias = true, bool externalLink = false,
                      bool variableNames = false) {
  H5Writer w(path);
  // layer_names split in two chunks, as Keras does when the list exceeds the header limit.
  w.strings(w.root(), "layer_names0", {"conv2d", "flatten"}, false);
  w.strings(w.root(), "layer_names1", {"dense"}, variableNames);
  w.strings(w.root(), "keras_version", {"2.11.0"}, true);
  std::vector<double> convKernel(3 * 3 * 1 * 2), convBias = {0.5, -0.5};
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x)
      for (int o = 0; o < 2; ++o) convKernel[size_t((y * 3 + x) * 2 + o)] = 100 * y + 10 * x + o;
  std::vector<double> denseKernel(8 * 3), denseBias = {1, 2, 3};
  for (int r = 0; r < 8; ++r)
    for (int u = 0; u < 3; ++u) denseKernel[size_t(r * 3 + u)] = 10 * r + u;
  if (externalLink) {
    H5Lcreate_external("/etc/elsewhere.h5", "/conv2d", w.root(), "conv2d", H5P_DEFAULT,
                       H5P_DEFAULT);
  } else {
    hid_t g = w.group("conv2d");
    w.strings(g, "weight_names",
              withConvBias ? std::vector<std::string>{"conv2d/kernel:0", "conv2d/bias:0"}
                           : std::vector<std::string>{"conv2d/kernel:0"},
              false);
    std::vector<int32_t> ints(convKernel.begin(), convKernel.end());
    const bool asInt = H5Tget_class(kernelType) == H5T_INTEGER;
    w.dataset(g, "conv2d/kernel:0", {3, 3, 1, 2}, kernelType,
              asInt ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE,
              asInt ? static_cast<const void*>(ints.data()) : convKernel.data());
    if (withConvBias)
      w.dataset(g, "conv2d/bias:0", {2}, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, convBias.data());
    H5Gclose(g);
  }
  hid_t f = w.group("flatten");
  double none = 0;
  hsize_t zero = 0;
  hid_t space = H5Screate_simple(1, &zero, nullptr);
  hid_t attr = H5Acreate2(f, "weight_names", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, H5T_NATIVE_DOUBLE, &none);
  H5Aclose(attr);
  H5Sclose(space);
  H5Gclose(f);
  hid_t d = w.group("dense");
  w.strings(d, "weight_names", {"dense/kernel:0", "dense/bias:0"}, false);
  w.dataset(d, "dense/kernel:0", {8, 3}, H5T_IEEE_F32BE, H5T_NATIVE_DOUBLE, denseKernel.data());
  w.dataset(d, "dense/bias:0", {3}, H5T_IEEE_F32LE, H5T_NATIVE_DOUBLE, denseBias.data());
  H5Gclose(d);
}

TEST(KerasCrafted, KernelLayoutsConvertExactly) {
  TempDir dir;
  writeTinyWeights(dir.path("tiny.h5"));
  NetworkDef def = tinyNet();
  applyKerasWeights(def, dir.path("tiny.h5"));
  const LayerSpec& conv = def.layers[0];
  ASSERT_EQ(conv.weights.shape(), (Shape{2, 1, 3, 3}));
  for (int o = 0; o < 2; ++o)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x)
        EXPECT_EQ(conv.weights.at(o, 0, y, x), 100 * y + 10 * x + o) << o << y << x;
  EXPECT_EQ(conv.bias[0], 0.5f);
  EXPECT_EQ(conv.bias[1], -0.5f);
  // Dense column j = our C-order feature (c, y, x) of the 2 x 2 x 2 conv output; it comes from
  // Keras row (y * 2 + x) * 2 + c, the H, W, C flattening.
  const LayerSpec& fc = def.layers[2];
  ASSERT_EQ(fc.weights.shape(), (Shape{3, 8}));
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 2; ++x)
        for (int u = 0; u < 3; ++u) {
          int j = c * 4 + y * 2 + x, row = (y * 2 + x) * 2 + c;
          EXPECT_EQ(fc.weights[u * 8 + j], 10 * row + u) << c << y << x << u;
        }
  EXPECT_EQ(fc.bias[2], 3.0f);
}

TEST(KerasCrafted, IntegerKernelIsRefused) {
  TempDir dir;
  writeTinyWeights(dir.path("int.h5"), H5T_STD_I32LE);
  std::string m = applyError(tinyNet(), dir.path("int.h5"));
  EXPECT_TRUE(contains(m, "'conv2d/kernel:0' is not IEEE float16/32/64 data")) << m;
}

TEST(KerasCrafted, MissingBiasIsACountMismatch) {
  TempDir dir;
  writeTinyWeights(dir.path("nobias.h5"), H5T_IEEE_F32LE, false);
  EXPECT_EQ(applyError(tinyNet(), dir.path("nobias.h5")),
            "weights '" + dir.path("nobias.h5") +
                "': layer 'conv2d' has 1 weight arrays, built-in layer 'conv' expects 2 (kernel, "
                "bias)");
}

TEST(KerasCrafted, ExternalLinksAreNotFollowed) {
  TempDir dir;
  writeTinyWeights(dir.path("link.h5"), H5T_IEEE_F32LE, true, true);
  std::string m = applyError(tinyNet(), dir.path("link.h5"));
  EXPECT_TRUE(contains(m, "'conv2d' is a soft or external link")) << m;
}

TEST(KerasCrafted, LinksInsideALayerGroupAreNotFollowed) {
  // The weight path conv2d/kernel:0 goes through an external link to a file that really holds
  // the kernel: following it would "work", and must not happen.
  TempDir dir;
  writeTinyWeights(dir.path("target.h5"));
  writeTinyWeights(dir.path("inner.h5"));
  {
    hid_t f = H5Fopen(dir.path("inner.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Ldelete(f, "conv2d/conv2d", H5P_DEFAULT), 0);
    ASSERT_GE(H5Lcreate_external(dir.path("target.h5").c_str(), "/conv2d/conv2d", f,
                                 "conv2d/conv2d", H5P_DEFAULT, H5P_DEFAULT),
              0);
    H5Fclose(f);
  }
  std::string m = applyError(tinyNet(), dir.path("inner.h5"));
  EXPECT_TRUE(contains(m, "'conv2d' is a soft or external link")) << m;
}

TEST(KerasCrafted, VariableLengthNamesAreRead) {
  // Read from the file bytes (object header + global heap), not by libhdf5's conversion.
  TempDir dir;
  writeTinyWeights(dir.path("vlen.h5"), H5T_IEEE_F32LE, true, false, true);
  NetworkDef def = tinyNet();
  applyKerasWeights(def, dir.path("vlen.h5"));
  EXPECT_EQ(def.layers[2].weights[1 * 8 + 0], 10 * 0 + 1);
}

// ---- damaged global heaps (libhdf5 1.10 hangs or overruns on these; fuzzing found the first) ----

// Offsets of the objects of the first global heap collection in `bytes`: (object start, index).
std::vector<std::pair<size_t, int>> heapObjects(const std::string& bytes) {
  std::vector<std::pair<size_t, int>> out;
  size_t g = bytes.find("GCOL");
  if (g == std::string::npos) return out;
  auto u = [&](size_t at, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t(uint8_t(bytes[at + size_t(i)])) << (8 * i);
    return v;
  };
  const uint64_t size = u(g + 8, 8);
  size_t at = g + 16;
  while (at + 16 <= g + size) {
    int index = int(u(at, 2));
    uint64_t objSize = u(at + 8, 8);
    out.push_back({at, index});
    uint64_t need = index ? 16 + ((objSize + 7) & ~uint64_t(7)) : objSize;
    if (need == 0) break;
    at += need;
  }
  return out;
}

void putU64(std::string& bytes, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) bytes[at + size_t(i)] = char((v >> (8 * i)) & 0xff);
}

TEST(KerasErrors, DamagedGlobalHeapFreeSpaceDoesNotHang) {
  // The fuzzer's first find: the free-space object's size set to 0 makes libhdf5 1.10 loop
  // forever in H5HG__cache_heap_deserialize when it reads a variable-length string.
  TempDir dir;
  std::string bytes = readBytes(fixture("keras_alexnet.h5"));
  auto objects = heapObjects(bytes);
  ASSERT_FALSE(objects.empty());
  ASSERT_EQ(objects.back().second, 0) << "expected free space at the end of the collection";
  putU64(bytes, objects.back().first + 8, 0);
  writeBytes(dir.path("loop.h5"), bytes);
  std::string m = importError(dir.path("loop.h5"));
  EXPECT_TRUE(contains(m,
                       "attribute 'model_config': a global heap collection has damaged free "
                       "space"))
      << m;
}

TEST(KerasErrors, HugeObjectHeaderChunkIsRefusedBeforeLibhdf5AllocatesIt) {
  // Fuzzing found libhdf5 1.10 allocating 0x2e00000100 bytes for a root group header whose
  // continuation message claims that length. h5py's root group header is a version 1 header at
  // 0x60 holding one continuation message (address at 0x78, length at 0x80).
  TempDir dir;
  std::string bytes = readBytes(fixture("keras_cf.h5"));
  ASSERT_EQ(uint8_t(bytes[0x60]), 1u);     // object header version 1
  ASSERT_EQ(uint8_t(bytes[0x70]), 0x10u);  // continuation message
  putU64(bytes, 0x80, 0x2e00000100);
  writeBytes(dir.path("huge.h5"), bytes);
  EXPECT_EQ(importError(dir.path("huge.h5")),
            "Keras model '" + dir.path("huge.h5") +
                "': an object header continuation lies outside the file (damaged file?)");
}

// File offset of the body of the first message of `type` in the root group's continuation chunk
// of an h5py file (root header: version 1 at 0x60, one continuation message at 0x70).
size_t firstRootMessage(const std::string& bytes, uint64_t wanted) {
  auto u = [&](size_t at, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t(uint8_t(bytes[at + size_t(i)])) << (8 * i);
    return v;
  };
  const size_t chunk = size_t(u(0x78, 8)), length = size_t(u(0x80, 8));
  for (size_t at = chunk; at + 8 <= chunk + length;) {
    const uint64_t type = u(at, 2), size = u(at + 2, 2);
    if (type == wanted) return at + 8;
    at += 8 + size_t(size);
  }
  return 0;
}

TEST(KerasErrors, UnterminatedAttributeNameIsRefused) {
  // libhdf5 1.10 strdup()s attribute names straight from the header buffer (fuzzing: reads past
  // it, heap-buffer-overflow / use-after-free in H5O__msg_iterate_real under H5Aexists).
  TempDir dir;
  std::string bytes = readBytes(fixture("keras_cf.h5"));
  const size_t body = firstRootMessage(bytes, 0x0C);
  ASSERT_GT(body, 0u);
  ASSERT_EQ(uint8_t(bytes[body]), 1u);  // attribute message version 1: name padded to 8
  const size_t nameSize = uint8_t(bytes[body + 2]) | (uint8_t(bytes[body + 3]) << 8);
  for (size_t i = 0; i < ((nameSize + 7) & ~size_t(7)); ++i) bytes[body + 8 + i] = 'x';
  writeBytes(dir.path("name.h5"), bytes);
  EXPECT_EQ(importError(dir.path("name.h5")),
            "Keras model '" + dir.path("name.h5") +
                "': an attribute name is not terminated (damaged file?)");
}

TEST(KerasErrors, AttributeClaimingMoreDataThanItsMessageIsRefused) {
  TempDir dir;
  std::string bytes = readBytes(fixture("keras_cf.h5"));
  const size_t body = firstRootMessage(bytes, 0x0C);
  ASSERT_GT(body, 0u);
  const size_t nameSize = uint8_t(bytes[body + 2]) | (uint8_t(bytes[body + 3]) << 8);
  const size_t type = body + 8 + ((nameSize + 7) & ~size_t(7));
  bytes[type] = char((uint8_t(bytes[type]) & 0xf0) | 3);  // a fixed-length string ...
  putU64(bytes, type + 4, 0x7fffffff);                    // ... of 2 GB (size is 4 bytes)
  bytes[type + 8] = bytes[type + 9] = bytes[type + 10] = bytes[type + 11] = 0;
  writeBytes(dir.path("data.h5"), bytes);
  std::string m = importError(dir.path("data.h5"));
  EXPECT_TRUE(contains(m, "claims more data than its message holds")) << m;
}

TEST(KerasErrors, OddAttributeDatatypesAreRefusedBeforeLibhdf5DecodesThem) {
  // Fuzzing: a damaged datatype made H5Aget_type (H5T_copy_reopen) read past a heap block.
  TempDir dir;
  const std::string original = readBytes(fixture("keras_cf.h5"));
  const size_t body = firstRootMessage(original, 0x0C);
  ASSERT_GT(body, 0u);
  const size_t nameSize = uint8_t(original[body + 2]) | (uint8_t(original[body + 3]) << 8);
  const size_t type = body + 8 + ((nameSize + 7) & ~size_t(7));
  ASSERT_EQ(uint8_t(original[type]) & 0x0f, 9u);  // h5py: a variable-length string
  std::string bytes = original;
  bytes[type] = char((uint8_t(bytes[type]) & 0xf0) | 6);  // compound
  writeBytes(dir.path("compound.h5"), bytes);
  EXPECT_EQ(importError(dir.path("compound.h5")),
            "Keras model '" + dir.path("compound.h5") +
                "': a datatype of class 6 is not read (zfvis reads numbers and strings) (damaged "
                "file?)");
  bytes = original;
  ASSERT_EQ(uint8_t(bytes[type + 8]) & 0x0f, 0u);  // its base type: 8-bit integers
  bytes[type + 8 + 10] = char(200);                // precision 200 bits
  writeBytes(dir.path("precision.h5"), bytes);
  EXPECT_EQ(importError(dir.path("precision.h5")),
            "Keras model '" + dir.path("precision.h5") +
                "': an integer type has an odd precision (damaged file?)");
}

TEST(KerasErrors, VariableLengthTypeOfOddSizeAndSharedMessagesAreRefused) {
  // Fuzzing: a variable-length type declaring 17-byte elements made libhdf5 copy 17 bytes from a
  // 16-byte value at the end of a header chunk (heap-buffer-overflow under H5Aexists).
  TempDir dir;
  const std::string original = readBytes(fixture("keras_cf.h5"));
  const size_t body = firstRootMessage(original, 0x0C);
  ASSERT_GT(body, 0u);
  const size_t nameSize = uint8_t(original[body + 2]) | (uint8_t(original[body + 3]) << 8);
  const size_t type = body + 8 + ((nameSize + 7) & ~size_t(7));
  ASSERT_EQ(uint8_t(original[type + 4]), 16u);  // h5py: 4 + 8 + 4 bytes per element
  std::string bytes = original;
  bytes[type + 4] = 17;
  writeBytes(dir.path("size.h5"), bytes);
  std::string m = importError(dir.path("size.h5"));
  EXPECT_TRUE(contains(m, "has a variable-length type of odd size")) << m;
  // The same attribute message marked shared (its body would be a reference elsewhere).
  bytes = original;
  bytes[body - 8 + 4] = char(uint8_t(bytes[body - 8 + 4]) | 0x02);
  writeBytes(dir.path("shared.h5"), bytes);
  EXPECT_EQ(importError(dir.path("shared.h5")),
            "Keras model '" + dir.path("shared.h5") +
                "': a shared header message is not read (damaged file?)");
}

TEST(KerasErrors, GroupLocalHeapClaimingHugeSizeIsRefused) {
  // Fuzzing: libhdf5 1.10 allocates the data segment size an old-style group's local heap claims
  // (0x73692065756c6176 bytes) when H5Lexists looks a name up.
  TempDir dir;
  std::string bytes = readBytes(fixture("keras_cf.h5"));
  const size_t table = firstRootMessage(bytes, 0x11);  // symbol table: B-tree, local heap
  ASSERT_GT(table, 0u);
  size_t heap = 0;
  for (int i = 0; i < 8; ++i) heap |= size_t(uint8_t(bytes[table + 8 + size_t(i)])) << (8 * i);
  ASSERT_EQ(bytes.substr(heap, 4), "HEAP");
  putU64(bytes, heap + 8, 0x73692065756c6176);
  writeBytes(dir.path("heap.h5"), bytes);
  EXPECT_EQ(importError(dir.path("heap.h5")),
            "Keras model '" + dir.path("heap.h5") +
                "': a group's local heap lies outside the file (damaged file?)");
}

TEST(KerasErrors, GroupLocalHeapFreeListCycleIsRefused) {
  // Fuzzing: libhdf5 1.10 follows a local heap's free list without looking for cycles,
  // allocating 32 bytes per step until memory runs out (3.6 GB in 10 s).
  TempDir dir;
  std::string bytes = readBytes(fixture("keras_cf.h5"));
  const size_t table = firstRootMessage(bytes, 0x11);
  ASSERT_GT(table, 0u);
  auto u64 = [&](size_t at) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(bytes[at + size_t(i)])) << (8 * i);
    return v;
  };
  const size_t heap = size_t(u64(table + 8));
  ASSERT_EQ(bytes.substr(heap, 4), "HEAP");
  ASSERT_GE(u64(heap + 8), 32u);               // data segment size
  const size_t data = size_t(u64(heap + 24));  // data segment address
  putU64(bytes, heap + 16, 8);                 // free list starts at offset 8 ...
  putU64(bytes, data + 8, 8);                  // ... whose next block is itself
  putU64(bytes, data + 16, 16);
  writeBytes(dir.path("cycle.h5"), bytes);
  EXPECT_EQ(importError(dir.path("cycle.h5")),
            "Keras model '" + dir.path("cycle.h5") +
                "': a group's local heap has a damaged free list (damaged file?)");
}

TEST(KerasErrors, GroupBTreeCyclesAndStrayNamesAreRefused) {
  // libhdf5 1.10 recurses into a group B-tree's children without checking their level: a node
  // that is its own child recurses until the stack overflows.
  TempDir dir;
  const std::string original = readBytes(fixture("keras_cf.h5"));
  const size_t table = firstRootMessage(original, 0x11);
  ASSERT_GT(table, 0u);
  auto u64 = [&](const std::string& b, size_t at) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(b[at + size_t(i)])) << (8 * i);
    return v;
  };
  const size_t tree = size_t(u64(original, table));
  ASSERT_EQ(original.substr(tree, 4), "TREE");
  ASSERT_EQ(uint8_t(original[tree + 5]), 0u);  // a leaf: its children are symbol nodes
  std::string bytes = original;
  bytes[tree + 5] = 1;                     // claims level 1 ...
  putU64(bytes, tree + 8 + 16 + 8, tree);  // ... and child 0 is itself
  writeBytes(dir.path("cycle.h5"), bytes);
  EXPECT_EQ(importError(dir.path("cycle.h5")),
            "Keras model '" + dir.path("cycle.h5") +
                "': a group's B-tree has a cycle or too many nodes (damaged file?)");
  // A symbol node naming a link past the end of the local heap.
  bytes = original;
  const size_t snod = size_t(u64(original, tree + 8 + 16 + 8));
  ASSERT_EQ(original.substr(snod, 4), "SNOD");
  putU64(bytes, snod + 8, 1 << 20);
  writeBytes(dir.path("name.h5"), bytes);
  EXPECT_EQ(importError(dir.path("name.h5")),
            "Keras model '" + dir.path("name.h5") +
                "': a group's symbol table names a link outside its local heap (damaged file?)");
}

TEST(KerasErrors, ChecksUseTheBaseAddressLibhdf5Uses) {
  // Fuzzing: a superblock whose base address says 4 (libhdf5 replaces it by the signature's
  // offset, 0) made zfvis check the wrong root header while libhdf5 allocated the huge
  // continuation chunk of the real one.
  TempDir dir;
  std::string bytes = readBytes(fixture("keras_cf.h5"));
  ASSERT_EQ(uint8_t(bytes[8]), 0u);  // superblock version 0: base address at 24
  putU64(bytes, 24, 4);
  putU64(bytes, 0x80, 0x2e00000100);
  writeBytes(dir.path("base.h5"), bytes);
  EXPECT_EQ(importError(dir.path("base.h5")),
            "Keras model '" + dir.path("base.h5") +
                "': an object header continuation lies outside the file (damaged file?)");
}

TEST(KerasErrors, DamagedGlobalHeapObjectsAreRefused) {
  TempDir dir;
  const std::string original = readBytes(fixture("keras_alexnet.h5"));
  auto objects = heapObjects(original);
  ASSERT_GE(objects.size(), 2u);
  // Renumbered objects: the strings refer to objects that do not exist (libhdf5 1.10 would
  // index past its object table).
  std::string bytes = original;
  for (auto [at, index] : objects)
    if (index) bytes[at] = char(uint8_t(bytes[at]) + 100);
  writeBytes(dir.path("index.h5"), bytes);
  std::string m = importError(dir.path("index.h5"));
  EXPECT_TRUE(contains(m, "refers to a missing global heap object")) << m;
  // Objects larger than the collection (libhdf5 would copy past its buffer).
  bytes = original;
  for (auto [at, index] : objects)
    if (index) putU64(bytes, at + 8, uint64_t(1) << 40);
  writeBytes(dir.path("size.h5"), bytes);
  m = importError(dir.path("size.h5"));
  EXPECT_TRUE(contains(m, "a global heap object is larger than its collection")) << m;
}

TEST(KerasCrafted, ErrorsStayOnOneLineAndFixedLengthConfigIsRead) {
  // model_config as a fixed-length string (older h5py); a class name holding a newline.
  TempDir dir;
  {
    H5Writer w(dir.path("newline.h5"));
    w.strings(w.root(), "model_config",
              {R"({"class_name": "Sequential", "config": {"layers": [)"
               R"({"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4],)"
               R"( "name": "in"}}, {"class_name": "Bad\nLayer", "config": {"name": "x"}}]}})"},
              false);
  }
  std::string m = importError(dir.path("newline.h5"));
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_TRUE(contains(m, "class 'Bad?Layer' is not supported")) << m;
}

TEST(KerasCrafted, LayerWithoutGroup) {
  TempDir dir;
  {
    H5Writer w(dir.path("nogroup.h5"));
    w.strings(w.root(), "layer_names", {"conv2d"}, false);
  }
  EXPECT_EQ(applyError(tinyNet(), dir.path("nogroup.h5")),
            "weights '" + dir.path("nogroup.h5") +
                "': layer 'conv2d' is listed in layer_names but has no group");
}

TEST(KerasCrafted, FailedApplyLeavesTheDefinitionUntouched) {
  TempDir dir;
  writeTinyWeights(dir.path("int.h5"), H5T_STD_I32LE);
  NetworkDef def = tinyNet();
  const Tensor before = def.layers[2].weights;
  EXPECT_THROW(applyKerasWeights(def, dir.path("int.h5")), Error);
  EXPECT_TRUE(def.untrained);
  EXPECT_EQ(ref::relativeMaxError(def.layers[2].weights, before), 0.0);
}

}  // namespace
}  // namespace zfvis
