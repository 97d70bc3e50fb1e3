// Dataset readers on small files written here: IDX (plain and gzipped), CIFAR-10 batches and class
// folders, their pixels and labels, and one-line errors naming the file and the byte offset for
// broken ones; samples reach the network exactly as the image input path would feed them.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "core/analysis/training/dataset.h"
#include "core/base/error.h"
#include "core/model/image_input.h"
#include "tests/reference/cli_runner.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;
using Datasets = testing::CliOutputTest;

void writeBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

void writeGzip(const fs::path& p, const std::string& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
}

std::string bigEndian(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

// An IDX image file of `n` h x w images whose pixel (i, y, x) is (i * 7 + y * w + x) % 256.
std::string idxImages(uint32_t n, uint32_t h, uint32_t w) {
  std::string s = std::string("\0\0\x08\x03", 4) + bigEndian(n) + bigEndian(h) + bigEndian(w);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t k = 0; k < h * w; ++k) s += char((i * 7 + k) % 256);
  return s;
}

std::string idxLabels(const std::vector<int>& labels) {
  std::string s = std::string("\0\0\x08\x01", 4) + bigEndian(uint32_t(labels.size()));
  for (int l : labels) s += char(l);
  return s;
}

// Writes a Fashion-MNIST-like folder: 5 training and 3 test images of 28 x 28.
void writeIdxSet(const fs::path& dir, bool gzip) {
  auto put = [&](const std::string& name, const std::string& bytes) {
    if (gzip)
      writeGzip(dir / (name + ".gz"), bytes);
    else
      writeBytes(dir / name, bytes);
  };
  put("train-images-idx3-ubyte", idxImages(5, 28, 28));
  put("train-labels-idx1-ubyte", idxLabels({9, 0, 3, 3, 7}));
  put("t10k-images-idx3-ubyte", idxImages(3, 28, 28));
  put("t10k-labels-idx1-ubyte", idxLabels({1, 2, 8}));
}

void expectError(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg;
  }
}

TEST_F(Datasets, IdxReadsGzippedAndPlainFiles) {
  for (bool gzip : {true, false}) {
    const fs::path dir = m_dir / (gzip ? "gz" : "plain");
    fs::create_directories(dir);
    writeIdxSet(dir, gzip);
    Dataset d = loadDataset("fashion-mnist:" + dir.string(), {});
    EXPECT_EQ(d.name, "Fashion-MNIST");
    ASSERT_EQ(d.classNames.size(), 10u);
    EXPECT_EQ(d.classNames[9], "Ankle boot");
    ASSERT_EQ(d.train.size(), 5);
    ASSERT_EQ(d.test.size(), 3);
    EXPECT_EQ(d.train.labels, (std::vector<int32_t>{9, 0, 3, 3, 7}));
    EXPECT_EQ(d.test.labels, (std::vector<int32_t>{1, 2, 8}));
    EXPECT_EQ(d.train.height, 28);
    EXPECT_EQ(d.train.channels, 1);
    const cv::Mat img = d.train.image(4);
    EXPECT_EQ(img.at<uint8_t>(3, 5), uint8_t((4 * 7 + 3 * 28 + 5) % 256));
  }
}

TEST_F(Datasets, IdxTruncatedDataNamesFileAndOffset) {
  writeIdxSet(m_dir, false);
  writeBytes(m_dir / "train-images-idx3-ubyte", idxImages(5, 28, 28).substr(0, 1000));
  expectError([&] { loadDataset("fashion-mnist:" + m_dir.string(), {}); },
              {"train-images-idx3-ubyte'", "truncated at byte 1000", "5 x 28 x 28"});
}

TEST_F(Datasets, IdxTruncatedGzipNamesFileAndOffset) {
  writeIdxSet(m_dir, true);
  std::ifstream in(m_dir / "t10k-images-idx3-ubyte.gz", std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), {});
  writeBytes(m_dir / "t10k-images-idx3-ubyte.gz", gz.substr(0, gz.size() / 2));
  expectError([&] { loadDataset("fashion-mnist:" + m_dir.string(), {}); },
              {"t10k-images-idx3-ubyte.gz'", "truncated gzip data",
               "byte " + std::to_string(gz.size() / 2)});
}

TEST_F(Datasets, IdxBadMagicAndBadLabelsAreNamed) {
  writeIdxSet(m_dir, false);
  std::string labels = idxLabels({1, 2, 8});
  labels[2] = 0x0D;  // float data
  writeBytes(m_dir / "t10k-labels-idx1-ubyte", labels);
  expectError([&] { loadDataset("fashion-mnist:" + m_dir.string(), {}); },
              {"t10k-labels-idx1-ubyte'", "magic 0x00000d01 at byte 0"});
  writeBytes(m_dir / "t10k-labels-idx1-ubyte", idxLabels({1, 12, 8}));
  expectError([&] { loadDataset("fashion-mnist:" + m_dir.string(), {}); },
              {"t10k-labels-idx1-ubyte'", "label 12 at byte 9"});
  writeBytes(m_dir / "t10k-labels-idx1-ubyte", idxLabels({1, 2}));
  expectError([&] { loadDataset("fashion-mnist:" + m_dir.string(), {}); },
              {"has 3 images", "has 2 labels"});
}

TEST_F(Datasets, MissingFashionMnistSaysWhichFileAndPackage) {
  expectError([&] { loadDataset("fashion-mnist:" + m_dir.string(), {}); },
              {"train-images-idx3-ubyte", "dataset-fashion-mnist"});
  EXPECT_THROW(loadDataset("mnist", {}), UsageError);
}

// A CIFAR-10 record: label, then the R, G and B planes.
std::string cifarRecord(int label, uint8_t r, uint8_t g, uint8_t b) {
  std::string s(1, char(label));
  s += std::string(1024, char(r)) + std::string(1024, char(g)) + std::string(1024, char(b));
  return s;
}

TEST_F(Datasets, CifarBatchesBecomeBgrImages) {
  writeBytes(m_dir / "data_batch_1.bin", cifarRecord(3, 10, 20, 30) + cifarRecord(9, 1, 2, 3));
  writeBytes(m_dir / "data_batch_2.bin", cifarRecord(0, 5, 6, 7));
  writeBytes(m_dir / "test_batch.bin", cifarRecord(4, 200, 100, 50));
  Dataset d = loadDataset("cifar10:" + m_dir.string(), {});
  EXPECT_EQ(d.name, "CIFAR-10");
  EXPECT_EQ(d.classNames[3], "cat");
  EXPECT_EQ(d.train.labels, (std::vector<int32_t>{3, 9, 0}));
  EXPECT_EQ(d.test.labels, (std::vector<int32_t>{4}));
  const cv::Vec3b px = d.test.image(0).at<cv::Vec3b>(31, 0);
  EXPECT_EQ(px, cv::Vec3b(50, 100, 200));  // B, G, R
  EXPECT_EQ(naturalInputShape("cifar10:" + m_dir.string()), (Shape{3, 32, 32}));
}

TEST_F(Datasets, CifarTruncatedRecordNamesFileAndOffset) {
  writeBytes(m_dir / "data_batch_1.bin",
             cifarRecord(3, 1, 2, 3) + cifarRecord(4, 1, 2, 3).substr(0, 100));
  writeBytes(m_dir / "test_batch.bin", cifarRecord(4, 1, 2, 3));
  expectError([&] { loadDataset("cifar10:" + m_dir.string(), {}); },
              {"data_batch_1.bin'", "record 1 starts at byte 3073", "only 100"});
  writeBytes(m_dir / "data_batch_1.bin", cifarRecord(3, 1, 2, 3) + cifarRecord(11, 1, 2, 3));
  expectError([&] { loadDataset("cifar10:" + m_dir.string(), {}); },
              {"data_batch_1.bin'", "label 11 at byte 3073"});
}

// Class folders of 40 x 30 colour PNGs whose colour encodes (class, index).
void writeFolder(const fs::path& dir, const std::vector<std::string>& classes, int perClass) {
  for (size_t c = 0; c < classes.size(); ++c) {
    fs::create_directories(dir / classes[c]);
    for (int k = 0; k < perClass; ++k) {
      cv::Mat img(30, 40, CV_8UC3, cv::Scalar(double(c * 50), double(k), 128));
      cv::imwrite((dir / classes[c] / ("img" + std::to_string(100 + k) + ".png")).string(), img);
    }
  }
}

TEST_F(Datasets, FolderHoldsOutEveryTenthImageAndResizes) {
  writeFolder(m_dir, {"zebra", "apple"}, 12);
  Dataset d = loadDataset("folder:" + m_dir.string(), {3, 16, 16});
  EXPECT_EQ(d.classNames, (std::vector<std::string>{"apple", "zebra"}));
  EXPECT_EQ(d.train.size(), 22);
  ASSERT_EQ(d.test.size(), 2);
  EXPECT_EQ(d.test.labels, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(d.train.height, 16);
  EXPECT_EQ(d.train.width, 16);
  // The held-out apple is the 10th file (img109): green channel 9, blue 50 (apple was class 1).
  const cv::Vec3b px = d.test.image(0).at<cv::Vec3b>(8, 8);
  EXPECT_EQ(px, cv::Vec3b(50, 9, 128));
  Dataset grey = loadDataset("folder:" + m_dir.string(), {1, 16, 16});
  EXPECT_EQ(grey.train.channels, 1);
}

TEST_F(Datasets, FolderUsesTrainAndTestSubfolders) {
  writeFolder(m_dir / "train", {"a", "b", "c"}, 3);
  writeFolder(m_dir / "test", {"b"}, 2);
  Dataset d = loadDataset("folder:" + m_dir.string(), {3, 8, 8});
  EXPECT_EQ(d.train.size(), 9);
  EXPECT_EQ(d.test.labels, (std::vector<int32_t>{1, 1}));
}

TEST_F(Datasets, FolderErrorsNameTheFile) {
  writeFolder(m_dir, {"a", "b"}, 2);
  writeBytes(m_dir / "b" / "broken.png", "\x89PNG\r\n\x1a\nnot really");
  expectError([&] { loadDataset("folder:" + m_dir.string(), {3, 8, 8}); }, {"broken.png"});
  fs::remove(m_dir / "b" / "broken.png");
  fs::create_directories(m_dir / "c");
  expectError(
      [&] {
        loadDataset("folder:" + m_dir.string(), {3, 8, 8});
      },
      {"'" + (m_dir / "c").string() + "' has no images"});
}

// A training sample and the same image saved as PNG and opened like `predict --image` does give
// bit-identical network inputs (raw preset, grey).
TEST_F(Datasets, SamplesMatchTheImageInputPath) {
  writeIdxSet(m_dir, false);
  Dataset d = loadDataset("fashion-mnist:" + m_dir.string(), {});
  InputSpec spec;
  spec.shape = {1, 28, 28};
  spec.preprocess = Preprocess::Raw;
  const std::string png = (m_dir / "sample.png").string();
  cv::imwrite(png, d.train.image(2));
  const Tensor viaFile = loadNetworkInput(png, spec);
  std::vector<float> viaDataset(28 * 28);
  sampleToInput(d.train, 2, spec, viaDataset.data());
  ASSERT_EQ(viaFile.numel(), 28 * 28);
  for (int i = 0; i < 28 * 28; ++i) ASSERT_EQ(viaFile[i], viaDataset[size_t(i)]) << i;
  EXPECT_FLOAT_EQ(viaDataset[3 * 28 + 5], float((2 * 7 + 3 * 28 + 5) % 256) / 255.0f);
}

}  // namespace
}  // namespace zfvis
