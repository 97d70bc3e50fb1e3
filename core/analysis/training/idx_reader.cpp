// Fashion-MNIST's IDX files: a big-endian header (two zero bytes, type 0x08 = unsigned byte, the
// number of dimensions, then each dimension as a 32-bit integer) followed by the data. Debian
// ships them gzipped; plain files are read too. Offsets in errors count bytes of the (decompressed)
// IDX data.
#include <zlib.h>

#include <opencv2/imgproc.hpp>

#include "core/analysis/training/dataset_readers.h"
#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/model/small_nets.h"

namespace zfvis::datasets {

namespace {

constexpr size_t kMaxIdxBytes = size_t(1) << 30;

struct IdxFile {
  std::string what;           // "'path'" or "'path' (decompressed)"
  std::string data;           // the IDX bytes
  std::vector<int64_t> dims;  // from the header
  size_t offset = 0;          // where the data starts
};

std::string gunzip(const std::string& gz, const std::filesystem::path& path) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    throw Error("'" + path.string() + "': cannot start gzip decompression");
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = uInt(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (out.size() >= kMaxIdxBytes) {
      inflateEnd(&z);
      throw Error("'" + path.string() + "': decompresses to more than 1 GB");
    }
    const size_t done = out.size();
    out.resize(done + (size_t(1) << 20));
    z.next_out = reinterpret_cast<Bytef*>(out.data() + done);
    z.avail_out = uInt(out.size() - done);
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(out.size() - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // input ended before the stream did
  }
  const size_t at = size_t(z.total_in);
  const std::string msg = z.msg ? z.msg : "";
  inflateEnd(&z);
  if (rc == Z_STREAM_END) return out;
  if (rc == Z_BUF_ERROR || rc == Z_OK)
    throw Error("'" + path.string() + "': truncated gzip data: the stream stops at byte " +
                std::to_string(at) + " of the file, after " + std::to_string(out.size()) +
                " decompressed bytes");
  throw Error("'" + path.string() + "': corrupt gzip data at byte " + std::to_string(at) +
              (msg.empty() ? "" : " (" + msg + ")"));
}

uint32_t bigEndian(const std::string& s, size_t at) {
  auto b = [&](size_t k) { return uint32_t(uint8_t(s[at + k])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

IdxFile readIdx(const std::filesystem::path& path, int wantDims) {
  IdxFile f;
  std::string raw = readFile(path, kMaxIdxBytes);
  const bool gz = raw.size() >= 2 && uint8_t(raw[0]) == 0x1f && uint8_t(raw[1]) == 0x8b;
  f.what = "'" + path.string() + "'";
  f.data = gz ? gunzip(raw, path) : std::move(raw);
  const std::string in = gz ? " of the decompressed data" : "";
  const size_t header = 4 + 4 * size_t(wantDims);
  if (f.data.size() < 4 || f.data[0] != 0 || f.data[1] != 0 || uint8_t(f.data[2]) != 0x08 ||
      int(uint8_t(f.data[3])) != wantDims) {
    std::string magic;
    for (size_t k = 0; k < 4 && k < f.data.size(); ++k) {
      static const char* hex = "0123456789abcdef";
      magic += std::string{hex[uint8_t(f.data[k]) >> 4], hex[uint8_t(f.data[k]) & 15]};
    }
    throw Error(f.what + ": not an IDX file of " + std::to_string(wantDims) +
                "-D unsigned bytes (magic 0x" + magic + " at byte 0" + in + ", expected 0x000008" +
                (wantDims == 3 ? "03" : "01") + ")");
  }
  if (f.data.size() < header)
    throw Error(f.what + ": truncated at byte " + std::to_string(f.data.size()) + in +
                " (the IDX header needs " + std::to_string(header) + " bytes)");
  int64_t count = 1;
  for (int k = 0; k < wantDims; ++k) {
    f.dims.push_back(int64_t(bigEndian(f.data, 4 + 4 * size_t(k))));
    count *= f.dims.back();
  }
  f.offset = header;
  const size_t have = f.data.size() - header;
  if (size_t(count) > have) {
    std::string dims;
    for (int64_t d : f.dims) dims += (dims.empty() ? "" : " x ") + std::to_string(d);
    throw Error(f.what + ": truncated at byte " + std::to_string(f.data.size()) + in +
                ": the header announces " + dims + " = " + std::to_string(count) +
                " bytes of data from byte " + std::to_string(header));
  }
  if (size_t(count) < have)
    throw Error(f.what + ": " + std::to_string(have - size_t(count)) +
                " unexpected bytes after the data, from byte " + std::to_string(header + count) +
                in);
  return f;
}

// `stem` or `stem`.gz in `dir`.
std::filesystem::path findIdx(const std::filesystem::path& dir, const std::string& stem) {
  std::error_code ec;
  for (const std::string& name : {stem + ".gz", stem})
    if (std::filesystem::exists(dir / name, ec)) return dir / name;
  throw Error("no Fashion-MNIST file '" + stem + "[.gz]' in '" + dir.string() +
              "' (install Debian's dataset-fashion-mnist, or give fashion-mnist:DIR)");
}

ImageSet loadSplit(const std::filesystem::path& dir, const std::string& prefix, int classes) {
  IdxFile images = readIdx(findIdx(dir, prefix + "-images-idx3-ubyte"), 3);
  IdxFile labels = readIdx(findIdx(dir, prefix + "-labels-idx1-ubyte"), 1);
  if (images.dims[0] != labels.dims[0])
    throw Error(images.what + " has " + std::to_string(images.dims[0]) + " images but " +
                labels.what + " has " + std::to_string(labels.dims[0]) + " labels");
  ImageSet s;
  s.height = int(images.dims[1]);
  s.width = int(images.dims[2]);
  s.channels = 1;
  if (s.height < 1 || s.width < 1) throw Error(images.what + ": images have no pixels");
  s.pixels.assign(images.data.begin() + std::ptrdiff_t(images.offset), images.data.end());
  s.labels.resize(size_t(labels.dims[0]));
  for (size_t i = 0; i < s.labels.size(); ++i) {
    const int label = uint8_t(labels.data[labels.offset + i]);
    if (label >= classes)
      throw Error(labels.what + ": label " + std::to_string(label) + " at byte " +
                  std::to_string(labels.offset + i) + " is not a class (0.." +
                  std::to_string(classes - 1) + ")");
    s.labels[i] = label;
  }
  return s;
}

}  // namespace

Dataset loadFashionMnist(const std::filesystem::path& dir) {
  Dataset d;
  d.name = "Fashion-MNIST";
  d.classNames = fashionMnistClassNames();
  const int classes = int(d.classNames.size());
  d.train = loadSplit(dir, "train", classes);
  d.test = loadSplit(dir, "t10k", classes);
  if (d.train.height != d.test.height || d.train.width != d.test.width)
    throw Error("'" + dir.string() + "': training and test images differ in size");
  return d;
}

}  // namespace zfvis::datasets

namespace zfvis {

bool hasFashionMnistTestImages(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir / "t10k-images-idx3-ubyte.gz", ec) ||
         std::filesystem::exists(dir / "t10k-images-idx3-ubyte", ec);
}

cv::Mat fashionMnistTestImage(const std::filesystem::path& dir, int64_t index,
                              std::string* className) {
  const std::vector<std::string>& names = fashionMnistClassNames();
  const ImageSet test = datasets::loadSplit(dir, "t10k", int(names.size()));
  if (index < 0 || index >= test.size())
    throw Error("Fashion-MNIST in '" + dir.string() + "' has no test image " +
                std::to_string(index) + " (it has " + std::to_string(test.size()) + ")");
  if (className) *className = names[size_t(test.labels[size_t(index)])];
  cv::Mat bgr;
  cv::cvtColor(test.image(index), bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}

}  // namespace zfvis
